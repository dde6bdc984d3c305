import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ConsoleRing } from './console-ring.js';

test('bytes come out in order across the wrap point; a full ring takes a short count', () => {
  const ring = new ConsoleRing(16);
  assert.equal(ring.read(), null);
  assert.equal(ring.write(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), 10);
  assert.deepEqual(ring.read(6), new Uint8Array([1, 2, 3, 4, 5, 6]));
  // 4 waiting, 12 free: of 20 offered, 12 go in and wrap around the end.
  const offered = Uint8Array.from({ length: 20 }, (_, i) => 100 + i);
  assert.equal(ring.write(offered), 12);
  assert.equal(ring.length, 16);
  assert.equal(ring.write(new Uint8Array([1])), 0);
  assert.deepEqual(ring.read(), new Uint8Array([7, 8, 9, 10, ...offered.subarray(0, 12)]));
  assert.equal(ring.length, 0);
});

test('a second view of the same buffer (another thread) sees the same ring', async () => {
  const ring = new ConsoleRing(64);
  // The counters wrap at 2^32 without losing bytes: start near the top.
  new Int32Array(ring.buffer, 0, 2).fill(-3);
  const text = 'hello from dom0, across the wrap';
  ring.write(new TextEncoder().encode(text));
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const bytes = new Uint8Array(workerData, 8);
    const idx = new Int32Array(workerData, 0, 2);
    const head = Atomics.load(idx, 0) >>> 0, tail = Atomics.load(idx, 1) >>> 0;
    const out = [];
    for (let i = 0; i < ((head - tail) >>> 0); i++) out.push(bytes[(tail + i) & 63]);
    Atomics.store(idx, 1, head | 0);
    parentPort.postMessage(String.fromCharCode(...out));`;
  const w = new Worker(code, { eval: true, workerData: ring.buffer });
  const got = await new Promise((resolve) => w.once('message', resolve));
  await w.terminate();
  assert.equal(got, text);
  assert.equal(ring.length, 0);
});

test('bad sizes are refused', () => {
  assert.throws(() => new ConsoleRing(100), RangeError);
  assert.throws(() => new ConsoleRing(new SharedArrayBuffer(8 + 100)), RangeError);
});
