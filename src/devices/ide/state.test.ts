import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BM_BASE, IDE_BDF, IdeRig, patternBackend, patternByte } from './ide-test-rig.js';
import type { PiixIdeState } from './state.js';
import type { IdeDrives } from './piix-ide.js';

const P = 0x1f0;
const S = 0x170;

/** Save, push through JSON (as the save stream does), restore into a fresh function with the same drives. */
function migrate(rig: IdeRig, drives: IdeDrives): IdeRig {
  const record = JSON.parse(JSON.stringify(rig.ide.save())) as PiixIdeState;
  const next = new IdeRig(drives);
  next.memory.bytes.set(rig.memory.bytes); // RAM travels separately
  next.ide.restore(record);
  return next;
}

test('a PIO read interrupted mid-sector continues after restore, registers and IRQ state intact', () => {
  const drives: IdeDrives = { hda: { kind: 'disk', backend: patternBackend(64) }, hdb: { kind: 'cdrom', backend: patternBackend(8, 2048) } };
  const rig = new IdeRig(drives);
  rig.outb(P + 6, 0xe0);
  rig.outb(P + 2, 3); // SET MULTIPLE 2 first, to check it survives
  rig.outb(P + 2, 2);
  rig.outb(P + 7, 0xc6);
  rig.lba28(P, false, 20, 3);
  rig.outb(P + 7, 0x20);
  const first = rig.readData(P, 300);
  assert.equal(rig.irq14.level, true, 'IRQ pending at save time');
  const next = migrate(rig, drives);
  assert.equal(next.irq14.level, true, 'restored line level');
  assert.equal(next.inb(P + 7), 0x58);
  const rest = next.readData(P, 3 * 512 - 300);
  const all = new Uint8Array(3 * 512);
  all.set(first);
  all.set(rest, 300);
  for (let i = 0; i < all.length; i++) assert.equal(all[i], patternByte(20 + (i >> 9), i & 511), `byte ${i}`);
  assert.equal(next.inb(P + 7), 0x50);
  const w = (() => {
    next.outb(P + 7, 0xec);
    return new Uint16Array(next.readData(P, 512).buffer);
  })();
  assert.equal(w[59], 0x0102, 'multiple count 2 restored');
});

test('an ATAPI PIO transfer mid-block and a pending UNIT ATTENTION survive restore', () => {
  const disc = patternBackend(8, 2048);
  const drives: IdeDrives = { hdc: { kind: 'cdrom', backend: disc } };
  const rig = new IdeRig(drives);
  rig.outb(S + 6, 0xa0);
  rig.outb(S + 1, 0);
  rig.outb(S + 4, 0x00);
  rig.outb(S + 5, 0x08); // limit 2048
  rig.outb(S + 7, 0xa0);
  rig.writeData(S, new Uint8Array([0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0, 0, 0]));
  rig.inb(S + 7);
  const a = rig.readData(S, 1000);
  rig.ide.cdrom('hdc')!.insertMedium(disc); // UNIT ATTENTION for the next command
  const next = migrate(rig, drives);
  const b = next.readData(S, 1048);
  assert.equal(next.inb(S + 7), 0x48, 'second block offered');
  const c = next.readData(S, 2048);
  assert.equal(next.inb(S + 7), 0x40);
  const data = new Uint8Array(4096);
  data.set(a);
  data.set(b, 1000);
  data.set(c, 2048);
  for (let i = 0; i < data.length; i++) assert.equal(data[i], patternByte(12 + (i >> 9), i & 511), `byte ${i}`);
  // The next command reports the medium change.
  next.outb(S + 7, 0xa0);
  next.writeData(S, new Uint8Array(12));
  assert.equal(next.inb(S + 7) & 1, 1);
  assert.equal(next.inb(S + 1) >>> 4, 6);
});

test('an armed DMA (command issued, START not yet) completes after restore; BAR4 stays mapped', () => {
  const drives: IdeDrives = { hda: { kind: 'disk', backend: patternBackend(64) } };
  const rig = new IdeRig(drives);
  rig.enableBusMaster();
  rig.prdTable(0x1000, [[0x10000, 1024]]);
  rig.outl(BM_BASE + 4, 0x1000);
  rig.outb(BM_BASE, 0x08);
  rig.lba28(P, false, 30, 2);
  rig.outb(P + 7, 0xc8);
  const next = migrate(rig, drives);
  assert.equal(next.pci.readConfig(IDE_BDF, 0x20, 4), BM_BASE | 1);
  assert.equal(next.inl(BM_BASE + 4), 0x1000);
  next.outb(BM_BASE, 0x09);
  const got = next.memory.read(0x10000, 1024);
  for (let i = 0; i < 1024; i++) assert.equal(got[i], patternByte(30 + (i >> 9), i & 511));
  assert.equal(next.inb(BM_BASE + 2), 0x04);
  assert.equal(next.irq14.edges, 1);
});

test('a damaged record restores to a legal state; a drive kind mismatch or bad version is refused', () => {
  const drives: IdeDrives = { hda: { kind: 'disk', backend: patternBackend(64) }, hdc: { kind: 'cdrom', backend: null } };
  const rig = new IdeRig(drives);
  const good = rig.ide.save();
  const garbage = JSON.parse(JSON.stringify(good), (k, v) => {
    if (typeof v === 'number') return k.length % 2 ? -7 : 1e300;
    if (typeof v === 'boolean') return 'yes';
    return v;
  }) as PiixIdeState;
  garbage.version = 1;
  const next = new IdeRig(drives);
  next.ide.restore(garbage);
  assert.equal(next.pci.readConfig(IDE_BDF, 0, 4), 0x70108086, 'identity is not writable');
  for (const slot of ['hda', 'hdc'] as const) {
    const d = next.ide.drive(slot)!;
    assert.ok(d.status >= 0 && d.status < 0x80);
    assert.ok(d.pioRemaining >= 0 && d.pioRemaining <= 0x10000);
  }
  // Still usable.
  next.ide.reset();
  next.lba28(P, false, 1, 1);
  next.outb(P + 7, 0x20);
  assert.equal(next.readData(P, 2)[0], patternByte(1, 0));

  const swapped = new IdeRig({ hda: { kind: 'cdrom', backend: null }, hdc: { kind: 'cdrom', backend: null } });
  assert.throws(() => swapped.ide.restore(JSON.parse(JSON.stringify(good))), /save record has a disk where this domain has a cdrom/);
  assert.throws(() => next.ide.restore({ ...good, version: 2 as 1 }), /version 2/);
});
