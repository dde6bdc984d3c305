// The software vCPU's side of VcpuState (hypervisor/vcpu/vcpu-state.ts): every
// architectural field of CpuState out, and back in, so a state taken here runs on
// KVM and one taken on KVM runs here. Not on any hot path: called between run()s.
//
// What the emu has no place for is reported by importEmuState, never silently
// half-applied: the record is validated before anything changes.

import {
  float80Hex, float80Parts, bytesToHexLe, hexToBytesLe, longModeParts, msrHex, msrName, parseVcpuState, VcpuStateError, MSR_MTRRS, MSR_PAT, MSR_SYSENTER_CS,
  MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, MSR_TSC, VCPU_STATE_VERSION, type VcpuMsr, type VcpuState,
} from '../../hypervisor/vcpu/vcpu-state.js';
import type { EmuVcpu } from './cpu.js';
import { CpuException, EXC_NMI, FLAG_IF } from './state.js';
import { MXCSR_MASK } from './fpu-registers.js';
import { deliverEvent, raiseException, EVENT_EXTERNAL } from './interrupts.js';
import { readTsc, setTsc, validPat } from './system.js';

/** The emu's complete vCPU state (lazy flags materialised into EFLAGS by getRegisters). */
export function exportEmuState(vcpu: EmuVcpu): VcpuState {
  const cpu = vcpu.cpu;
  const fpu = cpu.fpu;
  const st: string[] = [];
  for (let i = 0; i < 8; i++) {
    const p = fpu.st(i);
    st.push(float80Hex(fpu.r.se[p], fpu.r.hi[p], fpu.r.lo[p]));
  }
  const xmm: string[] = [];
  for (let i = 0; i < 8; i++) xmm.push(bytesToHexLe(fpu.xmm.subarray(16 * i, 16 * i + 16)));
  const u32 = (n: number) => BigInt(n >>> 0);
  const msrs: VcpuMsr[] = [
    { index: MSR_TSC, value: msrHex(readTsc(cpu)) },
    { index: MSR_SYSENTER_CS, value: msrHex(u32(cpu.sysenterCs)) },
    { index: MSR_SYSENTER_ESP, value: msrHex(u32(cpu.sysenterEsp)) },
    { index: MSR_SYSENTER_EIP, value: msrHex(u32(cpu.sysenterEip)) },
    { index: MSR_PAT, value: msrHex(cpu.pat) },
    ...MSR_MTRRS.map((index) => ({ index, value: msrHex(cpu.mtrrs.get(index) ?? 0n) })),
  ];
  const dr = cpu.dr;
  // The emu's shadow does not remember which instruction started it. STI's only
  // exists with IF = 1 and VMX refuses "blocking by STI" with IF = 0 (SDM vol. 3C
  // §26.3.1.5), so IF decides; either kind holds off interrupts for one instruction.
  const shadow = cpu.interruptShadow === 0 ? 'none' : cpu.flags & FLAG_IF ? 'sti' : 'mov-ss';
  return {
    version: VCPU_STATE_VERSION,
    regs: vcpu.getRegisters(),
    sregs: vcpu.getSpecialRegisters(),
    fpu: {
      fcw: fpu.fcw, fsw: fpu.statusWord, ftw: fpu.abridgedTag, fop: fpu.fop & 0x7ff,
      fip: fpu.fip >>> 0, fcs: fpu.fcs & 0xffff, fdp: fpu.fdp >>> 0, fds: fpu.fds & 0xffff,
      st, mxcsr: fpu.mxcsr >>> 0, xmm,
    },
    msrs,
    debug: { dr0: dr[0] >>> 0, dr1: dr[1] >>> 0, dr2: dr[2] >>> 0, dr3: dr[3] >>> 0, dr6: dr[6] >>> 0, dr7: dr[7] >>> 0 },
    // Exceptions and interrupts are delivered inside run(); none is ever left queued.
    events: { interruptShadow: shadow, exception: null, interrupt: null, nmiPending: false, nmiMasked: false },
    halted: cpu.halted,
    intrLine: cpu.intrLine,
    emu: { fpuRoundingSides: Array.from({ length: 8 }, (_, p) => fpu.r.dir[p]) },
  };
}

/** Load a state (checked first: VcpuStateError and no change when malformed); returns what could not be taken. */
export function importEmuState(vcpu: EmuVcpu, input: VcpuState): string[] {
  const s = parseVcpuState(input);
  const notes: string[] = [];
  const long = longModeParts(s);
  if (long.refuse) throw new VcpuStateError(long.refuse);
  if (long.dropped.length) notes.push(`the upper halves of ${long.dropped.join(', ')} (x86-64 state the software CPU does not have) were dropped`);
  const cpu = vcpu.cpu;
  // EFLAGS first: the CPL computed from CS depends on EFLAGS.VM.
  vcpu.setRegisters(s.regs);
  vcpu.setSpecialRegisters(s.sregs);

  const fpu = cpu.fpu;
  const f = s.fpu;
  fpu.fcw = (f.fcw & 0x1f7f) | 0x40;
  fpu.statusWord = f.fsw;
  fpu.abridgedTag = f.ftw;
  fpu.fop = f.fop;
  fpu.fip = f.fip | 0;
  fpu.fcs = f.fcs;
  fpu.fdp = f.fdp | 0;
  fpu.fds = f.fds;
  for (let i = 0; i < 8; i++) {
    const [se, hi, lo] = float80Parts(f.st[i]);
    fpu.r.setRaw(fpu.st(i), se, hi | 0, lo | 0);
  }
  if (s.emu) for (let p = 0; p < 8; p++) fpu.r.dir[p] = s.emu.fpuRoundingSides[p];
  if (f.mxcsr & ~MXCSR_MASK) notes.push(`MXCSR 0x${f.mxcsr.toString(16)}: bits 0x${(f.mxcsr & ~MXCSR_MASK).toString(16)} (DAZ/reserved) are not modelled, cleared`);
  fpu.mxcsr = f.mxcsr & MXCSR_MASK;
  for (let i = 0; i < 8; i++) hexToBytesLe(f.xmm[i], fpu.xmm, 16 * i);
  fpu.updateSummary();

  for (const m of s.msrs) {
    const v = BigInt(m.value);
    const low = Number(v & 0xffffffffn) | 0;
    if (m.index === MSR_TSC) setTsc(cpu, v);
    else if (m.index === MSR_SYSENTER_CS) cpu.sysenterCs = low;
    else if (m.index === MSR_SYSENTER_ESP) cpu.sysenterEsp = low;
    else if (m.index === MSR_SYSENTER_EIP) cpu.sysenterEip = low;
    else if (m.index === MSR_PAT) {
      if (validPat(v)) cpu.pat = v;
      else notes.push(`IA32_PAT ${m.value} has a reserved memory type, kept 0x${cpu.pat.toString(16)}`);
    } else if (MSR_MTRRS.includes(m.index)) cpu.mtrrs.set(m.index, v);
    // A zero in an MSR the emu lacks (STAR... on a 32-bit guest) is no state to lose.
    else if (v !== 0n) notes.push(`${msrName(m.index)} = ${m.value} is not modelled by the emu (a guest RDMSR of it is #GP here), dropped`);
  }

  const d = s.debug;
  cpu.dr[0] = d.dr0 | 0; cpu.dr[1] = d.dr1 | 0; cpu.dr[2] = d.dr2 | 0; cpu.dr[3] = d.dr3 | 0;
  cpu.dr[6] = d.dr6 | 0; cpu.dr[7] = d.dr7 | 0;

  cpu.halted = s.halted;
  cpu.intrLine = s.intrLine;
  cpu.interruptShadow = s.events.interruptShadow === 'none' ? 0 : 1;
  cpu.deliveringVector = -1;
  cpu.pendingExit = null;
  deliverQueuedEvents(vcpu, s, notes);
  vcpu.cache.epoch++;
  return notes;
}

/**
 * What KVM had queued for the next entry goes through the IDT now, in the order the
 * CPU would take it (an exception already being delivered, then NMI, then INTR;
 * SDM vol. 3A §6.9): the guest sees the same frames as if it had run on.
 */
function deliverQueuedEvents(vcpu: EmuVcpu, s: VcpuState, notes: string[]): void {
  const cpu = vcpu.cpu;
  const ev = s.events;
  if (ev.nmiMasked) notes.push('NMI blocking (until the next IRET) is not modelled by the emu, dropped');
  const deliver = (what: () => void) => {
    cpu.insnEip = cpu.eip;
    cpu.savedEsp = cpu.regs[4];
    cpu.halted = false;
    try {
      what();
    } catch (e) {
      if (!(e instanceof CpuException)) throw e;
      raiseException(cpu, e);
    }
  };
  if (ev.exception) {
    const { vector, errorCode } = ev.exception;
    deliver(() => raiseException(cpu, new CpuException(vector, errorCode)));
  }
  if (cpu.pendingExit === null && ev.nmiPending) deliver(() => deliverEvent(cpu, EXC_NMI, EVENT_EXTERNAL, -1));
  if (cpu.pendingExit === null && ev.interrupt !== null) {
    const vector = ev.interrupt;
    deliver(() => deliverEvent(cpu, vector, EVENT_EXTERNAL, -1));
  }
}
