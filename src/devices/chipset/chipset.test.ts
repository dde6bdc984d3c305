import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import type { IrqLine } from '../bus/irq.js';
import { PciBus, bdfOf } from '../pci/pci-bus.js';
import { Piix3Isa } from './piix3-isa.js';
import { PciIntxRouter, pciIntxGsi, pciIntxLink } from './pci-intx-router.js';
import { Piix4Pm, PM_TIMER_HZ } from './piix4-pm.js';
import { ResetControl } from './reset-control.js';
import { I440fxHostBridge } from './i440fx.js';

function recorder() {
  const levels = new Map<string, boolean>();
  const line = (name: string): IrqLine => ({ set: (l) => void levels.set(name, l) });
  return { levels, line };
}

test("Xen's INTx wiring: GSI and link formulas", () => {
  assert.equal(pciIntxGsi(2, 0), 24);
  assert.equal(pciIntxGsi(3, 0), 28); // the fact sheet's _PRT example {0x0003FFFF, 0, 0, 28}
  assert.equal(pciIntxLink(2, 0), 2); // 00:02.0 INTA -> link C
  assert.equal(pciIntxLink(3, 0), 3); // 00:03.0 INTA -> link D
});

test('PIIX3 PIRQ routing drives the ISA IRQ only while routed, shares lines, follows reroutes', () => {
  const { levels, line } = recorder();
  const piix3 = new Piix3Isa();
  const router = new PciIntxRouter((g) => line(`gsi${g}`), (i) => line(`irq${i}`), piix3);
  assert.equal(piix3.config[0x0e], 0x80, 'multi-function header');
  const a = router.line(2, 1); // link C
  const b = router.line(6, 1); // link (6+0)&3 = 2 = C as well
  a.set(true);
  assert.equal(levels.get('gsi24'), true);
  assert.equal(levels.get('irq11'), undefined, 'link C disabled at reset');
  piix3.writeConfig(0x62, 1, 11);
  assert.equal(levels.get('irq11'), true, 'routing the link delivers the pending level');
  b.set(true);
  a.set(false);
  assert.equal(levels.get('irq11'), true, 'still held by the other device');
  b.set(false);
  assert.equal(levels.get('irq11'), false);
  a.set(true);
  piix3.writeConfig(0x62, 1, 10);
  assert.equal(levels.get('irq11'), false);
  assert.equal(levels.get('irq10'), true);
  piix3.writeConfig(0x62, 1, 0x80);
  assert.equal(levels.get('irq10'), false);
  assert.equal(piix3.linkIrq(2), 0);
  piix3.writeConfig(0x62, 1, 2); // IRQ 2 cannot be a PIRQ target
  assert.equal(piix3.linkIrq(2), 0);
});

test('PIIX4 PM: PMBA mapping, PM timer rate, power button SCI, S5 power-off', () => {
  const io = new IoBus();
  const clock = new ManualClock();
  const { levels, line } = recorder();
  let off = 0;
  const pm = new Piix4Pm(io, clock, line('sci'), { powerOff: () => off++, log: () => {} });
  const memory = new GuestMemory({ ramBytes: 1 << 20 });
  const bus = new PciBus(io, memory, () => ({ set() {} }));
  bus.attach(1, 3, pm);
  const bdf = bdfOf(1, 3);
  assert.equal(bus.readConfig(bdf, 0x40, 4), 1);
  assert.equal(bus.readConfig(bdf, 0x90, 4), 0, 'no SMBus for memtest to drive');
  bus.writeConfig(bdf, 0x40, 4, 0xb001);
  assert.equal(io.pioRead(0xb008, 4), 0xffffffff, 'not decoded before PMREGMISC');
  bus.writeConfig(bdf, 0x80, 1, 1);
  const t0 = io.pioRead(0xb008, 4);
  clock.advance(1e9);
  assert.equal((io.pioRead(0xb008, 4) - t0) >>> 0, PM_TIMER_HZ);
  // Power button: status latches; SCI only with PWRBTN_EN and SCI_EN.
  pm.pressPowerButton();
  assert.equal(io.pioRead(0xb000, 2) & 0x100, 0x100);
  assert.notEqual(levels.get('sci'), true);
  io.pioWrite(0xb002, 2, 0x100);
  io.pioWrite(0xb2, 1, 0xf1); // ACPI enable through APMC
  assert.equal(io.pioRead(0xb004, 2) & 1, 1);
  assert.equal(levels.get('sci'), true);
  io.pioWrite(0xb000, 2, 0x100); // W1C
  assert.equal(levels.get('sci'), false);
  // Linux's acpi_power_off: SLP_TYP first, then with SLP_EN.
  io.pioWrite(0xb004, 2, 0x0001);
  assert.equal(off, 0);
  io.pioWrite(0xb004, 2, 0x2001);
  assert.equal(off, 1);
});

test('PM timer overflow of bit 31 sets TMR_STS and raises the SCI when enabled', () => {
  const io = new IoBus();
  const clock = new ManualClock();
  const { levels, line } = recorder();
  const pm = new Piix4Pm(io, clock, line('sci'), { powerOff: () => {}, log: () => {} });
  const memory = new GuestMemory({ ramBytes: 1 << 20 });
  const bus = new PciBus(io, memory, () => ({ set() {} }));
  bus.attach(1, 3, pm);
  bus.writeConfig(bdfOf(1, 3), 0x40, 4, 0xb001);
  bus.writeConfig(bdfOf(1, 3), 0x80, 1, 1);
  pm.enableAcpiMode();
  io.pioWrite(0xb002, 2, 1); // TMR_EN
  const due = pm.nextDeadlineNs();
  assert.ok(due > 599e9 && due < 601e9, `bit 31 flips after 2^31 ticks (~600 s), got ${due}`);
  clock.advance(due);
  pm.update();
  assert.equal(io.pioRead(0xb000, 2) & 1, 1);
  assert.equal(levels.get('sci'), true);
});

test('reset control at 0xCF9 through the config ports; i440FX identity', () => {
  const io = new IoBus();
  const memory = new GuestMemory({ ramBytes: 1 << 20 });
  const bus = new PciBus(io, memory, () => ({ set() {} }));
  io.registerPio(0xcf8, 8, bus.configPorts, 'pci');
  let resets = 0;
  bus.setResetControl(new ResetControl(() => resets++));
  bus.attach(0, 0, new I440fxHostBridge());
  io.pioWrite(0xcf9, 1, 2);
  assert.equal(io.pioRead(0xcf9, 1), 2);
  assert.equal(resets, 0);
  io.pioWrite(0xcf9, 1, 6);
  assert.equal(resets, 1);
  assert.equal(bus.readConfig(0, 0, 4), 0x12378086);
});
