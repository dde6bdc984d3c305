// MUL, IMUL (one, two and three operands), DIV, IDIV (SDM vol. 2). Exact 64-bit
// products and quotients in int32/double arithmetic, no BigInt. Undefined flags
// as on AMD (fact sheet §6): MUL/IMUL keep S Z A P; DIV/IDIV give S=Z=P=0, A=1.

import { CpuException, EAX, EDX, EXC_DE, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from './state.js';
import { updateFlags } from './flags.js';
import type { Insn } from './insn.js';
import { getReg, readRm, readRmSized, setReg } from './operands.js';
import type { CpuState } from './state.js';

let productLo = 0;
let productHi = 0;

/** Unsigned 32x32 → 64: sets productLo/productHi (int32 halves). */
function mulU32(a: number, b: number): void {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lo = a0 * b0;
  const mid1 = a1 * b0;
  const mid2 = a0 * b1;
  const hi = a1 * b1;
  // Sum the middle terms into the low word with carries tracked in doubles (all < 2^53).
  const midSum = mid1 + mid2 + Math.floor(lo / 65536);
  productLo = ((midSum % 65536) * 65536 + (lo & 0xffff)) | 0;
  productHi = (hi + Math.floor(midSum / 65536)) | 0;
}

/** Signed 32x32 → 64. */
function mulS32(a: number, b: number): void {
  mulU32(a, b);
  let hi = productHi;
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  productHi = hi;
}

function setMulFlags(cpu: CpuState, overflow: boolean): void {
  updateFlags(cpu, FLAG_CF | FLAG_OF, overflow ? FLAG_CF | FLAG_OF : 0);
}

/** F6/F7 /4 MUL r/m. */
export function execMul(cpu: CpuState, i: Insn): void {
  const src = readRm(cpu, i);
  const regs = cpu.regs;
  if (i.osz === 1) {
    const r = (regs[EAX] & 0xff) * src;
    setReg(cpu, EAX, 2, r);
    setMulFlags(cpu, r > 0xff);
  } else if (i.osz === 2) {
    const r = (regs[EAX] & 0xffff) * src;
    setReg(cpu, EAX, 2, r);
    setReg(cpu, EDX, 2, r >>> 16);
    setMulFlags(cpu, r > 0xffff);
  } else {
    mulU32(regs[EAX], src);
    regs[EAX] = productLo;
    regs[EDX] = productHi;
    setMulFlags(cpu, productHi !== 0);
  }
}

/** F6/F7 /5 IMUL r/m (one operand). */
export function execImul1(cpu: CpuState, i: Insn): void {
  const src = readRm(cpu, i);
  const regs = cpu.regs;
  if (i.osz === 1) {
    const r = ((regs[EAX] << 24) >> 24) * ((src << 24) >> 24);
    setReg(cpu, EAX, 2, r);
    setMulFlags(cpu, r !== (r << 24) >> 24);
  } else if (i.osz === 2) {
    const r = ((regs[EAX] << 16) >> 16) * ((src << 16) >> 16);
    setReg(cpu, EAX, 2, r);
    setReg(cpu, EDX, 2, r >> 16);
    setMulFlags(cpu, r !== (r << 16) >> 16);
  } else {
    mulS32(regs[EAX], src);
    regs[EAX] = productLo;
    regs[EDX] = productHi;
    setMulFlags(cpu, productHi !== productLo >> 31);
  }
}

/** Truncated signed product for 2/3-operand IMUL; sets the flags. */
function imulTruncated(cpu: CpuState, size: number, a: number, b: number): number {
  if (size === 2) {
    const r = ((a << 16) >> 16) * ((b << 16) >> 16);
    setMulFlags(cpu, r !== (r << 16) >> 16);
    return r & 0xffff;
  }
  mulS32(a, b);
  setMulFlags(cpu, productHi !== productLo >> 31);
  return productLo;
}

/** 0F AF IMUL reg, r/m. */
export function execImul2(cpu: CpuState, i: Insn): void {
  const src = readRm(cpu, i);
  setReg(cpu, i.reg, i.osz, imulTruncated(cpu, i.osz, getReg(cpu, i.reg, i.osz), src));
}

/** 69 / 6B IMUL reg, r/m, imm. */
export function execImul3(cpu: CpuState, i: Insn): void {
  const src = readRmSized(cpu, i, i.osz);
  setReg(cpu, i.reg, i.osz, imulTruncated(cpu, i.osz, src, i.imm));
}

function setDivFlags(cpu: CpuState): void {
  updateFlags(cpu, FLAG_SF | FLAG_ZF | FLAG_PF | FLAG_AF, FLAG_AF);
}

let quotient = 0;
let remainder = 0;

/** Unsigned (hi:lo) / d with hi < d (so the quotient fits 32 bits), by 16-bit long division. */
function divU64(hi: number, lo: number, d: number): void {
  let r = hi;
  const q1 = Math.floor((r * 65536 + (lo >>> 16)) / d);
  r = r * 65536 + (lo >>> 16) - q1 * d;
  const q0 = Math.floor((r * 65536 + (lo & 0xffff)) / d);
  r = r * 65536 + (lo & 0xffff) - q0 * d;
  quotient = q1 * 65536 + q0;
  remainder = r;
}

/** F6/F7 /6 DIV r/m: #DE on zero divisor or quotient overflow (registers untouched). */
export function execDiv(cpu: CpuState, i: Insn): void {
  const src = readRm(cpu, i);
  const regs = cpu.regs;
  if (i.osz === 1) {
    const dividend = regs[EAX] & 0xffff;
    if (src === 0) throw new CpuException(EXC_DE);
    const q = Math.floor(dividend / src);
    if (q > 0xff) throw new CpuException(EXC_DE);
    setReg(cpu, EAX, 2, ((dividend % src) << 8) | q);
  } else if (i.osz === 2) {
    const dividend = (regs[EDX] & 0xffff) * 65536 + (regs[EAX] & 0xffff);
    if (src === 0) throw new CpuException(EXC_DE);
    const q = Math.floor(dividend / src);
    if (q > 0xffff) throw new CpuException(EXC_DE);
    setReg(cpu, EAX, 2, q);
    setReg(cpu, EDX, 2, dividend % src);
  } else {
    const d = src >>> 0;
    const hi = regs[EDX] >>> 0;
    if (d === 0 || hi >= d) throw new CpuException(EXC_DE);
    divU64(hi, regs[EAX] >>> 0, d);
    regs[EAX] = quotient | 0;
    regs[EDX] = remainder | 0;
  }
  setDivFlags(cpu);
}

/** F6/F7 /7 IDIV r/m: quotient truncated toward zero, remainder has the dividend's sign. */
export function execIdiv(cpu: CpuState, i: Insn): void {
  const src = readRm(cpu, i);
  const regs = cpu.regs;
  if (i.osz === 1) {
    const dividend = (regs[EAX] << 16) >> 16;
    const d = (src << 24) >> 24;
    if (d === 0) throw new CpuException(EXC_DE);
    const q = Math.trunc(dividend / d);
    if (q > 127 || q < -128) throw new CpuException(EXC_DE);
    const r = dividend - q * d;
    setReg(cpu, EAX, 2, ((r & 0xff) << 8) | (q & 0xff));
  } else if (i.osz === 2) {
    const dividend = ((regs[EDX] & 0xffff) << 16) | (regs[EAX] & 0xffff); // int32
    const d = (src << 16) >> 16;
    if (d === 0) throw new CpuException(EXC_DE);
    const q = Math.trunc(dividend / d);
    if (q > 32767 || q < -32768) throw new CpuException(EXC_DE);
    setReg(cpu, EAX, 2, q);
    setReg(cpu, EDX, 2, dividend - q * d);
  } else {
    const d = src | 0;
    if (d === 0) throw new CpuException(EXC_DE);
    let hi = regs[EDX] | 0;
    let lo = regs[EAX] | 0;
    const negDividend = hi < 0;
    if (negDividend) {
      // 64-bit two's complement negation.
      lo = -lo | 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) | 0;
    }
    const ad = d < 0 ? -d >>> 0 : d;
    const uhi = hi >>> 0;
    if (uhi >= ad) throw new CpuException(EXC_DE);
    divU64(uhi, lo >>> 0, ad);
    const negQ = negDividend !== d < 0;
    if (negQ ? quotient > 0x80000000 : quotient > 0x7fffffff) throw new CpuException(EXC_DE);
    regs[EAX] = negQ ? -quotient | 0 : quotient | 0;
    regs[EDX] = negDividend ? -remainder | 0 : remainder | 0;
  }
  setDivFlags(cpu);
}
