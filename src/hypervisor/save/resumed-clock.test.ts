import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.js';
import { ResumedClock } from './resumed-clock.js';

test('a resumed clock starts at the saved time, moves with its base, and anchor() drops the time spent building the domain', () => {
  const host = new ManualClock();
  host.ns = 5_000;
  const c = new ResumedClock(host, 1_000_000);
  assert.equal(c.nowNs(), 1_000_000);
  host.advance(250);
  assert.equal(c.nowNs(), 1_000_250);
  host.advance(40_000_000); // modules load, devices and firmware tables are built...
  c.anchor(); // ...then the image is applied: guest time is the saved time again
  assert.equal(c.nowNs(), 1_000_000);
  host.advance(10);
  assert.equal(c.nowNs(), 1_000_010);
  assert.throws(() => new ResumedClock(host, -1), /not a guest time/);
});
