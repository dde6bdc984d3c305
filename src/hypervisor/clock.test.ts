import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InstructionClock, ManualClock } from './clock.js';

test('guest time advances only with retired instructions between syncs', () => {
  const host = new ManualClock();
  const c = new InstructionClock(host);
  let retired = 0;
  c.attach(() => retired);
  const t0 = c.nowNs();
  host.advance(5e6); // the host thread was preempted: the guest must not see it
  assert.equal(c.nowNs(), t0);
  retired += 1000;
  assert.equal(c.nowNs(), t0 + 1000 * c.nsPerInstruction);
});

test('the rate is steered so guest time converges on host time', () => {
  const host = new ManualClock();
  const c = new InstructionClock(host);
  let retired = 0;
  c.attach(() => retired);
  // The emulator really runs at 40 MIPS (25 ns per instruction) for 10 host seconds.
  for (let i = 0; i < 1000; i++) {
    retired += 400_000;
    host.advance(10e6);
    c.sync();
  }
  assert.ok(Math.abs(c.nowNs() - host.nowNs()) < 0.05e9, `guest ${c.nowNs()} vs host ${host.nowNs()}`);
  assert.ok(Math.abs(c.nsPerInstruction - 25) < 1);
});

test('a slow emulator makes guest time lag, never a guest CPU slower than 25 MIPS', () => {
  const host = new ManualClock();
  const c = new InstructionClock(host);
  let retired = 0;
  c.attach(() => retired);
  for (let i = 0; i < 100; i++) {
    retired += 200_000; // 2 MIPS
    host.advance(100e6);
    c.sync();
  }
  assert.equal(c.nsPerInstruction, 40);
  assert.ok(c.nowNs() < host.nowNs() / 10);
});

test('a halted vCPU catches up with the host, and time never goes backwards', () => {
  const host = new ManualClock();
  const c = new InstructionClock(host);
  let retired = 0;
  c.attach(() => retired);
  host.advance(2e9);
  c.catchUp();
  assert.equal(c.nowNs(), 2e9);
  retired += 1e9; // guest far ahead of the host
  const ahead = c.nowNs();
  c.catchUp();
  assert.ok(c.nowNs() >= ahead);
  c.advanceTo(ahead - 5);
  assert.ok(c.nowNs() >= ahead);
});

test('InstructionClock.resetTo: guest time is exactly the given time, then moves with retired instructions again', () => {
  const host = new ManualClock();
  host.ns = 7_000_000;
  const c = new InstructionClock(host);
  let retired = 0;
  c.attach(() => retired);
  retired = 1000;
  assert.equal(c.nowNs(), 7_000_000 + 1000 * c.nsPerInstruction);
  c.resetTo(123_456);
  assert.equal(c.nowNs(), 123_456, 'no instruction retired since: exactly the reset time');
  retired += 10;
  assert.equal(c.nowNs(), 123_456 + 10 * c.nsPerInstruction);
});
