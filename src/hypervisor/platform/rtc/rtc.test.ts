import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.js';
import { RtcCmos } from './device.js';

// 2026-11-27 03:04:05.250 UTC, a Friday.
const WALL = Date.UTC(2026, 10, 27, 3, 4, 5, 250);

function makeRtc(wall = WALL) {
  const clock = new ManualClock();
  const levels: boolean[] = [];
  let wallCalls = 0;
  const rtc = new RtcCmos(
    clock,
    () => {
      wallCalls++;
      return wall;
    },
    { set: (l) => levels.push(l) },
  );
  const read = (index: number) => {
    rtc.ports.pioWrite(0, 1, index);
    return rtc.ports.pioRead(1, 1);
  };
  const write = (index: number, v: number) => {
    rtc.ports.pioWrite(0, 1, index);
    rtc.ports.pioWrite(1, 1, v);
  };
  return { clock, rtc, levels, read, write, wallCalls: () => wallCalls };
}

/** Linux mc146818_get_time: UIP clear, read time, UIP still clear and same seconds. */
function linuxReadTime(read: (i: number) => number) {
  assert.equal(read(0x0a) & 0x80, 0, 'UIP');
  const sec = read(0x00);
  const t = {
    sec,
    min: read(0x02),
    hour: read(0x04),
    day: read(0x07),
    mon: read(0x08),
    year: read(0x09),
    century: read(0x32),
    b: read(0x0b),
  };
  assert.equal(read(0x0a) & 0x80, 0);
  assert.equal(read(0x00), sec);
  return t;
}

test('Linux time read: BCD, 24 h, valid RAM, century', () => {
  const { read } = makeRtc();
  const t = linuxReadTime(read);
  assert.deepEqual(t, { sec: 0x05, min: 0x04, hour: 0x03, day: 0x27, mon: 0x11, year: 0x26, century: 0x20, b: 0x02 });
  assert.equal(read(0x0d), 0x80);
  assert.equal(read(0x06), 0x06, 'Friday = 6');
  assert.equal(read(0x0a), 0x26);
});

test('time advances with the domain clock, not by asking the host again', () => {
  const { clock, read, wallCalls } = makeRtc();
  clock.advance(749e6);
  assert.equal(read(0x00), 0x05);
  clock.advance(1e6);
  assert.equal(read(0x00), 0x06);
  clock.advance(3600e9 * 21);
  assert.equal(read(0x04), 0x00);
  assert.equal(read(0x07), 0x28);
  assert.equal(wallCalls(), 1);
});

test('binary mode and 12-hour mode with the PM bit', () => {
  const { clock, read, write } = makeRtc();
  write(0x0b, 0x04); // binary, 12 h
  assert.equal(read(0x00), 5);
  assert.equal(read(0x04), 3, '3 AM');
  clock.advance(12 * 3600e9);
  assert.equal(read(0x04), 0x83, '3 PM');
  assert.equal(read(0x09), 26);
  write(0x0b, 0x00); // BCD, 12 h
  clock.advance(9 * 3600e9); // 00:04 next day
  assert.equal(read(0x04), 0x12, '12 AM');
});

test('SET = 1 holds the clock; written time runs on once SET clears', () => {
  const { clock, read, write } = makeRtc();
  write(0x0b, 0x82 | 0x10); // SET (UIE is cleared by SET)
  assert.equal(read(0x0b), 0x82);
  clock.advance(5e9);
  assert.equal(read(0x00), 0x05, 'frozen');
  write(0x00, 0x30);
  write(0x02, 0x59);
  write(0x04, 0x23);
  write(0x07, 0x31);
  write(0x08, 0x12);
  write(0x09, 0x99);
  write(0x32, 0x19);
  assert.equal(read(0x00), 0x30);
  write(0x0b, 0x02);
  clock.advance(30e9);
  assert.deepEqual(linuxReadTime(read), {
    sec: 0x00,
    min: 0x00,
    hour: 0x00,
    day: 0x01,
    mon: 0x01,
    year: 0x00,
    century: 0x20,
    b: 0x02,
  });
});

test('periodic interrupt: 1024 Hz, PF and IRQF in C, IRQ8 held until C is read', () => {
  const { clock, rtc, read, write, levels } = makeRtc();
  write(0x0b, 0x42); // PIE
  const period = 1e9 / 1024;
  assert.equal(rtc.nextDeadlineNs(), Math.ceil(period));
  clock.ns = period - 1;
  rtc.update();
  assert.deepEqual(levels, []);
  clock.ns = period;
  rtc.update();
  assert.deepEqual(levels, [true]);
  assert.equal(rtc.nextDeadlineNs(), Infinity, 'already asserted');
  clock.ns = 10 * period;
  rtc.update();
  assert.deepEqual(levels, [true]);
  assert.equal(read(0x0c), 0xc0);
  assert.deepEqual(levels, [true, false]);
  assert.equal(read(0x0c), 0x00);
  assert.equal(rtc.nextDeadlineNs(), Math.ceil(11 * period));
  // Rate select 15 = 2 Hz.
  write(0x0a, 0x2f);
  clock.ns = 10 * period + 0.4e9;
  assert.equal(read(0x0c) & 0x40, 0);
  clock.ns = 0.5e9;
  assert.equal(read(0x0c) & 0x40, 0x40);
});

test('PF is set with PIE clear but raises no IRQ; RS = 0 disables it', () => {
  const { clock, read, write, levels } = makeRtc();
  clock.ns = 5e6;
  assert.equal(read(0x0c), 0x40 | 0x10 * 0);
  write(0x0a, 0x20);
  clock.ns = 50e6;
  assert.equal(read(0x0c), 0);
  assert.deepEqual(levels, []);
});

test('update-ended interrupt at the next second boundary', () => {
  const { clock, rtc, read, write, levels } = makeRtc();
  write(0x0a, 0x20); // no periodic
  write(0x0b, 0x12); // UIE
  assert.equal(rtc.nextDeadlineNs(), 750e6);
  clock.ns = 749e6;
  rtc.update();
  assert.deepEqual(levels, []);
  clock.ns = 750e6;
  rtc.update();
  assert.deepEqual(levels, [true]);
  assert.equal(read(0x0c), 0x90);
  assert.equal(read(0x00), 0x06);
});

test('alarm interrupt, with don\'t-care hours', () => {
  const { clock, rtc, read, write, levels } = makeRtc();
  write(0x0a, 0x20);
  write(0x01, 0x10); // :10 seconds
  write(0x03, 0x04);
  write(0x05, 0xc0); // any hour
  write(0x0b, 0x22); // AIE
  clock.ns = 4.5e9; // 03:04:09.75
  rtc.update();
  assert.deepEqual(levels, []);
  assert.equal(read(0x0c) & 0x20, 0);
  clock.ns = 4.75e9; // :10
  rtc.update();
  assert.deepEqual(levels, [true]);
  assert.equal(read(0x0c), 0xb0);
  // A long idle that passes the alarm time still reports it.
  clock.ns = 4.75e9 + 3600e9;
  assert.equal(read(0x0c), 0xb0);
});

test('index port: reads 0xFF, bit 7 is the NMI mask, CMOS RAM reads back', () => {
  const { rtc, read, write } = makeRtc();
  rtc.ports.pioWrite(0, 1, 0x8f);
  assert.equal(rtc.nmiDisabled, true);
  assert.equal(rtc.ports.pioRead(0, 1), 0xff);
  write(0x0f, 0x5a);
  assert.equal(rtc.nmiDisabled, false);
  assert.equal(read(0x0f), 0x5a);
  rtc.setCmos(0x30, 0x12);
  rtc.setCmos(0x31, 0x34);
  assert.equal(read(0x30) | (read(0x31) << 8), 0x3412);
  assert.equal(rtc.cmos(0x31), 0x34);
  write(0x0d, 0);
  assert.equal(read(0x0d), 0x80, 'D is read-only');
});

test('save/restore keeps time, registers and IRQ level', () => {
  const a = makeRtc();
  a.write(0x0b, 0x42);
  a.write(0x40, 0x77);
  a.clock.ns = 3e9;
  a.rtc.update();
  const st = JSON.parse(JSON.stringify(a.rtc.save()));
  const b = makeRtc(0);
  b.clock.ns = 3e9;
  b.rtc.restore(st);
  assert.deepEqual(b.levels, [true]);
  assert.equal(b.read(0x00), 0x08);
  assert.equal(b.read(0x40), 0x77);
  assert.equal(b.read(0x0c), 0xd0, 'PF and UF (three seconds passed)');
});

test('fuzz: random accesses and time never throw, outputs stay in range', () => {
  const { clock, rtc } = makeRtc();
  let seed = 99;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 30000; i++) {
    const size = ([1, 2, 4] as const)[rnd(3)];
    const off = rnd(2);
    if (rnd(2)) rtc.ports.pioWrite(off, size, rnd(3) ? rnd(256) | 0x0 : rnd(2 ** 31));
    else {
      const v = rtc.ports.pioRead(off, size);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** (8 * size));
    }
    if (rnd(10) === 0) rtc.setCmos(rnd(256), rnd(256));
    clock.advance(rnd(4) === 0 ? rnd(2 ** 30) * 1000 : rnd(1e6));
    rtc.update();
    const d = rtc.nextDeadlineNs();
    assert.ok(d === Infinity || Number.isFinite(d));
  }
});

test('an idle loop sleeping until nextDeadlineNs always finds the interrupt due', () => {
  const { clock, rtc, read, write, levels } = makeRtc(WALL + 0.3337);
  write(0x0a, 0x23); // 8192 Hz: a period that is not a whole number of ns
  write(0x0b, 0x52); // PIE + UIE
  clock.ns = 123.456;
  for (let i = 0; i < 3000; i++) {
    const d = rtc.nextDeadlineNs();
    assert.ok(d > clock.ns && Number.isInteger(d));
    clock.ns = d;
    rtc.update();
    assert.equal(levels[levels.length - 1], true, `iteration ${i}`);
    assert.ok(read(0x0c) & 0x80);
  }
});
