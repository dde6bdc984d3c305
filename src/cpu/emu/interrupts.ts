// Interrupt and exception delivery through the IVT (real mode) or IDT (protected
// mode: interrupt/trap/task gates, privilege-changing stack switches through the
// TSS, V86 frames), IRET, double-fault/triple-fault escalation
// (SDM vol. 3A ch. 6 "Interrupt and Exception Handling", ch. 7 "Task Management").
//
// CONTRACT: before calling, cpu.eip holds the EIP to push: the faulting
// instruction for faults, the next instruction for traps, INT n and external
// interrupts.
//
// STUB: real mode only; the system helper implements the rest.

import { readEflags, writeEflags } from './flags.js';
import { CS, SS, ESP, FLAG_IF, FLAG_TF, FLAG_AC, CpuException, type CpuState } from './state.js';
import { loadSegment } from './segmentation.js';

/** What kind of event is being delivered (decides error-code EXT bit, DPL check, RF). */
export const EVENT_EXTERNAL = 0; // INTR from the PIC/APIC, NMI
export const EVENT_SOFTWARE_INT = 1; // INT n (DPL check; V86 IOPL check)
export const EVENT_SOFTWARE_EXC = 2; // INT3, INTO, INT1/ICEBP(no DPL check)
export const EVENT_EXCEPTION = 3; // faults/traps raised by the CPU

/** Deliver `vector` now. `errorCode` -1 = none. Throws CpuException if delivery itself faults. */
export function deliverEvent(cpu: CpuState, vector: number, kind: number, errorCode: number): void {
  void kind;
  void errorCode;
  // Real mode: push FLAGS, CS, IP; clear IF TF AC; CS:IP from the IVT.
  const sp = cpu.regs[ESP] & 0xffff;
  const ssBase = cpu.segBase[SS];
  const push16 = (off: number, v: number) => cpu.mmu.write16((ssBase + (off & 0xffff)) | 0, v);
  push16(sp - 2, readEflags(cpu));
  push16(sp - 4, cpu.segSel[CS]);
  push16(sp - 6, cpu.eip);
  cpu.regs[ESP] = (cpu.regs[ESP] & ~0xffff) | ((sp - 6) & 0xffff);
  writeEflags(cpu, readEflags(cpu) & ~(FLAG_IF | FLAG_TF | FLAG_AC));
  const ip = cpu.mmu.read16((cpu.idtBase + vector * 4) | 0);
  const cs = cpu.mmu.read16((cpu.idtBase + vector * 4 + 2) | 0);
  loadSegment(cpu, CS, cs);
  cpu.eip = ip;
}

/**
 * An exception escaped an instruction: deliver it, escalating to #DF and then a
 * triple fault per SDM Table 6-5. On a triple fault sets cpu.pendingExit to a
 * `triple-fault` exit and returns.
 */
export function raiseException(cpu: CpuState, exc: CpuException): void {
  deliverEvent(cpu, exc.vector, EVENT_EXCEPTION, exc.errorCode);
}

/** IRET / IRETD. */
export function iret(cpu: CpuState, operand32: boolean): void {
  void cpu; void operand32;
  throw new Error('iret: not implemented yet');
}
