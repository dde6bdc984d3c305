import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { DebugCon } from './device.js';

test('bytes written reach the sink; reads return 0xE9', () => {
  const out: number[] = [];
  const d = new DebugCon((b) => out.push(b));
  for (const c of 'hi\n') d.pioWrite(0, 1, c.charCodeAt(0));
  assert.deepEqual(out, [0x68, 0x69, 0x0a]);
  assert.equal(d.pioRead(0, 1), 0xe9);
});

test('on the bus at 0xE9: a 16-bit write is split, only the low byte is the port', () => {
  const out: number[] = [];
  const bus = new IoBus();
  bus.registerPio(0xe9, 1, new DebugCon((b) => out.push(b)), 'debugcon');
  bus.pioWrite(0xe9, 2, 0x4241);
  assert.deepEqual(out, [0x41]);
  assert.equal(bus.pioRead(0xe9, 1), 0xe9);
  assert.equal(bus.pioRead(0xe9, 2), 0xffe9);
});

test('configurable readback and port', () => {
  const d = new DebugCon(() => {}, 0x00);
  assert.equal(d.pioRead(0, 1), 0);
  const bus = new IoBus();
  const out: number[] = [];
  bus.registerPio(0x402, 1, new DebugCon((b) => out.push(b)), 'debugcon');
  bus.pioWrite(0x402, 1, 0x7a);
  assert.deepEqual(out, [0x7a]);
});

test('fuzz: random accesses never throw, sink bytes stay in range', () => {
  const out: number[] = [];
  const d = new DebugCon((b) => out.push(b));
  let seed = 9;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 10000; i++) {
    const size = ([1, 2, 4] as const)[rnd(3)];
    if (rnd(2)) d.pioWrite(rnd(4), size, rnd(2 ** 31));
    else {
      const v = d.pioRead(rnd(4), size);
      assert.ok(v >= 0 && v < 2 ** (8 * size));
    }
  }
  assert.ok(out.every((b) => Number.isInteger(b) && b >= 0 && b <= 0xff));
});
