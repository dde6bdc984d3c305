// x87 memory operands: loads of m32/m64/m80 reals, m16/m32/m64 integers and
// packed BCD into the scratch slot, and the matching stores with rounding, the
// masked responses (indefinites) and fault atomicity (memory is written before
// the stack pops; a fault restores FSW). SDM vol. 1 §4.2, §4.7, §8.3.3.

import type { Fpu } from './fpu.js';
import {
  CLASS_DENORMAL, CLASS_INF, CLASS_QNAN, CLASS_SNAN, CLASS_UNSUPPORTED, CLASS_ZERO, EXP_MAX, FORMAT_DOUBLE, FORMAT_SINGLE,
  bitsToDouble, bitsToFloat32, doubleBits, exactRounding, float32Bits, float80ToBigInt, isExactDouble, roundFloat80,
} from './fpu-float80.js';
import { integerOf, lastRounding, roundToFloat32 } from './fpu-rounding.js';
import { FSW_DE, FSW_IE, FSW_OE, FSW_PE, FSW_UE, MEM } from './fpu-registers.js';

/** Scratch for double → two words when storing m64. */
const storeWords = new Int32Array(2);

export function loadFloat32(fpu: Fpu, seg: number, off: number): void {
  const bits = fpu.cpu.smem.read32(seg, off);
  const exp = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  fpu.memDenormal = exp === 0 && frac !== 0;
  if (exp === 0xff && frac !== 0) {
    // NaN: keep quiet/signalling and the payload (float32 → 80-bit places frac at bits 62:40).
    fpu.r.setRaw(MEM, ((bits >>> 16) & 0x8000) | EXP_MAX, 0x80000000 | (frac << 8), 0);
  } else {
    fpu.r.setDouble(MEM, bitsToFloat32(bits));
  }
}

export function loadFloat64(fpu: Fpu, seg: number, off: number): void {
  const lo = fpu.cpu.smem.read32(seg, off);
  const hi = fpu.cpu.smem.read32(seg, off + 4);
  const exp = (hi >>> 20) & 0x7ff;
  const fracHi = hi & 0xfffff;
  fpu.memDenormal = exp === 0 && (fracHi | lo) !== 0;
  if (exp === 0x7ff && (fracHi | lo) !== 0) {
    fpu.r.setRaw(MEM, ((hi >>> 16) & 0x8000) | EXP_MAX, 0x80000000 | (fracHi << 11) | (lo >>> 21), lo << 11);
  } else {
    fpu.r.setDouble(MEM, bitsToDouble(hi, lo));
  }
}

export function loadFloat80(fpu: Fpu, seg: number, off: number): void {
  const m = fpu.cpu.smem;
  const lo = m.read32(seg, off);
  const hi = m.read32(seg, off + 4);
  const se = m.read16(seg, off + 8);
  fpu.memDenormal = false;
  fpu.memRaw80 = true;
  fpu.r.setRaw(MEM, se, hi, lo);
}

export function loadInt(fpu: Fpu, seg: number, off: number, size: number): void {
  const m = fpu.cpu.smem;
  fpu.memDenormal = false;
  if (size === 2) fpu.r.setDouble(MEM, (m.read16(seg, off) << 16) >> 16);
  else if (size === 4) fpu.r.setDouble(MEM, m.read32(seg, off) | 0);
  else {
    const lo = m.read32(seg, off);
    const hi = m.read32(seg, off + 4);
    fpu.r.setInt64(MEM, hi | 0, lo | 0);
  }
}

/** FLD/FILD from MEM: SNaN from m32/m64 ⇒ IE and the quiet form; denormal ⇒ DE. */
export function fldMemory(fpu: Fpu): void {
  const c = fpu.r.classify(MEM);
  if (fpu.wouldOverflow()) {
    fpu.push(MEM);
    return;
  }
  if (c === CLASS_SNAN && !fpu.memRaw80) {
    if (fpu.signal(FSW_IE)) return;
    fpu.r.hi[MEM] |= 0x40000000;
  } else if (fpu.memDenormal && fpu.signal(FSW_DE)) {
    return;
  }
  fpu.setC1(false);
  fpu.push(MEM);
}

/** FST/FSTP m32/m64/m80: memory is written before the pop; a fault restores FSW. */
export function storeFloat(fpu: Fpu, seg: number, off: number, size: number, pop: boolean): void {
  const p = fpu.st(0);
  const r = fpu.r;
  const saved = fpu.fsw;
  const m = fpu.cpu.smem;
  let w0 = 0, w1 = 0, w2 = 0;
  if (fpu.empty[p]) {
    if (fpu.stackFault(false)) return;
    // Masked underflow stores the indefinite.
    if (size === 4) w0 = 0xffc00000 | 0;
    else if (size === 8) { w0 = 0; w1 = 0xfff80000 | 0; }
    else { w0 = 0; w1 = 0xc0000000 | 0; w2 = 0xffff; }
  } else if (size === 10) {
    w0 = r.lo[p]; w1 = r.hi[p]; w2 = r.se[p];
    fpu.setC1(false); // m80 stores never round
  } else {
    const c = r.classify(p);
    const sign = r.isNegative(p) ? 0x80000000 | 0 : 0;
    fpu.setC1(false);
    if (c === CLASS_SNAN || c === CLASS_UNSUPPORTED) {
      if (fpu.signal(FSW_IE)) return;
    }
    if (c === CLASS_UNSUPPORTED) {
      if (size === 4) w0 = 0xffc00000 | 0;
      else w1 = 0xfff80000 | 0;
    } else if (c === CLASS_QNAN || c === CLASS_SNAN) {
      const hi = r.hi[p] | 0x40000000;
      if (size === 4) w0 = sign | 0x7f800000 | ((hi >>> 8) & 0x7fffff);
      else { w1 = sign | 0x7ff00000 | ((hi >>> 11) & 0xfffff); w0 = (hi << 21) | (r.lo[p] >>> 11); }
    } else if (c === CLASS_INF) {
      // ∞ standing for a finite extended result beyond double's range: the store overflows.
      if (r.dir[p] !== 0) {
        fpu.setC1(true);
        if (fpu.signal(FSW_OE | FSW_PE) && (fpu.fcw & FSW_OE) === 0) return;
      }
      if (size === 4) w0 = sign | 0x7f800000;
      else w1 = sign | 0x7ff00000;
    } else {
      // No DE for a denormal source here: measured on the host (SDM lists #D for FST).
      const v = roundForStore(fpu, p, size === 4);
      if (v === undefined) return;
      if (size === 4) w0 = float32Bits(v);
      else {
        doubleBits(v, storeWords);
        w1 = storeWords[0]; w0 = storeWords[1];
      }
    }
  }
  try {
    m.write32(seg, off, w0);
    if (size >= 8) m.write32(seg, off + 4, w1);
    if (size === 10) m.write16(seg, off + 8, w2);
  } catch (e) {
    fpu.fsw = saved;
    throw e;
  }
  if (pop) fpu.pop();
}

/** ST(p) rounded to float32/float64 per RC, setting OE/UE/PE/C1. Undefined when suppressed. */
export function roundForStore(fpu: Fpu, p: number, single: boolean): number | undefined {
  const r = fpu.r;
  let v: number, inexact: boolean, up: boolean, overflow: boolean, tiny: boolean;
  if (isExactDouble(r.se[p], r.hi[p], r.lo[p]) || r.classify(p) === CLASS_ZERO) {
    v = r.val[p];
    const dir = r.dir[p];
    if (single) {
      v = roundToFloat32(v, fpu.rc, dir);
      inexact = lastRounding.inexact;
      up = lastRounding.roundedUp;
      overflow = inexact && (!isFinite(v) || Math.abs(v) === FORMAT_SINGLE.maxFinite && Math.abs(r.val[p]) > Math.abs(v));
      tiny = v === 0 ? inexact : Math.abs(v) < 2 ** -126 || (inexact && Math.abs(r.val[p]) < 2 ** -126);
    } else {
      inexact = up = overflow = tiny = false;
    }
    if (!inexact && dir !== 0) {
      // An extended-precision result stored to a narrower format: it rounds to `v`
      // (below the normal range it underflows; beyond the largest double it overflows).
      inexact = true;
      up = v !== 0 && (v > 0) === (dir < 0);
      tiny = Math.abs(v) < (single ? 2 ** -126 : 2 ** -1022);
      overflow = Math.abs(v) === Number.MAX_VALUE && (v > 0) === (dir > 0);
    }
  } else {
    v = roundFloat80(r.se[p], r.hi[p], r.lo[p], single ? FORMAT_SINGLE : FORMAT_DOUBLE, fpu.rc);
    inexact = exactRounding.inexact;
    up = exactRounding.roundedUp;
    overflow = exactRounding.overflow;
    tiny = exactRounding.tiny;
  }
  let flags = 0;
  if (overflow) flags |= FSW_OE;
  if (tiny && (inexact || (fpu.fcw & FSW_UE) === 0)) flags |= FSW_UE;
  if (inexact) flags |= FSW_PE;
  fpu.setC1(up);
  // Unmasked OE/UE leave the destination unchanged (SDM vol. 1 §4.9.2.1).
  if (flags && fpu.signal(flags) && (flags & ~fpu.fcw & (FSW_OE | FSW_UE))) return undefined;
  return v;
}

/** FIST/FISTP m16/m32/m64 with RC rounding; out of range ⇒ IE, masked ⇒ integer indefinite. */
export function storeInt(fpu: Fpu, seg: number, off: number, size: number, pop: boolean): void {
  const p = fpu.st(0);
  const r = fpu.r;
  const saved = fpu.fsw;
  let lo = 0, hi = 0;
  let invalid = false;
  if (fpu.empty[p]) {
    if (fpu.stackFault(false)) return;
    invalid = true;
  } else {
    const c = r.classify(p);
    fpu.setC1(false);
    if (c >= CLASS_INF) invalid = true;
    else if (isExactDouble(r.se[p], r.hi[p], r.lo[p]) || c === CLASS_ZERO || c === CLASS_DENORMAL) {
      const v = integerOf(c === CLASS_DENORMAL ? (r.isNegative(p) ? -Number.MIN_VALUE : Number.MIN_VALUE) : r.val[p], r.dir[p], fpu.rc);
      const inexact = lastRounding.inexact, up = lastRounding.roundedUp;
      const limit = 2 ** (size * 8 - 1);
      if (v >= limit || v < -limit) invalid = true;
      else {
        hi = Math.floor(v / 4294967296) | 0;
        lo = (v - Math.floor(v / 4294967296) * 4294967296) | 0;
        fpu.setC1(up);
        if (inexact) fpu.signal(FSW_PE);
      }
    } else {
      const big = float80ToBigInt(r.se[p], r.hi[p], r.lo[p], fpu.rc);
      const limit = 1n << BigInt(size * 8 - 1);
      if (big >= limit || big < -limit) invalid = true;
      else {
        lo = Number(BigInt.asIntN(32, big));
        hi = Number(BigInt.asIntN(32, big >> 32n));
        fpu.setC1(exactRounding.roundedUp);
        if (exactRounding.inexact) fpu.signal(FSW_PE);
      }
    }
    if (invalid && fpu.signal(FSW_IE)) return;
  }
  if (invalid) {
    // Integer indefinite: the most negative value of the size.
    lo = size === 2 ? 0x8000 : size === 4 ? 0x80000000 | 0 : 0;
    hi = 0x80000000 | 0;
  }
  const m = fpu.cpu.smem;
  try {
    if (size === 2) m.write16(seg, off, lo);
    else {
      m.write32(seg, off, lo);
      if (size === 8) m.write32(seg, off + 4, hi);
    }
  } catch (e) {
    fpu.fsw = saved;
    throw e;
  }
  if (pop) fpu.pop();
}

export function fbld(fpu: Fpu, seg: number, off: number): void {
  const m = fpu.cpu.smem;
  const bytes = new Uint8Array(10);
  for (let i = 0; i < 10; i++) bytes[i] = m.read8(seg, off + i);
  let v = 0n;
  for (let i = 8; i >= 0; i--) v = v * 100n + BigInt((bytes[i] >> 4) * 10 + (bytes[i] & 15));
  if (bytes[9] & 0x80) v = -v;
  fpu.memDenormal = false;
  fpu.r.setInt64(MEM, Number(BigInt.asIntN(32, v >> 32n)), Number(BigInt.asIntN(32, v)));
  if (v === 0n && bytes[9] & 0x80) fpu.r.setSign(MEM, true);
  fldMemory(fpu);
}

export function fbstp(fpu: Fpu, seg: number, off: number): void {
  const p = fpu.st(0);
  const r = fpu.r;
  const saved = fpu.fsw;
  const bytes = new Uint8Array(10);
  let invalid = false;
  if (fpu.empty[p]) {
    if (fpu.stackFault(false)) return;
    invalid = true;
  } else {
    const c = r.classify(p);
    let big = 0n;
    if (c >= CLASS_INF) invalid = true;
    else {
      big = float80ToBigInt(r.se[p], r.hi[p], r.lo[p], fpu.rc);
      if (big >= 10n ** 18n || big <= -(10n ** 18n)) invalid = true;
    }
    if (invalid) {
      if (fpu.signal(FSW_IE)) return;
    } else {
      fpu.setC1(exactRounding.roundedUp);
      if (exactRounding.inexact) fpu.signal(FSW_PE);
      let mag = big < 0n ? -big : big;
      for (let i = 0; i < 9; i++) {
        const two = Number(mag % 100n);
        mag /= 100n;
        bytes[i] = ((two / 10) | 0) << 4 | (two % 10);
      }
      if (r.isNegative(p)) bytes[9] = 0x80;
    }
  }
  if (invalid) {
    // Packed BCD indefinite: FFFF C000 0000 0000 0000 (SDM vol. 1 Table 4-4).
    bytes.fill(0);
    bytes[7] = 0xc0; bytes[8] = 0xff; bytes[9] = 0xff;
  }
  const m = fpu.cpu.smem;
  try {
    for (let i = 0; i < 10; i++) m.write8(seg, off + i, bytes[i]);
  } catch (e) {
    fpu.fsw = saved;
    throw e;
  }
  fpu.pop();
}
