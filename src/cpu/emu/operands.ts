// Operand access for instruction handlers: registers by size, effective
// addresses, r/m operands and the stack (SDM vol. 1 §3.7, vol. 2 §2.1.5).

import type { Insn } from './insn.js';
import { CpuException, ESP, EXC_GP, SS, type CpuState } from './state.js';

/** Register `r` (0-7) at `size` bytes; 8-bit numbers 4-7 are AH CH DH BH. 32-bit values are int32. */
export function getReg(cpu: CpuState, r: number, size: number): number {
  if (size === 4) return cpu.regs[r];
  if (size === 2) return cpu.regs[r] & 0xffff;
  return r < 4 ? cpu.regs[r] & 0xff : (cpu.regs[r - 4] >> 8) & 0xff;
}

export function setReg(cpu: CpuState, r: number, size: number, v: number): void {
  const regs = cpu.regs;
  if (size === 4) regs[r] = v;
  else if (size === 2) regs[r] = (regs[r] & ~0xffff) | (v & 0xffff);
  else if (r < 4) regs[r] = (regs[r] & ~0xff) | (v & 0xff);
  else regs[r - 4] = (regs[r - 4] & ~0xff00) | ((v & 0xff) << 8);
}

/** Effective address (offset in i.seg) of a memory operand. */
export function ea(cpu: CpuState, i: Insn): number {
  let a = i.disp;
  if (i.base >= 0) a += cpu.regs[i.base];
  if (i.index >= 0) a += cpu.regs[i.index] << i.scale;
  return i.asz32 ? a | 0 : a & 0xffff;
}

export function readMem(cpu: CpuState, seg: number, off: number, size: number): number {
  if (size === 4) return cpu.smem.read32(seg, off);
  if (size === 2) return cpu.smem.read16(seg, off);
  return cpu.smem.read8(seg, off);
}

export function writeMem(cpu: CpuState, seg: number, off: number, size: number, v: number): void {
  if (size === 4) cpu.smem.write32(seg, off, v);
  else if (size === 2) cpu.smem.write16(seg, off, v);
  else cpu.smem.write8(seg, off, v);
}

/** The r/m operand at the instruction's operand size. */
export function readRm(cpu: CpuState, i: Insn): number {
  if (i.mod === 3) return getReg(cpu, i.rm, i.osz);
  return readMem(cpu, i.seg, ea(cpu, i), i.osz);
}

export function writeRm(cpu: CpuState, i: Insn, v: number): void {
  if (i.mod === 3) setReg(cpu, i.rm, i.osz, v);
  else writeMem(cpu, i.seg, ea(cpu, i), i.osz, v);
}

/** The r/m operand at an explicit size (MOVZX, MOV Sreg, LAR...). */
export function readRmSized(cpu: CpuState, i: Insn, size: number): number {
  if (i.mod === 3) return getReg(cpu, i.rm, size);
  return readMem(cpu, i.seg, ea(cpu, i), size);
}

export function writeRmSized(cpu: CpuState, i: Insn, size: number, v: number): void {
  if (i.mod === 3) setReg(cpu, i.rm, size, v);
  else writeMem(cpu, i.seg, ea(cpu, i), size, v);
}

// ---- stack (width from SS.B, SDM vol. 1 §6.2.3) ----

/** Current stack pointer as an offset in SS. */
export function stackTop(cpu: CpuState): number {
  return cpu.stack32 ? cpu.regs[ESP] : cpu.regs[ESP] & 0xffff;
}

/** Move the stack pointer by `delta`, wrapping SP in 16-bit stacks. */
export function adjustSp(cpu: CpuState, delta: number): void {
  if (cpu.stack32) cpu.regs[ESP] = (cpu.regs[ESP] + delta) | 0;
  else cpu.regs[ESP] = (cpu.regs[ESP] & ~0xffff) | ((cpu.regs[ESP] + delta) & 0xffff);
}

/** Offset of the slot `delta` bytes from the stack top, wrapped to the stack width. */
export function stackOffset(cpu: CpuState, delta: number): number {
  return cpu.stack32 ? (cpu.regs[ESP] + delta) | 0 : (cpu.regs[ESP] + delta) & 0xffff;
}

export function push(cpu: CpuState, size: number, v: number): void {
  const off = stackOffset(cpu, -size);
  if (size === 4) cpu.smem.write32(SS, off, v);
  else cpu.smem.write16(SS, off, v);
  adjustSp(cpu, -size);
}

export function pop(cpu: CpuState, size: number): number {
  const off = stackTop(cpu);
  const v = size === 4 ? cpu.smem.read32(SS, off) : cpu.smem.read16(SS, off);
  adjustSp(cpu, size);
  return v;
}

/** Read the value `delta` bytes above the stack top without popping. */
export function peek(cpu: CpuState, size: number, delta: number): number {
  const off = stackOffset(cpu, delta);
  return size === 4 ? cpu.smem.read32(SS, off) : cpu.smem.read16(SS, off);
}

/** Protected-mode CPL-0 requirement of privileged instructions (SDM vol. 3A §5.9). */
export function requireCpl0(cpu: CpuState): void {
  if (cpu.cpl !== 0) throw new CpuException(EXC_GP, 0);
}
