// x87 arithmetic and compares: ADD SUB SUBR MUL DIV DIVR in every form, the
// FCOM/FUCOM/FICOM families and FCOMI/FUCOMI (SDM vol. 1 §8.3.5-8.3.6, §4.8.3
// NaN rules; vol. 2 per instruction). Results go through the rounding of
// fpu-rounding.ts; at PC = extended the 80-bit result is modelled (extendedResult).

import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from './state.js';
import { readEflags, writeEflags } from './flags.js';
import type { Fpu } from './fpu.js';
import { CLASS_DENORMAL, CLASS_INF, CLASS_QNAN, CLASS_SNAN, CLASS_UNSUPPORTED, CLASS_ZERO, EXP_MAX, FORMAT_SINGLE, doubleBits, type Float80Slots } from './fpu-float80.js';
import { RC_NEAREST, lastRounding, nextDown, nextUp, roundToFloat32, roundedAdd, roundedDiv, roundedMul } from './fpu-rounding.js';
import { FSW_DE, FSW_IE, FSW_OE, FSW_PE, FSW_UE, FSW_ZE, MEM, OP_ADD, OP_COM, OP_COMP, OP_DIV, OP_DIVR, OP_MUL, OP_SUB, OP_SUBR, TMP } from './fpu-registers.js';

/** Scratch for the bits of a double. */
const storeWords = new Int32Array(2);

/** D8/DC/DA/DE memory forms: ST(0) op MEM. */
export function arithOrCompare(fpu: Fpu, reg: number): void {
  const p0 = fpu.st(0);
  if (reg === OP_COM || reg === OP_COMP) {
    compareInto(fpu, p0, MEM, false, reg === OP_COMP ? 1 : 0);
    return;
  }
  arith(fpu, reg, p0, MEM, p0);
}

/**
 * dst ← a op b for op in ADD MUL SUB SUBR DIV DIVR (reverse forms swap a, b).
 * `a`, `b` are physical registers or MEM; empty registers underflow.
 */
export function arith(fpu: Fpu, op: number, a: number, b: number, dst: number): boolean {
  if ((a < 8 && fpu.empty[a]) || (b < 8 && fpu.empty[b])) {
    if (fpu.stackFault(false)) return false;
    fpu.setIndefinite(dst);
    fpu.empty[dst] = 0;
    return true;
  }
  if (op === OP_SUBR || op === OP_DIVR) {
    const t = a; a = b; b = t;
    op = op === OP_SUBR ? OP_SUB : OP_DIV;
  }
  if (!binary(fpu, op, a, b)) return false;
  fpu.r.copy(dst, TMP);
  fpu.empty[dst] = 0;
  return true;
}

/** TMP ← a op b with IEEE special cases, flags and rounding. False when suppressed by an unmasked exception. */
export function binary(fpu: Fpu, op: number, a: number, b: number): boolean {
  const r = fpu.r;
  const ca = r.classify(a), cb = r.classify(b);
  if (ca >= CLASS_QNAN || cb >= CLASS_QNAN) return nanResult(fpu, a, ca, b, cb);
  // Division of a finite non-zero value by zero: ZE alone, even for a denormal dividend (measured).
  if (op === OP_DIV && cb === CLASS_ZERO && ca !== CLASS_ZERO && ca !== CLASS_INF) {
    if (fpu.signal(FSW_ZE)) return false;
    fpu.setC1(false);
    r.setDouble(TMP, (r.isNegative(a) !== r.isNegative(b)) ? -Infinity : Infinity);
    return true;
  }
  if ((ca === CLASS_DENORMAL || cb === CLASS_DENORMAL || (fpu.memDenormal && (a === MEM || b === MEM))) && fpu.signal(FSW_DE)) return false;
  const x = r.val[a], y = r.val[b];
  const rc = fpu.rc;
  let v: number;
  lastRounding.overflow = false;
  switch (op) {
    case OP_ADD:
      if (ca === CLASS_INF && cb === CLASS_INF && x !== y) return fpu.invalid();
      v = roundedAdd(x, y, rc);
      break;
    case OP_SUB:
      if (ca === CLASS_INF && cb === CLASS_INF && x === y) return fpu.invalid();
      v = roundedAdd(x, -y, rc);
      break;
    case OP_MUL:
      if ((ca === CLASS_INF && y === 0 && cb !== CLASS_DENORMAL) || (cb === CLASS_INF && x === 0 && ca !== CLASS_DENORMAL)) return fpu.invalid();
      v = roundedMul(x, y, rc);
      break;
    default: // OP_DIV
      if ((ca === CLASS_INF && cb === CLASS_INF) || (ca === CLASS_ZERO && cb === CLASS_ZERO)) return fpu.invalid();
      if (cb === CLASS_ZERO) {
        // ∞ / 0 = ∞ exactly, no exception.
        fpu.setC1(false);
        r.setDouble(TMP, (r.isNegative(a) !== r.isNegative(b)) ? -Infinity : Infinity);
        return true;
      }
      v = roundedDiv(x, y, rc);
  }
  finishResult(fpu, v);
  return true;
}

/** Store a rounded double into TMP with precision control and the OE/UE/PE/C1 flags. */
export function finishResult(fpu: Fpu, v: number): void {
  let inexact = lastRounding.inexact;
  let up = lastRounding.roundedUp;
  let overflow = lastRounding.overflow;
  const pc = (fpu.fcw >> 8) & 3;
  if (pc === 3) {
    extendedResult(fpu, v, inexact, up);
    return;
  }
  if (pc === 0 && isFinite(v)) {
    // Precision control: single (FCW.PC = 00).
    const f = roundToFloat32(v, fpu.rc);
    if (lastRounding.inexact) {
      inexact = true;
      up = lastRounding.roundedUp;
      overflow = overflow || !isFinite(f) || Math.abs(f) === FORMAT_SINGLE.maxFinite && Math.abs(v) > f;
    }
    v = f;
  }
  let flags = 0;
  if (overflow) flags |= FSW_OE;
  const tiny = inexact ? Math.abs(v) < (pc === 0 ? 2 ** -126 : 2 ** -1022) : v !== 0 && Math.abs(v) < (pc === 0 ? 2 ** -126 : 2 ** -1022);
  if (tiny && (inexact || (fpu.fcw & FSW_UE) === 0)) flags |= FSW_UE;
  if (inexact) flags |= FSW_PE;
  fpu.setC1(up);
  if (flags) fpu.signal(flags);
  fpu.r.setDouble(TMP, v);
}

/**
 * PC = extended. The hardware result has 11 more significand bits and a wider
 * exponent, so a double overflow/underflow is no OE/UE yet. From the error of
 * the double `v` (lastRounding.err) decide what the 80-bit result would be: `v`
 * itself (the exact value lies within half an 80-bit ulp), or a value beside
 * it — then remember the side (Float80Slots.dir) so stores and compares see it.
 * PE and C1 follow the 80-bit rounding.
 */
export function extendedResult(fpu: Fpu, v: number, inexact: boolean, up: boolean): void {
  const r = fpu.r;
  r.setDouble(TMP, v);
  if (!inexact) {
    fpu.setC1(false);
    return;
  }
  const err = lastRounding.err;
  const av = Math.abs(v);
  if (av === 0 || av === Infinity || err !== err) {
    // Only the side is known: the 80-bit value differs from v, and it rounded inexactly.
    r.dir[TMP] = lastRounding.errSign;
    fpu.setC1(av === Infinity ? false : up);
    fpu.signal(FSW_PE);
    return;
  }
  let k = Math.floor(Math.log2(av));
  if (2 ** k > av) k--;
  else if (2 ** (k + 1) <= av) k++;
  // Just below a power of two the 80-bit grid is twice as fine.
  if (2 ** k === av && (err > 0) !== (v > 0)) k--;
  const q = Math.abs(err) / 2 ** (k - 63); // the error in 80-bit ulps of v (< 2^11)
  const rc = fpu.rc;
  const steps = rc === RC_NEAREST ? (q - Math.floor(q) > 0.5 || (q - Math.floor(q) === 0.5 && (Math.floor(q) & 1) === 1) ? Math.ceil(q) : Math.floor(q)) : Math.floor(q);
  const extInexact = steps !== q || q === 0; // q underflows to 0 for a far smaller addend: still inexact
  r.dir[TMP] = steps === 0 ? 0 : err > 0 ? 1 : -1;
  if (steps === 1024 && rc === RC_NEAREST && av >= 2 ** -1022) {
    // The 80-bit value is the midpoint between v and its neighbour: a store
    // rounds it to the even one (double rounding); keep that one in `val`.
    doubleBits(v, storeWords);
    if (storeWords[1] & 1) {
      r.setDouble(TMP, err > 0 ? nextUp(v) : nextDown(v));
      r.dir[TMP] = err > 0 ? -1 : 1;
    }
  }
  // C1: the 80-bit value v + sign(err)·steps ulps lies beyond the exact one (away from zero)?
  fpu.setC1(extInexact && (v > 0) === (err > 0) ? steps > q : extInexact && steps < q);
  if (extInexact) fpu.signal(FSW_PE);
}

/**
 * NaN operands (SDM vol. 1 Table 4-7): SNaN/unsupported ⇒ IE; the result is the
 * QNaN with the larger significand, a QNaN over an SNaN, or the indefinite.
 */
export function nanResult(fpu: Fpu, a: number, ca: number, b: number, cb: number): boolean {
  const r = fpu.r;
  if (ca === CLASS_UNSUPPORTED || cb === CLASS_UNSUPPORTED) return fpu.invalid();
  if ((ca === CLASS_SNAN || cb === CLASS_SNAN) && fpu.signal(FSW_IE)) return false;
  let pick: number;
  const aNan = ca >= CLASS_QNAN, bNan = cb >= CLASS_QNAN;
  if (aNan && bNan) {
    if (ca !== cb) pick = ca === CLASS_QNAN ? a : b;
    else {
      const ah = (r.hi[a] & 0x3fffffff) >>> 0, bh = (r.hi[b] & 0x3fffffff) >>> 0;
      pick = ah > bh || (ah === bh && (r.lo[a] >>> 0) >= (r.lo[b] >>> 0)) ? a : b;
    }
  } else pick = aNan ? a : b;
  r.setRaw(TMP, r.se[pick], r.hi[pick] | 0x40000000, r.lo[pick]);
  fpu.setC1(false);
  return true;
}

/**
 * Compare a with b: 0 greater, 1 less, 2 equal, 3 unordered; -2 = unordered
 * with an unmasked IE (the host still writes the unordered result but does not
 * pop; the SDM says the codes stay), -1 = an unmasked DE suppresses the result.
 * `quiet` = FUCOM rules (QNaN raises no IE).
 */
export function compare(fpu: Fpu, a: number, b: number, quiet: boolean): number {
  if ((a < 8 && fpu.empty[a]) || (b < 8 && fpu.empty[b])) {
    return fpu.stackFault(false) ? -2 : 3;
  }
  const r = fpu.r;
  const ca = r.classify(a), cb = r.classify(b);
  if (ca >= CLASS_QNAN || cb >= CLASS_QNAN) {
    const signalling = !quiet || ca === CLASS_SNAN || cb === CLASS_SNAN || ca === CLASS_UNSUPPORTED || cb === CLASS_UNSUPPORTED;
    if (signalling && fpu.signal(FSW_IE)) return -2;
    return 3;
  }
  if ((ca === CLASS_DENORMAL || cb === CLASS_DENORMAL || (fpu.memDenormal && (a === MEM || b === MEM))) && fpu.signal(FSW_DE)) return -1;
  return compareFinite(r, a, ca, b, cb);
}

/** FCOM/FCOMP/FCOMPP/FUCOM*, FICOM*: condition codes, then `pops` pops. */
export function compareInto(fpu: Fpu, a: number, b: number, quiet: boolean, pops: number): void {
  const res = compare(fpu, a, b, quiet);
  if (res === -1) return;
  // C3 C2 C0: > 000, < 001, = 100, unordered 111 (SDM vol. 2 FCOM Table 3-21).
  fpu.setCC(res === 2 || res < 0 || res === 3 ? 1 : 0, res === 3 || res < 0 ? 1 : 0, 0, res === 1 || res === 3 || res < 0 ? 1 : 0);
  if (res >= 0) for (let i = 0; i < pops; i++) fpu.pop();
}

/** FCOMI/FUCOMI(P): ZF PF CF, OF SF AF cleared (SDM vol. 2 FCOMI). */
export function compareEflags(fpu: Fpu, i: number, quiet: boolean, pop: boolean): void {
  const res = compare(fpu, fpu.st(0), fpu.st(i), quiet);
  if (res === -1) return;
  fpu.setC1(false);
  const cpu = fpu.cpu;
  let f = readEflags(cpu) & ~(FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF);
  if (res === 1) f |= FLAG_CF;
  else if (res === 2) f |= FLAG_ZF;
  else if (res === 3 || res < 0) f |= FLAG_ZF | FLAG_PF | FLAG_CF;
  writeEflags(cpu, f);
  if (pop && res >= 0) fpu.pop();
}

/**
 * Ordered compare of two finite values from their 80-bit patterns: 0 >, 1 <, 2 =.
 * With the effective exponent max(exp, 1), (exponent, significand) orders the
 * magnitudes of normals, denormals and pseudo-denormals alike.
 */
function compareFinite(r: Float80Slots, a: number, ca: number, b: number, cb: number): number {
  // Zeros are equal, unless one stands for a tiny extended value (its side in dir).
  if (ca === CLASS_ZERO && cb === CLASS_ZERO) return r.dir[a] === r.dir[b] ? 2 : r.dir[a] > r.dir[b] ? 0 : 1;
  const na = r.isNegative(a), nb = r.isNegative(b);
  if (ca === CLASS_INF || cb === CLASS_INF) {
    // An ∞ with a rounding side stands for a finite extended value beyond double's range.
    const ra = ca === CLASS_INF ? (r.dir[a] === 0 ? 2 : 1) : 0, rb = cb === CLASS_INF ? (r.dir[b] === 0 ? 2 : 1) : 0;
    if (ra === rb && na === nb) return 2;
    const sa = na ? -ra : ra, sb = nb ? -rb : rb;
    if (sa !== sb) return sa > sb ? 0 : 1;
    return na ? 1 : 0; // same rank and sign were handled; a finite value vs a zero-rank one
  }
  if (ca === CLASS_ZERO) return nb ? 0 : 1;
  if (cb === CLASS_ZERO) return na ? 1 : 0;
  if (na !== nb) return na ? 1 : 0;
  const ea = (r.se[a] & EXP_MAX) || 1, eb = (r.se[b] & EXP_MAX) || 1;
  const ha = r.hi[a] >>> 0, hb = r.hi[b] >>> 0;
  const la = r.lo[a] >>> 0, lb = r.lo[b] >>> 0;
  let mag = ea !== eb ? ea - eb : ha !== hb ? ha - hb : la - lb;
  // Equal doubles standing for different extended results are ordered by their rounding direction.
  if (mag === 0) mag = (na ? -1 : 1) * (r.dir[a] - r.dir[b]);
  if (mag === 0) return 2;
  return (mag > 0) !== na ? 0 : 1;
}
