import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Dom0Link, DOM0_LINK_PORTS } from './dom0-link.js';

test('ports raised for dom0 come out once each, in port order, and bad ports are ignored', () => {
  const worker = new Dom0Link();
  const dom0 = new Dom0Link(worker.buffer);
  const bell = dom0.dom0Bell;
  for (const p of [5, 1023, 5, 33, 0, -1, DOM0_LINK_PORTS, 2.5, NaN]) worker.notifyDom0(p);
  assert.ok(dom0.dom0Bell !== bell, 'the bell moved');
  assert.deepEqual(dom0.takeDom0Ports(), [5, 33, 1023]);
  assert.deepEqual(dom0.takeDom0Ports(), []);
});

test('dom0 sends reach the worker side once; the pending check is cheap and exact', () => {
  const worker = new Dom0Link();
  const dom0 = new Dom0Link(worker.buffer);
  assert.equal(worker.guestSendsPending, false);
  dom0.sendFromDom0(2);
  dom0.sendFromDom0(64);
  assert.equal(worker.guestSendsPending, true);
  assert.deepEqual(worker.takeGuestSends(), [2, 64]);
  assert.equal(worker.guestSendsPending, false);
  assert.deepEqual(worker.takeGuestSends(), []);
});

test('a wrong-sized buffer is refused', () => {
  assert.throws(() => new Dom0Link(new SharedArrayBuffer(16)), /expected/);
});

test('dom0 waits without blocking and wakes when another thread raises a port', async () => {
  const dom0 = new Dom0Link();
  // A pending waitAsync does not keep Node's event loop alive (dom0 always has its workers).
  const keepAlive = setInterval(() => {}, 1000);
  const seen = dom0.dom0Bell;
  const waiting = dom0.waitForDom0(seen, 5000);
  const src = `const { workerData } = require('node:worker_threads');
    const w = new Int32Array(workerData);
    Atomics.or(w, 2 + (7 >>> 5), 1 << 7); Atomics.add(w, 0, 1); Atomics.notify(w, 0);`;
  const t0 = performance.now();
  const w = new Worker(src, { eval: true, workerData: dom0.buffer });
  assert.equal(await waiting, 'ok');
  assert.ok(performance.now() - t0 < 4000);
  assert.deepEqual(dom0.takeDom0Ports(), [7]);
  await new Promise((r) => w.once('exit', r));
  assert.equal(await dom0.waitForDom0(dom0.dom0Bell, 10), 'timed-out');
  clearInterval(keepAlive);
});
