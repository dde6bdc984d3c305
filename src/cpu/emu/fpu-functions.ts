// x87 register-stack and one-operand instructions: FXCH, FST ST(i), FCMOVcc,
// FCHS/FABS, FTST, FXAM, the constants, FSQRT, FRNDINT, FXTRACT, FSCALE,
// FPREM/FPREM1 and the transcendentals (SDM vol. 1 §8.3.7-8.3.10; vol. 2 per
// instruction). Transcendentals use JS Math in double precision.

import { FLAG_CF, FLAG_PF, FLAG_ZF } from './state.js';
import { readEflags } from './flags.js';
import type { Fpu } from './fpu.js';
import { CLASS_DENORMAL, CLASS_INF, CLASS_NORMAL, CLASS_QNAN, CLASS_SNAN, CLASS_UNSUPPORTED, CLASS_ZERO, EXP_BIAS, EXP_MAX, exactRounding, float80ToBigInt, isExactDouble } from './fpu-float80.js';
import { integerOf, lastRounding, roundedSqrt } from './fpu-rounding.js';
import { compareInto, finishResult, nanResult } from './fpu-arith.js';
import { FSW_C2, FSW_DE, FSW_PE, FSW_ZE, MEM, TMP, TMP2 } from './fpu-registers.js';

/** 80-bit constants (sign/exp, significand high, low) rounded to nearest, and which way that rounding went. */
const CONSTANTS: ReadonlyArray<readonly [number, number, number, number]> = [
  // [se, hi, lo, nearest rounded up? 1 : (rounded down? -1 : exact 0)] — measured on the host, SDM FLDxx
  [0x3fff, 0x80000000 | 0, 0x00000000, 0], // 1
  [0x4000, 0xd49a784b | 0, 0xcd1b8afe | 0, -1], // log2(10)
  [0x3fff, 0xb8aa3b29 | 0, 0x5c17f0bc | 0, 1], // log2(e)
  [0x4000, 0xc90fdaa2 | 0, 0x2168c235 | 0, 1], // pi
  [0x3ffd, 0x9a209a84 | 0, 0xfbcff799 | 0, 1], // log10(2)
  [0x3ffe, 0xb17217f7 | 0, 0xd1cf79ac | 0, 1], // ln(2)
];

/** |x| ≥ 2^63: FSIN/FCOS/FSINCOS/FPTAN leave ST(0) and set C2 (SDM vol. 2 FSIN). */
const TRIG_LIMIT = 2 ** 63;

/**
 * Are ST(0) and ST(i) in use? If not, stack underflow: the masked response puts
 * the indefinite in ST(dest). 1 = operands present, 0 = masked fault handled,
 * -1 = unmasked fault (nothing changed).
 */
export function needSt(fpu: Fpu, i: number, dest: number): number {
  if (!fpu.empty[fpu.st(0)] && !fpu.empty[fpu.st(i)]) return 1;
  if (fpu.stackFault(false)) return -1;
  const p = fpu.st(dest);
  fpu.setIndefinite(p);
  fpu.empty[p] = 0;
  return 0;
}

/**
 * Stack check of FXTRACT/FPTAN/FSINCOS, which replace ST(0) and push: an empty
 * ST(0) (underflow) or a full ST(7) (overflow) gives, masked, the indefinite in
 * both results (measured). True when the instruction may proceed.
 */
function twoResultStack(fpu: Fpu): boolean {
  const underflow = fpu.empty[fpu.st(0)] !== 0;
  if (!underflow && !fpu.wouldOverflow()) return true;
  if (fpu.stackFault(!underflow)) return false;
  fpu.setIndefinite(fpu.st(0));
  fpu.empty[fpu.st(0)] = 0;
  fpu.top = (fpu.top - 1) & 7;
  fpu.setIndefinite(fpu.st(0));
  fpu.empty[fpu.st(0)] = 0;
  return false;
}

export function fxch(fpu: Fpu, i: number): void {
  const p0 = fpu.st(0), pi = fpu.st(i);
  if (fpu.empty[p0] || fpu.empty[pi]) {
    if (fpu.stackFault(false)) return;
    if (fpu.empty[p0]) fpu.setIndefinite(p0);
    if (fpu.empty[pi]) fpu.setIndefinite(pi);
    fpu.empty[p0] = fpu.empty[pi] = 0;
  } else fpu.setC1(false);
  fpu.r.copy(TMP, p0);
  fpu.r.copy(p0, pi);
  fpu.r.copy(pi, TMP);
}

/** FST/FSTP ST(i): verbatim copy. */
export function fstReg(fpu: Fpu, i: number, pop: boolean): void {
  const p0 = fpu.st(0), pi = fpu.st(i);
  if (fpu.empty[p0]) {
    if (fpu.stackFault(false)) return;
    fpu.setIndefinite(pi);
  } else {
    fpu.r.copy(pi, p0);
    fpu.setC1(false);
  }
  fpu.empty[pi] = 0;
  if (pop) fpu.pop();
}

/** FCMOVcc (SDM vol. 2 FCMOVcc): B E BE U, and their negations with `negate`. */
export function fcmov(fpu: Fpu, cc: number, negate: boolean, i: number): void {
  if (needSt(fpu, i, 0) !== 1) return;
  const f = readEflags(fpu.cpu);
  let cond: boolean;
  switch (cc) {
    case 0: cond = (f & FLAG_CF) !== 0; break;
    case 1: cond = (f & FLAG_ZF) !== 0; break;
    case 2: cond = (f & (FLAG_CF | FLAG_ZF)) !== 0; break;
    default: cond = (f & FLAG_PF) !== 0;
  }
  fpu.setC1(false);
  if (cond !== negate) fpu.r.copy(fpu.st(0), fpu.st(i));
}

/** FCHS / FABS: sign bit only, exact for every encoding; C1 ← 0. */
export function unaryPattern(fpu: Fpu, chs: boolean): void {
  if (needSt(fpu, 0, 0) !== 1) return;
  const p = fpu.st(0);
  fpu.r.setSign(p, chs ? !fpu.r.isNegative(p) : false);
  fpu.setC1(false);
}

export function ftst(fpu: Fpu): void {
  fpu.r.setDouble(MEM, 0);
  fpu.memDenormal = false;
  compareInto(fpu, fpu.st(0), MEM, false, 0);
}

/** FXAM (SDM vol. 2 FXAM Table 3-45): C3 C2 C0 class, C1 sign. */
export function fxam(fpu: Fpu): void {
  const p = fpu.st(0);
  const sign = fpu.r.isNegative(p) ? 1 : 0;
  if (fpu.empty[p]) { fpu.setCC(1, 0, sign, 1); return; }
  switch (fpu.r.classify(p)) {
    case CLASS_UNSUPPORTED: fpu.setCC(0, 0, sign, 0); return;
    case CLASS_QNAN: case CLASS_SNAN: fpu.setCC(0, 0, sign, 1); return;
    case CLASS_NORMAL: fpu.setCC(0, 1, sign, 0); return;
    case CLASS_INF: fpu.setCC(0, 1, sign, 1); return;
    case CLASS_ZERO: fpu.setCC(1, 0, sign, 0); return;
    default: fpu.setCC(1, 1, sign, 0); // denormal
  }
}

/** FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ, rounded per RC (SDM vol. 2 FLD1…: 66-bit internal constants). */
export function loadConstant(fpu: Fpu, k: number): void {
  if (k === 6) fpu.r.setRaw(TMP, 0, 0, 0);
  else {
    const [se, hi, lo, dir] = CONSTANTS[k];
    const rc = fpu.rc;
    let adj = 0;
    if (dir > 0 && (rc === 1 || rc === 3)) adj = -1; // nearest went up: down/chop take the lower value
    if (dir < 0 && rc === 2) adj = 1; // nearest went down: up takes the higher value
    fpu.r.setRaw(TMP, se, hi, (lo + adj) | 0);
  }
  if (!fpu.wouldOverflow()) fpu.setC1(false);
  fpu.push(TMP);
}

/** Common prologue for ST(0) ← f(ST(0)): false when done (underflow or NaN handled). */
export function unaryPrologue(fpu: Fpu): boolean {
  if (needSt(fpu, 0, 0) !== 1) return false;
  const p = fpu.st(0);
  const c = fpu.r.classify(p);
  if (c >= CLASS_QNAN) {
    if (nanResult(fpu, p, c, p, c)) fpu.r.copy(p, TMP);
    return false;
  }
  if (c === CLASS_DENORMAL && fpu.signal(FSW_DE)) return false;
  return true;
}

export function fsqrt(fpu: Fpu): void {
  if (!unaryPrologue(fpu)) return;
  const p = fpu.st(0);
  const x = fpu.r.val[p];
  if (x < 0 || (x === -Infinity)) {
    if (fpu.invalid()) fpu.r.copy(p, TMP);
    return;
  }
  lastRounding.overflow = false;
  const v = roundedSqrt(x, fpu.rc);
  finishResult(fpu, v);
  fpu.r.copy(p, TMP);
}

export function frndint(fpu: Fpu): void {
  if (!unaryPrologue(fpu)) return;
  const p = fpu.st(0);
  const r = fpu.r;
  const c = r.classify(p);
  if (c === CLASS_INF || c === CLASS_ZERO) return;
  if (isExactDouble(r.se[p], r.hi[p], r.lo[p])) {
    const v = integerOf(r.val[p], r.dir[p], fpu.rc);
    fpu.setC1(lastRounding.roundedUp);
    if (lastRounding.inexact) fpu.signal(FSW_PE);
    r.setDouble(p, v);
    return;
  }
  if ((r.se[p] & EXP_MAX) - EXP_BIAS >= 63) return; // already integral
  const big = float80ToBigInt(r.se[p], r.hi[p], r.lo[p], fpu.rc);
  fpu.setC1(exactRounding.roundedUp);
  if (exactRounding.inexact) fpu.signal(FSW_PE);
  const neg = r.isNegative(p);
  const mag = big < 0n ? -big : big;
  r.setInt64(p, Number(BigInt.asIntN(32, mag >> 32n)), Number(BigInt.asIntN(32, mag)));
  if (mag >= 1n << 63n) r.setRaw(p, EXP_BIAS + 63, 0x80000000 | 0, 0); // 2^63 after rounding up
  r.setSign(p, neg);
}

/** FXTRACT: ST(0) ← exponent, push significand; exact from the 80-bit pattern. */
export function fxtract(fpu: Fpu): void {
  if (!twoResultStack(fpu)) return;
  const p = fpu.st(0);
  const r = fpu.r;
  const c = r.classify(p);
  if (c >= CLASS_QNAN) {
    if (!nanResult(fpu, p, c, p, c)) return;
    r.copy(p, TMP);
    fpu.push(TMP);
    return;
  }
  const neg = r.isNegative(p);
  if (c === CLASS_ZERO) {
    if (fpu.signal(FSW_ZE)) return;
    r.setDouble(TMP2, neg ? -0 : 0);
    r.setDouble(p, -Infinity);
  } else if (c === CLASS_INF) {
    r.copy(TMP2, p);
    r.setDouble(p, Infinity);
  } else {
    if (c === CLASS_DENORMAL && fpu.signal(FSW_DE)) return;
    let exp = (r.se[p] & EXP_MAX) - EXP_BIAS;
    let hi = r.hi[p], lo = r.lo[p];
    if (c === CLASS_DENORMAL) {
      exp = 1 - EXP_BIAS;
      while (hi >= 0) { hi = (hi << 1) | (lo >>> 31); lo <<= 1; exp--; }
    }
    r.setRaw(TMP2, (neg ? 0x8000 : 0) | EXP_BIAS, hi, lo);
    r.setDouble(p, exp);
  }
  fpu.setC1(false);
  fpu.push(TMP2);
}

/** FSCALE: ST(0) ← ST(0) · 2^trunc(ST(1)). */
export function fscale(fpu: Fpu): void {
  if (needSt(fpu, 1, 0) !== 1) return;
  const p0 = fpu.st(0), p1 = fpu.st(1);
  const r = fpu.r;
  const c0 = r.classify(p0), c1 = r.classify(p1);
  if (c0 >= CLASS_QNAN || c1 >= CLASS_QNAN) {
    if (nanResult(fpu, p0, c0, p1, c1)) r.copy(p0, TMP);
    return;
  }
  if ((c0 === CLASS_DENORMAL || c1 === CLASS_DENORMAL) && fpu.signal(FSW_DE)) return;
  const n = Math.trunc(r.val[p1]);
  if (c1 === CLASS_INF) {
    if ((n > 0 && c0 === CLASS_ZERO) || (n < 0 && c0 === CLASS_INF)) {
      if (fpu.invalid()) r.copy(p0, TMP);
      return;
    }
    if (c0 !== CLASS_ZERO && c0 !== CLASS_INF) r.setDouble(p0, n > 0 ? (r.isNegative(p0) ? -Infinity : Infinity) : (r.isNegative(p0) ? -0 : 0));
    fpu.setC1(false);
    return;
  }
  if (c0 === CLASS_ZERO || c0 === CLASS_INF) { fpu.setC1(false); return; }
  const exp = r.se[p0] & EXP_MAX;
  if (c0 === CLASS_NORMAL && exp + n > 0 && exp + n < EXP_MAX) {
    // Exact: only the exponent changes.
    r.setRaw(p0, (r.se[p0] & 0x8000) | (exp + n), r.hi[p0], r.lo[p0]);
    fpu.setC1(false);
    return;
  }
  let v = r.val[p0];
  const k = Math.max(-2200, Math.min(2200, n));
  for (let left = k; left !== 0;) {
    const step = Math.max(-1000, Math.min(1000, left));
    v *= 2 ** step;
    left -= step;
  }
  lastRounding.inexact = v === 0 || !isFinite(v);
  lastRounding.roundedUp = !isFinite(v);
  lastRounding.overflow = !isFinite(v);
  lastRounding.errSign = v === 0 ? (r.isNegative(p0) ? -1 : 1) : !isFinite(v) ? (v > 0 ? -1 : 1) : 0;
  finishResult(fpu, v);
  r.copy(p0, TMP);
}

/** FPREM (truncating) and FPREM1 (IEEE): the full remainder at once, C2 = 0, C0 C3 C1 = Q2 Q1 Q0. */
export function fprem(fpu: Fpu, ieee: boolean): void {
  if (needSt(fpu, 1, 0) !== 1) return;
  const p0 = fpu.st(0), p1 = fpu.st(1);
  const r = fpu.r;
  const c0 = r.classify(p0), c1 = r.classify(p1);
  if (c0 >= CLASS_QNAN || c1 >= CLASS_QNAN) {
    if (nanResult(fpu, p0, c0, p1, c1)) r.copy(p0, TMP);
    return;
  }
  if (c0 === CLASS_INF || c1 === CLASS_ZERO) {
    if (fpu.invalid()) r.copy(p0, TMP);
    return;
  }
  if ((c0 === CLASS_DENORMAL || c1 === CLASS_DENORMAL) && fpu.signal(FSW_DE)) return;
  const a = r.val[p0], b = r.val[p1];
  if (c1 === CLASS_INF || c0 === CLASS_ZERO) { fpu.setCC(0, 0, 0, 0); return; }
  let rem = a % b;
  const ab = Math.abs(b);
  // Quotient bits Q2..Q0 from a mod 8b; huge operands are scaled down (exactly) first.
  const k = ab > 2 ** 1000 ? 2 ** -16 : 1;
  const wide = (a * k) % (8 * b * k);
  let q = Math.round((Math.abs(wide) - Math.abs(rem * k)) / (ab * k)) & 7;
  if (ieee) {
    const twice = Math.abs(rem) * 2;
    if (twice > ab || (twice === ab && (q & 1) === 1)) {
      rem = rem > 0 ? rem - ab : rem + ab;
      q = (q + 1) & 7;
    }
  }
  if (rem === 0) rem = a < 0 ? -0 : 0;
  r.setDouble(p0, rem);
  fpu.setCC((q >> 1) & 1, 0, q & 1, (q >> 2) & 1);
}

/** FSIN / FCOS; |x| ≥ 2^63 ⇒ C2 = 1 and ST(0) unchanged. */
export function fsinCos(fpu: Fpu, sin: boolean): void {
  if (!unaryPrologue(fpu)) return;
  const p = fpu.st(0);
  const x = fpu.r.val[p];
  if (!isFinite(x)) { if (fpu.invalid()) fpu.r.copy(p, TMP); return; }
  if (Math.abs(x) >= TRIG_LIMIT) { fpu.fsw |= FSW_C2; return; }
  fpu.fsw &= ~FSW_C2;
  transcendentalResult(fpu, sin ? Math.sin(x) : Math.cos(x), x !== 0 || !sin);
  fpu.r.copy(p, TMP);
}

/**
 * Prologue of FSINCOS/FPTAN, which replace ST(0) and push a second result: stack
 * faults, NaN and invalid operands give the same value in both (measured).
 * Returns false when handled.
 */
export function pushingPrologue(fpu: Fpu): boolean {
  if (!twoResultStack(fpu)) return false;
  const p = fpu.st(0);
  const c = fpu.r.classify(p);
  let done = false;
  if (c >= CLASS_QNAN) done = !nanResult(fpu, p, c, p, c) || (fpu.r.copy(p, TMP), fpu.push(TMP), true);
  else if (c === CLASS_INF) done = !fpu.invalid() || (fpu.r.copy(p, TMP), fpu.push(TMP), true);
  else if (c === CLASS_DENORMAL && fpu.signal(FSW_DE)) done = true;
  if (done) return false;
  if (Math.abs(fpu.r.val[p]) >= TRIG_LIMIT) {
    fpu.fsw |= FSW_C2;
    return false;
  }
  fpu.fsw &= ~FSW_C2;
  return true;
}

export function fsincos(fpu: Fpu): void {
  if (!pushingPrologue(fpu)) return;
  const p = fpu.st(0);
  const x = fpu.r.val[p];
  transcendentalResult(fpu, Math.cos(x), true);
  fpu.r.copy(TMP2, TMP);
  transcendentalResult(fpu, Math.sin(x), x !== 0);
  fpu.r.copy(p, TMP);
  fpu.push(TMP2);
}

export function fptan(fpu: Fpu): void {
  if (!pushingPrologue(fpu)) return;
  const p = fpu.st(0);
  const x = fpu.r.val[p];
  transcendentalResult(fpu, Math.tan(x), x !== 0);
  fpu.r.copy(p, TMP);
  fpu.r.setDouble(TMP, 1);
  fpu.push(TMP);
}

/** FPATAN: ST(1) ← atan2(ST(1), ST(0)), pop. */
export function fpatan(fpu: Fpu): void {
  if (!twoOperandPrologue(fpu)) return;
  const y = fpu.r.val[fpu.st(1)], x = fpu.r.val[fpu.st(0)];
  transcendentalResult(fpu, Math.atan2(y, x), y !== 0 || x < 0);
  fpu.r.copy(fpu.st(1), TMP);
  fpu.pop();
}

/** FYL2X: ST(1) ← ST(1)·log2(ST(0)); FYL2XP1: ST(1) ← ST(1)·log2(ST(0)+1); pop. */
export function fyl2x(fpu: Fpu, plusOne: boolean): void {
  if (!twoOperandPrologue(fpu)) return;
  const p0 = fpu.st(0), p1 = fpu.st(1);
  const x = fpu.r.val[p0], y = fpu.r.val[p1];
  const arg = plusOne ? x + 1 : x;
  if (arg < 0 || (arg === 0 && y === 0) || (x !== x)) {
    if (fpu.invalid()) { fpu.r.copy(p1, TMP); fpu.pop(); }
    return;
  }
  if (arg === 0) {
    // log2(0) = -inf: ZE only with a finite multiplier (an infinite one is exact).
    if (isFinite(y) && fpu.signal(FSW_ZE)) return;
    fpu.r.setDouble(p1, y > 0 ? -Infinity : Infinity);
    fpu.pop();
    return;
  }
  const l = plusOne ? Math.log1p(x) / Math.LN2 : Math.log2(x);
  const v = y * l;
  if (v !== v) {
    if (fpu.invalid()) { fpu.r.copy(p1, TMP); fpu.pop(); }
    return;
  }
  transcendentalResult(fpu, v, !(Number.isInteger(l) && Number.isInteger(y)));
  fpu.r.copy(p1, TMP);
  fpu.pop();
}

/** F2XM1: ST(0) ← 2^ST(0) − 1. */
export function f2xm1(fpu: Fpu): void {
  if (!unaryPrologue(fpu)) return;
  const p = fpu.st(0);
  const x = fpu.r.val[p];
  if (x === -Infinity) { fpu.r.setDouble(p, -1); return; }
  if (x === Infinity) return;
  transcendentalResult(fpu, Math.expm1(x * Math.LN2), !Number.isInteger(x));
  fpu.r.copy(p, TMP);
}

export function twoOperandPrologue(fpu: Fpu): boolean {
  const present = needSt(fpu, 1, 1);
  if (present === 0) fpu.pop(); // the indefinite went to ST(1), which the instruction pops into place
  if (present !== 1) return false;
  const p0 = fpu.st(0), p1 = fpu.st(1);
  const c0 = fpu.r.classify(p0), c1 = fpu.r.classify(p1);
  if (c0 >= CLASS_QNAN || c1 >= CLASS_QNAN) {
    if (nanResult(fpu, p0, c0, p1, c1)) {
      fpu.r.copy(p1, TMP);
      fpu.pop();
    }
    return false;
  }
  if ((c0 === CLASS_DENORMAL || c1 === CLASS_DENORMAL) && fpu.signal(FSW_DE)) return false;
  return true;
}

/** A transcendental result: rounded to nearest in double, PE when inexact, C1 unknown ⇒ 0. */
export function transcendentalResult(fpu: Fpu, v: number, inexact: boolean): void {
  lastRounding.inexact = inexact && v !== 0; // their zeros are exact: sin(0), y·log2(1), atan2(0, x>0)
  lastRounding.roundedUp = false;
  lastRounding.overflow = false;
  lastRounding.errSign = 0;
  lastRounding.err = NaN; // unknown: only PE is reported
  finishResult(fpu, v);
  fpu.r.dir[TMP] = 0; // the direction of a JS Math result is unknown
}
