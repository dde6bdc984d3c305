import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { NO_IRQ } from '../bus/irq.js';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import { HvmPlatform } from '../../hypervisor/hvm-platform.js';
import { MemoryBlockBackend } from '../ide/memory-block-backend.js';
import { bdfOf } from '../pci/pci-bus.js';
import { UNPLUG_MAGIC } from './device.js';

function platform() {
  const bus = new IoBus();
  const memory = new GuestMemory({ ramBytes: 16 << 20, romBytes: 1 << 20 });
  const logs: string[] = [];
  const p = new HvmPlatform(
    { bus, memory, clock: new ManualClock(), isaLine: () => NO_IRQ, gsiLine: () => NO_IRQ, powerOff: () => {}, reset: () => {}, log: (_l, m) => logs.push(m) },
    {
      vga: 'none',
      vgaBios: null,
      xenPlatform: true,
      drives: {
        hda: { kind: 'disk', backend: new MemoryBlockBackend(new Uint8Array(512 * 64)) },
        hdb: { kind: 'disk', backend: new MemoryBlockBackend(new Uint8Array(512 * 64)) },
        hdc: { kind: 'cdrom', backend: new MemoryBlockBackend(new Uint8Array(2048 * 8), true) },
      },
    },
  );
  return { bus, p, logs };
}

test('the platform device is 5853:0001 at 00:03.0 with an I/O BAR0 and a 16 MiB prefetchable BAR1', () => {
  const { p } = platform();
  const bdf = bdfOf(3, 0);
  assert.equal(p.pci.readConfig(bdf, 0, 4), 0x00015853);
  assert.equal(p.pci.readConfig(bdf, 0x2c, 4), 0x00015853, 'subsystem');
  assert.equal(p.pci.readConfig(bdf, 0x08, 4) >>> 8, 0xff8000, 'class');
  assert.equal(p.pci.readConfig(bdf, 0x3d, 1), 1, 'INTA');
  p.pci.writeConfig(bdf, 0x10, 4, 0xffffffff);
  p.pci.writeConfig(bdf, 0x14, 4, 0xffffffff);
  assert.equal(p.pci.readConfig(bdf, 0x10, 4), 0xffffff01);
  assert.equal(p.pci.readConfig(bdf, 0x14, 4), 0xff000008);
});

test("Linux's unplug handshake detaches the emulated disks, keeps the CD-ROM and logs", () => {
  const { bus, p, logs } = platform();
  assert.equal(bus.pioRead(0x10, 2), UNPLUG_MAGIC);
  assert.equal(bus.pioRead(0x12, 1), 1, 'protocol version');
  bus.pioWrite(0x12, 2, 3); // product: Linux
  bus.pioWrite(0x10, 4, 1); // build number
  assert.equal(bus.pioRead(0x10, 2), UNPLUG_MAGIC, 'not blacklisted');
  assert.ok(p.ide.drive('hda') && p.ide.drive('hdb'));
  bus.pioWrite(0x10, 2, 3); // unplug disks and NICs
  assert.equal(p.ide.drive('hda'), null);
  assert.equal(p.ide.drive('hdb'), null);
  assert.ok(p.ide.cdrom('hdc'), 'CD-ROMs stay');
  assert.equal(p.xenPlatform?.productNumber, 3);
  // The primary channel now reads as empty: the status port floats.
  bus.pioWrite(0x1f6, 1, 0xa0);
  assert.notEqual(bus.pioRead(0x1f7, 1) & 0x40, 0x40, 'no drive ready at hda');
  for (const c of 'hello\n') bus.pioWrite(0x12, 1, c.charCodeAt(0));
  assert.ok(logs.some((l) => l.includes('unplugged emulated disks') && l.includes('hda, hdb')));
  assert.ok(logs.some((l) => l.endsWith('guest: hello')));
});

test('unplug bit 2 keeps the primary master', () => {
  const { bus, p } = platform();
  bus.pioWrite(0x10, 2, 4);
  assert.ok(p.ide.drive('hda'));
  assert.equal(p.ide.drive('hdb'), null);
});

/** Linux's handshake (platform-pci-unplug.c check_platform_magic) then an unplug of `mask`. */
function linuxUnplug(bus: IoBus, mask: number): void {
  bus.pioRead(0x10, 2);
  bus.pioRead(0x12, 1);
  bus.pioWrite(0x12, 2, 3);
  bus.pioWrite(0x10, 4, 1);
  bus.pioRead(0x10, 2);
  bus.pioWrite(0x10, 2, mask);
}

test('save/restore: a restored domain has the same disks unplugged before the IDE record loads', () => {
  const a = platform();
  a.bus.pioWrite(0x10, 1, 1); // platform flags: ROM lock
  linuxUnplug(a.bus, 3);
  for (const c of 'half a li') a.bus.pioWrite(0x12, 1, c.charCodeAt(0));
  const xpState = JSON.parse(JSON.stringify(a.p.xenPlatform!.save())) as unknown;
  const ideState = a.p.ide.save();
  assert.deepEqual(xpState, { version: 1, flags: 1, product: 3, unplugged: 3, line: [...'half a li'].map((c) => c.charCodeAt(0)) });

  // The IDE record has no disk on hda/hdb: a fresh platform (disks attached) refuses it...
  const bare = platform();
  assert.throws(() => bare.p.ide.restore(ideState), /no drive where this domain has a disk/);

  // ...unless the platform device's record goes first and unplugs them again.
  const b = platform();
  b.p.xenPlatform!.restore(xpState);
  assert.equal(b.p.ide.drive('hda'), null);
  assert.equal(b.p.ide.drive('hdb'), null);
  assert.ok(b.p.ide.cdrom('hdc'), 'the CD stays');
  assert.ok(b.logs.some((l) => /unplugged emulated disks \(mask 3\): hda, hdb/.test(l)));
  b.p.ide.restore(ideState);
  assert.equal(b.p.xenPlatform!.productNumber, 3);
  assert.equal(b.bus.pioRead(0x10, 1), 1, 'flags restored');
  // The half-written log line continues where it stopped.
  for (const c of 'ne\n') b.bus.pioWrite(0x12, 1, c.charCodeAt(0));
  assert.ok(b.logs.some((l) => l.endsWith('guest: half a line')), b.logs.join(' | '));
  assert.deepEqual(b.p.xenPlatform!.save(), { version: 1, flags: 1, product: 3, unplugged: 3, line: [] });
});

test('save/restore: nothing unplugged restores nothing; damaged records are cleaned, a wrong version refused', () => {
  const a = platform();
  const fresh = platform();
  fresh.p.xenPlatform!.restore(a.p.xenPlatform!.save());
  assert.ok(fresh.p.ide.drive('hda') && fresh.p.ide.drive('hdb'), 'no unplug without a mask');
  assert.ok(!fresh.logs.some((l) => /unplugged/.test(l)));

  const c = platform();
  c.p.xenPlatform!.restore({ version: 1, flags: -4, product: 1.5, unplugged: 'all', line: [0x41, 7, 'x', 0x42, ...new Array<number>(1000).fill(0x43)] });
  const s = c.p.xenPlatform!.save();
  assert.equal(s.flags, 0);
  assert.equal(s.product, 0);
  assert.equal(s.unplugged, 0);
  assert.ok(c.p.ide.drive('hda'), 'a damaged mask unplugs nothing');
  assert.ok(s.line.length <= 256 && s.line[0] === 0x41 && s.line[1] === 0x42, `line kept printable bytes, capped: ${s.line.length}`);

  for (const bad of [null, 42, {}, { version: 2, flags: 0, product: 0, unplugged: 0, line: [] }]) {
    assert.throws(() => platform().p.xenPlatform!.restore(bad), RangeError);
  }
});

test('platform flags: only the ROM-lock bit is kept, the same byte at port 0x10 and BAR0+0', () => {
  const { bus, p } = platform();
  const bdf = bdfOf(3, 0);
  p.pci.writeConfig(bdf, 0x10, 4, 0xc000);
  p.pci.writeConfig(bdf, 0x04, 2, 0x0003);
  bus.pioWrite(0x10, 1, 0xff);
  assert.equal(bus.pioRead(0x10, 1), 1);
  assert.equal(bus.pioRead(0xc000, 1), 1, 'BAR0 offset 0 reads the same flags');
  bus.pioWrite(0xc000, 1, 0xfe);
  assert.equal(bus.pioRead(0x10, 1), 0);
  assert.equal(p.xenPlatform!.save().flags, 0);
  p.xenPlatform!.restore({ version: 1, flags: 0xff, product: 0, unplugged: 0, line: [] });
  assert.equal(bus.pioRead(0x10, 1), 1, 'a restored record keeps only the ROM-lock bit too');
});
