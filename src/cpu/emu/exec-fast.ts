// Specialised handlers for the hottest forms of kernel code: 32-bit operands with
// 32-bit addressing (register-register, register-memory, immediates) of MOV, the
// ALU group, TEST, INC/DEC, PUSH/POP and LEA. The decoder picks them when the
// opcode table entry names one and the instruction matches the form; they do
// exactly what the generic handlers do, without size switches or calls.

import { ESP, SS, type CpuState } from './state.js';
import { LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_LOGIC, LAZY_SUB } from './flags.js';
import type { Insn } from './insn.js';
import { aluFlags, aluResult } from './exec-alu.js';
import { getCF } from './flags.js';
import { FLAG_CF } from './state.js';

const SZ32 = 2;

/** Effective address of a 32-bit-addressing memory operand. */
function ea32(cpu: CpuState, i: Insn): number {
  const regs = cpu.regs;
  let a = i.disp;
  if (i.base >= 0) a += regs[i.base];
  if (i.index >= 0) a += regs[i.index] << i.scale;
  return a | 0;
}

/** dst op src for the 32-bit ALU, recording flags; returns the result (CMP: dst unchanged by caller). */
function alu32(cpu: CpuState, op: number, d: number, s: number): number {
  let r: number;
  switch (op) {
    case 0:
      r = (d + s) | 0;
      cpu.lazyOp = LAZY_ADD | SZ32;
      break;
    case 1:
      r = d | s;
      cpu.lazyOp = LAZY_LOGIC | SZ32;
      break;
    case 4:
      r = d & s;
      cpu.lazyOp = LAZY_LOGIC | SZ32;
      break;
    case 6:
      r = d ^ s;
      cpu.lazyOp = LAZY_LOGIC | SZ32;
      break;
    case 5:
    case 7:
      r = (d - s) | 0;
      cpu.lazyOp = LAZY_SUB | SZ32;
      break;
    default:
      // ADC, SBB: the carry-in matters; use the generic pair.
      r = aluResult(cpu, op, SZ32, d, s);
      aluFlags(cpu, op, SZ32, d, s, r);
      return r;
  }
  cpu.lazyDst = d;
  cpu.lazySrc = s;
  cpu.lazyResult = r;
  return r;
}

/** 01/09/.. op r32, r32 (mod 3). */
export function execAlu32RmRegR(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const op = (i.op >> 3) & 7;
  const r = alu32(cpu, op, regs[i.rm], regs[i.reg]);
  if (op !== 7) regs[i.rm] = r;
}
/** 01/09/.. op m32, r32: the write happens before the flags are recorded. */
export function execAlu32RmRegM(cpu: CpuState, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const off = ea32(cpu, i);
  const d = cpu.smem.read32(i.seg, off);
  const s = cpu.regs[i.reg];
  if (op === 7) {
    alu32(cpu, op, d, s);
    return;
  }
  const r = aluResult(cpu, op, SZ32, d, s);
  cpu.smem.write32(i.seg, off, r);
  alu32(cpu, op, d, s);
}
/** 03/0B/.. op r32, r32 (mod 3). */
export function execAlu32RegRmR(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const op = (i.op >> 3) & 7;
  const r = alu32(cpu, op, regs[i.reg], regs[i.rm]);
  if (op !== 7) regs[i.reg] = r;
}
/** 03/0B/.. op r32, m32. */
export function execAlu32RegRmM(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const op = (i.op >> 3) & 7;
  const s = cpu.smem.read32(i.seg, ea32(cpu, i));
  const r = alu32(cpu, op, regs[i.reg], s);
  if (op !== 7) regs[i.reg] = r;
}
/** 81/83 /op r32, imm. */
export function execAlu32ImmR(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const op = i.reg;
  const r = alu32(cpu, op, regs[i.rm], i.imm);
  if (op !== 7) regs[i.rm] = r;
}
/** 81/83 /op m32, imm. */
export function execAlu32ImmM(cpu: CpuState, i: Insn): void {
  const op = i.reg;
  const off = ea32(cpu, i);
  const d = cpu.smem.read32(i.seg, off);
  if (op === 7) {
    alu32(cpu, op, d, i.imm);
    return;
  }
  const r = aluResult(cpu, op, SZ32, d, i.imm);
  cpu.smem.write32(i.seg, off, r);
  alu32(cpu, op, d, i.imm);
}
/** 85 TEST r32, r32. */
export function execTest32R(cpu: CpuState, i: Insn): void {
  const r = cpu.regs[i.rm] & cpu.regs[i.reg];
  cpu.lazyOp = LAZY_LOGIC | SZ32;
  cpu.lazyDst = r;
  cpu.lazySrc = 0;
  cpu.lazyResult = r;
}

/** 89 MOV r32, r32 / MOV m32, r32. */
export function execMov32RmRegR(cpu: CpuState, i: Insn): void {
  cpu.regs[i.rm] = cpu.regs[i.reg];
}
export function execMov32RmRegM(cpu: CpuState, i: Insn): void {
  cpu.smem.write32(i.seg, ea32(cpu, i), cpu.regs[i.reg]);
}
/** 8B MOV r32, m32. */
export function execMov32RegRmM(cpu: CpuState, i: Insn): void {
  cpu.regs[i.reg] = cpu.smem.read32(i.seg, ea32(cpu, i));
}
/** B8+r MOV r32, imm32. */
export function execMov32RegImm(cpu: CpuState, i: Insn): void {
  cpu.regs[i.rm] = i.imm;
}
/** C7 /0 MOV m32, imm32. */
export function execMov32RmImmM(cpu: CpuState, i: Insn): void {
  cpu.smem.write32(i.seg, ea32(cpu, i), i.imm);
}
/** 8D LEA r32, m (32-bit addressing). */
export function execLea32(cpu: CpuState, i: Insn): void {
  cpu.regs[i.reg] = ea32(cpu, i);
}

/** 40+r / 48+r, FF /0 /1 with a register: INC/DEC r32 (CF kept). */
export function execInc32R(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const d = regs[i.rm];
  const r = (d + 1) | 0;
  regs[i.rm] = r;
  cpu.lazyFlags = getCF(cpu) ? FLAG_CF : 0;
  cpu.lazyOp = LAZY_INC | SZ32;
  cpu.lazyDst = d;
  cpu.lazySrc = 1;
  cpu.lazyResult = r;
}
export function execDec32R(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const d = regs[i.rm];
  const r = (d - 1) | 0;
  regs[i.rm] = r;
  cpu.lazyFlags = getCF(cpu) ? FLAG_CF : 0;
  cpu.lazyOp = LAZY_DEC | SZ32;
  cpu.lazyDst = d;
  cpu.lazySrc = 1;
  cpu.lazyResult = r;
}

/** 50+r PUSH r32 (any stack width). */
export function execPush32R(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const v = regs[i.rm];
  if (cpu.stack32) {
    const sp = (regs[ESP] - 4) | 0;
    cpu.smem.write32(SS, sp, v);
    regs[ESP] = sp;
  } else {
    const sp = (regs[ESP] - 4) & 0xffff;
    cpu.smem.write32(SS, sp, v);
    regs[ESP] = (regs[ESP] & ~0xffff) | sp;
  }
}
/** 58+r POP r32. */
export function execPop32R(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  if (cpu.stack32) {
    const v = cpu.smem.read32(SS, regs[ESP]);
    regs[ESP] = (regs[ESP] + 4) | 0;
    regs[i.rm] = v;
  } else {
    const v = cpu.smem.read32(SS, regs[ESP] & 0xffff);
    regs[ESP] = (regs[ESP] & ~0xffff) | ((regs[ESP] + 4) & 0xffff);
    regs[i.rm] = v;
  }
}
