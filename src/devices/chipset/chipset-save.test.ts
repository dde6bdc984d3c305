// Save/restore of PCI configuration space and the chipset, on the whole HVM PCI
// platform (hvm-platform.ts): a guest-like sequence of config writes (BAR moves, a ROM
// BAR, PAM, PIRQ routes, ACPI enable), save, restore into a freshly built platform in
// applyDomainState's order (frame map, memory bytes, then devices), compare.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import { GuestMemory, PAGE_SIZE } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import { HvmPlatform, VRAM_BYTES } from '../../hypervisor/hvm-platform.js';
import { applyFrameRuns, frameRuns } from '../../hypervisor/domain-save.js';
import { bdfOf } from '../pci/pci-bus.js';
import { PM1_PWRBTN, PM1_SCI_EN, PM1_TMR, PM_TIMER_HZ } from './piix4-pm.js';

const RAM = 32 << 20;
const HOST_BRIDGE = bdfOf(0, 0);
const ISA = bdfOf(1, 0);
const IDE = bdfOf(1, 1);
const PM = bdfOf(1, 3);
const VGA = bdfOf(2, 0);
const XEN_PLATFORM = bdfOf(3, 0);

interface Rig {
  io: IoBus;
  memory: GuestMemory;
  clock: ManualClock;
  platform: HvmPlatform;
  levels: Map<string, boolean>;
  powerOffs: number;
  /** One page of backing store, at the same offset in every rig. */
  spare: number;
}

function build(ns = 0): Rig {
  const io = new IoBus();
  const memory = new GuestMemory({ ramBytes: RAM, romBytes: VRAM_BYTES + (1 << 20) });
  const clock = new ManualClock();
  clock.ns = ns;
  const levels = new Map<string, boolean>();
  const line = (name: string): IrqLine => ({ set: (l) => void levels.set(name, l) });
  const vgaBios = new Uint8Array(0x9000);
  vgaBios[0] = 0x55;
  vgaBios[1] = 0xaa;
  vgaBios[0x100] = 0x42;
  const rig: Rig = { io, memory, clock, levels, powerOffs: 0, spare: -1, platform: null as unknown as HvmPlatform };
  rig.platform = new HvmPlatform(
    {
      bus: io,
      memory,
      clock,
      isaLine: (irq) => line(`irq${irq}`),
      gsiLine: (gsi) => line(`gsi${gsi}`),
      powerOff: () => void rig.powerOffs++,
      reset: () => {},
      log: () => {},
    },
    { vga: 'stdvga', vgaBios, drives: {}, xenPlatform: true },
  );
  rig.spare = memory.allocateBacking(PAGE_SIZE);
  firmwareSetup(rig);
  return rig;
}

/** What hvmloader does at build: BARs from the MMIO hole and 0xC000 up, decode on, PIRQs, PM base. */
function firmwareSetup({ platform }: Rig): void {
  const pci = platform.pci;
  let mem = 0xf0000000;
  let io = 0xc000;
  for (const bdf of pci.functions()) {
    for (let i = 0; i < 6; i++) {
      const reg = 0x10 + 4 * i;
      pci.writeConfig(bdf, reg, 4, 0xffffffff);
      const v = pci.readConfig(bdf, reg, 4);
      if (v === 0) continue;
      if (v & 1) {
        const size = (~(v & 0xfffffffc) + 1) & 0xffff;
        io = Math.ceil(io / size) * size;
        pci.writeConfig(bdf, reg, 4, io);
        io += size;
      } else {
        const size = (~(v & 0xfffffff0) + 1) >>> 0;
        mem = Math.ceil(mem / size) * size;
        pci.writeConfig(bdf, reg, 4, mem);
        mem += size;
      }
    }
    if (bdf !== HOST_BRIDGE) pci.writeConfig(bdf, 0x04, 2, 0x0007);
  }
  for (let l = 0; l < 4; l++) pci.writeConfig(ISA, 0x60 + l, 1, [5, 10, 11, 5][l]);
  pci.writeConfig(PM, 0x40, 4, 0xb001);
  pci.writeConfig(PM, 0x80, 1, 1);
}

/** The guest's later changes a restore must not lose. */
function guestChanges(r: Rig): void {
  const { io, platform } = r;
  const pci = platform.pci;
  // SeaBIOS-style PAM programming: 0xC0000-0xFFFFF read/write (PAM is stored only, pc-platform §5).
  for (let o = 0x59; o <= 0x5f; o++) pci.writeConfig(HOST_BRIDGE, o, 1, o === 0x59 ? 0x30 : 0x33);
  pci.writeConfig(HOST_BRIDGE, 0x72, 1, 0x0a);
  // Linux moves the VRAM BAR and turns the VGA ROM BAR on somewhere else.
  pci.writeConfig(VGA, 0x10, 4, 0xe0000000);
  pci.writeConfig(VGA, 0x30, 4, 0xe2000001);
  pci.writeConfig(VGA, 0x3c, 1, 11);
  // The Xen platform device's I/O BAR moves away and the IDE bus-master BAR takes its
  // old place (a restore must free every build-time decoding before decoding any).
  pci.writeConfig(XEN_PLATFORM, 0x10, 4, 0xd101);
  pci.writeConfig(IDE, 0x20, 4, 0xc101);
  // A Xen-style physmap page placed where firmware had VRAM: the image's frame map keeps it.
  r.memory.mapBacking(0xf0000000, r.spare, PAGE_SIZE, false, true);
  // A PIRQ route changes; the PM base moves.
  pci.writeConfig(ISA, 0x63, 1, 10);
  pci.writeConfig(PM, 0x40, 4, 0xb101);
  // ACPI on (APMC), PWRBTN and TMR enabled, a GPE enabled, a pending power button.
  io.pioWrite(0xb2, 1, 0xf1);
  io.pioWrite(0xb102, 2, PM1_PWRBTN | PM1_TMR);
  io.pioWrite(0xafe2, 2, 0x0004);
  io.pioWrite(0xb3, 1, 0x5a);
  // A config cycle half done: CONFIG_ADDRESS latched, data port not yet touched.
  io.pioWrite(0xcf8, 4, 0x80001000 | 0x3c);
  io.pioWrite(0xcf9, 1, 0x02);
  // Guest data in RAM under the BIOS area and in VRAM.
  r.memory.bytes[0xc0010] = 0x77;
}

function save(r: Rig) {
  const images = JSON.parse(JSON.stringify({ pci: r.platform.pci.save(), pm: r.platform.pm.save() })) as { pci: unknown; pm: unknown };
  return { ...images, runs: frameRuns(r.memory), bytes: r.memory.bytes.slice(), ns: r.clock.ns };
}

function restoreInto(r: Rig, s: ReturnType<typeof save>): void {
  applyFrameRuns(r.memory, s.runs);
  r.memory.bytes.set(s.bytes);
  r.platform.pci.restore(s.pci);
  r.platform.pm.restore(s.pm);
}

function sameFrameMap(a: GuestMemory, b: GuestMemory): void {
  for (let g = 0; g < a.frameOffset.length; g++) {
    if (a.frameOffset[g] !== b.frameOffset[g] || a.frameReadOnly[g] !== b.frameReadOnly[g]) {
      assert.fail(`frame ${(g * PAGE_SIZE).toString(16)}: ${a.frameOffset[g]}/${a.frameReadOnly[g]} vs ${b.frameOffset[g]}/${b.frameReadOnly[g]}`);
    }
  }
}

test('PCI and PM records round-trip into a fresh platform: config, memory map, ports, PIRQ, SCI, PM timer', () => {
  const a = build();
  a.clock.advance(5e9);
  guestChanges(a);
  assert.equal(a.levels.get('irq9'), undefined, 'nothing pending yet');
  a.platform.pm.pressPowerButton();
  assert.equal(a.levels.get('irq9'), true, 'SCI up before the save');
  const s = save(a);

  const b = build(s.ns);
  // The fresh platform has firmware's values, not the guest's.
  assert.equal((b.platform.pci.readConfig(VGA, 0x10, 4) & ~0xf) >>> 0, 0xf0000000);
  restoreInto(b, s);

  for (const bdf of a.platform.pci.functions()) {
    assert.deepEqual(b.platform.pci.function(bdf)!.config, a.platform.pci.function(bdf)!.config, `config of ${bdf.toString(16)}`);
  }
  sameFrameMap(a.memory, b.memory);
  // VRAM at the moved BAR, the ROM read-only at its BAR, firmware's old VRAM place empty.
  const vramOffset = b.memory.frameOffset[0xe0000000 / PAGE_SIZE];
  assert.ok(vramOffset >= RAM, 'VRAM mapped at the moved BAR');
  assert.equal(b.memory.frameOffset[0xf0000000 / PAGE_SIZE], b.spare, 'the page placed over the old VRAM BAR stays');
  assert.equal(b.memory.frameOffset[0xf0000000 / PAGE_SIZE + 1], -1, 'the rest of the old VRAM BAR is empty');
  const romOffset = b.memory.frameOffset[0xe2000000 / PAGE_SIZE];
  assert.equal(b.memory.frameReadOnly[0xe2000000 / PAGE_SIZE], 1);
  assert.equal(b.memory.bytes[romOffset + 0x100], 0x42);
  // PAM is storage only: RAM under 0xC0000 stays RAM with the guest's bytes.
  assert.equal(b.memory.frameOffset[0xc0010 >>> 12], 0xc0000);
  assert.equal(b.memory.bytes[0xc0010], 0x77);
  assert.equal(b.platform.pci.readConfig(HOST_BRIDGE, 0x5a, 1), 0x33);
  // Ports: the IDE bus master at its moved BAR only; PM block at the moved base only.
  assert.notEqual(b.io.pioRead(0xc102, 1), 0xff, 'BMIDE status decoded at the restored BAR');
  assert.equal(b.io.pioRead(0xc002, 1), 0xff, 'not at the BAR firmware gave it');
  assert.equal(b.io.pioRead(0xd110, 2), 0, 'Xen platform ports decoded at their restored BAR');
  assert.equal(b.io.pioRead(0xc110, 2), 0xffff, 'and the IDE BAR there holds only 16 ports');
  assert.equal(b.io.pioRead(0xb004, 2), 0xffff, 'PM block gone from firmware base');
  assert.equal(b.io.pioRead(0xb104, 2) & PM1_SCI_EN, PM1_SCI_EN);
  assert.equal(b.io.pioRead(0xb100, 2), a.io.pioRead(0xb100, 2));
  assert.equal(b.io.pioRead(0xb102, 2), PM1_PWRBTN | PM1_TMR);
  assert.equal(b.io.pioRead(0xafe2, 2), 0x0004);
  assert.equal(b.io.pioRead(0xb3, 1), 0x5a);
  assert.equal(b.io.pioRead(0xcf8, 4), 0x8000103c);
  assert.equal(b.io.pioRead(0xcf9, 1), 0x02);
  assert.equal(b.io.pioRead(0xcfc, 1), 11, 'the latched config cycle reads VGA interrupt line');
  // SCI level follows the restored status/enable (PWRBTN pending).
  assert.equal(b.levels.get('irq9'), true);
  // PM timer continues from guest time: same count at the same instant, and it runs on.
  assert.equal(b.io.pioRead(0xb108, 4), a.io.pioRead(0xb108, 4));
  b.clock.advance(1e9);
  a.clock.advance(1e9);
  assert.equal(b.io.pioRead(0xb108, 4), a.io.pioRead(0xb108, 4));
  assert.equal(b.platform.pm.nextDeadlineNs(), a.platform.pm.nextDeadlineNs());
  // PIRQ D now to IRQ 10: the Xen platform device's INTA (link D) reaches ISA IRQ 10, not firmware's 5.
  assert.equal(b.platform.isaBridge.linkIrq(3), 10);
  b.platform.pci.function(bdfOf(3, 0))!.intx.set(true);
  assert.equal(b.levels.get('irq10'), true);
  assert.equal(b.levels.get('irq5'), undefined);
  assert.equal(b.levels.get('gsi28'), true);
  // The bus knows the restored mappings: moving VRAM again unmaps the restored place.
  b.platform.pci.writeConfig(VGA, 0x10, 4, 0xe1000000);
  assert.equal(b.memory.frameOffset[0xe0000000 / PAGE_SIZE], -1);
  assert.equal(b.memory.frameOffset[0xe1000000 / PAGE_SIZE], vramOffset);
  // And S5 through the restored PM block powers off.
  b.io.pioWrite(0xb104, 2, 0x2001);
  assert.equal(b.powerOffs, 1);
});

test('a PCI record that does not fit is refused whole, naming the field or the function', () => {
  const a = build();
  guestChanges(a);
  const good = save(a);
  const pci = good.pci as { version: number; functions: Array<{ bdf: number; name: string; config: string }> };
  const variants: Array<[string, (p: typeof pci) => unknown, RegExp]> = [
    ['version', (p) => ({ ...p, version: 2 }), /version 2/],
    ['not an object', () => 'pci', /not an object/],
    ['short config', (p) => ({ ...p, functions: p.functions.map((f, i) => (i === 0 ? { ...f, config: f.config.slice(2) } : f)) }), /functions\[0\]\.config/],
    ['bad hex', (p) => ({ ...p, functions: p.functions.map((f, i) => (i === 1 ? { ...f, config: 'zz' + f.config.slice(2) } : f)) }), /functions\[1\]\.config/],
    ['duplicate', (p) => ({ ...p, functions: [...p.functions, p.functions[0]] }), /appears twice/],
    ['bdf range', (p) => ({ ...p, functions: p.functions.map((f, i) => (i === 0 ? { ...f, bdf: 0x1000 } : f)) }), /functions\[0\]\.bdf/],
    ['configAddress', (p) => ({ ...p, configAddress: -1 }), /configAddress/],
    ['missing function', (p) => ({ ...p, functions: p.functions.filter((f) => f.bdf !== PM) }), /00:01\.3 piix4-pm is not in the image/],
    ['extra function', (p) => ({ ...p, functions: [...p.functions, { ...p.functions[0], bdf: bdfOf(7, 0), name: 'e1000' }] }), /00:07\.0 \(e1000\) does not exist/],
    [
      'different device',
      (p) => ({ ...p, functions: p.functions.map((f) => (f.bdf === VGA ? { ...f, config: '8680' + f.config.slice(4) } : f)) }),
      /00:02\.0 std-vga .*config byte 0x00/,
    ],
    [
      'different BAR size',
      (p) => ({ ...p, functions: p.functions.map((f) => (f.bdf === VGA ? { ...f, config: f.config.slice(0, 0x12 * 2) + '10' + f.config.slice(0x13 * 2) } : f)) }),
      /00:02\.0 std-vga .*config byte 0x12/,
    ],
  ];
  for (const [what, change, message] of variants) {
    const b = build();
    const before = b.platform.pci.save();
    assert.throws(() => b.platform.pci.restore(change(JSON.parse(JSON.stringify(pci)))), message, what);
    assert.deepEqual(b.platform.pci.save(), before, `${what}: nothing applied`);
  }
});

test('a PM record that does not fit is refused, naming the field', () => {
  const a = build();
  a.clock.advance(2e9);
  guestChanges(a);
  const good = save(a).pm as Record<string, unknown>;
  const variants: Array<[Record<string, unknown> | null, RegExp]> = [
    [{ ...good, version: 7 }, /version 7/],
    [{ ...good, pm1Control: 0x2001 }, /pm1Control/],
    [{ ...good, pm1Enable: '256' }, /pm1Enable/],
    [{ ...good, gpe0Status: 0x10000 }, /gpe0Status/],
    [{ ...good, apmStatus: 1.5 }, /apmStatus/],
    [{ ...good, timerEpoch: -1 }, /timerEpoch/],
    [null, /not an object/],
  ];
  for (const [rec, message] of variants) {
    const b = build(a.clock.ns);
    assert.throws(() => b.platform.pm.restore(rec), message);
    assert.equal(b.platform.pm.acpiEnabled, false, 'nothing applied');
  }
  // A record from a guest time the clock has not reached: the clock was not resumed.
  const late = build(0);
  assert.throws(() => late.platform.pm.restore({ ...good, timerEpoch: Math.floor((1200e9 * PM_TIMER_HZ) / 1e9 / 2 ** 31) }), /ahead of guest time/);
});
