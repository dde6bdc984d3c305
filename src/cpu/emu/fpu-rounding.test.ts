// The directed-rounding arithmetic checked against exact rational arithmetic
// (BigInt), including subnormal and overflowing results the host vectors cannot
// cover (the host keeps the extended exponent range).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RC_CHOP, RC_DOWN, RC_NEAREST, RC_UP, lastRounding, nextDown, nextUp, roundedAdd, roundedDiv, roundedMul, roundedSqrt, roundToFloat32, roundToInteger } from './fpu-rounding.js';

const SHIFT = 1200n; // every finite double · 2^1200 is an integer

/** A finite double as an exact integer scaled by 2^SHIFT. */
function exact(d: number): bigint {
  if (d === 0) return 0n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp !== 0) mant |= 1n << 52n;
  const e = BigInt((exp === 0 ? 1 : exp) - 1075);
  const v = mant << (SHIFT + e);
  return bits >> 63n ? -v : v;
}

/** Compare the candidate r (a double) against the exact value num/den (den > 0, both scaled consistently). */
function cmp(r: number, num: bigint, den: bigint): number {
  if (r === Infinity) return 1;
  if (r === -Infinity) return -1;
  const lhs = exact(r) * den;
  return lhs > num ? 1 : lhs < num ? -1 : 0;
}

/** Check that r is X = num/den rounded per rc (X within the finite range). */
function isCorrectlyRounded(r: number, num: bigint, den: bigint, rc: number): boolean {
  const c = cmp(r, num, den);
  if (c === 0) return true;
  const up = nextUp(r), down = nextDown(r);
  switch (rc) {
    case RC_DOWN: return c < 0 && cmp(up, num, den) > 0;
    case RC_UP: return c > 0 && cmp(down, num, den) < 0;
    case RC_CHOP: return num >= 0n ? c < 0 && cmp(up, num, den) > 0 : c > 0 && cmp(down, num, den) < 0;
    default: {
      // Nearest: no neighbour is strictly closer; ties go to the even significand.
      const dist = (x: number) => { const d = exact(x) * den - num; return d < 0n ? -d : d; };
      const here = dist(r), other = c > 0 ? dist(down) : dist(up);
      if (here < other) return true;
      if (here > other) return false;
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, r);
      return (view.getUint32(4) & 1) === 0;
    }
  }
}

/** Deterministic inputs across the range, biased to produce subnormal and tiny results. */
function* inputs(n: number): Generator<[number, number]> {
  let s = 0x12345678;
  const rnd = () => { s = (Math.imul(s, 1103515245) + 12345) | 0; return (s >>> 0) / 2 ** 32; };
  for (let i = 0; i < n; i++) {
    const ea = Math.floor(rnd() * 2000) - 1000, eb = Math.floor(rnd() * 200) - (i % 2 ? 1000 : 100);
    const a = (1 + rnd()) * 2 ** ea * (rnd() < 0.5 ? -1 : 1);
    const b = (1 + rnd()) * 2 ** eb * (rnd() < 0.5 ? -1 : 1);
    yield [a, b];
  }
}

test('roundedMul/Div/Add/Sqrt give the correctly rounded result in all four RC modes (exact BigInt oracle), with PE', () => {
  const bad: string[] = [];
  for (const [a, b] of inputs(1500)) {
    for (const rc of [RC_NEAREST, RC_DOWN, RC_UP, RC_CHOP]) {
      const one = 1n << SHIFT;
      const p = roundedMul(a, b, rc);
      if (isFinite(p) && Math.abs(p) < Number.MAX_VALUE) {
        const num = exact(a) * exact(b), den = one;
        if (!isCorrectlyRounded(p, num, den, rc) || lastRounding.inexact !== (cmp(p, num, den) !== 0)) bad.push(`mul ${a} ${b} rc${rc} -> ${p}`);
      }
      const q = roundedDiv(a, b, rc);
      if (isFinite(q) && Math.abs(q) < Number.MAX_VALUE) {
        let num = exact(a) * one, den = exact(b);
        if (den < 0n) { num = -num; den = -den; }
        if (!isCorrectlyRounded(q, num, den, rc) || lastRounding.inexact !== (cmp(q, num, den) !== 0)) bad.push(`div ${a} ${b} rc${rc} -> ${q}`);
      }
      const s = roundedSqrt(Math.abs(a), rc);
      // √x rounded: compare s² with x exactly (monotone, so the bracketing test holds on squares).
      const x = exact(Math.abs(a)) * one;
      const sq = (v: number) => exact(v) * exact(v);
      const okSqrt = rc === RC_DOWN || rc === RC_CHOP ? sq(s) <= x && sq(nextUp(s)) > x
        : rc === RC_UP ? sq(s) >= x && sq(nextDown(s)) < x
          : (() => { const d = sq(s) - x; const alt = d > 0n ? sq(nextDown(s)) : sq(nextUp(s)); return (d < 0n ? -d : d) <= 2n * ((alt - x) < 0n ? x - alt : alt - x); })();
      if (!okSqrt) bad.push(`sqrt ${Math.abs(a)} rc${rc} -> ${s}`);
    }
  }
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} wrong`);
});

test('roundedAdd: exact cancellation gives +0 (−0 rounding down); directed results bracket the exact sum', () => {
  assert.ok(Object.is(roundedAdd(1.5, -1.5, RC_NEAREST), 0));
  assert.ok(Object.is(roundedAdd(1.5, -1.5, RC_DOWN), -0));
  assert.ok(Object.is(roundedAdd(-0, -0, RC_UP), -0));
  const bad: string[] = [];
  for (const [a, b0] of inputs(1500)) {
    const b = b0 * 2 ** (Math.floor(Math.log2(Math.abs(a))) - Math.floor(Math.log2(Math.abs(b0))) - 30);
    for (const rc of [RC_NEAREST, RC_DOWN, RC_UP, RC_CHOP]) {
      const s = roundedAdd(a, b, rc);
      if (!isFinite(s)) continue;
      const num = exact(a) + exact(b);
      if (!isCorrectlyRounded(s, num, 1n, rc) || lastRounding.inexact !== (cmp(s, num, 1n) !== 0)) bad.push(`add ${a} ${b} rc${rc} -> ${s}`);
    }
  }
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} wrong`);
});

test('overflow: nearest/away give ∞, toward-zero modes give the largest finite; C1 reports rounding up', () => {
  assert.equal(roundedMul(1e200, 1e200, RC_NEAREST), Infinity);
  assert.equal(lastRounding.overflow, true);
  assert.equal(roundedMul(1e200, 1e200, RC_CHOP), Number.MAX_VALUE);
  assert.equal(roundedMul(-1e200, 1e200, RC_UP), -Number.MAX_VALUE);
  assert.equal(roundedMul(-1e200, 1e200, RC_DOWN), -Infinity);
  assert.equal(roundToFloat32(1e39, RC_CHOP), 3.4028234663852886e38);
  assert.equal(roundToFloat32(1 / 3, RC_UP), nextFloat32Up(Math.fround(1 / 3), 1 / 3));
  assert.equal(lastRounding.roundedUp, true);
  assert.equal(roundToInteger(-2.5, RC_NEAREST), -2);
  assert.equal(roundToInteger(2.5, RC_NEAREST), 2);
  assert.equal(roundToInteger(3.5, RC_NEAREST), 4);
  assert.ok(Object.is(roundToInteger(-0.4, RC_NEAREST), -0));
});

function nextFloat32Up(f: number, x: number): number {
  if (f >= x) return f;
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, f);
  v.setInt32(0, v.getInt32(0) + (f >= 0 ? 1 : -1));
  return v.getFloat32(0);
}
