// 80-bit double-extended values (SDM vol. 1 §4.2.2, §8.2.2; Table 4-3 encodings)
// held as exact bit patterns beside a JS double.
//
// Every x87 register (and the FPU's scratch operand slots) keeps
//   se  = sign (bit 15) | biased exponent (14:0),
//   hi  = significand bits 63:32 (bit 63 = explicit integer bit J),
//   lo  = significand bits 31:0,
//   val = the value as a JS double.
// The bit pattern is authoritative: loads/stores of m80, FSAVE/FRSTOR images,
// FXCH, FLD ST(i), FCHS and FABS move it verbatim, so any 80-bit value — NaN
// payloads, pseudo-denormals, unnormals — round-trips exactly. Arithmetic reads
// `val` and writes a double back (setDouble), whose 80-bit pattern is exact.
//
// Precision limits (documented, by design): arithmetic is done in IEEE double, so
// results carry 53 significand bits and double's exponent range (±2^1024; values
// below 2^-1074 flush to ±0 in `val`). An 80-bit operand with more than 53 bits or
// out of double range is rounded to nearest on its way into `val`.

export const EXP_MAX = 0x7fff;
export const EXP_BIAS = 16383;

/** Value classes (the order is internal; FXAM's codes are mapped in fpu.ts). */
export const CLASS_ZERO = 0;
export const CLASS_NORMAL = 1;
export const CLASS_DENORMAL = 2; // includes pseudo-denormals (exp 0, J = 1)
export const CLASS_INF = 3;
export const CLASS_QNAN = 4;
export const CLASS_SNAN = 5;
export const CLASS_UNSUPPORTED = 6; // unnormals, pseudo-NaN, pseudo-infinity (invalid since the 387)

const TWO32 = 4294967296;
const TWO_M63 = 2 ** -63;

// Shared scratch for double <-> bits (little-endian word order forced by DataView).
const scratch = new DataView(new ArrayBuffer(8));

/** Bits of a double as [high word, low word] into `out`. */
export function doubleBits(d: number, out: Int32Array): void {
  scratch.setFloat64(0, d);
  out[0] = scratch.getInt32(0);
  out[1] = scratch.getInt32(4);
}

/** A double from its two words (payload-exact for NaNs only as far as the engine keeps them). */
export function bitsToDouble(hi: number, lo: number): number {
  scratch.setInt32(0, hi);
  scratch.setInt32(4, lo);
  return scratch.getFloat64(0);
}

export function float32Bits(f: number): number {
  scratch.setFloat32(0, f);
  return scratch.getInt32(0);
}
export function bitsToFloat32(bits: number): number {
  scratch.setInt32(0, bits);
  return scratch.getFloat32(0);
}

/** The double nearest to an exact 80-bit pattern (round to nearest even). */
export function float80ToDouble(se: number, hi: number, lo: number): number {
  const exp = se & EXP_MAX;
  const neg = (se & 0x8000) !== 0;
  const j = hi < 0;
  if (exp === EXP_MAX) {
    if (!j) return NaN; // pseudo-NaN / pseudo-infinity
    if ((hi & 0x7fffffff) === 0 && lo === 0) return neg ? -Infinity : Infinity;
    return NaN;
  }
  if (exp === 0) {
    // Zero, denormal or pseudo-denormal: all far below double's range.
    return neg ? -0 : 0;
  }
  if (!j) return NaN; // unnormal
  const e = exp - EXP_BIAS;
  let v: number;
  if (e >= -1022) {
    // (hi·2^32 + lo) is one correctly rounded addition; the scalings are exact.
    v = ((hi >>> 0) * TWO32 + (lo >>> 0)) * TWO_M63;
    if (e > 1023) v = Infinity;
    else v *= 2 ** e;
  } else {
    v = subnormalDouble(hi, lo, e);
  }
  return neg ? -v : v;
}

/** Rare path: a value below 2^-1022 rounded once to double's subnormal grid. */
function subnormalDouble(hi: number, lo: number, e: number): number {
  const mant = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  // value = mant · 2^(e-63); subnormal units are 2^-1074.
  const shift = BigInt(-1074 - (e - 63));
  if (shift >= 66n) return 0;
  let q = mant >> shift;
  const rem = mant - (q << shift);
  const half = 1n << (shift - 1n);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  return Number(q) * 2 ** -1074;
}

/** Is the 80-bit pattern exactly a finite non-zero double, subnormals included (so `val` loses nothing)? */
export function isExactDouble(se: number, hi: number, lo: number): boolean {
  const exp = se & EXP_MAX;
  if (exp === 0 || exp === EXP_MAX || hi >= 0) return false;
  const e = exp - EXP_BIAS;
  if (e > 1023 || e < -1074) return false;
  // Significant bits a double keeps at this exponent: 53, fewer in the subnormal range.
  const zeros = 64 - (e >= -1022 ? 53 : 53 - (-1022 - e));
  if (zeros <= 32) return (lo & (zeros === 32 ? -1 : (1 << zeros) - 1)) === 0;
  return lo === 0 && (hi & ((1 << (zeros - 32)) - 1)) === 0;
}

/** Classify an 80-bit pattern (SDM vol. 1 Table 8-3 / Table 4-3). */
export function classify80(se: number, hi: number, lo: number): number {
  const exp = se & EXP_MAX;
  if (exp === 0) return hi === 0 && lo === 0 ? CLASS_ZERO : CLASS_DENORMAL;
  if (hi >= 0) return CLASS_UNSUPPORTED;
  if (exp !== EXP_MAX) return CLASS_NORMAL;
  if ((hi & 0x7fffffff) === 0 && lo === 0) return CLASS_INF;
  return (hi & 0x40000000) !== 0 ? CLASS_QNAN : CLASS_SNAN;
}

/**
 * A file of 80-bit slots: the eight physical registers (0..7) plus scratch slots
 * the FPU uses for memory operands and results.
 */
export class Float80Slots {
  readonly se: Uint16Array;
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly val: Float64Array;
  /**
   * Where the infinitely precise result of the operation that produced `val`
   * lies relative to it (sign of exact − val: -1, 0, +1), kept while FCW.PC =
   * extended. Real hardware holds such a result with 11 more bits, so a later
   * FST m64 rounds (PE, C1) and FCOM can tell it from the double it rounds to;
   * this sticky direction reproduces both. 0 = `val` is the exact value.
   */
  readonly dir: Int8Array;
  private readonly words = new Int32Array(2);

  constructor(n: number) {
    this.dir = new Int8Array(n);
    this.se = new Uint16Array(n);
    this.hi = new Int32Array(n);
    this.lo = new Int32Array(n);
    this.val = new Float64Array(n);
  }

  setRaw(i: number, se: number, hi: number, lo: number): void {
    this.se[i] = se;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.val[i] = float80ToDouble(se, hi, lo);
    this.dir[i] = 0;
  }

  copy(dst: number, src: number): void {
    this.se[dst] = this.se[src];
    this.hi[dst] = this.hi[src];
    this.lo[dst] = this.lo[src];
    this.val[dst] = this.val[src];
    this.dir[dst] = this.dir[src];
  }

  /** Store a double; its 80-bit pattern is exact. NaNs become quiet NaNs keeping the payload bits. */
  setDouble(i: number, d: number): void {
    this.val[i] = d;
    this.dir[i] = 0;
    const w = this.words;
    doubleBits(d, w);
    const whi = w[0], wlo = w[1];
    const sign = (whi >>> 16) & 0x8000;
    const exp11 = (whi >>> 20) & 0x7ff;
    const fracHi = whi & 0xfffff;
    if (exp11 === 0x7ff) {
      this.se[i] = sign | EXP_MAX;
      this.hi[i] = 0x80000000 | (fracHi << 11) | (wlo >>> 21);
      this.lo[i] = wlo << 11;
      return;
    }
    if (exp11 === 0) {
      if (fracHi === 0 && wlo === 0) {
        this.se[i] = sign;
        this.hi[i] = 0;
        this.lo[i] = 0;
        return;
      }
      // Double subnormal: normalise the 52-bit fraction into J.
      let mhi = fracHi, mlo = wlo, e = -1022;
      const lz = mhi !== 0 ? Math.clz32(mhi) - 12 : 20 + Math.clz32(mlo);
      // shift left by lz+1 so the leading 1 reaches bit 52 (the implicit position)
      const s = lz + 1;
      if (s >= 32) {
        mhi = mlo << (s - 32);
        mlo = 0;
      } else {
        mhi = (mhi << s) | (mlo >>> (32 - s));
        mlo = mlo << s;
      }
      e -= s;
      this.se[i] = sign | (e + EXP_BIAS);
      this.hi[i] = 0x80000000 | ((mhi & 0xfffff) << 11) | (mlo >>> 21);
      this.lo[i] = mlo << 11;
      return;
    }
    this.se[i] = sign | (exp11 - 1023 + EXP_BIAS);
    this.hi[i] = 0x80000000 | (fracHi << 11) | (wlo >>> 21);
    this.lo[i] = wlo << 11;
  }

  /** Load a signed 64-bit integer (two 32-bit halves) exactly. */
  setInt64(i: number, hi: number, lo: number): void {
    let sign = 0;
    if (hi < 0) {
      sign = 0x8000;
      lo = -lo | 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) | 0; // two's-complement negate
    }
    if (hi === 0 && lo === 0) {
      this.setRaw(i, sign, 0, 0);
      return;
    }
    let s: number;
    if (hi !== 0) {
      s = Math.clz32(hi);
      if (s > 0) {
        hi = (hi << s) | (lo >>> (32 - s));
        lo = lo << s;
      }
    } else {
      s = 32 + Math.clz32(lo);
      hi = lo << (s - 32);
      lo = 0;
    }
    this.setRaw(i, sign | (EXP_BIAS + 63 - s), hi, lo);
  }

  classify(i: number): number {
    return classify80(this.se[i], this.hi[i], this.lo[i]);
  }

  isNegative(i: number): boolean {
    return (this.se[i] & 0x8000) !== 0;
  }

  /** Flip or clear the sign bit, keeping the pattern (FCHS, FABS). */
  setSign(i: number, negative: boolean): void {
    if (((this.se[i] & 0x8000) !== 0) !== negative) this.dir[i] = -this.dir[i];
    this.se[i] = (this.se[i] & EXP_MAX) | (negative ? 0x8000 : 0);
    this.val[i] = negative ? -Math.abs(this.val[i]) : Math.abs(this.val[i]);
  }
}

// ---- exact rounding of 80-bit patterns (rare paths: BigInt) -----------------

/** x · 2^e without intermediate overflow/underflow when the result is representable. */
function scale2(x: number, e: number): number {
  while (e > 1000) { x *= 2 ** 1000; e -= 1000; }
  while (e < -1000) { x *= 2 ** -1000; e += 1000; }
  return x * 2 ** e;
}

/** A binary floating format for stores: significand bits, min normal exponent, max exponent. */
export interface BinaryFormat { precision: number; emin: number; emax: number; maxFinite: number }
export const FORMAT_DOUBLE: BinaryFormat = { precision: 53, emin: -1022, emax: 1023, maxFinite: Number.MAX_VALUE };
export const FORMAT_SINGLE: BinaryFormat = { precision: 24, emin: -126, emax: 127, maxFinite: 3.4028234663852886e38 };

/** Outcome flags of the last exact rounding below. */
export const exactRounding = { inexact: false, roundedUp: false, overflow: false, tiny: false };

/**
 * Round the finite 80-bit value (sign, exponent, significand) into `fmt` with
 * rounding control rc (0 nearest, 1 down, 2 up, 3 chop). Exact, BigInt-based.
 */
export function roundFloat80(se: number, hi: number, lo: number, fmt: BinaryFormat, rc: number): number {
  const neg = (se & 0x8000) !== 0;
  const exp = se & EXP_MAX;
  const mant = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  exactRounding.inexact = false;
  exactRounding.roundedUp = false;
  exactRounding.overflow = false;
  exactRounding.tiny = false;
  if (mant === 0n) return neg ? -0 : 0;
  // value = mant · 2^e2 (denormals use the minimum exponent 1 - bias)
  const e2 = (exp === 0 ? 1 : exp) - EXP_BIAS - 63;
  const bits = mant.toString(2).length;
  const lead = e2 + bits - 1;
  if (lead > fmt.emax) return overflowResult(neg, fmt, rc);
  exactRounding.tiny = lead < fmt.emin;
  const unitExp = lead < fmt.emin ? fmt.emin - fmt.precision + 1 : lead - fmt.precision + 1;
  const shift = unitExp - e2;
  let q: bigint;
  if (shift <= 0) {
    q = mant;
    exactRounding.tiny = false;
    return (neg ? -1 : 1) * scale2(Number(q), e2);
  }
  if (shift > 70) {
    q = 0n;
  } else {
    q = mant >> BigInt(shift);
  }
  const rem = shift > 70 ? mant : mant - (q << BigInt(shift));
  let up = false;
  if (rem !== 0n) {
    exactRounding.inexact = true;
    if (rc === 0) {
      const twice = rem << 1n;
      const unit = 1n << BigInt(Math.min(shift, 200));
      up = shift > 70 ? false : twice > unit || (twice === unit && (q & 1n) === 1n);
    } else if (rc === 1) up = neg;
    else if (rc === 2) up = !neg;
  } else {
    exactRounding.tiny = false; // exact: no underflow reported
  }
  if (up) q += 1n;
  exactRounding.roundedUp = up;
  const v = scale2(Number(q), unitExp);
  if (v > fmt.maxFinite) return overflowResult(neg, fmt, rc);
  return neg ? -v : v;
}

function overflowResult(neg: boolean, fmt: BinaryFormat, rc: number): number {
  exactRounding.inexact = true;
  exactRounding.overflow = true;
  const toInf = rc === 0 || (rc === 1 && neg) || (rc === 2 && !neg);
  exactRounding.roundedUp = toInf;
  const v = toInf ? Infinity : fmt.maxFinite;
  return neg ? -v : v;
}

/** Round the finite 80-bit value to an integer (BigInt) with rounding control rc. */
export function float80ToBigInt(se: number, hi: number, lo: number, rc: number): bigint {
  const neg = (se & 0x8000) !== 0;
  const exp = se & EXP_MAX;
  const mant = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const e2 = (exp === 0 ? 1 : exp) - EXP_BIAS - 63;
  exactRounding.inexact = false;
  exactRounding.roundedUp = false;
  let q: bigint;
  if (e2 >= 0) {
    q = e2 > 200 ? 1n << 200n : mant << BigInt(e2); // far out of any integer range
  } else {
    const shift = -e2;
    q = shift > 70 ? 0n : mant >> BigInt(shift);
    const rem = shift > 70 ? mant : mant - (q << BigInt(shift));
    if (rem !== 0n) {
      exactRounding.inexact = true;
      let up = false;
      if (rc === 0) {
        if (shift <= 70) {
          const twice = rem << 1n;
          const unit = 1n << BigInt(shift);
          up = twice > unit || (twice === unit && (q & 1n) === 1n);
        }
      } else if (rc === 1) up = neg;
      else if (rc === 2) up = !neg;
      if (up) q += 1n;
      exactRounding.roundedUp = up;
    }
  }
  return neg ? -q : q;
}
