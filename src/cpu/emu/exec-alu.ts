// Two-operand arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP (all encodings),
// INC DEC NEG NOT TEST (SDM vol. 2). Results are written before flags are
// recorded so a faulting write leaves the flags as they were.

import { FLAG_CF } from './state.js';
import { getCF, LAZY_ADC, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_LOGIC, LAZY_SBB, LAZY_SUB, setIncDec, setLazy, SIZE_MASK } from './flags.js';
import type { Insn } from './insn.js';
import { ea, getReg, readMem, setReg, writeMem } from './operands.js';
import type { CpuState } from './state.js';

/** ALU operation numbers (the opcode's bits 5:3 / the group-1 reg field). */
export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;

/** The result of `dst op src` masked to the size (no state change). */
export function aluResult(cpu: CpuState, op: number, szc: number, dst: number, src: number): number {
  const mask = SIZE_MASK[szc];
  switch (op) {
    case ALU_ADD: return (dst + src) & mask;
    case ALU_OR: return (dst | src) & mask;
    case ALU_ADC: return (dst + src + (getCF(cpu) ? 1 : 0)) & mask;
    case ALU_SBB: return (dst - src - (getCF(cpu) ? 1 : 0)) & mask;
    case ALU_AND: return dst & src & mask;
    case ALU_XOR: return (dst ^ src) & mask;
    default: return (dst - src) & mask; // SUB, CMP
  }
}

/** Record the flags of `res = dst op src`. */
export function aluFlags(cpu: CpuState, op: number, szc: number, dst: number, src: number, res: number): void {
  switch (op) {
    case ALU_ADD: setLazy(cpu, LAZY_ADD | szc, dst, src, res); break;
    case ALU_ADC: cpu.lazyFlags = getCF(cpu) ? FLAG_CF : 0; setLazy(cpu, LAZY_ADC | szc, dst, src, res); break;
    case ALU_SBB: cpu.lazyFlags = getCF(cpu) ? FLAG_CF : 0; setLazy(cpu, LAZY_SBB | szc, dst, src, res); break;
    case ALU_OR: case ALU_AND: case ALU_XOR: setLazy(cpu, LAZY_LOGIC | szc, dst, src, res); break;
    default: setLazy(cpu, LAZY_SUB | szc, dst, src, res); break;
  }
}

function aluRm(cpu: CpuState, i: Insn, op: number, src: number): void {
  const sz = i.osz;
  const szc = i.szc;
  if (i.mod === 3) {
    const dst = getReg(cpu, i.rm, sz);
    const res = aluResult(cpu, op, szc, dst, src);
    if (op !== ALU_CMP) setReg(cpu, i.rm, sz, res);
    aluFlags(cpu, op, szc, dst, src, res);
  } else {
    const off = ea(cpu, i);
    const dst = readMem(cpu, i.seg, off, sz);
    const res = aluResult(cpu, op, szc, dst, src);
    if (op !== ALU_CMP) writeMem(cpu, i.seg, off, sz, res);
    aluFlags(cpu, op, szc, dst, src, res);
  }
}

/** 00/08/10/18/20/28/30/38 (+1): op r/m, reg. */
export function execAluRmReg(cpu: CpuState, i: Insn): void {
  aluRm(cpu, i, (i.op >> 3) & 7, getReg(cpu, i.reg, i.osz));
}

/** 02/0A/.. (+1): op reg, r/m. */
export function execAluRegRm(cpu: CpuState, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const sz = i.osz;
  const src = i.mod === 3 ? getReg(cpu, i.rm, sz) : readMem(cpu, i.seg, ea(cpu, i), sz);
  const dst = getReg(cpu, i.reg, sz);
  const res = aluResult(cpu, op, i.szc, dst, src);
  if (op !== ALU_CMP) setReg(cpu, i.reg, sz, res);
  aluFlags(cpu, op, i.szc, dst, src, res);
}

/** 04/0C/.. (+1): op AL/eAX, imm. */
export function execAluAccImm(cpu: CpuState, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const sz = i.osz;
  const dst = getReg(cpu, 0, sz);
  const src = i.imm & SIZE_MASK[i.szc];
  const res = aluResult(cpu, op, i.szc, dst, src);
  if (op !== ALU_CMP) setReg(cpu, 0, sz, res);
  aluFlags(cpu, op, i.szc, dst, src, res);
}

/** 80/81/83 /op: op r/m, imm. */
export function execAluRmImm(cpu: CpuState, i: Insn): void {
  aluRm(cpu, i, i.reg, i.imm & SIZE_MASK[i.szc]);
}

/** 84/85 TEST r/m, reg; A8/A9 TEST acc, imm; F6/F7 /0 /1 TEST r/m, imm. */
export function execTestRmReg(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const a = i.mod === 3 ? getReg(cpu, i.rm, sz) : readMem(cpu, i.seg, ea(cpu, i), sz);
  const res = a & getReg(cpu, i.reg, sz);
  setLazy(cpu, LAZY_LOGIC | i.szc, a, 0, res);
}
export function execTestAccImm(cpu: CpuState, i: Insn): void {
  const res = getReg(cpu, 0, i.osz) & i.imm & SIZE_MASK[i.szc];
  setLazy(cpu, LAZY_LOGIC | i.szc, res, 0, res);
}
export function execTestRmImm(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const a = i.mod === 3 ? getReg(cpu, i.rm, sz) : readMem(cpu, i.seg, ea(cpu, i), sz);
  const res = a & i.imm & SIZE_MASK[i.szc];
  setLazy(cpu, LAZY_LOGIC | i.szc, a, 0, res);
}

function incDec(cpu: CpuState, i: Insn, delta: number): void {
  const sz = i.osz;
  const mask = SIZE_MASK[i.szc];
  const kind = delta > 0 ? LAZY_INC : LAZY_DEC;
  if (i.mod === 3) {
    const d = getReg(cpu, i.rm, sz);
    const r = (d + delta) & mask;
    setReg(cpu, i.rm, sz, r);
    setIncDec(cpu, kind, i.szc, d, r);
  } else {
    const off = ea(cpu, i);
    const d = readMem(cpu, i.seg, off, sz);
    const r = (d + delta) & mask;
    writeMem(cpu, i.seg, off, sz, r);
    setIncDec(cpu, kind, i.szc, d, r);
  }
}

/** FE/FF /0 INC r/m. */
export function execIncRm(cpu: CpuState, i: Insn): void {
  incDec(cpu, i, 1);
}
/** FE/FF /1 DEC r/m. */
export function execDecRm(cpu: CpuState, i: Insn): void {
  incDec(cpu, i, -1);
}
/** 40+r INC r16/32 (register in the low 3 opcode bits, decoded into rm with mod 3). */
export const execIncReg = execIncRm;
export const execDecReg = execDecRm;

/** F6/F7 /2 NOT r/m (no flags). */
export function execNot(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  if (i.mod === 3) setReg(cpu, i.rm, sz, ~getReg(cpu, i.rm, sz));
  else {
    const off = ea(cpu, i);
    writeMem(cpu, i.seg, off, sz, ~readMem(cpu, i.seg, off, sz));
  }
}

/** F6/F7 /3 NEG r/m: flags of 0 - x (CF = x != 0). */
export function execNeg(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const mask = SIZE_MASK[i.szc];
  if (i.mod === 3) {
    const d = getReg(cpu, i.rm, sz);
    const r = -d & mask;
    setReg(cpu, i.rm, sz, r);
    setLazy(cpu, LAZY_SUB | i.szc, 0, d, r);
  } else {
    const off = ea(cpu, i);
    const d = readMem(cpu, i.seg, off, sz);
    const r = -d & mask;
    writeMem(cpu, i.seg, off, sz, r);
    setLazy(cpu, LAZY_SUB | i.szc, 0, d, r);
  }
}
