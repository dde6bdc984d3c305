// Control transfers: Jcc JMP CALL RET (near, 16/32), LOOP/LOOPcc/JCXZ, far
// JMP/CALL/RET and IRET (through segmentation.ts / interrupts.ts), INT n, INT3,
// INTO, INT1, BOUND, HLT (SDM vol. 2; fact sheet §4).

import { CpuException, CS, ECX, EXC_BR, EXC_GP, EXC_UD, FLAG_IF, FLAG_IOPL, FLAG_VM } from './state.js';
import { getZF, getOF, testCondition } from './flags.js';
import type { Insn } from './insn.js';
import { adjustSp, ea, getReg, peek, push, readMem, requireCpl0 } from './operands.js';
import { farCall, farJump, farReturn } from './segmentation.js';
import { deliverEvent, EVENT_EXCEPTION, EVENT_SOFTWARE_EXC, EVENT_SOFTWARE_INT, iret } from './interrupts.js';
import type { CpuState } from './state.js';

/** Set EIP to a near target truncated to the operand size; beyond the CS limit => #GP(0). */
function jumpNear(cpu: CpuState, target: number, osz: number): void {
  const t = osz === 4 ? target | 0 : target & 0xffff;
  if (t >>> 0 > cpu.segLimit[CS]) throw new CpuException(EXC_GP, 0);
  cpu.eip = t;
}

/** 70-7F Jcc rel8, 0F 80-8F Jcc rel16/32. */
export function execJcc(cpu: CpuState, i: Insn): void {
  if (testCondition(cpu, i.op & 0xf)) {
    jumpNear(cpu, cpu.eip + i.imm, i.osz);
    cpu.stopBlock = true; // the rest of the block is the not-taken path
  }
}
/** EB / E9 JMP rel. */
export function execJmpRel(cpu: CpuState, i: Insn): void {
  jumpNear(cpu, cpu.eip + i.imm, i.osz);
}
/** E8 CALL rel: the target is checked before the push. */
export function execCallRel(cpu: CpuState, i: Insn): void {
  const ret = cpu.eip;
  const t = i.osz === 4 ? (ret + i.imm) | 0 : (ret + i.imm) & 0xffff;
  if (t >>> 0 > cpu.segLimit[CS]) throw new CpuException(EXC_GP, 0);
  push(cpu, i.osz, ret);
  cpu.eip = t;
}
/** FF /4 JMP r/m. */
export function execJmpRm(cpu: CpuState, i: Insn): void {
  const t = i.mod === 3 ? getReg(cpu, i.rm, i.osz) : readMem(cpu, i.seg, ea(cpu, i), i.osz);
  jumpNear(cpu, t, i.osz);
}
/** FF /2 CALL r/m. */
export function execCallRm(cpu: CpuState, i: Insn): void {
  const t = i.mod === 3 ? getReg(cpu, i.rm, i.osz) : readMem(cpu, i.seg, ea(cpu, i), i.osz);
  if (t >>> 0 > cpu.segLimit[CS]) throw new CpuException(EXC_GP, 0);
  push(cpu, i.osz, cpu.eip);
  cpu.eip = t;
}
/** C3 RET, C2 RET imm16. */
export function execRet(cpu: CpuState, i: Insn): void {
  const t = peek(cpu, i.osz, 0);
  jumpNear(cpu, t, i.osz);
  adjustSp(cpu, i.osz + (i.imm & 0xffff));
}

/** E0 LOOPNE, E1 LOOPE, E2 LOOP: count register by address size. */
export function execLoop(cpu: CpuState, i: Insn): void {
  let n: number;
  if (i.asz32) n = cpu.regs[ECX] = (cpu.regs[ECX] - 1) | 0;
  else {
    n = (cpu.regs[ECX] - 1) & 0xffff;
    cpu.regs[ECX] = (cpu.regs[ECX] & ~0xffff) | n;
  }
  let take = n !== 0;
  if (i.op === 0xe0) take = take && !getZF(cpu);
  else if (i.op === 0xe1) take = take && getZF(cpu);
  if (take) jumpNear(cpu, cpu.eip + i.imm, i.osz);
}
/** E3 JCXZ/JECXZ. */
export function execJcxz(cpu: CpuState, i: Insn): void {
  const n = i.asz32 ? cpu.regs[ECX] : cpu.regs[ECX] & 0xffff;
  if (n === 0) jumpNear(cpu, cpu.eip + i.imm, i.osz);
}

/** EA JMP ptr16:16/32. */
export function execJmpFar(cpu: CpuState, i: Insn): void {
  farJump(cpu, i.imm2 & 0xffff, i.osz === 4 ? i.imm : i.imm & 0xffff, i.osz === 4);
}
/** 9A CALL ptr16:16/32. */
export function execCallFar(cpu: CpuState, i: Insn): void {
  farCall(cpu, i.imm2 & 0xffff, i.osz === 4 ? i.imm : i.imm & 0xffff, i.osz === 4);
}
/** Far pointer m16:16/32 operand: offset, then selector. */
function farPointer(cpu: CpuState, i: Insn): number {
  if (i.mod === 3) throw new CpuException(EXC_UD);
  const off = ea(cpu, i);
  farOffset = readMem(cpu, i.seg, off, i.osz);
  return cpu.smem.read16(i.seg, i.asz32 ? (off + i.osz) | 0 : (off + i.osz) & 0xffff);
}
let farOffset = 0;
/** FF /5 JMP m16:16/32. */
export function execJmpFarRm(cpu: CpuState, i: Insn): void {
  const sel = farPointer(cpu, i);
  farJump(cpu, sel, farOffset, i.osz === 4);
}
/** FF /3 CALL m16:16/32. */
export function execCallFarRm(cpu: CpuState, i: Insn): void {
  const sel = farPointer(cpu, i);
  farCall(cpu, sel, farOffset, i.osz === 4);
}
/** CB RETF, CA RETF imm16. */
export function execRetFar(cpu: CpuState, i: Insn): void {
  farReturn(cpu, i.osz === 4, i.imm & 0xffff);
}
/** CF IRET/IRETD. */
export function execIret(cpu: CpuState, i: Insn): void {
  iret(cpu, i.osz === 4);
}

/** CD ib INT n: V86 with IOPL < 3 => #GP(0) (no VME). */
export function execInt(cpu: CpuState, i: Insn): void {
  if (cpu.flags & FLAG_VM && (cpu.flags & FLAG_IOPL) !== FLAG_IOPL) throw new CpuException(EXC_GP, 0);
  deliverEvent(cpu, i.imm & 0xff, EVENT_SOFTWARE_INT, -1);
}
/** CC INT3 (trap: the pushed EIP is the next instruction). */
export function execInt3(cpu: CpuState, _i: Insn): void {
  deliverEvent(cpu, 3, EVENT_SOFTWARE_EXC, -1);
}
/** CE INTO. */
export function execInto(cpu: CpuState, _i: Insn): void {
  if (getOF(cpu)) deliverEvent(cpu, 4, EVENT_SOFTWARE_EXC, -1);
}
/** F1 INT1/ICEBP: a #DB trap without the gate DPL check, like a hardware debug trap. */
export function execInt1(cpu: CpuState, _i: Insn): void {
  deliverEvent(cpu, 1, EVENT_EXCEPTION, -1);
}

/** 62 BOUND reg, m: #BR (fault) when the signed index is outside [lower, upper]. */
export function execBound(cpu: CpuState, i: Insn): void {
  if (i.mod === 3) throw new CpuException(EXC_UD);
  const off = ea(cpu, i);
  const sz = i.osz;
  const hiOff = i.asz32 ? (off + sz) | 0 : (off + sz) & 0xffff;
  let lower = readMem(cpu, i.seg, off, sz);
  let upper = readMem(cpu, i.seg, hiOff, sz);
  let idx = getReg(cpu, i.reg, sz);
  if (sz === 2) {
    lower = (lower << 16) >> 16;
    upper = (upper << 16) >> 16;
    idx = (idx << 16) >> 16;
  }
  if (idx < lower || idx > upper) throw new CpuException(EXC_BR);
}

/** F4 HLT: CPL 0 only; the run loop reports `hlt` and waits for an interrupt. */
export function execHlt(cpu: CpuState, _i: Insn): void {
  requireCpl0(cpu);
  cpu.halted = true;
  cpu.stopBlock = true;
}

/** Whether EFLAGS.IF is set (for exits). */
export function interruptsEnabled(cpu: CpuState): boolean {
  return (cpu.flags & FLAG_IF) !== 0;
}

