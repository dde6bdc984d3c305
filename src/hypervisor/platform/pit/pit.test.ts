import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.js';
import { Pit } from './device.js';
import { nsAtTick, PIT_HZ, ticksAt } from './channel.js';

function makePit() {
  const clock = new ManualClock();
  let irqs = 0;
  const levels: boolean[] = [];
  const pit = new Pit(clock, {
    set(l) {
      levels.push(l);
      if (l) irqs++;
    },
  });
  const out = (port: number, v: number) =>
    port === 0x61 ? pit.port61.pioWrite(0, 1, v) : pit.ports.pioWrite(port - 0x40, 1, v);
  const inb = (port: number) => (port === 0x61 ? pit.port61.pioRead(0, 1) : pit.ports.pioRead(port - 0x40, 1));
  return { clock, pit, out, inb, irqs: () => irqs, levels };
}

test('tick conversion is exact and monotonic', () => {
  assert.equal(ticksAt(1e9), PIT_HZ);
  assert.equal(ticksAt(3600e9 * 24 * 30), PIT_HZ * 3600 * 24 * 30);
  for (const t of [1, 255, 4773, 65536, 1193181, 1193183, 987654321]) {
    assert.equal(ticksAt(nsAtTick(t)), t);
    assert.equal(ticksAt(nsAtTick(t) - 1), t - 1);
  }
});

test('Linux periodic tick: mode 2, LATCH 4773 → IRQ0 every 4 ms, missed periods coalesce', () => {
  const { clock, pit, out, irqs, levels } = makePit();
  out(0x43, 0x34);
  out(0x40, 0xa5);
  out(0x40, 0x12);
  const first = pit.nextDeadlineNs();
  assert.equal(first, nsAtTick(4773));
  assert.ok(Math.abs(first - 4_000_000) < 1000);
  clock.ns = first - 1;
  pit.update();
  assert.equal(irqs(), 0);
  clock.ns = first;
  pit.update();
  assert.equal(irqs(), 1);
  assert.deepEqual(levels, [true, false], 'an edge: raise then lower');
  assert.equal(pit.nextDeadlineNs(), nsAtTick(2 * 4773));
  clock.ns = nsAtTick(20 * 4773) + 5;
  pit.update();
  assert.equal(irqs(), 2, 'ten missed periods give one edge');
  assert.equal(pit.nextDeadlineNs(), nsAtTick(21 * 4773));
  pit.update();
  assert.equal(irqs(), 2);
});

test('PIT clocksource read: latch command then LSB, MSB; counts down and reloads', () => {
  const { clock, out, inb } = makePit();
  out(0x43, 0x34);
  out(0x40, 0xa5);
  out(0x40, 0x12);
  clock.ns = nsAtTick(100);
  out(0x43, 0x00);
  clock.ns = nsAtTick(200); // the latch holds the value of its moment
  assert.equal(inb(0x40) | (inb(0x40) << 8), 4773 - 100);
  out(0x43, 0x00);
  assert.equal(inb(0x40) | (inb(0x40) << 8), 4773 - 200);
  clock.ns = nsAtTick(4773 + 10);
  out(0x43, 0x00);
  assert.equal(inb(0x40) | (inb(0x40) << 8), 4773 - 10);
});

test('mode 0 one-shot: OUT low until terminal count, one IRQ, then no deadline', () => {
  const { clock, pit, out, irqs } = makePit();
  out(0x43, 0x30);
  assert.equal(pit.out(0), false);
  out(0x40, 0xe8);
  out(0x40, 0x03); // 1000
  assert.equal(pit.nextDeadlineNs(), nsAtTick(1000));
  clock.ns = nsAtTick(999);
  pit.update();
  assert.equal(pit.out(0), false);
  assert.equal(irqs(), 0);
  clock.ns = nsAtTick(1000);
  pit.update();
  assert.equal(pit.out(0), true);
  assert.equal(irqs(), 1);
  assert.equal(pit.nextDeadlineNs(), Infinity);
  clock.ns = nsAtTick(70000);
  pit.update();
  assert.equal(irqs(), 1);
  assert.equal(pit.out(0), true, 'OUT stays high after the count wraps');
});

test('mode 0: rewriting the first byte stops the count and drops OUT', () => {
  const { clock, pit, out } = makePit();
  out(0x43, 0x30);
  out(0x40, 10);
  out(0x40, 0);
  clock.ns = nsAtTick(20);
  assert.equal(pit.out(0), true);
  out(0x40, 50);
  assert.equal(pit.out(0), false);
  assert.equal(pit.nextDeadlineNs(), Infinity);
  out(0x40, 0);
  assert.equal(pit.nextDeadlineNs(), nsAtTick(70));
});

test('Linux one-shot clockevent: mode 4, an event per count written', () => {
  const { clock, pit, out, irqs } = makePit();
  out(0x43, 0x38);
  out(0x40, 100);
  out(0x40, 0);
  assert.equal(pit.out(0), true);
  clock.ns = nsAtTick(100);
  assert.equal(pit.out(0), false, 'strobe');
  clock.ns = nsAtTick(101);
  pit.update();
  assert.equal(irqs(), 1);
  assert.equal(pit.out(0), true);
  assert.equal(pit.nextDeadlineNs(), Infinity);
  out(0x40, 200);
  out(0x40, 0);
  assert.equal(pit.nextDeadlineNs(), nsAtTick(101 + 201));
  // Stop: mode 0 control word without a count: nothing more.
  out(0x43, 0x30);
  assert.equal(pit.nextDeadlineNs(), Infinity);
  clock.ns = nsAtTick(10000);
  pit.update();
  assert.equal(irqs(), 1);
});

test('fast TSC calibration: unlatched LSB/MSB reads of channel 2 count down smoothly', () => {
  const { clock, out, inb } = makePit();
  out(0x61, (inb(0x61) & ~2) | 1);
  out(0x43, 0xb0);
  out(0x42, 0xff);
  out(0x42, 0xff);
  // Linux: pit_expect_msb — read LSB, read MSB, compare; one pair per ~1 µs here.
  // Each byte is the live count at the instant of its read.
  const seen = new Map<number, number>();
  for (let i = 0; i < 20000; i++) {
    clock.advance(500);
    const lsb = inb(0x42);
    assert.equal(lsb, (0xffff - ticksAt(clock.ns)) & 0xff);
    clock.advance(500);
    const msb = inb(0x42);
    assert.equal(msb, (0xffff - ticksAt(clock.ns)) >> 8);
    seen.set(msb, (seen.get(msb) ?? 0) + 1);
  }
  // 20 ms of reads: MSBs 0xFF down to ~0xA3, each seen for ~214 pairs (Linux needs > 5).
  const expectedMsb = (0xffff - ticksAt(clock.ns)) >> 8;
  assert.equal(Math.min(...seen.keys()), expectedMsb);
  for (let m = 0xfe; m > expectedMsb; m--) {
    const n = seen.get(m) ?? 0;
    assert.ok(n > 200 && n < 230, `MSB ${m.toString(16)} seen ${n} times`);
  }
});

test('slow calibration: OUT2 at 0x61 bit 5 rises after the latch count; gate low holds the count', () => {
  const { clock, out, inb } = makePit();
  out(0x61, 0x00); // gate off
  out(0x43, 0xb0);
  out(0x42, 11931 & 0xff);
  out(0x42, 11931 >> 8);
  assert.equal(inb(0x61) & 0x20, 0);
  clock.ns = 20e6;
  assert.equal(inb(0x61) & 0x20, 0, 'gate low: mode 0 does not count');
  out(0x61, 0x01);
  const start = clock.ns;
  let polls = 0;
  while (!(inb(0x61) & 0x20)) {
    clock.advance(1000);
    polls++;
  }
  assert.ok(Math.abs(clock.ns - start - 10e6) < 2000, `took ${clock.ns - start} ns`);
  assert.ok(polls >= 1000);
  assert.equal(inb(0x61) & 0x0f, 0x01);
});

test('read-back: status then count; null count clears after a tick', () => {
  const { clock, out, inb } = makePit();
  out(0x43, 0x34);
  out(0x40, 0x00);
  out(0x40, 0x10); // 0x1000
  out(0x43, 0xc2); // latch count + status of channel 0
  assert.equal(inb(0x40), 0xc0 | 0x34, 'OUT high, null count, lo/hi, mode 2');
  assert.equal(inb(0x40), 0x00);
  assert.equal(inb(0x40), 0x10);
  clock.ns = nsAtTick(3);
  out(0x43, 0xc2);
  clock.ns = nsAtTick(4);
  assert.equal(inb(0x40), 0x80 | 0x34, 'count loaded');
  assert.equal(inb(0x40) | (inb(0x40) << 8), 0x1000 - 3);
  // Status only (bit 5 = 1): the count stays live.
  out(0x43, 0xe2);
  assert.equal(inb(0x40), 0x80 | 0x34);
  clock.ns = nsAtTick(5);
  assert.equal(inb(0x40) | (inb(0x40) << 8), 0x1000 - 5);
  // Count only (bit 4 = 1).
  out(0x43, 0xd2);
  clock.ns = nsAtTick(9);
  assert.equal(inb(0x40) | (inb(0x40) << 8), 0x1000 - 5);
});

test('a second latch before reading is ignored', () => {
  const { clock, out, inb } = makePit();
  out(0x43, 0x34);
  out(0x40, 0);
  out(0x40, 0x10);
  clock.ns = nsAtTick(10);
  out(0x43, 0x00);
  clock.ns = nsAtTick(20);
  out(0x43, 0x00);
  assert.equal(inb(0x40) | (inb(0x40) << 8), 0x1000 - 10);
});

test('LSB-only and MSB-only access modes', () => {
  const { clock, out, inb } = makePit();
  out(0x43, 0x14); // ch0 LSB only, mode 2
  out(0x40, 200);
  clock.ns = nsAtTick(50);
  assert.equal(inb(0x40), 150);
  assert.equal(inb(0x40), 150);
  out(0x43, 0x24); // MSB only
  out(0x40, 0x02); // 512
  clock.ns = nsAtTick(50 + 256);
  assert.equal(inb(0x40), 0x01);
});

test('mode 3 square wave: OUT high for the first half, low for the second', () => {
  const { clock, pit, out, irqs } = makePit();
  out(0x43, 0x36);
  out(0x40, 100);
  out(0x40, 0);
  clock.ns = nsAtTick(10);
  assert.equal(pit.out(0), true);
  clock.ns = nsAtTick(60);
  assert.equal(pit.out(0), false);
  clock.ns = nsAtTick(100);
  pit.update();
  assert.equal(pit.out(0), true);
  assert.equal(irqs(), 1);
});

test('BCD counting', () => {
  const { clock, out, inb } = makePit();
  out(0x43, 0x31); // ch0 lo/hi mode 0 BCD
  out(0x40, 0x00);
  out(0x40, 0x10); // 1000 decimal
  clock.ns = nsAtTick(1);
  out(0x43, 0x00);
  assert.equal(inb(0x40) | (inb(0x40) << 8), 0x0999);
});

test('mode 1 on channel 2: gate rising edge triggers the one-shot', () => {
  const { clock, pit, out } = makePit();
  out(0x43, 0xb2); // ch2 lo/hi mode 1
  out(0x42, 100);
  out(0x42, 0);
  assert.equal(pit.out(2), true);
  clock.ns = nsAtTick(50);
  out(0x61, 1);
  assert.equal(pit.out(2), false);
  clock.ns = nsAtTick(150);
  assert.equal(pit.out(2), true);
});

test('port 0x61: refresh toggle follows time, bits 3:0 read back', () => {
  const { clock, inb, out } = makePit();
  out(0x61, 0xff);
  assert.equal(inb(0x61) & 0x0f, 0x0f);
  const a = inb(0x61) & 0x10;
  clock.advance(15085);
  assert.notEqual(inb(0x61) & 0x10, a);
  assert.equal(inb(0x61) & 0xc0, 0);
});

test('save/restore keeps counting from the same point', () => {
  const a = makePit();
  a.out(0x43, 0x34);
  a.out(0x40, 0xa5);
  a.out(0x40, 0x12);
  a.clock.ns = nsAtTick(1000);
  const st = JSON.parse(JSON.stringify(a.pit.save()));
  const b = makePit();
  b.clock.ns = a.clock.ns;
  b.pit.restore(st);
  b.out(0x43, 0);
  assert.equal(b.inb(0x40) | (b.inb(0x40) << 8), 4773 - 1000);
  assert.equal(b.pit.nextDeadlineNs(), nsAtTick(4773));
});

test('fuzz: random accesses and time never throw, outputs stay in range', () => {
  const { clock, pit } = makePit();
  let seed = 777;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 30000; i++) {
    const size = ([1, 2, 4] as const)[rnd(3)];
    const dev = rnd(4) ? pit.ports : pit.port61;
    const off = dev === pit.ports ? rnd(4) : 0;
    if (rnd(2)) dev.pioWrite(off, size, rnd(2 ** 31));
    else {
      const v = dev.pioRead(off, size);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** (8 * size));
    }
    clock.advance(rnd(3) === 0 ? rnd(100_000_000) : rnd(2000));
    pit.update();
    const d = pit.nextDeadlineNs();
    assert.ok(d === Infinity || (Number.isFinite(d) && d >= 0));
  }
});

test('an idle loop sleeping until nextDeadlineNs gets one IRQ0 per wake-up', () => {
  const { clock, pit, out, irqs } = makePit();
  out(0x43, 0x34);
  out(0x40, 0x9c); // 0x2E9C = 11932: 100 Hz
  out(0x40, 0x2e);
  clock.ns = 0.7;
  for (let i = 1; i <= 500; i++) {
    clock.ns = pit.nextDeadlineNs();
    pit.update();
    assert.equal(irqs(), i);
  }
  assert.equal(clock.ns, nsAtTick(500 * 11932));
});
