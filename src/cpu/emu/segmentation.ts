// Segment register loads, far control transfers and descriptor instructions
// (SDM vol. 3A ch. 3 "Protected-Mode Memory Management", ch. 5 "Protection";
// vol. 2 MOV/POP/JMP/CALL/RET/LAR/LSL/VERR/VERW/LLDT/LTR).
//
// CONTRACT (called by the core's instruction handlers). All functions leave
// cpu registers unchanged when they throw a CpuException. cpu.eip on entry is
// the address of the NEXT instruction (what a CALL pushes).

import {
  ATTR_UNUSABLE,
  CpuException,
  CS,
  DS,
  ES,
  ESP,
  EXC_GP,
  EXC_NP,
  EXC_SS,
  EXC_TS,
  EXC_UD,
  FLAG_VM,
  FS,
  GS,
  LDTR,
  SS,
  TR,
  type CpuState,
} from './state.js';
import {
  Descriptor,
  fetchDescriptor,
  loadCache,
  loadNull,
  loadRealMode,
  markAccessed,
  setTssBusy,
  SYS_CALL_GATE16,
  SYS_CALL_GATE32,
  SYS_LDT,
  SYS_TASK_GATE,
  SYS_TSS16_AVAIL,
  SYS_TSS16_BUSY,
  SYS_TSS32_AVAIL,
  SYS_TSS32_BUSY,
} from './descriptors.js';
import { StackAccess } from './stack.js';
import { TASK_CALL, TASK_JMP, taskSwitch, tssStackFor } from './tss.js';

function isProtected(cpu: CpuState): boolean {
  return (cpu.cr0 & 1) !== 0;
}
function isV86(cpu: CpuState): boolean {
  return (cpu.flags & FLAG_VM) !== 0;
}
function gp(sel: number): never {
  throw new CpuException(EXC_GP, sel & 0xfffc);
}

/** MOV Sreg / POP Sreg / LDS... / segment part of far transfers: load `seg` (ES..GS) with `selector`. */
export function loadSegment(cpu: CpuState, seg: number, selector: number): void {
  if (seg < ES || seg > GS) throw new RangeError(`bad segment index ${seg}`);
  selector &= 0xffff;
  if (!isProtected(cpu) || isV86(cpu)) {
    loadRealMode(cpu, seg, selector, isV86(cpu));
    if (seg === CS || seg === SS) cpu.modeChanged();
    return;
  }
  if (seg === CS) {
    // Protected-mode CS is only loaded by far transfers; treat as a far jump's code-segment checks.
    const d = checkedCodeSegment(cpu, selector);
    commitCode(cpu, selector, d);
    return;
  }
  if (seg === SS) {
    loadStackSegment(cpu, selector, EXC_GP, cpu.cpl);
    return;
  }
  loadDataSegment(cpu, seg, selector, EXC_GP);
}

/**
 * SS load checks (SDM vol. 2 MOV: null => #GP(0); RPL/DPL != cpl or not writable
 * data => vector(sel); not present => #SS(sel)). Used with #TS for task switches and
 * TSS stacks.
 */
export function checkStackSegment(cpu: CpuState, selector: number, vector: number, cpl: number, ext = 0): Descriptor {
  if ((selector & 0xfffc) === 0) throw new CpuException(vector, ext);
  const d = fetchDescriptor(cpu, selector, vector, ext);
  if ((selector & 3) !== cpl || d.dpl !== cpl || !d.isWritableData) throw new CpuException(vector, (selector & 0xfffc) | ext);
  if (!d.present) throw new CpuException(EXC_SS, (selector & 0xfffc) | ext);
  return d;
}

function loadStackSegment(cpu: CpuState, selector: number, vector: number, cpl: number): void {
  const d = checkStackSegment(cpu, selector, vector, cpl);
  markAccessed(cpu, d);
  loadCache(cpu, SS, selector, d);
  cpu.modeChanged();
}

/** DS/ES/FS/GS load in protected mode (`vector` is #GP, or #TS inside a task switch). */
export function loadDataSegment(cpu: CpuState, seg: number, selector: number, vector: number): void {
  if ((selector & 0xfffc) === 0) {
    loadNull(cpu, seg, selector);
    return;
  }
  const d = fetchDescriptor(cpu, selector, vector);
  if (!d.isReadable) throw new CpuException(vector, selector & 0xfffc);
  if (!d.isConformingCode && d.dpl < Math.max(cpu.cpl, selector & 3)) throw new CpuException(vector, selector & 0xfffc);
  if (!d.present) throw new CpuException(EXC_NP, selector & 0xfffc);
  markAccessed(cpu, d);
  loadCache(cpu, seg, selector, d);
}

/** Code-segment checks of a direct far JMP/CALL (SDM vol. 2 JMP: conforming DPL <= CPL; else RPL <= CPL, DPL = CPL). */
function checkedCodeSegment(cpu: CpuState, selector: number): Descriptor {
  if ((selector & 0xfffc) === 0) gp(0);
  const d = fetchDescriptor(cpu, selector, EXC_GP);
  if (!d.isCode) gp(selector);
  if (d.isConformingCode) {
    if (d.dpl > cpu.cpl) gp(selector);
  } else if ((selector & 3) > cpu.cpl || d.dpl !== cpu.cpl) {
    gp(selector);
  }
  if (!d.present) throw new CpuException(EXC_NP, selector & 0xfffc);
  return d;
}

/** Load CS at the current CPL (RPL := CPL). */
function commitCode(cpu: CpuState, selector: number, d: Descriptor): void {
  markAccessed(cpu, d);
  loadCache(cpu, CS, (selector & 0xfffc) | cpu.cpl, d);
  cpu.modeChanged();
}

function checkOffset(d: Descriptor, offset: number): void {
  if (offset >>> 0 > d.limit) gp(0);
}

/** The code segment a call gate names, checked for JMP (`call` false) or CALL. */
function gateTarget(cpu: CpuState, gate: Descriptor, gateSel: number): Descriptor {
  if (gate.dpl < cpu.cpl || gate.dpl < (gateSel & 3)) gp(gateSel);
  if (!gate.present) throw new CpuException(EXC_NP, gateSel & 0xfffc);
  const target = gate.gateSelector;
  if ((target & 0xfffc) === 0) gp(0);
  const d = fetchDescriptor(cpu, target, EXC_GP);
  if (!d.isCode || d.dpl > cpu.cpl) gp(target);
  if (!d.present) throw new CpuException(EXC_NP, target & 0xfffc);
  return d;
}

/** JMP/CALL to a task gate or TSS descriptor (SDM §7.3). */
function farTask(cpu: CpuState, selector: number, d: Descriptor, reason: number): void {
  if (d.dpl < cpu.cpl || d.dpl < (selector & 3)) gp(selector);
  if (!d.present) throw new CpuException(EXC_NP, selector & 0xfffc);
  let tssSel = selector;
  let tss = d;
  if (d.type === SYS_TASK_GATE) {
    tssSel = d.gateSelector;
    if ((tssSel & 4) !== 0) gp(tssSel);
    tss = fetchDescriptor(cpu, tssSel, EXC_GP);
    if (tss.isSegment || (tss.type !== SYS_TSS32_AVAIL && tss.type !== SYS_TSS16_AVAIL)) gp(tssSel);
    if (!tss.present) throw new CpuException(EXC_NP, tssSel & 0xfffc);
  } else if ((selector & 4) !== 0) {
    gp(selector);
  }
  taskSwitch(cpu, tssSel, tss, reason, -1);
}

function isTaskTarget(d: Descriptor): boolean {
  return !d.isSegment && (d.type === SYS_TASK_GATE || d.type === SYS_TSS16_AVAIL || d.type === SYS_TSS32_AVAIL || d.type === SYS_TSS16_BUSY || d.type === SYS_TSS32_BUSY);
}

/** JMP ptr16:16/32, JMP m16:16/32 (offset already truncated to the operand size). */
export function farJump(cpu: CpuState, selector: number, offset: number, operand32: boolean): void {
  selector &= 0xffff;
  if (!isProtected(cpu) || isV86(cpu)) {
    loadRealMode(cpu, CS, selector, isV86(cpu));
    cpu.modeChanged();
    cpu.eip = operand32 ? offset | 0 : offset & 0xffff;
    return;
  }
  if ((selector & 0xfffc) === 0) gp(0);
  const d = fetchDescriptor(cpu, selector, EXC_GP);
  if (d.isSegment) {
    const code = checkedCodeSegment(cpu, selector);
    checkOffset(code, offset);
    commitCode(cpu, selector, code);
    cpu.eip = offset | 0;
    return;
  }
  if (d.type === SYS_CALL_GATE16 || d.type === SYS_CALL_GATE32) {
    const target = gateTarget(cpu, d, selector);
    // JMP through a call gate never changes CPL: non-conforming targets need DPL = CPL.
    if (!target.isConformingCode && target.dpl !== cpu.cpl) gp(d.gateSelector);
    const eip = d.type === SYS_CALL_GATE16 ? d.gateOffset & 0xffff : d.gateOffset;
    checkOffset(target, eip);
    commitCode(cpu, d.gateSelector, target);
    cpu.eip = eip;
    return;
  }
  if (isTaskTarget(d)) {
    if (d.type === SYS_TSS16_BUSY || d.type === SYS_TSS32_BUSY) gp(selector);
    farTask(cpu, selector, d, TASK_JMP);
    return;
  }
  gp(selector);
}

/** CALL ptr/m16:16/32: pushes CS:EIP (operand-size wide) and transfers. */
export function farCall(cpu: CpuState, selector: number, offset: number, operand32: boolean): void {
  selector &= 0xffff;
  const size = operand32 ? 4 : 2;
  if (!isProtected(cpu) || isV86(cpu)) {
    const st = StackAccess.current(cpu);
    st.reserve(2 * size);
    st.push(cpu.segSel[CS], size);
    st.push(cpu.eip, size);
    loadRealMode(cpu, CS, selector, isV86(cpu));
    cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
    cpu.modeChanged();
    cpu.eip = operand32 ? offset | 0 : offset & 0xffff;
    return;
  }
  if ((selector & 0xfffc) === 0) gp(0);
  const d = fetchDescriptor(cpu, selector, EXC_GP);
  if (d.isSegment) {
    const code = checkedCodeSegment(cpu, selector);
    checkOffset(code, offset);
    const st = StackAccess.current(cpu);
    st.reserve(2 * size);
    st.push(cpu.segSel[CS], size);
    st.push(cpu.eip, size);
    commitCode(cpu, selector, code);
    cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
    cpu.eip = offset | 0;
    return;
  }
  if (d.type === SYS_CALL_GATE16 || d.type === SYS_CALL_GATE32) {
    callGate(cpu, selector, d);
    return;
  }
  if (isTaskTarget(d)) {
    if (d.type === SYS_TSS16_BUSY || d.type === SYS_TSS32_BUSY) gp(selector);
    farTask(cpu, selector, d, TASK_CALL);
    return;
  }
  gp(selector);
}

/** CALL through a call gate, inward with a TSS stack switch and parameter copy (SDM §5.8.5). */
function callGate(cpu: CpuState, gateSel: number, gate: Descriptor): void {
  const target = gateTarget(cpu, gate, gateSel);
  const targetSel = gate.gateSelector;
  const gate32 = gate.type === SYS_CALL_GATE32;
  const size = gate32 ? 4 : 2;
  const eip = gate32 ? gate.gateOffset : gate.gateOffset & 0xffff;
  checkOffset(target, eip);
  const oldCpl = cpu.cpl;
  if (!target.isConformingCode && target.dpl < oldCpl) {
    const newCpl = target.dpl;
    const { ss: newSs, esp: newEsp } = tssStackFor(cpu, newCpl, 0);
    const ssDesc = checkStackSegment(cpu, newSs, EXC_TS, newCpl);
    const count = gate.gateParamCount;
    const inner = new StackAccess(cpu, ssDesc.base, ssDesc.limit, ssDesc.attr, newEsp, newCpl === 3, newSs & 0xfffc);
    inner.reserve((4 + count) * size);
    const outer = StackAccess.current(cpu);
    const params: number[] = [];
    for (let i = 0; i < count; i++) params.push(outer.peek(i * size, size));
    inner.push(cpu.segSel[SS], size);
    inner.push(cpu.regs[ESP], size);
    for (let i = count - 1; i >= 0; i--) inner.push(params[i], size);
    inner.push(cpu.segSel[CS], size);
    inner.push(cpu.eip, size);
    markAccessed(cpu, ssDesc);
    markAccessed(cpu, target);
    cpu.cpl = newCpl;
    loadCache(cpu, SS, newSs, ssDesc);
    loadCache(cpu, CS, (targetSel & 0xfffc) | newCpl, target);
    cpu.regs[ESP] = inner.espFor(newEsp);
    cpu.modeChanged();
    cpu.eip = eip;
    return;
  }
  const st = StackAccess.current(cpu);
  st.reserve(2 * size);
  st.push(cpu.segSel[CS], size);
  st.push(cpu.eip, size);
  commitCode(cpu, targetSel, target);
  cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
  cpu.eip = eip;
}

/**
 * Null DS/ES/FS/GS that the new (outer) CPL may not use: data or non-conforming
 * code with DPL < CPL (SDM vol. 2 RET/IRET "outer privilege level").
 */
export function nullInaccessibleSegments(cpu: CpuState): void {
  for (const seg of [ES, DS, FS, GS]) {
    const attr = cpu.segAttr[seg];
    if ((attr & ATTR_UNUSABLE) !== 0) continue;
    const conforming = (attr & 0x1c) === 0x1c;
    const dpl = (attr >>> 5) & 3;
    if (!conforming && dpl < cpu.cpl) loadNull(cpu, seg, 0);
  }
}

/**
 * The checks on a CS popped by RET far/IRET (SDM vol. 2 RET): null => #GP(0);
 * RPL < CPL, not code, conforming with DPL > RPL, non-conforming with DPL != RPL
 * => #GP(sel); not present => #NP(sel).
 */
export function checkReturnCode(cpu: CpuState, selector: number): Descriptor {
  if ((selector & 0xfffc) === 0) gp(0);
  const d = fetchDescriptor(cpu, selector, EXC_GP);
  const rpl = selector & 3;
  if (rpl < cpu.cpl || !d.isCode) gp(selector);
  if (d.isConformingCode ? d.dpl > rpl : d.dpl !== rpl) gp(selector);
  if (!d.present) throw new CpuException(EXC_NP, selector & 0xfffc);
  return d;
}

/** RET far [imm16]: pops EIP, CS (and ESP, SS on an outward return), then releases `popBytes`. */
export function farReturn(cpu: CpuState, operand32: boolean, popBytes: number): void {
  const size = operand32 ? 4 : 2;
  const st = StackAccess.current(cpu);
  let eip = st.pop(size);
  const sel = st.pop(size) & 0xffff;
  if (!operand32) eip &= 0xffff;
  if (!isProtected(cpu) || isV86(cpu)) {
    st.release(popBytes);
    loadRealMode(cpu, CS, sel, isV86(cpu));
    cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
    cpu.modeChanged();
    cpu.eip = eip;
    return;
  }
  const code = checkReturnCode(cpu, sel);
  checkOffset(code, eip);
  const rpl = sel & 3;
  st.release(popBytes);
  if (rpl === cpu.cpl) {
    commitCode(cpu, sel, code);
    cpu.regs[ESP] = st.espFor(cpu.regs[ESP]);
    cpu.eip = eip;
    return;
  }
  // RET imm16 also releases bytes on the outer stack.
  returnToOuterLevel(cpu, st, size, sel, code, popBytes);
  cpu.modeChanged();
  nullInaccessibleSegments(cpu);
  cpu.eip = eip;
}

/**
 * The outward part of far RET and IRET (SDM vol. 2 RET and IRET, "return to outer
 * privilege level"): pop ESP and SS from the inner stack, check SS against the new
 * CPL (the RPL of `sel`), load CS and SS, and switch to the outer stack, releasing
 * `outerRelease` bytes there (RET imm16). The caller then sets EFLAGS (IRET), calls
 * cpu.modeChanged(), nulls the data segments the new CPL may not use, and sets EIP.
 */
export function returnToOuterLevel(cpu: CpuState, st: StackAccess, size: number, sel: number, code: Descriptor, outerRelease: number): void {
  const rpl = sel & 3;
  const newEsp = st.pop(size);
  const newSs = st.pop(size) & 0xffff;
  const ssDesc = checkStackSegment(cpu, newSs, EXC_GP, rpl);
  markAccessed(cpu, code);
  markAccessed(cpu, ssDesc);
  cpu.cpl = rpl;
  loadCache(cpu, CS, sel, code);
  loadCache(cpu, SS, newSs, ssDesc);
  const outer = StackAccess.current(cpu);
  outer.sp = size === 4 ? newEsp >>> 0 : newEsp & 0xffff;
  outer.release(outerRelease);
  cpu.regs[ESP] = outer.espFor(newEsp);
}

function requireSystemInstruction(cpu: CpuState): void {
  if (!isProtected(cpu) || isV86(cpu)) throw new CpuException(EXC_UD);
  if (cpu.cpl !== 0) throw new CpuException(EXC_GP, 0);
}

/** LLDT r/m16. */
export function lldt(cpu: CpuState, selector: number): void {
  requireSystemInstruction(cpu);
  selector &= 0xffff;
  if ((selector & 0xfffc) === 0) {
    loadNull(cpu, LDTR, selector);
    return;
  }
  if ((selector & 4) !== 0) gp(selector);
  const d = fetchDescriptor(cpu, selector, EXC_GP);
  if (d.isSegment || d.type !== SYS_LDT) gp(selector);
  if (!d.present) throw new CpuException(EXC_NP, selector & 0xfffc);
  loadCache(cpu, LDTR, selector, d);
}

/** LTR r/m16 (marks the TSS busy). */
export function ltr(cpu: CpuState, selector: number): void {
  requireSystemInstruction(cpu);
  selector &= 0xffff;
  if ((selector & 0xfffc) === 0) gp(0);
  if ((selector & 4) !== 0) gp(selector);
  const d = fetchDescriptor(cpu, selector, EXC_GP);
  if (d.isSegment || (d.type !== SYS_TSS16_AVAIL && d.type !== SYS_TSS32_AVAIL)) gp(selector);
  if (!d.present) throw new CpuException(EXC_NP, selector & 0xfffc);
  setTssBusy(cpu, d.address, true);
  loadCache(cpu, TR, selector, d);
  cpu.segAttr[TR] |= 2;
}

/** Descriptor for LAR/LSL/VERR/VERW, or null when the selector is null or beyond the table limit. */
function probeDescriptor(cpu: CpuState, selector: number): Descriptor | null {
  if (!isProtected(cpu) || isV86(cpu) || (selector & 0xfffc) === 0) return null;
  try {
    return fetchDescriptor(cpu, selector, EXC_GP);
  } catch (e) {
    // Only the limit check is swallowed; a #PF reading the table is a real fault.
    if (e instanceof CpuException && e.vector === EXC_GP) return null;
    throw e;
  }
}

/** DPL check shared by LAR/LSL/VERR/VERW: conforming code is exempt. */
function visible(cpu: CpuState, selector: number, d: Descriptor): boolean {
  if (d.isConformingCode) return true;
  return d.dpl >= cpu.cpl && d.dpl >= (selector & 3);
}

/** LAR: access-rights value (descriptor dword 1 & 0x00F0FF00), or -1 when not accessible (ZF=0). */
export function lar(cpu: CpuState, selector: number): number {
  const d = probeDescriptor(cpu, selector);
  if (!d) return -1;
  if (!d.isSegment && ![1, 2, 3, 4, 5, 9, 0xb, 0xc].includes(d.type)) return -1;
  if (!visible(cpu, selector, d)) return -1;
  return d.hi & 0x00f0ff00;
}

/** LSL: the byte-granular limit, or -1 when not accessible (ZF=0). Returned as uint32 in a number. */
export function lsl(cpu: CpuState, selector: number): number {
  const d = probeDescriptor(cpu, selector);
  if (!d) return -1;
  if (!d.isSegment && ![1, 2, 3, 9, 0xb].includes(d.type)) return -1;
  if (!visible(cpu, selector, d)) return -1;
  return d.limit;
}

/** VERR / VERW: whether the segment is readable / writable at the current CPL and the selector's RPL. */
export function verifySegment(cpu: CpuState, selector: number, write: boolean): boolean {
  const d = probeDescriptor(cpu, selector);
  if (!d || !d.isSegment) return false;
  if (!visible(cpu, selector, d)) return false;
  return write ? d.isWritableData : d.isReadable;
}
