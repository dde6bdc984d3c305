import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.js';
import { IoBus } from '../../../devices/bus/io-bus.js';
import { pulse } from '../../../devices/bus/irq.js';
import { PlatformInterrupts } from './device.js';
import { xorshift32 } from '../../../../test/support/fuzz.js';

const LAPIC = 0xfee00000;
const IOAPIC = 0xfec00000;

function platform(apic: boolean) {
  const clock = new ManualClock();
  let intr = false;
  let changes = 0;
  const irq = new PlatformInterrupts(clock, {
    apic,
    setIntr: (l) => {
      assert.notEqual(l, intr, 'setIntr is called on changes only');
      intr = l;
      changes++;
    },
  });
  const bus = new IoBus();
  irq.register(bus);
  const out = (p: number, v: number) => bus.pioWrite(p, 1, v);
  const lapic = (reg: number, v?: number) => {
    if (v !== undefined) bus.mmioWrite(LAPIC + reg, 4, v);
    return bus.mmioRead(LAPIC + reg, 4);
  };
  const ioapic = (reg: number, v?: number) => {
    bus.mmioWrite(IOAPIC, 4, reg);
    if (v !== undefined) bus.mmioWrite(IOAPIC + 0x10, 4, v);
    return bus.mmioRead(IOAPIC + 0x10, 4);
  };
  /** Initialise the 8259s as SeaBIOS does: vectors 0x08 and 0x70, everything unmasked. */
  const initPic = () => {
    for (const [p, v] of [
      [0x20, 0x11], [0x21, 0x08], [0x21, 0x04], [0x21, 0x01],
      [0xa0, 0x11], [0xa1, 0x70], [0xa1, 0x02], [0xa1, 0x01],
      [0x21, 0x00], [0xa1, 0x00],
    ]) out(p, v);
  };
  /** What hvmloader leaves (fact sheet §2.5): virtual wire B. */
  const virtualWireB = () => {
    ioapic(0x00, 1 << 24);
    ioapic(0x11, 0);
    ioapic(0x10, 0x700);
    lapic(0xf0, 0x1ff);
    lapic(0x350, 0x10700);
    lapic(0x360, 0x400);
  };
  return { clock, irq, bus, out, lapic, ioapic, initPic, virtualWireB, intr: () => intr, changes: () => changes };
}

test('apic: false is the bare 8259 wiring: INTR = 8259 INT, INTA = 8259 vector, no APIC MMIO', () => {
  const p = platform(false);
  p.initPic();
  assert.equal(p.irq.lapic, null);
  assert.equal(p.irq.ioapic, null);
  assert.equal(p.irq.apicBaseMsr, null);
  assert.equal(p.bus.mmioRead(LAPIC + 0x30, 4), 0xffffffff, 'open bus');
  pulse(p.irq.isaLine(0));
  assert.equal(p.intr(), true);
  assert.equal(p.irq.acknowledge(), 0x08);
  assert.equal(p.intr(), false);
  out20(p);
  pulse(p.irq.isaLine(8));
  assert.equal(p.irq.acknowledge(), 0x70);
  p.irq.gsiLine(20).set(true);
  assert.equal(p.intr(), false, 'a GSI goes nowhere without an IOAPIC');
  assert.equal(p.irq.acknowledge(), -1);
});

function out20(p: ReturnType<typeof platform>): void {
  p.out(0x20, 0x20);
}

test('ELCR at 0x4D0/0x4D1 reads back what was written, reserved IRQs 0,1,2,8,13 stay edge', () => {
  const p = platform(false);
  p.bus.pioWrite(0x4d0, 1, 0xff);
  p.bus.pioWrite(0x4d1, 1, 0xff);
  assert.equal(p.bus.pioRead(0x4d0, 2), 0xdef8);
  p.bus.pioWrite(0x4d0, 2, 0x0c20);
  assert.equal(p.bus.pioRead(0x4d0, 1), 0x20);
  assert.equal(p.bus.pioRead(0x4d1, 1), 0x0c);
  assert.equal(p.irq.pic.elcr, 0x0c20);
});

test('APIC mode at reset: the 8259 does not reach the CPU until a virtual wire is set up', () => {
  const p = platform(true);
  p.initPic();
  assert.equal(p.lapic(0x30), 0x00050014);
  assert.equal(p.ioapic(0x01), 0x002f0011);
  pulse(p.irq.isaLine(1));
  assert.equal(p.irq.pic.intrLevel, true, '8259 INT is up');
  assert.equal(p.intr(), false, 'RTE0 and LVT0 are masked');
  assert.equal(p.irq.acknowledge(), -1);
});

test('virtual wire B (IOAPIC RTE0 ExtINT, as hvmloader leaves it): 8259 vectors reach the CPU', () => {
  const p = platform(true);
  p.initPic();
  p.virtualWireB();
  pulse(p.irq.isaLine(0));
  assert.equal(p.intr(), true);
  assert.equal(p.irq.acknowledge(), 0x08);
  assert.equal(p.intr(), false);
  out20(p);
  // RTE0 aimed at another APIC ID: the route closes.
  p.ioapic(0x11, 0x05000000);
  pulse(p.irq.isaLine(3));
  assert.equal(p.intr(), false);
  p.ioapic(0x11, 0);
  assert.equal(p.intr(), true, 'the pending 8259 request flows once the route reopens');
  assert.equal(p.irq.acknowledge(), 0x0b);
  // Software-disabling the LAPIC closes route B too (Xen).
  p.lapic(0xf0, 0xff);
  pulse(p.irq.isaLine(4));
  assert.equal(p.intr(), false);
});

test('virtual wire A (LVT0 ExtINT unmasked) and a hardware-disabled LAPIC both pass the 8259 through', () => {
  const p = platform(true);
  p.initPic();
  p.lapic(0xf0, 0x1ff);
  p.lapic(0x350, 0x700);
  pulse(p.irq.isaLine(6));
  assert.equal(p.intr(), true);
  assert.equal(p.irq.acknowledge(), 0x0e);
  out20(p);
  p.lapic(0x350, 0x10700);
  pulse(p.irq.isaLine(7));
  assert.equal(p.intr(), false, 'LVT0 masked');
  assert.ok(p.irq.apicBaseMsr!.write(0xfee00100n), 'clear the global enable');
  assert.equal(p.intr(), true, 'a PC without APIC: 8259 straight to INTR');
  assert.equal(p.irq.acknowledge(), 0x0f);
  assert.equal(p.irq.apicBaseMsr!.read(), 0xfee00100n);
});

test('APIC mode: ISA IRQ0 arrives on GSI 2; the 8259 path stays quiet when masked as Linux does', () => {
  const p = platform(true);
  p.initPic();
  p.out(0x21, 0xff);
  p.out(0xa1, 0xff);
  p.virtualWireB();
  p.ioapic(0x10 + 2 * 2, 0x30);
  p.ioapic(0x10, 0x10700); // Linux masks RTE0 once the IOAPIC is in use
  pulse(p.irq.isaLine(0));
  assert.equal(p.intr(), true);
  assert.equal(p.irq.acknowledge(), 0x30);
  assert.equal(p.intr(), false);
  assert.equal(p.lapic(0x100 + 0x10), 1 << 16, 'ISR bit 0x30');
  p.lapic(0xb0, 0);
  assert.equal(p.lapic(0x100 + 0x10), 0);
});

test('level GSI: remote IRR holds until the LAPIC EOI, which redelivers while the device still asserts', () => {
  const p = platform(true);
  p.lapic(0xf0, 0x1ff);
  p.ioapic(0x10 + 2 * 17, 0xa000 | 0x41); // level, active low (polarity is ignored)
  const dev = p.irq.gsiLine(17);
  dev.set(true);
  assert.equal(p.irq.acknowledge(), 0x41);
  assert.equal(p.lapic(0x180 + 0x20), 1 << 1, 'TMR marks 0x41 level');
  assert.equal(p.ioapic(0x10 + 2 * 17) & 0x4000, 0x4000, 'remote IRR');
  assert.equal(p.intr(), false);
  p.lapic(0xb0, 0);
  assert.equal(p.intr(), true, 'still asserted: redelivered at EOI');
  assert.equal(p.irq.acknowledge(), 0x41);
  dev.set(false);
  p.lapic(0xb0, 0);
  assert.equal(p.ioapic(0x10 + 2 * 17) & 0x4000, 0, 'remote IRR clear after EOI');
  assert.equal(p.intr(), false);
});

test('shared pins count sources: a GSI drops only when its last source drops', () => {
  const p = platform(true);
  p.lapic(0xf0, 0x1ff);
  p.ioapic(0x10 + 2 * 20, 0x8000 | 0x50);
  const a = p.irq.gsiLine(20);
  const b = p.irq.gsiLine(20);
  a.set(true);
  b.set(true);
  b.set(true); // repeated levels from one source count once
  assert.equal(p.irq.acknowledge(), 0x50);
  a.set(false);
  p.lapic(0xb0, 0);
  assert.equal(p.irq.acknowledge(), 0x50, 'b still asserts');
  b.set(false);
  b.set(false);
  p.lapic(0xb0, 0);
  assert.equal(p.irq.acknowledge(), -1);
  a.set(true);
  assert.equal(p.irq.acknowledge(), 0x50, 'a extra set(false) from b did not underflow the count');
});

test('shared ISA IRQ: an ISA device and a PCI link on IRQ 5 give one 8259 edge and one IOAPIC edge', () => {
  const p = platform(true);
  p.initPic();
  p.out(0x21, 0xdf); // only IRQ5
  p.virtualWireB();
  p.ioapic(0x10 + 2 * 5, 0x35);
  p.ioapic(0x10, 0x10700);
  const isa = p.irq.isaLine(5);
  const link = p.irq.isaLine(5);
  isa.set(true);
  assert.equal(p.irq.acknowledge(), 0x35, 'IOAPIC edge');
  p.lapic(0xb0, 0);
  link.set(true);
  assert.equal(p.intr(), false, 'no second edge while the line is already high');
  isa.set(false);
  assert.equal(p.intr(), false);
  link.set(false);
  link.set(true);
  assert.equal(p.irq.acknowledge(), 0x35, 'a new edge after both dropped');
  // The 8259 saw the same wired-OR line: route it and take its request.
  p.ioapic(0x10, 0x700);
  assert.equal(p.irq.acknowledge(), 0x0d);
});

test('INTR follows the LAPIC priority: TPR above the pending class lowers INTR; the 8259 wins INTA', () => {
  const p = platform(true);
  p.initPic();
  p.virtualWireB();
  p.lapic(0x300, 0x40000 | 0x65); // self-IPI
  assert.equal(p.intr(), true);
  p.lapic(0x80, 0x60);
  assert.equal(p.intr(), false, 'TPR class 6 blocks vector 0x65');
  pulse(p.irq.isaLine(1));
  assert.equal(p.intr(), true);
  p.lapic(0x80, 0);
  assert.equal(p.irq.acknowledge(), 0x09, 'ExtINT first, as Xen');
  assert.equal(p.irq.acknowledge(), 0x65);
  assert.equal(p.intr(), false);
});

test('IPIs: broadcast to all includes self, all-but-self reaches nobody with one vCPU, INIT/SIPI are ignored', () => {
  const p = platform(true);
  p.lapic(0xf0, 0x1ff);
  p.lapic(0x300, 0x80000 | 0x71);
  assert.equal(p.irq.acknowledge(), 0x71);
  p.lapic(0xb0, 0);
  p.lapic(0x300, 0xc0000 | 0x72);
  assert.equal(p.intr(), false);
  p.lapic(0x310, 0x02000000);
  p.lapic(0x300, 0x4500); // INIT to APIC 2 (absent)
  p.lapic(0x300, 0x4600 | 0x10); // STARTUP
  assert.equal(p.intr(), false);
  p.lapic(0x310, 0);
  p.lapic(0x300, 0x73); // physical destination 0 = self
  assert.equal(p.irq.acknowledge(), 0x73);
  p.lapic(0xb0, 0);
  p.lapic(0xd0, 0x01000000);
  p.lapic(0x310, 0x01000000);
  p.lapic(0x300, 0x800 | 0x100 | 0x74); // logical, lowest priority
  assert.equal(p.irq.acknowledge(), 0x74);
  p.lapic(0x300, 0x40400); // NMI to self
  assert.equal(p.irq.lapic!.nmiPending, 1);
});

test('LAPIC timer through the fabric: deadline, update, INTR', () => {
  const p = platform(true);
  p.lapic(0xf0, 0x1ff);
  p.lapic(0x3e0, 0xb);
  p.lapic(0x320, 0x20000 | 0xef);
  p.lapic(0x380, 100_000); // 1 ms
  assert.equal(p.irq.nextDeadlineNs(), 1_000_000);
  p.clock.ns = 1_000_000;
  p.irq.update();
  assert.equal(p.irq.acknowledge(), 0xef);
  assert.equal(p.irq.nextDeadlineNs(), 2_000_000);
  assert.equal(platform(false).irq.nextDeadlineNs(), Infinity);
});

test('save/restore of the whole fabric keeps routes and pending state', () => {
  const a = platform(true);
  a.initPic();
  a.virtualWireB();
  a.lapic(0x300, 0x40000 | 0x66);
  const s = JSON.parse(JSON.stringify(a.irq.save()));
  const b = platform(true);
  b.irq.restore(s);
  assert.equal(b.intr(), true);
  assert.equal(b.irq.acknowledge(), 0x66);
  pulse(b.irq.isaLine(0));
  assert.equal(b.irq.acknowledge(), 0x08, 'RTE0 ExtINT route and 8259 setup restored');
});

test('bad line numbers are refused at wiring time', () => {
  const p = platform(true);
  assert.throws(() => p.irq.isaLine(16), RangeError);
  assert.throws(() => p.irq.gsiLine(48), RangeError);
  assert.throws(() => p.irq.gsiLine(1.5), RangeError);
});

test('fuzz: random MMIO, port, line and clock activity never throws and INTR always matches what INTA yields', () => {
  const next = xorshift32(0x2545f491);
  const rnd = (n: number) => next() % n;
  const p = platform(true);
  p.initPic();
  p.virtualWireB();
  const lines = [...Array.from({ length: 16 }, (_, i) => p.irq.isaLine(i)), ...Array.from({ length: 48 }, (_, i) => p.irq.gsiLine(i))];
  const sizes = [1, 2, 4] as const;
  const taken = [0, 0];
  for (let step = 0; step < 20000; step++) {
    const size = sizes[rnd(3)];
    switch (rnd(8)) {
      case 0:
        p.bus.mmioWrite(LAPIC + rnd(0x1000), size, rnd(0x100000000));
        break;
      case 1:
        p.bus.mmioRead(LAPIC + rnd(0x1000), size);
        break;
      case 2:
        // Mostly plausible IOAPIC registers, sometimes anything.
        p.bus.mmioWrite(IOAPIC + (rnd(2) ? 0 : rnd(0x100)), size, rnd(4) ? 0x10 + rnd(100) : rnd(0x100000000));
        p.bus.mmioWrite(IOAPIC + 0x10 + (rnd(4) ? 0 : rnd(4)), size, rnd(0x100000000));
        break;
      case 3:
        lines[rnd(lines.length)].set(rnd(2) === 1);
        break;
      case 4:
        p.bus.pioWrite([0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1][rnd(6)], 1, rnd(256));
        break;
      case 5:
        p.clock.advance(rnd(100_000));
        p.irq.update();
        break;
      case 6:
        if (rnd(4) === 0) p.irq.apicBaseMsr!.write(BigInt(rnd(0x100000000)));
        else p.lapic(0xb0, 0);
        break;
      case 7: {
        const before = p.intr();
        const v = p.irq.acknowledge();
        assert.equal(v >= 0, before, `step ${step}: INTR ${before} but INTA gave ${v}`);
        taken[before ? 1 : 0]++;
        break;
      }
    }
  }
  assert.ok(taken[0] > 100 && taken[1] > 100, `both INTR states exercised: ${taken}`);
});
