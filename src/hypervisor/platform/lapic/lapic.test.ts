import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.js';
import { Lapic, type Ipi } from './device.js';

function rig(vcpuId = 0) {
  const clock = new ManualClock();
  const eois: number[] = [];
  const ipis: Ipi[] = [];
  let changes = 0;
  const lapic: Lapic = new Lapic(clock, vcpuId, {
    changed: () => changes++,
    levelEoi: (v) => eois.push(v),
    sendIpi: (from, ipi) => {
      assert.equal(from, lapic);
      ipis.push(ipi);
      // Loop self-IPIs back, as the fabric does.
      if (ipi.shorthand === 1 && ipi.mode === 0) from.accept(ipi.vector, false);
    },
  });
  const rd = (reg: number) => lapic.mmioRead(reg, 4);
  const wr = (reg: number, v: number) => lapic.mmioWrite(reg, 4, v);
  return { clock, lapic, eois, ipis, rd, wr, changes: () => changes };
}

test('reset values match Xen: ID = 2 × vcpu, version, SVR 0xFF, DFR all ones, LVTs masked, base MSR', () => {
  const { rd, lapic } = rig(0);
  assert.equal(rd(0x20), 0);
  assert.equal(rd(0x30), 0x00050014);
  assert.equal(rd(0xf0), 0xff);
  assert.equal(rd(0xe0), 0xffffffff);
  for (let r = 0x320; r <= 0x370; r += 0x10) assert.equal(rd(r), 0x10000, `LVT ${r.toString(16)}`);
  assert.equal(lapic.readApicBase(), 0xfee00900n);
  const ap = rig(3);
  assert.equal(ap.rd(0x20), 6 << 24);
  assert.equal(ap.lapic.readApicBase(), 0xfee00800n, 'no BSP bit on an AP');
});

test('SVR software disable forces LVTs masked; enabled they take the written mask', () => {
  const { rd, wr } = rig();
  wr(0x350, 0x700);
  assert.equal(rd(0x350), 0x10700, 'software-disabled: mask stays set');
  wr(0xf0, 0x1ff);
  wr(0x350, 0x700);
  assert.equal(rd(0x350), 0x700);
  wr(0x320, 0x20030);
  assert.equal(rd(0x320), 0x20030);
  wr(0xf0, 0x0ff);
  assert.equal(rd(0x350), 0x10700, 'clearing SVR bit 8 masks every LVT');
  assert.equal(rd(0x320), 0x30030);
});

test('priority: a vector is deliverable only above PPR; ISR and TPR raise PPR by class', () => {
  const { lapic, wr, rd } = rig();
  wr(0xf0, 0x1ff);
  lapic.accept(0x51, false);
  assert.equal(lapic.pendingVector(), 0x51);
  wr(0x80, 0x50);
  assert.equal(rd(0xa0), 0x50);
  assert.equal(lapic.pendingVector(), -1, 'same class as TPR is blocked');
  wr(0x80, 0x4f);
  assert.equal(lapic.pendingVector(), 0x51);
  wr(0x80, 0);
  assert.equal(lapic.acknowledge(), 0x51);
  assert.equal(rd(0x100 + 0x20), 1 << 17, 'ISR bit of 0x51');
  assert.equal(rd(0x200 + 0x20), 0, 'IRR cleared');
  assert.equal(rd(0xa0), 0x50, 'PPR = ISR class');
  lapic.accept(0x55, false);
  assert.equal(lapic.pendingVector(), -1, 'same class as the in-service vector waits');
  lapic.accept(0x61, false);
  assert.equal(lapic.pendingVector(), 0x61, 'a higher class nests');
  assert.equal(lapic.acknowledge(), 0x61);
  wr(0xb0, 0);
  assert.equal(rd(0x100 + 0x30), 0, 'EOI retires the highest ISR bit first (0x61)');
  assert.equal(rd(0x100 + 0x20), 1 << 17, '0x51 still in service');
  assert.equal(lapic.pendingVector(), -1);
  wr(0xb0, 0);
  assert.equal(lapic.pendingVector(), 0x55);
});

test('EOI of a level vector (TMR set) reaches the IOAPIC; an edge vector does not', () => {
  const { lapic, wr, rd, eois } = rig();
  lapic.accept(0x40, true);
  assert.equal(lapic.pendingVector(), -1, 'software-disabled (SVR 0xFF): IRR is held, nothing delivered');
  wr(0xf0, 0x1ff);
  lapic.accept(0x30, false);
  assert.equal(rd(0x180 + 0x20), 1, 'TMR bit of 0x40');
  assert.equal(lapic.acknowledge(), 0x40);
  wr(0xb0, 0);
  assert.deepEqual(eois, [0x40]);
  assert.equal(lapic.acknowledge(), 0x30);
  wr(0xb0, 0);
  assert.deepEqual(eois, [0x40]);
});

test('acknowledge with nothing deliverable answers the spurious vector and sets no ISR bit', () => {
  const { lapic, wr, rd } = rig();
  wr(0xf0, 0x1ef);
  assert.equal(lapic.acknowledge(), 0xef);
  for (let r = 0x100; r < 0x180; r += 0x10) assert.equal(rd(r), 0);
});

test('self-IPI through the ICR; illegal vectors set ESR and raise the error LVT', () => {
  const { lapic, wr, rd, ipis } = rig();
  wr(0xf0, 0x1ff);
  wr(0x310, 0x12000000);
  wr(0x300, 0x40000 | 0x4000 | 0x77);
  assert.equal(ipis.length, 1);
  assert.deepEqual(ipis[0], { vector: 0x77, mode: 0, logical: false, dest: 0x12, shorthand: 1, assert: true, level: false });
  assert.equal(rd(0x300) & 0x1000, 0, 'delivery status idle');
  assert.equal(lapic.pendingVector(), 0x77);
  wr(0x370, 0xfe);
  wr(0x300, 0x40000 | 0x05);
  assert.equal(ipis.length, 1, 'an illegal vector is not sent');
  assert.equal(rd(0x280), 0, 'ESR reads the last latched value');
  wr(0x280, 0);
  assert.equal(rd(0x280), 0x20, 'send illegal vector');
  wr(0x280, 0);
  assert.equal(rd(0x280), 0, 'a second write clears it');
  assert.equal(lapic.acknowledge(), 0xfe, 'error LVT vector raised');
});

test('timer one-shot: counts down at 100 MHz / divisor, fires once, current count stops at 0', () => {
  const { clock, lapic, wr, rd } = rig();
  wr(0xf0, 0x1ff);
  wr(0x3e0, 0x3); // ÷16: 160 ns per count
  wr(0x320, 0x40);
  wr(0x380, 1000);
  assert.equal(lapic.nextDeadlineNs(), 160_000);
  clock.ns = 16_000;
  assert.equal(rd(0x390), 900);
  clock.ns = 159_999;
  lapic.update();
  assert.equal(lapic.pendingVector(), -1);
  clock.ns = 160_000;
  lapic.update();
  assert.equal(lapic.pendingVector(), 0x40);
  assert.equal(rd(0x390), 0);
  assert.equal(lapic.nextDeadlineNs(), Infinity);
  assert.equal(lapic.acknowledge(), 0x40);
  wr(0xb0, 0);
  clock.ns = 1e9;
  lapic.update();
  assert.equal(lapic.pendingVector(), -1, 'one-shot does not fire again');
});

test('timer periodic: reloads, one interrupt per period, masked LVT counts without interrupting', () => {
  const { clock, lapic, wr, rd } = rig();
  wr(0xf0, 0x1ff);
  wr(0x3e0, 0xb); // ÷1: 10 ns per count
  wr(0x320, 0x20000 | 0x31);
  wr(0x380, 100); // 1 µs period
  for (let k = 1; k <= 3; k++) {
    clock.ns = lapic.nextDeadlineNs();
    assert.equal(clock.ns, k * 1000);
    lapic.update();
    assert.equal(lapic.acknowledge(), 0x31);
    wr(0xb0, 0);
  }
  clock.ns = 3250;
  assert.equal(rd(0x390), 75);
  wr(0x320, 0x30031); // masked
  clock.ns = 5000;
  lapic.update();
  assert.equal(lapic.pendingVector(), -1);
  assert.equal(lapic.nextDeadlineNs(), Infinity, 'masked: no wake-up needed');
  clock.ns = 5500;
  assert.equal(rd(0x390), 50, 'but it still counts');
  clock.ns = 6000;
  wr(0x320, 0x20031); // unmask exactly at an expiry that happened while masked
  assert.equal(lapic.pendingVector(), -1, 'an expiry while masked raises nothing');
  assert.equal(lapic.nextDeadlineNs(), 7000);
  wr(0x380, 0);
  assert.equal(lapic.nextDeadlineNs(), Infinity, 'initial count 0 stops it');
  assert.equal(rd(0x390), 0);
});

test('timer: changing the divisor keeps the count reached so far', () => {
  const { clock, lapic, wr, rd } = rig();
  wr(0xf0, 0x1ff);
  wr(0x320, 0x30);
  wr(0x3e0, 0xb);
  wr(0x380, 1000); // 10 µs at ÷1
  clock.ns = 4000;
  assert.equal(rd(0x390), 600);
  wr(0x3e0, 0x0); // ÷2
  assert.equal(rd(0x390), 600);
  assert.equal(lapic.nextDeadlineNs(), 4000 + 600 * 20);
  assert.equal(rd(0x3e0), 0);
  wr(0x3e0, 0xff);
  assert.equal(rd(0x3e0), 0xb, 'only bits 3, 1:0');
});

test('APIC base MSR: disable hides the LAPIC and resets it; reserved bits and x2APIC are refused', () => {
  const { lapic, wr, rd } = rig();
  wr(0xf0, 0x1ff);
  wr(0x80, 0x20);
  lapic.accept(0x80, false);
  assert.equal(lapic.writeApicBase(0xfee00000n | (1n << 10n) | (1n << 11n)), false, 'x2APIC enable');
  assert.equal(lapic.writeApicBase(0xfee00801n), false, 'bit 0');
  assert.equal(lapic.writeApicBase((1n << 40n) | 0xfee00800n), false, 'above 36 bits');
  assert.equal(lapic.writeApicBase(0xfee00100n), true);
  assert.equal(lapic.hardwareEnabled, false);
  assert.equal(lapic.readApicBase(), 0xfee00100n);
  assert.equal(lapic.pendingVector(), -1);
  assert.equal(rd(0x30), 0xffffffff, 'MMIO is open bus while disabled');
  lapic.accept(0x90, false);
  assert.equal(lapic.writeApicBase(0xfee00900n), true);
  assert.equal(rd(0xf0), 0xff, 'back in the reset state');
  assert.equal(rd(0x80), 0);
  assert.equal(lapic.pendingVector(), -1, 'nothing accepted while disabled, IRR cleared');
});

test('destination matching: physical, broadcast, flat and cluster logical', () => {
  const { lapic, wr } = rig(1); // APIC ID 2
  assert.ok(lapic.matches(false, 2));
  assert.ok(lapic.matches(false, 0xff));
  assert.ok(!lapic.matches(false, 0));
  wr(0xd0, 0x04000000);
  assert.ok(lapic.matches(true, 0x05));
  assert.ok(!lapic.matches(true, 0x02));
  wr(0xe0, 0x0fffffff); // cluster model
  wr(0xd0, 0x31000000); // cluster 3, member bit 0
  assert.ok(lapic.matches(true, 0x31));
  assert.ok(lapic.matches(true, 0xf1));
  assert.ok(!lapic.matches(true, 0x21));
  assert.ok(!lapic.matches(true, 0x32));
});

test('narrow and odd accesses: byte reads extract, byte writes merge, crossing accesses never throw', () => {
  const { rd, wr, lapic } = rig();
  wr(0xd0, 0xab000000);
  assert.equal(lapic.mmioRead(0xd3, 1), 0xab);
  lapic.mmioWrite(0xd3, 1, 0x12);
  assert.equal(rd(0xd0), 0x12000000);
  assert.equal(lapic.mmioRead(0xd2, 4), 0, 'crosses the register');
  lapic.mmioWrite(0xd2, 4, 0xffffffff);
  assert.equal(rd(0xd0), 0x12000000);
  for (let off = 0; off < 0x1000; off += 4) {
    lapic.mmioRead(off, 4);
    lapic.mmioWrite(off, 2, 0xffff);
  }
  assert.equal(rd(0x30), 0x00050014, 'version is read-only');
});

test('save/restore round-trips registers, vector bitmaps and the running timer', () => {
  const a = rig();
  a.wr(0xf0, 0x1ff);
  a.wr(0x320, 0x20040);
  a.wr(0x3e0, 0xb);
  a.wr(0x380, 500);
  a.lapic.accept(0x66, true);
  a.lapic.acknowledge();
  a.lapic.accept(0x70, false);
  a.clock.ns = 1234;
  const saved = JSON.parse(JSON.stringify(a.lapic.save()));
  const b = rig();
  b.clock.ns = 1234;
  b.lapic.restore(saved);
  assert.deepEqual(b.lapic.save(), a.lapic.save());
  assert.equal(b.rd(0x390), a.rd(0x390));
  assert.equal(b.lapic.nextDeadlineNs(), 5000);
  assert.equal(b.lapic.pendingVector(), 0x70);
});
