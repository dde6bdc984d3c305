import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostCodePort, SystemControlPort } from './device.js';

test('port 0x92: A20 bit reads back, reset on the 0 → 1 edge of bit 0 only', () => {
  let resets = 0;
  const p = new SystemControlPort(() => resets++);
  assert.equal(p.pioRead(0, 1), 0x02, 'A20 on at power-on');
  p.pioWrite(0, 1, 0x00);
  assert.equal(p.pioRead(0, 1), 0x00);
  assert.equal(p.a20, false);
  p.pioWrite(0, 1, 0x02);
  assert.equal(p.a20, true);
  assert.equal(resets, 0);
  p.pioWrite(0, 1, 0x03);
  assert.equal(resets, 1);
  p.pioWrite(0, 1, 0x03);
  assert.equal(resets, 1, 'bit 0 still 1: no new edge');
  p.pioWrite(0, 1, 0x02);
  p.pioWrite(0, 1, 0x01);
  assert.equal(resets, 2);
  p.reset();
  assert.equal(p.pioRead(0, 1), 0x02);
  const q = new SystemControlPort(() => {});
  q.restore(JSON.parse(JSON.stringify(p.save())));
  assert.equal(q.pioRead(0, 1), 0x02);
});

test('port 0x80: keeps the last code, reads 0xFF', () => {
  const seen: number[] = [];
  const p = new PostCodePort((c) => seen.push(c));
  assert.equal(p.lastCode, -1);
  p.pioWrite(0, 1, 0x55);
  p.pioWrite(0, 1, 0x1aa);
  assert.equal(p.lastCode, 0xaa);
  assert.deepEqual(seen, [0x55, 0xaa]);
  assert.equal(p.pioRead(0, 1), 0xff);
  const q = new PostCodePort();
  q.restore(p.save());
  assert.equal(q.lastCode, 0xaa);
});

test('fuzz: random accesses never throw, outputs stay in range', () => {
  const p = new SystemControlPort(() => {});
  const c = new PostCodePort();
  let seed = 5;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 10000; i++) {
    const dev = rnd(2) ? p : c;
    const size = ([1, 2, 4] as const)[rnd(3)];
    if (rnd(2)) dev.pioWrite(0, size, rnd(2 ** 31));
    else {
      const v = dev.pioRead(0, size);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** (8 * size));
    }
  }
});
