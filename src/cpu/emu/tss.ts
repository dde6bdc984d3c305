// Task-state segments: the inner-privilege stacks (SS0:ESP0...) and the hardware
// task switch used by JMP/CALL to a TSS or task gate, interrupts through a task
// gate (Linux's #DF handler) and IRET with NT=1 (SDM vol. 3A ch. 7 "Task
// Management": §7.2.1 TSS layout, §7.3 task switching, §7.4 task linking).

import { readEflags, writeEflags } from './flags.js';
import {
  ATTR_UNUSABLE,
  CpuException,
  CR0_PG,
  CR0_TS,
  CR4_PAE,
  CS,
  DS,
  ES,
  EXC_GP,
  EXC_NP,
  EXC_TS,
  FLAG_NT,
  FLAG_VM,
  FS,
  GS,
  LDTR,
  SS,
  TR,
  type CpuState,
} from './state.js';
import { Descriptor, fetchDescriptor, loadCache, loadNull, loadRealMode, markAccessed, setTssBusy, SYS_LDT } from './descriptors.js';
import { loadPdptes } from './page-walk.js';
import { StackAccess } from './stack.js';
import { checkStackSegment, loadDataSegment } from './segmentation.js';

/** What started a task switch (decides busy bits, NT and the back link, SDM Table 7-2). */
export const TASK_JMP = 0;
export const TASK_CALL = 1;
export const TASK_IRET = 2;
export const TASK_INT = 3;

/** Segment order in the TSS: ES CS SS DS FS GS, matching the sreg numbering. */
const TSS32_SEGS = 0x48;
const TSS16_SEGS = 0x22;

function isTss32(attr: number): boolean {
  return (attr & 8) !== 0;
}

/**
 * SS:ESP for privilege `dpl` from the current TSS (SDM §6.12.1). Outside the TSS
 * limit => #TS(TR selector + ext).
 */
export function tssStackFor(cpu: CpuState, dpl: number, ext: number): { ss: number; esp: number } {
  const base = cpu.segBase[TR];
  const limit = cpu.segLimit[TR];
  const fail = () => new CpuException(EXC_TS, (cpu.segSel[TR] & 0xfffc) | ext);
  if ((cpu.segAttr[TR] & ATTR_UNUSABLE) !== 0) throw fail();
  if (isTss32(cpu.segAttr[TR])) {
    const off = 4 + dpl * 8;
    if (off + 5 > limit) throw fail();
    return { esp: cpu.mmu.readSys32((base + off) | 0), ss: cpu.mmu.readSys16((base + off + 4) | 0) };
  }
  const off = 2 + dpl * 4;
  if (off + 3 > limit) throw fail();
  return { esp: cpu.mmu.readSys16((base + off) | 0), ss: cpu.mmu.readSys16((base + off + 2) | 0) };
}

/** Registers read from an incoming TSS before anything is changed. */
interface TaskImage {
  eip: number;
  eflags: number;
  regs: number[];
  segs: number[];
  ldt: number;
  cr3: number;
}

function readImage(cpu: CpuState, base: number, is32: boolean): TaskImage {
  const m = cpu.mmu;
  const at = (off: number) => (base + off) | 0;
  if (is32) {
    const regs: number[] = [];
    for (let i = 0; i < 8; i++) regs.push(m.readSys32(at(0x28 + 4 * i)));
    const segs: number[] = [];
    for (let i = 0; i < 6; i++) segs.push(m.readSys16(at(TSS32_SEGS + 4 * i)));
    return { eip: m.readSys32(at(0x20)), eflags: m.readSys32(at(0x24)), regs, segs, ldt: m.readSys16(at(0x60)), cr3: m.readSys32(at(0x1c)) };
  }
  const regs: number[] = [];
  for (let i = 0; i < 8; i++) regs.push((cpu.regs[i] & ~0xffff) | m.readSys16(at(0x12 + 2 * i)));
  const segs: number[] = [];
  for (let i = 0; i < 4; i++) segs.push(m.readSys16(at(TSS16_SEGS + 2 * i)));
  segs.push(0, 0);
  return { eip: m.readSys16(at(0x0e)), eflags: (readEflags(cpu) & ~0xffff) | m.readSys16(at(0x10)), regs, segs, ldt: m.readSys16(at(0x2a)), cr3: cpu.cr3 };
}

function saveImage(cpu: CpuState, base: number, is32: boolean, eflags: number): void {
  const m = cpu.mmu;
  const at = (off: number) => (base + off) | 0;
  if (is32) {
    m.writeSys32(at(0x20), cpu.eip);
    m.writeSys32(at(0x24), eflags);
    for (let i = 0; i < 8; i++) m.writeSys32(at(0x28 + 4 * i), cpu.regs[i]);
    for (let i = 0; i < 6; i++) m.writeSys16(at(TSS32_SEGS + 4 * i), cpu.segSel[i]);
    return;
  }
  m.writeSys16(at(0x0e), cpu.eip);
  m.writeSys16(at(0x10), eflags);
  for (let i = 0; i < 8; i++) m.writeSys16(at(0x12 + 2 * i), cpu.regs[i]);
  for (let i = 0; i < 4; i++) m.writeSys16(at(TSS16_SEGS + 2 * i), cpu.segSel[i]);
}

/**
 * Switch to the task whose TSS descriptor is `tss` (selector `sel`), already
 * checked by the caller for type (available, or busy for IRET) and presence.
 * `errorCode` >= 0 is pushed on the new task's stack (exception via a task gate).
 * cpu.eip must be the EIP to save in the outgoing task.
 */
export function taskSwitch(cpu: CpuState, sel: number, tss: Descriptor, reason: number, errorCode: number): void {
  const new32 = (tss.type & 8) !== 0;
  if (tss.limit < (new32 ? 0x67 : 0x2b)) throw new CpuException(EXC_TS, sel & 0xfffc);
  const image = readImage(cpu, tss.base, new32);

  // Save the outgoing task (SDM §7.3 step 9); IRET saves NT cleared.
  const oldSel = cpu.segSel[TR];
  const oldUsable = (cpu.segAttr[TR] & ATTR_UNUSABLE) === 0 && (oldSel & 0xfffc) !== 0;
  let oldFlags = readEflags(cpu);
  if (reason === TASK_IRET) oldFlags &= ~FLAG_NT;
  if (oldUsable) {
    saveImage(cpu, cpu.segBase[TR], isTss32(cpu.segAttr[TR]), oldFlags);
    if (reason === TASK_JMP || reason === TASK_IRET) setTssBusy(cpu, (cpu.gdtBase + (oldSel & 0xfff8)) | 0, false);
  }
  let newFlags = image.eflags;
  if (reason === TASK_CALL || reason === TASK_INT) {
    cpu.mmu.writeSys16(tss.base, oldSel);
    newFlags |= FLAG_NT;
  }
  if (reason !== TASK_IRET) setTssBusy(cpu, tss.address, true);

  // Load the incoming task: TR, CR3, registers, then selectors and descriptors.
  loadCache(cpu, TR, sel, tss);
  cpu.segAttr[TR] |= 2;
  cpu.cr0 |= CR0_TS;
  if (new32 && (cpu.cr0 & CR0_PG) !== 0) {
    if ((cpu.cr4 & CR4_PAE) !== 0) loadPdptes(cpu, image.cr3);
    cpu.cr3 = image.cr3;
    cpu.mmu.flush(false);
  }
  for (let i = 0; i < 8; i++) cpu.regs[i] = image.regs[i];
  cpu.eip = image.eip;
  writeEflags(cpu, newFlags | 2);
  for (let i = 0; i < 6; i++) cpu.segSel[i] = image.segs[i];
  cpu.segSel[LDTR] = image.ldt;

  // Descriptor loads happen in the new task's context: their faults are #TS (SDM §7.3 step 12).
  if ((image.ldt & 0xfffc) === 0) loadNull(cpu, LDTR, image.ldt);
  else {
    if ((image.ldt & 4) !== 0) throw new CpuException(EXC_TS, image.ldt & 0xfffc);
    const d = fetchDescriptor(cpu, image.ldt, EXC_TS);
    if (d.isSegment || d.type !== SYS_LDT) throw new CpuException(EXC_TS, image.ldt & 0xfffc);
    if (!d.present) throw new CpuException(EXC_TS, image.ldt & 0xfffc);
    loadCache(cpu, LDTR, image.ldt, d);
  }
  if ((newFlags & FLAG_VM) !== 0) {
    cpu.cpl = 3;
    for (let i = ES; i <= GS; i++) loadRealMode(cpu, i, image.segs[i], true);
  } else {
    const csSel = image.segs[CS];
    cpu.cpl = csSel & 3;
    if ((csSel & 0xfffc) === 0) throw new CpuException(EXC_TS, 0);
    const cs = fetchDescriptor(cpu, csSel, EXC_TS);
    if (!cs.isCode) throw new CpuException(EXC_TS, csSel & 0xfffc);
    if (cs.isConformingCode ? cs.dpl > (csSel & 3) : cs.dpl !== (csSel & 3)) throw new CpuException(EXC_TS, csSel & 0xfffc);
    if (!cs.present) throw new CpuException(EXC_NP, csSel & 0xfffc);
    markAccessed(cpu, cs);
    loadCache(cpu, CS, csSel, cs);
    const ss = checkStackSegment(cpu, image.segs[SS], EXC_TS, cpu.cpl);
    markAccessed(cpu, ss);
    loadCache(cpu, SS, image.segs[SS], ss);
    for (const seg of [ES, DS, FS, GS]) loadDataSegment(cpu, seg, image.segs[seg], EXC_TS);
  }
  cpu.modeChanged();
  if (cpu.eip >>> 0 > cpu.segLimit[CS]) throw new CpuException(EXC_GP, 0);
  if (errorCode >= 0) {
    const st = StackAccess.current(cpu);
    st.push(errorCode, new32 ? 4 : 2);
    cpu.regs[4] = st.espFor(cpu.regs[4]);
  }
}
