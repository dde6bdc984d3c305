// Segment register loads, far control transfers and descriptor instructions
// (SDM vol. 3A ch. 3 "Protected-Mode Memory Management", ch. 5 "Protection";
// vol. 2 MOV/POP/JMP/CALL/RET/LAR/LSL/VERR/VERW/LLDT/LTR).
//
// CONTRACT (called by the core's instruction handlers). All functions leave
// cpu state unchanged when they throw a CpuException. cpu.eip on entry is the
// address of the NEXT instruction (what a CALL pushes).
//
// STUB: real mode only; the system helper implements protected mode, V86,
// call gates, task gates/TSS switches and all privilege checks.

import { CS, ES, SS, type CpuState } from './state.js';

/** MOV Sreg / POP Sreg / LDS... / segment part of far transfers: load `seg` (ES..GS) with `selector`. */
export function loadSegment(cpu: CpuState, seg: number, selector: number): void {
  if (seg < ES || seg > 5) throw new RangeError(`bad segment index ${seg}`);
  cpu.segSel[seg] = selector & 0xffff;
  cpu.segBase[seg] = (selector & 0xffff) << 4;
  if (seg === CS || seg === SS) cpu.modeChanged();
}

/** JMP ptr16:16/32, JMP m16:16/32 (offset already truncated to the operand size). */
export function farJump(cpu: CpuState, selector: number, offset: number, operand32: boolean): void {
  void operand32;
  loadSegment(cpu, CS, selector);
  cpu.eip = offset | 0;
}

/** CALL ptr/m16:16/32: pushes CS:EIP (operand-size wide) and transfers. */
export function farCall(cpu: CpuState, selector: number, offset: number, operand32: boolean): void {
  void cpu; void selector; void offset; void operand32;
  throw new Error('farCall: not implemented yet');
}

/** RET far [imm16]: pops EIP, CS (and ESP, SS on an outward return), then releases `popBytes`. */
export function farReturn(cpu: CpuState, operand32: boolean, popBytes: number): void {
  void cpu; void operand32; void popBytes;
  throw new Error('farReturn: not implemented yet');
}

/** LLDT r/m16. */
export function lldt(cpu: CpuState, selector: number): void {
  void cpu; void selector;
  throw new Error('lldt: not implemented yet');
}
/** LTR r/m16 (marks the TSS busy). */
export function ltr(cpu: CpuState, selector: number): void {
  void cpu; void selector;
  throw new Error('ltr: not implemented yet');
}
/** LAR: access-rights value (descriptor dword 1 & 0x00F0FF00), or -1 when not accessible (ZF=0). */
export function lar(cpu: CpuState, selector: number): number {
  void cpu; void selector;
  return -1;
}
/** LSL: the byte-granular limit, or -1 when not accessible (ZF=0). Returned as uint32 in a number. */
export function lsl(cpu: CpuState, selector: number): number {
  void cpu; void selector;
  return -1;
}
/** VERR / VERW: whether the segment is readable / writable at the current CPL and the selector's RPL. */
export function verifySegment(cpu: CpuState, selector: number, write: boolean): boolean {
  void cpu; void selector; void write;
  return false;
}
