// Bit instructions: BT BTS BTR BTC (register/immediate offsets, memory bit
// strings), BSF BSR, BSWAP (SDM vol. 2; AMD flag values, fact sheet §6).

import { CpuException, EXC_UD, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from './state.js';
import { updateFlags } from './flags.js';
import type { Insn } from './insn.js';
import { ea, getReg, readMem, setReg, writeMem } from './operands.js';
import type { CpuState } from './state.js';

/** op: 0 BT, 1 BTS, 2 BTR, 3 BTC. `offset` is the bit offset (signed for memory + register). */
function bitOp(cpu: CpuState, i: Insn, op: number, offset: number, fromReg: boolean): void {
  const sz = i.osz;
  const bits = sz * 8;
  let cf: number;
  if (i.mod === 3) {
    const bit = offset & (bits - 1);
    const v = getReg(cpu, i.rm, sz);
    cf = (v >>> bit) & 1;
    if (op === 1) setReg(cpu, i.rm, sz, v | (1 << bit));
    else if (op === 2) setReg(cpu, i.rm, sz, v & ~(1 << bit));
    else if (op === 3) setReg(cpu, i.rm, sz, v ^ (1 << bit));
  } else {
    let off = ea(cpu, i);
    let bit: number;
    if (fromReg) {
      // Register offset addresses a bit string: unit at EA + (offset SAR log2(bits)) * size.
      const o = sz === 2 ? (offset << 16) >> 16 : offset | 0;
      off = off + (o >> (sz === 2 ? 4 : 5)) * sz;
      off = i.asz32 ? off | 0 : off & 0xffff;
      bit = o & (bits - 1);
    } else {
      bit = offset & (bits - 1);
    }
    const v = readMem(cpu, i.seg, off, sz);
    cf = (v >>> bit) & 1;
    if (op === 1) writeMem(cpu, i.seg, off, sz, v | (1 << bit));
    else if (op === 2) writeMem(cpu, i.seg, off, sz, v & ~(1 << bit));
    else if (op === 3) writeMem(cpu, i.seg, off, sz, v ^ (1 << bit));
  }
  updateFlags(cpu, FLAG_CF, cf ? FLAG_CF : 0);
}

/** 0F A3 BT, AB BTS, B3 BTR, BB BTC r/m, reg. */
export function execBtReg(cpu: CpuState, i: Insn): void {
  const op = i.op === 0x1a3 ? 0 : i.op === 0x1ab ? 1 : i.op === 0x1b3 ? 2 : 3;
  bitOp(cpu, i, op, getReg(cpu, i.reg, i.osz), true);
}
/** 0F BA /4-/7 BT.. r/m, imm8. */
export function execBtImm(cpu: CpuState, i: Insn): void {
  bitOp(cpu, i, i.reg - 4, i.imm & 0xff, false);
}

/** 0F BC BSF, 0F BD BSR (F3-prefixed forms too: no BMI1, so TZCNT/LZCNT are BSF/BSR). */
export function execBsf(cpu: CpuState, i: Insn): void {
  const v = i.mod === 3 ? getReg(cpu, i.rm, i.osz) : readMem(cpu, i.seg, ea(cpu, i), i.osz);
  if (v === 0) {
    // Destination kept (AMD); ZF=1, O S A C = 0, P = 1 (measured).
    updateFlags(cpu, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_CF | FLAG_ZF | FLAG_PF, FLAG_ZF | FLAG_PF);
    return;
  }
  const n = 31 - Math.clz32(v & -v);
  setReg(cpu, i.reg, i.osz, n);
  bsfFlags(cpu, n);
}
export function execBsr(cpu: CpuState, i: Insn): void {
  const v = i.mod === 3 ? getReg(cpu, i.rm, i.osz) : readMem(cpu, i.seg, ea(cpu, i), i.osz);
  if (v === 0) {
    updateFlags(cpu, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_CF | FLAG_ZF | FLAG_PF, FLAG_ZF | FLAG_PF);
    return;
  }
  const n = 31 - Math.clz32(v);
  setReg(cpu, i.reg, i.osz, n);
  bsfFlags(cpu, n);
}
/** Non-zero source: ZF=0; the others as AMD leaves them (O S A C = 0, P from the index). */
function bsfFlags(cpu: CpuState, n: number): void {
  const pf = ((n ^ (n >> 1) ^ (n >> 2) ^ (n >> 3) ^ (n >> 4)) & 1) === 0 ? FLAG_PF : 0;
  updateFlags(cpu, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_CF | FLAG_ZF | FLAG_PF, pf);
}

/** 0F C8+r BSWAP r32; with 0x66 AMD zeroes the low 16 bits (fact sheet §6). */
export function execBswap(cpu: CpuState, i: Insn): void {
  const r = i.rm;
  const v = cpu.regs[r];
  if (i.osz === 2) {
    cpu.regs[r] = v & ~0xffff;
    return;
  }
  cpu.regs[r] = ((v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) | 0;
}

export function execUd(_cpu: CpuState, _i: Insn): void {
  throw new CpuException(EXC_UD);
}
