// Rounding for the x87 on top of IEEE double arithmetic (SDM vol. 1 §4.8.4,
// §8.1.5.3 rounding control, §8.1.5.2 precision control).
//
// JS rounds every operation to nearest-even. To honour the other FCW.RC modes and
// to report PE (inexact) and C1 (rounded up), each operation also computes the
// sign of its exact rounding error with error-free transformations (Knuth's
// TwoSum, Dekker's product); a directed mode then steps the result one ulp.
// Operands near the overflow/underflow limits skip the error term (treated as
// exact) — a documented limit of the double-based FPU.

export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_CHOP = 3;

const view = new DataView(new ArrayBuffer(8));

/** The next double toward +Infinity. */
export function nextUp(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === 0) return 2 ** -1074;
  view.setFloat64(0, x);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

export function nextDown(x: number): number {
  return -nextUp(-x);
}

const SPLITTER = 134217729; // 2^27 + 1 (Dekker)

/** Exact x·y − p (p = fl(x·y)) for operands of moderate magnitude (Dekker's product). */
function productResidual(x: number, y: number, p: number): number {
  let t = SPLITTER * x;
  const xh = t - (t - x), xl = x - xh;
  t = SPLITTER * y;
  const yh = t - (t - y), yl = y - yh;
  return ((xh * yh - p) + xh * yl + xl * yh) + xl * yl;
}

/** Scale |x| (finite, non-zero) into [1, 2): returns the mantissa; the exponent goes to `normExp`. */
let normExp = 0;
function normalize(x: number): number {
  let e = 0;
  x = Math.abs(x);
  if (x < 2 ** -900) { x *= 2 ** 900; e -= 900; }
  let k = Math.floor(Math.log2(x));
  x *= 2 ** -k;
  // log2 may be off by one at the edges of a binade.
  if (x >= 2) { x /= 2; k++; } else if (x < 1) { x *= 2; k--; }
  normExp = e + k;
  return x;
}

/** x · 2^e in steps, so that no intermediate overflows or underflows early. */
function scale2(x: number, e: number): number {
  while (e > 1000) { x *= 2 ** 1000; e -= 1000; }
  while (e < -1000) { x *= 2 ** -1000; e += 1000; }
  return x * 2 ** e;
}

/**
 * Sign of (exact − r) where the exact result, scaled by 2^-e, is m' + err'
 * (m' = fl of the scaled operation, err' its exact residual sign). When r is
 * normal it was rounded like m'; a subnormal (or zero) r was rounded on a
 * coarser grid, and its difference from the scaled m' decides.
 */
function errorSign(r: number, scaled: number, scaledErr: number, e: number): number {
  const ar = Math.abs(r);
  if (ar >= 2 ** -1022) return scaledErr;
  const back = scale2(ar, -e);
  if (back !== scaled) return scaled > back ? 1 : -1;
  return scaledErr;
}

/**
 * The outcome of the last rounding: `inexact` (→ PE), `roundedUp` (→ C1, the
 * magnitude was increased), `errSign` = sign of (exact − result) of the
 * arithmetic operations, `err` ≈ exact − result (NaN when only the sign is
 * known; fpu.ts uses it to tell whether an 80-bit result would differ from the
 * double), and `overflow` (→ OE; callers clear it first).
 * Module-level to avoid allocating per operation.
 */
export const lastRounding = { inexact: false, roundedUp: false, overflow: false, errSign: 0, err: 0 };

/**
 * Apply the rounding mode to `r` (the nearest result) given the sign of
 * (exact − r) and, when known, its magnitude `errMag` (NaN = unknown).
 */
function directed(r: number, errSign: number, rc: number, errMag = NaN): number {
  lastRounding.inexact = errSign !== 0;
  lastRounding.errSign = errSign;
  lastRounding.err = errSign * errMag;
  if (errSign === 0) {
    lastRounding.roundedUp = false;
    lastRounding.err = 0;
    return r;
  }
  const r0 = r;
  switch (rc) {
    case RC_NEAREST:
      lastRounding.roundedUp = r > 0 ? errSign < 0 : r < 0 ? errSign > 0 : false;
      return r;
    case RC_DOWN:
      if (errSign < 0) r = nextDown(r);
      lastRounding.roundedUp = r < 0;
      lastRounding.errSign = 1;
      break;
    case RC_UP:
      if (errSign > 0) r = nextUp(r);
      lastRounding.roundedUp = r > 0;
      lastRounding.errSign = -1;
      break;
    default:
      if (r > 0 && errSign < 0) r = nextDown(r);
      else if (r < 0 && errSign > 0) r = nextUp(r);
      lastRounding.roundedUp = false;
      if (r !== 0) lastRounding.errSign = r > 0 ? 1 : -1;
  }
  // A step of one ulp moved the result to the other side of the exact value.
  if (r !== r0) lastRounding.err = lastRounding.errSign * (Math.abs(r - r0) - errMag);
  return r;
}

export function roundedAdd(a: number, b: number, rc: number): number {
  const s = a + b;
  if (!isFinite(s)) return overflowed(s, a, b, rc);
  if (s === 0) {
    lastRounding.inexact = false;
    lastRounding.roundedUp = false;
    lastRounding.errSign = 0;
    lastRounding.err = 0;
    // An exact zero sum is +0, or -0 when rounding down; (-0)+(-0) stays -0 (IEEE 754 §6.3).
    if (a === 0 && b === 0 && Object.is(a, b)) return a;
    return rc === RC_DOWN ? -0 : 0;
  }
  const bb = s - a;
  const err = (a - (s - bb)) + (b - bb);
  return directed(s, err > 0 ? 1 : err < 0 ? -1 : 0, rc, Math.abs(err));
}

export function roundedMul(a: number, b: number, rc: number): number {
  const p = a * b;
  if (!isFinite(p)) return overflowed(p, a, b, rc);
  if (a === 0 || b === 0 || !isFinite(a) || !isFinite(b)) return directed(p, 0, rc);
  const x = normalize(a), ex = normExp;
  const y = normalize(b), ey = normExp;
  const m = x * y;
  const res = productResidual(x, y, m);
  const mag = errorSign(p, m, res > 0 ? 1 : res < 0 ? -1 : 0, ex + ey);
  const errMag = Math.abs(p) >= 2 ** -1022 ? scale2(Math.abs(res), ex + ey) : NaN;
  return directed(p, p < 0 || (p === 0 && (a < 0) !== (b < 0)) ? -mag : mag, rc, errMag);
}

export function roundedDiv(a: number, b: number, rc: number): number {
  const q = a / b;
  if (!isFinite(q)) return overflowed(q, a, b, rc);
  if (a === 0 || !isFinite(a) || !isFinite(b)) return directed(q, 0, rc);
  const x = normalize(a), ex = normExp;
  const y = normalize(b), ey = normExp;
  const m = x / y;
  // residual = x − m·y exactly; the exact quotient exceeds m when it is positive.
  const p = m * y;
  const res = (x - p) - productResidual(m, y, p);
  const mag = errorSign(q, m, res > 0 ? 1 : res < 0 ? -1 : 0, ex - ey);
  const errMag = Math.abs(q) >= 2 ** -1022 ? scale2(Math.abs(res / y), ex - ey) : NaN;
  return directed(q, q < 0 || (q === 0 && (a < 0) !== (b < 0)) ? -mag : mag, rc, errMag);
}

export function roundedSqrt(a: number, rc: number): number {
  const s = Math.sqrt(a);
  if (!(s > 0) || !isFinite(s)) return directed(s, 0, rc);
  // Scale by an even power of two so the square root scales exactly.
  const x0 = normalize(a);
  const odd = normExp & 1;
  const half = (normExp - odd) / 2;
  const x = odd ? x0 * 2 : x0;
  const m = Math.sqrt(x);
  const p = m * m;
  const res = (x - p) - productResidual(m, m, p);
  return directed(s, res > 0 ? 1 : res < 0 ? -1 : 0, rc, scale2(Math.abs(res) / (2 * m), half));
}

/** Overflow (finite operands, infinite result): directed modes may give the largest finite. */
function overflowed(r: number, a: number, b: number, rc: number): number {
  const fromFinite = isFinite(a) && isFinite(b) && r === r;
  lastRounding.inexact = fromFinite;
  lastRounding.overflow = fromFinite;
  lastRounding.roundedUp = fromFinite;
  lastRounding.errSign = fromFinite ? (r > 0 ? -1 : 1) : 0;
  lastRounding.err = NaN;
  if (!fromFinite) return r;
  if (rc === RC_CHOP || (rc === RC_DOWN && r > 0) || (rc === RC_UP && r < 0)) {
    lastRounding.roundedUp = false;
    lastRounding.errSign = -lastRounding.errSign;
    return r > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
  }
  return r;
}

/**
 * Round to the single-precision grid (FCW.PC = 00, or FST m32) with the given
 * mode. `dir` (sign of exact − x, Float80Slots.dir) breaks a tie that x only
 * seems to be.
 */
export function roundToFloat32(x: number, rc: number, dir = 0): number {
  let f = Math.fround(x);
  if (f === x || x !== x) {
    lastRounding.inexact = false;
    lastRounding.roundedUp = false;
    return f;
  }
  lastRounding.inexact = true;
  if (!isFinite(f) && isFinite(x)) {
    // Overflow of the float32 range.
    const max = 3.4028234663852886e38;
    if (rc === RC_CHOP || (rc === RC_DOWN && x > 0) || (rc === RC_UP && x < 0)) f = x > 0 ? max : -max;
  } else if (rc !== RC_NEAREST) {
    const wantDown = rc === RC_DOWN || (rc === RC_CHOP && x > 0);
    if (wantDown ? f > x : f < x) f = stepFloat32(f, wantDown ? -1 : 1);
  } else if (dir !== 0) {
    const g = stepFloat32(f, f < x ? 1 : -1);
    if (x - f === g - x || f - x === x - g) f = dir > 0 ? Math.max(f, g) : Math.min(f, g);
  }
  lastRounding.roundedUp = Math.abs(f) > Math.abs(x);
  return f;
}

const f32 = new DataView(new ArrayBuffer(4));
function stepFloat32(f: number, dir: number): number {
  if (f === 0) return dir * 2 ** -149;
  f32.setFloat32(0, f);
  const bits = f32.getInt32(0);
  f32.setInt32(0, (f > 0) === (dir > 0) ? bits + 1 : bits - 1);
  return f32.getFloat32(0);
}

/** Round a double to an integer per RC (FRNDINT, FIST, FBSTP). */
export function roundToInteger(x: number, rc: number): number {
  let r: number;
  switch (rc) {
    case RC_NEAREST: {
      if (Math.abs(x) >= 4503599627370496) { r = x; break; } // ≥ 2^52: already integral
      r = Math.round(x);
      if (r - x === 0.5 && r % 2 !== 0) r -= 1; // ties to even (Math.round ties up)
      break;
    }
    case RC_DOWN: r = Math.floor(x); break;
    case RC_UP: r = Math.ceil(x); break;
    default: r = Math.trunc(x);
  }
  if (r === 0 && x < 0) r = -0;
  lastRounding.inexact = r !== x && x === x && isFinite(x);
  lastRounding.roundedUp = Math.abs(r) > Math.abs(x);
  return r;
}

/**
 * x rounded to an integer per RC, where `dir` says on which side of x an
 * extended-precision value lies (Float80Slots.dir): an integral x then stands for
 * a non-integral value, and directed modes may pick the neighbouring integer.
 */
export function integerOf(x: number, dir: number, rc: number): number {
  if (dir !== 0 && rc === RC_NEAREST && Math.abs(x - Math.trunc(x)) === 0.5) {
    // x is a tie but the value it stands for is not: round toward that value.
    const t = dir > 0 ? Math.ceil(x) : Math.floor(x);
    lastRounding.inexact = true;
    lastRounding.roundedUp = Math.abs(t) > Math.abs(x);
    return t === 0 && x < 0 ? -0 : t;
  }
  const v = roundToInteger(x, rc);
  if (lastRounding.inexact || dir === 0) return v;
  let r = v;
  if (rc === RC_DOWN && dir < 0) r = v - 1;
  else if (rc === RC_UP && dir > 0) r = v + 1;
  else if (rc === RC_CHOP && (v > 0 ? dir < 0 : v < 0 && dir > 0)) r = v > 0 ? v - 1 : v + 1;
  lastRounding.inexact = true;
  lastRounding.roundedUp = Math.abs(r) > Math.abs(x) || (r === v && (v > 0 ? dir < 0 : dir > 0));
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}
