// Interrupt and exception delivery through the IVT (real mode) or IDT (protected
// mode: interrupt/trap/task gates, privilege-changing stack switches through the
// TSS, V86 frames), IRET, double-fault/triple-fault escalation
// (SDM vol. 3A ch. 6 "Interrupt and Exception Handling", ch. 7 "Task Management";
// vol. 2 INT n/INTO/INT3/INT1, IRET/IRETD).
//
// CONTRACT: before calling, cpu.eip holds the EIP to push: the faulting
// instruction for faults, the next instruction for traps, INT n and external
// interrupts.

import { readEflags, writeEflags } from './flags.js';
import {
  ATTR_UNUSABLE,
  CpuException,
  CS,
  DS,
  ES,
  ESP,
  EXC_BP,
  EXC_DB,
  EXC_DF,
  EXC_GP,
  EXC_NP,
  EXC_OF,
  EXC_PF,
  EXC_TS,
  FLAG_AC,
  FLAG_ID,
  FLAG_IF,
  FLAG_IOPL,
  FLAG_NT,
  FLAG_RF,
  FLAG_TF,
  FLAG_VIF,
  FLAG_VIP,
  FLAG_VM,
  FS,
  GS,
  SS,
  TR,
  type CpuState,
} from './state.js';
import { fetchDescriptor, loadCache, loadNull, loadRealMode, markAccessed, SYS_INT_GATE16, SYS_INT_GATE32, SYS_TASK_GATE, SYS_TRAP_GATE16, SYS_TRAP_GATE32, SYS_TSS16_BUSY, SYS_TSS32_BUSY } from './descriptors.js';
import { StackAccess } from './stack.js';
import { checkReturnCode, checkStackSegment, nullInaccessibleSegments, returnToOuterLevel } from './segmentation.js';
import { TASK_INT, TASK_IRET, taskSwitch, tssStackFor } from './tss.js';

/** What kind of event is being delivered (decides error-code EXT bit, DPL check, RF). */
export const EVENT_EXTERNAL = 0; // INTR from the PIC/APIC, NMI
export const EVENT_SOFTWARE_INT = 1; // INT n (DPL check; V86 IOPL check)
export const EVENT_SOFTWARE_EXC = 2; // INT3, INTO (DPL check), INT1/ICEBP (vector 1: no DPL check)
export const EVENT_EXCEPTION = 3; // faults/traps raised by the CPU

/** Exceptions that report a fault (pushed EFLAGS gets RF=1, SDM §17.3.1.1); #DB, #BP, #OF are traps here. */
function isFaultClass(vector: number): boolean {
  return vector !== EXC_DB && vector !== EXC_BP && vector !== EXC_OF && vector < 32;
}

/** Deliver `vector` now. `errorCode` -1 = none. Throws CpuException if delivery itself faults. */
export function deliverEvent(cpu: CpuState, vector: number, kind: number, errorCode: number): void {
  vector &= 0xff;
  if ((cpu.cr0 & 1) === 0) {
    deliverReal(cpu, vector);
    return;
  }
  const v86 = (cpu.flags & FLAG_VM) !== 0;
  // INT n in V86 mode with IOPL < 3 faults before touching the IDT (no VME, SDM §20.3.3).
  if (v86 && kind === EVENT_SOFTWARE_INT && (cpu.flags & FLAG_IOPL) !== FLAG_IOPL) throw new CpuException(EXC_GP, 0);
  const ext = kind === EVENT_EXTERNAL || kind === EVENT_EXCEPTION ? 1 : 0;
  const idtCode = (vector << 3) | 2 | ext;
  if (vector * 8 + 7 > cpu.idtLimit) throw new CpuException(EXC_GP, idtCode);
  const gateAddr = (cpu.idtBase + vector * 8) | 0;
  const lo = cpu.mmu.readSys32(gateAddr);
  const hi = cpu.mmu.readSys32((gateAddr + 4) | 0);
  const type = (hi >>> 8) & 0x1f; // S bit included: gates have S=0
  const gateDpl = (hi >>> 13) & 3;
  if (type !== SYS_TASK_GATE && type !== SYS_INT_GATE16 && type !== SYS_TRAP_GATE16 && type !== SYS_INT_GATE32 && type !== SYS_TRAP_GATE32) {
    throw new CpuException(EXC_GP, idtCode);
  }
  const software = kind === EVENT_SOFTWARE_INT || (kind === EVENT_SOFTWARE_EXC && vector !== EXC_DB);
  if (software && gateDpl < cpu.cpl) throw new CpuException(EXC_GP, (vector << 3) | 2);
  if ((hi & 0x8000) === 0) throw new CpuException(EXC_NP, idtCode);

  let pushedFlags = readEflags(cpu);
  if (kind === EVENT_EXCEPTION && isFaultClass(vector)) pushedFlags |= FLAG_RF;

  if (type === SYS_TASK_GATE) {
    const tssSel = lo >>> 16;
    if ((tssSel & 4) !== 0 || (tssSel & 0xfffc) === 0) throw new CpuException(EXC_TS, (tssSel & 0xfffc) | ext);
    const tss = fetchDescriptor(cpu, tssSel, EXC_TS, ext);
    if (tss.isSegment || (tss.type !== 1 && tss.type !== 9)) throw new CpuException(EXC_TS, (tssSel & 0xfffc) | ext);
    if (!tss.present) throw new CpuException(EXC_NP, (tssSel & 0xfffc) | ext);
    taskSwitch(cpu, tssSel, tss, TASK_INT, errorCode);
    return;
  }

  const gate32 = (type & 8) !== 0;
  const size = gate32 ? 4 : 2;
  const trap = (type & 1) !== 0;
  let offset = ((hi & 0xffff0000) | (lo & 0xffff)) | 0;
  if (!gate32) offset &= 0xffff;
  const sel = lo >>> 16;
  if ((sel & 0xfffc) === 0) throw new CpuException(EXC_GP, ext);
  const code = fetchDescriptor(cpu, sel, EXC_GP, ext);
  if (!code.isCode || code.dpl > cpu.cpl) throw new CpuException(EXC_GP, (sel & 0xfffc) | ext);
  if (!code.present) throw new CpuException(EXC_NP, (sel & 0xfffc) | ext);
  if (offset >>> 0 > code.limit) throw new CpuException(EXC_GP, ext);

  const inward = !code.isConformingCode && code.dpl < cpu.cpl;
  if (v86 && (!inward || code.dpl !== 0)) throw new CpuException(EXC_GP, (sel & 0xfffc) | ext);
  const newCpl = inward ? code.dpl : cpu.cpl;
  const hasError = errorCode >= 0;
  if (inward) {
    const { ss: newSs, esp: newEsp } = tssStackFor(cpu, newCpl, ext);
    if ((newSs & 0xfffc) === 0) throw new CpuException(EXC_TS, ext);
    const ssDesc = checkStackSegment(cpu, newSs, EXC_TS, newCpl, ext);
    const st = new StackAccess(cpu, ssDesc.base, ssDesc.limit, ssDesc.attr, newEsp, newCpl === 3, (newSs & 0xfffc) | ext);
    st.reserve(((v86 ? 9 : 5) + (hasError ? 1 : 0)) * size);
    if (v86) {
      st.push(cpu.segSel[GS], size);
      st.push(cpu.segSel[FS], size);
      st.push(cpu.segSel[DS], size);
      st.push(cpu.segSel[ES], size);
    }
    st.push(cpu.segSel[SS], size);
    st.push(cpu.regs[ESP], size);
    st.push(pushedFlags, size);
    st.push(cpu.segSel[CS], size);
    st.push(cpu.eip, size);
    if (hasError) st.push(errorCode, size);
    markAccessed(cpu, ssDesc);
    markAccessed(cpu, code);
    cpu.cpl = newCpl;
    loadCache(cpu, SS, newSs, ssDesc);
    loadCache(cpu, CS, (sel & 0xfffc) | newCpl, code);
    cpu.regs[ESP] = st.espFor(newEsp);
    if (v86) for (const seg of [ES, DS, FS, GS]) loadNull(cpu, seg, 0);
  } else {
    const st = StackAccess.current(cpu, ext);
    st.reserve((3 + (hasError ? 1 : 0)) * size);
    st.push(pushedFlags, size);
    st.push(cpu.segSel[CS], size);
    st.push(cpu.eip, size);
    if (hasError) st.push(errorCode, size);
    markAccessed(cpu, code);
    loadCache(cpu, CS, (sel & 0xfffc) | newCpl, code);
    cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
  }
  let flags = readEflags(cpu) & ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM);
  if (!trap) flags &= ~FLAG_IF;
  writeEflags(cpu, flags);
  cpu.modeChanged();
  cpu.eip = offset;
}

/** Real mode: push FLAGS, CS, IP; clear IF TF AC; CS:IP from the IVT (SDM §20.1.4). */
function deliverReal(cpu: CpuState, vector: number): void {
  if (vector * 4 + 3 > cpu.idtLimit) throw new CpuException(EXC_GP, 0);
  const ip = cpu.mmu.read16((cpu.idtBase + vector * 4) | 0);
  const cs = cpu.mmu.read16((cpu.idtBase + vector * 4 + 2) | 0);
  const st = StackAccess.current(cpu);
  st.reserve(6);
  st.push(readEflags(cpu), 2);
  st.push(cpu.segSel[CS], 2);
  st.push(cpu.eip, 2);
  cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
  writeEflags(cpu, readEflags(cpu) & ~(FLAG_IF | FLAG_TF | FLAG_AC));
  loadRealMode(cpu, CS, cs, false);
  cpu.modeChanged();
  cpu.eip = ip;
}

/** Exception classes for SDM Table 6-5. */
function isContributory(vector: number): boolean {
  return vector === 0 || (vector >= 10 && vector <= 13);
}

/**
 * An exception escaped an instruction: deliver it, escalating to #DF and then a
 * triple fault per SDM Table 6-5. On a triple fault sets cpu.pendingExit to a
 * `triple-fault` exit and returns.
 */
export function raiseException(cpu: CpuState, exc: CpuException): void {
  let vector = exc.vector;
  let code = exc.errorCode;
  const chain: string[] = [];
  // Delivery can only raise contributory faults or #PF, so the chain ends within a
  // few steps; the cap is a guard against a delivery bug looping forever.
  for (let step = 0; step < 8; step++) {
    chain.push(code >= 0 ? `#${vector}(0x${code.toString(16)})` : `#${vector}`);
    cpu.deliveringVector = vector;
    try {
      deliverEvent(cpu, vector, EVENT_EXCEPTION, code);
      cpu.deliveringVector = -1;
      return;
    } catch (e) {
      if (!(e instanceof CpuException)) {
        cpu.deliveringVector = -1;
        throw e;
      }
      const second = e.vector;
      const secondSerious = isContributory(second) || second === EXC_PF;
      if (vector === EXC_DF && secondSerious) {
        chain.push(e.errorCode >= 0 ? `#${second}(0x${e.errorCode.toString(16)})` : `#${second}`);
        cpu.deliveringVector = -1;
        cpu.pendingExit = {
          kind: 'triple-fault',
          detail: `${chain.join(' -> ')} while delivering #DF at eip 0x${(cpu.eip >>> 0).toString(16)}`,
        };
        return;
      }
      const toDouble = (isContributory(vector) && isContributory(second)) || (vector === EXC_PF && secondSerious);
      if (toDouble) {
        vector = EXC_DF;
        code = 0;
      } else {
        vector = second;
        code = e.errorCode;
      }
    }
  }
  cpu.deliveringVector = -1;
  cpu.pendingExit = { kind: 'triple-fault', detail: `exception chain did not settle: ${chain.join(' -> ')}` };
}

/** IRET / IRETD. */
export function iret(cpu: CpuState, operand32: boolean): void {
  const size = operand32 ? 4 : 2;
  if ((cpu.cr0 & 1) === 0) {
    iretReal(cpu, operand32);
    return;
  }
  if ((cpu.flags & FLAG_VM) !== 0) {
    // V86 without VME: IRET is IOPL-sensitive (SDM §20.2.7).
    if ((cpu.flags & FLAG_IOPL) !== FLAG_IOPL) throw new CpuException(EXC_GP, 0);
    const st = StackAccess.current(cpu);
    const eip = st.pop(size);
    const cs = st.pop(size) & 0xffff;
    const fl = st.pop(size);
    const keep = FLAG_VM | FLAG_IOPL | FLAG_VIP | FLAG_VIF;
    const old = readEflags(cpu);
    const merged = operand32 ? (fl & ~keep) | (old & keep) : (old & ~0xffff) | (fl & 0xffff & ~FLAG_IOPL) | (old & FLAG_IOPL);
    loadRealMode(cpu, CS, cs, true);
    cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
    writeEflags(cpu, merged | FLAG_VM);
    cpu.eip = operand32 ? eip : eip & 0xffff;
    return;
  }
  if ((cpu.flags & FLAG_NT) !== 0) {
    iretTask(cpu);
    return;
  }
  const st = StackAccess.current(cpu);
  let eip = st.pop(size);
  const sel = st.pop(size) & 0xffff;
  const fl = st.pop(size);
  if (!operand32) eip &= 0xffff;

  if (operand32 && (fl & FLAG_VM) !== 0 && cpu.cpl === 0) {
    iretToV86(cpu, st, eip, sel, fl);
    return;
  }
  const code = checkReturnCode(cpu, sel);
  if (eip >>> 0 > code.limit) throw new CpuException(EXC_GP, 0);
  const rpl = sel & 3;
  const oldCpl = cpu.cpl;
  const newFlags = iretFlags(cpu, fl, operand32, oldCpl);
  if (rpl === oldCpl) {
    markAccessed(cpu, code);
    loadCache(cpu, CS, sel, code);
    cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
    writeEflags(cpu, newFlags);
    cpu.modeChanged();
    cpu.eip = eip;
    return;
  }
  returnToOuterLevel(cpu, st, size, sel, code, 0);
  writeEflags(cpu, newFlags);
  cpu.modeChanged();
  nullInaccessibleSegments(cpu);
  cpu.eip = eip;
}

/**
 * EFLAGS after a protected-mode IRET (SDM vol. 2 IRET): IOPL only at CPL 0, IF
 * only when CPL <= IOPL, VIF/VIP only at CPL 0; never VM here.
 */
function iretFlags(cpu: CpuState, popped: number, operand32: boolean, cpl: number): number {
  const old = readEflags(cpu);
  let changeable = operand32 ? 0x00257fd5 & ~FLAG_VM & ~FLAG_VIF & ~FLAG_VIP : 0x7fd5;
  const iopl = (old & FLAG_IOPL) >>> 12;
  if (cpl !== 0) changeable &= ~FLAG_IOPL;
  else if (operand32) changeable |= FLAG_VIF | FLAG_VIP;
  if (cpl > iopl) changeable &= ~FLAG_IF;
  changeable |= FLAG_ID | FLAG_AC | FLAG_RF;
  if (!operand32) changeable &= 0xffff;
  return ((old & ~changeable) | (popped & changeable)) & ~FLAG_VM;
}

function iretReal(cpu: CpuState, operand32: boolean): void {
  const size = operand32 ? 4 : 2;
  const st = StackAccess.current(cpu);
  const eip = st.pop(size);
  const cs = st.pop(size) & 0xffff;
  const fl = st.pop(size);
  const old = readEflags(cpu);
  // Real mode: VM, VIF, VIP are kept (SDM IRET pseudo-code, "REAL-ADDRESS-MODE").
  const merged = operand32 ? (fl & 0x257fd5) | (old & 0x1a0000) : (old & ~0xffff) | (fl & 0xffff);
  if (operand32 && eip >>> 0 > 0xffff && cpu.segLimit[CS] <= 0xffff) throw new CpuException(EXC_GP, 0);
  loadRealMode(cpu, CS, cs, false);
  cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
  writeEflags(cpu, merged);
  cpu.modeChanged();
  cpu.eip = operand32 ? eip : eip & 0xffff;
}

/** IRETD at CPL 0 with VM=1 in the popped EFLAGS: return to virtual-8086 mode (SDM IRET "RETURN-TO-VIRTUAL-8086-MODE"). */
function iretToV86(cpu: CpuState, st: StackAccess, eip: number, cs: number, fl: number): void {
  const esp = st.pop(4);
  const ss = st.pop(4) & 0xffff;
  const es = st.pop(4) & 0xffff;
  const ds = st.pop(4) & 0xffff;
  const fs = st.pop(4) & 0xffff;
  const gs = st.pop(4) & 0xffff;
  writeEflags(cpu, fl | FLAG_VM);
  cpu.cpl = 3;
  loadRealMode(cpu, CS, cs, true);
  loadRealMode(cpu, SS, ss, true);
  loadRealMode(cpu, ES, es, true);
  loadRealMode(cpu, DS, ds, true);
  loadRealMode(cpu, FS, fs, true);
  loadRealMode(cpu, GS, gs, true);
  cpu.regs[ESP] = esp;
  cpu.modeChanged();
  cpu.eip = eip & 0xffff;
}

/** IRET with NT=1: return to the task named by the current TSS's back link (SDM §7.4). */
function iretTask(cpu: CpuState): void {
  if ((cpu.segAttr[TR] & ATTR_UNUSABLE) !== 0) throw new CpuException(EXC_TS, 0);
  const link = cpu.mmu.readSys16(cpu.segBase[TR]);
  if ((link & 4) !== 0 || (link & 0xfffc) === 0) throw new CpuException(EXC_TS, link & 0xfffc);
  const tss = fetchDescriptor(cpu, link, EXC_TS);
  if (tss.isSegment || (tss.type !== SYS_TSS16_BUSY && tss.type !== SYS_TSS32_BUSY)) throw new CpuException(EXC_TS, link & 0xfffc);
  if (!tss.present) throw new CpuException(EXC_NP, link & 0xfffc);
  taskSwitch(cpu, link, tss, TASK_IRET, -1);
}
