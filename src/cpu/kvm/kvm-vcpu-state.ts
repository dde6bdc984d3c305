// KvmVcpu's side of VcpuState (hypervisor/vcpu/vcpu-state.ts): KVM_GET/SET_REGS,
// SREGS, XSAVE (or FPU), MSRS, VCPU_EVENTS and DEBUGREGS (api.rst §4; layouts in kvm-abi.ts).
//
// Without an in-kernel irqchip (tsxen keeps its own PIC/APIC, README.md) KVM has
// no halted state of its own: KVM_EXIT_HLT leaves RIP after the HLT and
// KVM_GET/SET_MP_STATE are for the in-kernel LAPIC (api.rst §4.38 "only useful
// after KVM_CREATE_IRQCHIP"). So `halted` and the INTR level are the backend's
// own fields, passed in and out here.
//
// An ioctl the host refuses does not fail the whole state: the part is left at
// its default and a note says which ioctl and why (tests print them loudly).

import {
  float80Hex, float80Parts, bytesToHexLe, hexToBytesLe, initialFpuState, lowHalves, msrHex, msrName, parseVcpuState, stateRegisters64, STATE_MSRS, VCPU_STATE_VERSION,
  type InterruptShadow, type VcpuEvents, type VcpuFpuState, type VcpuMsr, type VcpuState,
} from '../../hypervisor/vcpu/vcpu-state.js';
import { REGISTERS64, signed64, unsigned64, type VcpuRegisters64, type VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';
import * as abi from './kvm-abi.js';
import { ioctlBuf } from './libc.js';

/** What kvm-vcpu-state needs from a KvmVcpu (its public register accessors, fd and VM). */
export interface KvmStateTarget {
  readonly fd: number;
  readonly vm: { readonly system: { checkExtension(cap: number): number } };
  getRegisters64(): VcpuRegisters64;
  setRegisters64(regs: VcpuRegisters64): void;
  getSpecialRegisters(): VcpuSpecialRegisters;
  setSpecialRegisters(sregs: VcpuSpecialRegisters): void;
  getFpu(): Uint8Array;
  setFpu(fpu: Uint8Array): void;
}

export interface KvmStateOut {
  state: VcpuState;
  /** Parts KVM refused to give (the state holds defaults there). */
  notes: string[];
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---- FPU ----------------------------------------------------------------------------

/**
 * kvm_fpu is FXSAVE's 64-bit image: last_ip/last_dp are 64-bit, so the selectors
 * FCS/FDS ride in their upper halves (the 32-bit layout's FCS/FDS words sit there).
 */
export function fpuFromKvm(b: Uint8Array): VcpuFpuState {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const st: string[] = [];
  for (let i = 0; i < 8; i++) {
    const at = abi.FPU.fpr + 16 * i;
    st.push(float80Hex(v.getUint16(at + 8, true), v.getUint32(at + 4, true), v.getUint32(at, true)));
  }
  const xmm: string[] = [];
  for (let i = 0; i < 8; i++) xmm.push(bytesToHexLe(b.subarray(abi.FPU.xmm + 16 * i, abi.FPU.xmm + 16 * i + 16)));
  return {
    fcw: v.getUint16(abi.FPU.fcw, true), fsw: v.getUint16(abi.FPU.fsw, true), ftw: v.getUint8(abi.FPU.ftwx),
    fop: v.getUint16(abi.FPU.lastOpcode, true) & 0x7ff,
    fip: v.getUint32(abi.FPU.lastIp, true), fcs: v.getUint16(abi.FPU.lastIp + 4, true),
    fdp: v.getUint32(abi.FPU.lastDp, true), fds: v.getUint16(abi.FPU.lastDp + 4, true),
    st, mxcsr: v.getUint32(abi.FPU.mxcsr, true), xmm,
  };
}

export function fpuToKvm(f: VcpuFpuState): Uint8Array {
  const b = new Uint8Array(abi.FPU_BYTES);
  const v = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) {
    const [se, hi, lo] = float80Parts(f.st[i]);
    const at = abi.FPU.fpr + 16 * i;
    v.setUint32(at, lo, true);
    v.setUint32(at + 4, hi, true);
    v.setUint16(at + 8, se, true);
  }
  v.setUint16(abi.FPU.fcw, f.fcw, true);
  v.setUint16(abi.FPU.fsw, f.fsw, true);
  v.setUint8(abi.FPU.ftwx, f.ftw);
  v.setUint16(abi.FPU.lastOpcode, f.fop, true);
  v.setUint32(abi.FPU.lastIp, f.fip, true);
  v.setUint32(abi.FPU.lastIp + 4, f.fcs, true);
  v.setUint32(abi.FPU.lastDp, f.fdp, true);
  v.setUint32(abi.FPU.lastDp + 4, f.fds, true);
  for (let i = 0; i < 8; i++) hexToBytesLe(f.xmm[i], b, abi.FPU.xmm + 16 * i);
  v.setUint32(abi.FPU.mxcsr, f.mxcsr, true);
  return b;
}

/**
 * The same state through KVM_GET/SET_XSAVE, preferred where KVM_CAP_XSAVE is
 * there: on XSAVE hosts the guest's FPU lives in an XSAVE image, and a component
 * whose XSTATE_BV bit is clear is loaded in its initial state whatever the legacy
 * region holds. KVM_SET_FPU writes that region without setting the bits (measured
 * on kvm-pvm: MXCSR written by KVM_SET_FPU never reaches the XSAVE image).
 */
export function fpuFromXsave(x: Uint8Array): VcpuFpuState {
  const v = new DataView(x.buffer, x.byteOffset, x.byteLength);
  const X = abi.XSAVE;
  const bv = v.getBigUint64(X.xstateBv, true);
  const f = initialFpuState();
  if (bv & abi.XFEATURE_X87) {
    f.fcw = v.getUint16(X.fcw, true);
    f.fsw = v.getUint16(X.fsw, true);
    f.ftw = v.getUint8(X.ftw);
    f.fop = v.getUint16(X.fop, true) & 0x7ff;
    f.fip = v.getUint32(X.fip, true);
    f.fcs = v.getUint16(X.fcs, true);
    f.fdp = v.getUint32(X.fdp, true);
    f.fds = v.getUint16(X.fds, true);
    for (let i = 0; i < 8; i++) {
      const at = X.st + 16 * i;
      f.st[i] = float80Hex(v.getUint16(at + 8, true), v.getUint32(at + 4, true), v.getUint32(at, true));
    }
  }
  if (bv & abi.XFEATURE_SSE) for (let i = 0; i < 8; i++) f.xmm[i] = bytesToHexLe(x.subarray(X.xmm + 16 * i, X.xmm + 16 * i + 16));
  // MXCSR belongs to both SSE and AVX (SDM vol. 1 §13.5.2); KVM reports it either way.
  f.mxcsr = v.getUint32(X.mxcsr, true);
  return f;
}

/** Write the x87/SSE state into an XSAVE image from KVM_GET_XSAVE (other components kept) and mark both in use. */
export function fpuIntoXsave(f: VcpuFpuState, x: Uint8Array): void {
  const v = new DataView(x.buffer, x.byteOffset, x.byteLength);
  const X = abi.XSAVE;
  v.setUint16(X.fcw, f.fcw, true);
  v.setUint16(X.fsw, f.fsw, true);
  v.setUint8(X.ftw, f.ftw);
  v.setUint8(X.ftw + 1, 0);
  v.setUint16(X.fop, f.fop, true);
  v.setUint32(X.fip, f.fip, true);
  v.setUint32(X.fcs, f.fcs, true);
  v.setUint32(X.fdp, f.fdp, true);
  v.setUint32(X.fds, f.fds, true);
  v.setUint32(X.mxcsr, f.mxcsr, true);
  for (let i = 0; i < 8; i++) {
    const [se, hi, lo] = float80Parts(f.st[i]);
    const at = X.st + 16 * i;
    v.setUint32(at, lo, true);
    v.setUint32(at + 4, hi, true);
    v.setUint32(at + 8, se, true);
    v.setUint32(at + 12, 0, true);
  }
  for (let i = 0; i < 8; i++) hexToBytesLe(f.xmm[i], x, X.xmm + 16 * i);
  v.setBigUint64(X.xstateBv, v.getBigUint64(X.xstateBv, true) | abi.XFEATURE_X87 | abi.XFEATURE_SSE, true);
}

function hasXsave(t: KvmStateTarget): boolean {
  try {
    return t.vm.system.checkExtension(abi.KVM_CAP_XSAVE) > 0;
  } catch {
    return false;
  }
}

/** XMM8..XMM15 from the 16-slot XMM area of kvm_fpu or an XSAVE image (zeros when SSE state is in its initial state). */
function xmmHighFrom(b: Uint8Array, xmmArea: number, inUse: boolean): string[] {
  return Array.from({ length: 8 }, (_, i) => (inUse ? bytesToHexLe(b.subarray(xmmArea + 16 * (8 + i), xmmArea + 16 * (9 + i))) : '0'.repeat(32)));
}

function xmmHighInto(b: Uint8Array, xmmArea: number, xmmHigh: readonly string[]): void {
  xmmHigh.forEach((hex, i) => hexToBytesLe(hex, b, xmmArea + 16 * (8 + i)));
}

const NO_XMM_HIGH: readonly string[] = Array.from({ length: 8 }, () => '0'.repeat(32));

function readFpu(t: KvmStateTarget): { fpu: VcpuFpuState; xmmHigh: string[] } {
  if (!hasXsave(t)) {
    const b = t.getFpu();
    return { fpu: fpuFromKvm(b), xmmHigh: xmmHighFrom(b, abi.FPU.xmm, true) };
  }
  const x = new Uint8Array(abi.XSAVE_BYTES);
  ioctlBuf(t.fd, abi.KVM_GET_XSAVE, x, 'KVM_GET_XSAVE');
  const sseInUse = (new DataView(x.buffer).getBigUint64(abi.XSAVE.xstateBv, true) & abi.XFEATURE_SSE) !== 0n;
  return { fpu: fpuFromXsave(x), xmmHigh: xmmHighFrom(x, abi.XSAVE.xmm, sseInUse) };
}

function writeFpu(t: KvmStateTarget, f: VcpuFpuState, xmmHigh: readonly string[]): void {
  if (!hasXsave(t)) {
    const b = fpuToKvm(f);
    xmmHighInto(b, abi.FPU.xmm, xmmHigh);
    t.setFpu(b);
    return;
  }
  const x = new Uint8Array(abi.XSAVE_BYTES);
  ioctlBuf(t.fd, abi.KVM_GET_XSAVE, x, 'KVM_GET_XSAVE');
  fpuIntoXsave(f, x);
  xmmHighInto(x, abi.XSAVE.xmm, xmmHigh);
  ioctlBuf(t.fd, abi.KVM_SET_XSAVE, x, 'KVM_SET_XSAVE');
}

// ---- MSRs -------------------------------------------------------------------------

/**
 * KVM_GET_MSRS / KVM_SET_MSRS stop at the first MSR KVM refuses and return how
 * many they did; the refused one is skipped and the rest retried, so one missing
 * MSR costs one more ioctl, not the batch.
 */
function msrBatches(fd: number, req: number, entries: Array<[number, bigint]>, name: string, refused: number[]): Array<[number, bigint]> {
  const done: Array<[number, bigint]> = [];
  let rest = entries;
  while (rest.length > 0) {
    const b = new Uint8Array(8 + rest.length * 16);
    const v = new DataView(b.buffer);
    v.setUint32(0, rest.length, true);
    rest.forEach(([index, value], i) => {
      v.setUint32(8 + i * 16, index >>> 0, true);
      v.setBigUint64(8 + i * 16 + 8, BigInt.asUintN(64, value), true);
    });
    const n = ioctlBuf(fd, req, b, name);
    for (let i = 0; i < n; i++) done.push([v.getUint32(8 + i * 16, true), v.getBigUint64(8 + i * 16 + 8, true)]);
    if (n < rest.length) refused.push(rest[n][0]);
    rest = rest.slice(n + 1);
  }
  return done;
}

// ---- events -------------------------------------------------------------------------

function eventsFromKvm(b: Uint8Array): VcpuEvents {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const E = abi.EVENTS;
  const shadowBits = v.getUint8(E.interruptShadow);
  const shadow: InterruptShadow = shadowBits & abi.KVM_X86_SHADOW_INT_MOV_SS ? 'mov-ss' : shadowBits & abi.KVM_X86_SHADOW_INT_STI ? 'sti' : 'none';
  // Without KVM_CAP_EXCEPTION_PAYLOAD KVM reports a pending exception as injected (api.rst §4.31).
  const exception = v.getUint8(E.exceptionInjected) || v.getUint8(E.exceptionPending)
    ? { vector: v.getUint8(E.exceptionNr) & 31, errorCode: v.getUint8(E.exceptionHasErrorCode) ? v.getUint32(E.exceptionErrorCode, true) : -1 }
    : null;
  return {
    interruptShadow: shadow,
    exception,
    interrupt: v.getUint8(E.interruptInjected) ? v.getUint8(E.interruptNr) : null,
    nmiPending: v.getUint8(E.nmiPending) !== 0 || v.getUint8(E.nmiInjected) !== 0,
    nmiMasked: v.getUint8(E.nmiMasked) !== 0,
  };
}

function eventsToKvm(ev: VcpuEvents): Uint8Array {
  const b = new Uint8Array(abi.VCPU_EVENTS_BYTES);
  const v = new DataView(b.buffer);
  const E = abi.EVENTS;
  if (ev.exception) {
    v.setUint8(E.exceptionInjected, 1);
    v.setUint8(E.exceptionNr, ev.exception.vector);
    v.setUint8(E.exceptionHasErrorCode, ev.exception.errorCode >= 0 ? 1 : 0);
    v.setUint32(E.exceptionErrorCode, ev.exception.errorCode >= 0 ? ev.exception.errorCode : 0, true);
  }
  if (ev.interrupt !== null) {
    v.setUint8(E.interruptInjected, 1);
    v.setUint8(E.interruptNr, ev.interrupt);
  }
  v.setUint8(E.interruptShadow, ev.interruptShadow === 'sti' ? abi.KVM_X86_SHADOW_INT_STI : ev.interruptShadow === 'mov-ss' ? abi.KVM_X86_SHADOW_INT_MOV_SS : 0);
  v.setUint8(E.nmiPending, ev.nmiPending ? 1 : 0);
  v.setUint8(E.nmiMasked, ev.nmiMasked ? 1 : 0);
  v.setUint32(E.flags, abi.KVM_VCPUEVENT_VALID_NMI_PENDING | abi.KVM_VCPUEVENT_VALID_SHADOW, true);
  return b;
}

/** How far past the written value a read-back TSC may be and still count as taken (~10 s at 1.7 GHz). */
const TSC_SLACK = 1n << 34n;

// ---- whole state ----------------------------------------------------------------------

const NO_EVENTS: VcpuEvents = { interruptShadow: 'none', exception: null, interrupt: null, nmiPending: false, nmiMasked: false };

export function readKvmState(t: KvmStateTarget, halted: boolean, intrLine: boolean): KvmStateOut {
  const notes: string[] = [];
  const regs64 = t.getRegisters64();
  const sregs = t.getSpecialRegisters();
  let fpu: VcpuFpuState | undefined;
  let xmmHigh = [...NO_XMM_HIGH];
  try {
    ({ fpu, xmmHigh } = readFpu(t));
  } catch (e) {
    notes.push(`KVM_GET_XSAVE/KVM_GET_FPU failed (${message(e)}): FPU state not saved`);
  }
  const refused: number[] = [];
  let msrs: VcpuMsr[] = [];
  try {
    const got = msrBatches(t.fd, abi.KVM_GET_MSRS, STATE_MSRS.map((i) => [i, 0n]), 'KVM_GET_MSRS', refused);
    msrs = got.map(([index, value]) => ({ index, value: msrHex(value) }));
  } catch (e) {
    notes.push(`KVM_GET_MSRS failed (${message(e)}): no MSRs saved`);
  }
  if (refused.length) notes.push(`KVM refused to read ${refused.map(msrName).join(', ')}`);
  let events = NO_EVENTS;
  try {
    const b = new Uint8Array(abi.VCPU_EVENTS_BYTES);
    ioctlBuf(t.fd, abi.KVM_GET_VCPU_EVENTS, b, 'KVM_GET_VCPU_EVENTS');
    events = eventsFromKvm(b);
  } catch (e) {
    notes.push(`KVM_GET_VCPU_EVENTS failed (${message(e)}): interrupt shadow and queued events not saved`);
  }
  let debug = { dr0: 0, dr1: 0, dr2: 0, dr3: 0, dr6: 0xffff0ff0, dr7: 0x400 };
  try {
    const b = new Uint8Array(abi.DEBUGREGS_BYTES);
    ioctlBuf(t.fd, abi.KVM_GET_DEBUGREGS, b, 'KVM_GET_DEBUGREGS');
    const v = new DataView(b.buffer);
    const u32 = (at: number) => Number(v.getBigUint64(at, true) & 0xffffffffn);
    const address = (at: number) => signed64(v.getBigUint64(at, true));
    debug = { dr0: address(0), dr1: address(8), dr2: address(16), dr3: address(24), dr6: u32(abi.DEBUGREGS.dr6), dr7: u32(abi.DEBUGREGS.dr7) };
  } catch (e) {
    notes.push(`KVM_GET_DEBUGREGS failed (${message(e)}): debug registers saved as their reset values`);
  }
  const state: VcpuState = {
    version: VCPU_STATE_VERSION, regs: lowHalves(regs64), long: { regs: REGISTERS64.map((name) => msrHex(regs64[name])), xmmHigh }, sregs,
    fpu: fpu ?? initialFpuState(),
    msrs, debug, events, halted, intrLine,
  };
  return { state, notes };
}

/** Load a state into KVM (checked first: VcpuStateError, nothing changed). Returns what KVM refused. */
export function writeKvmState(t: KvmStateTarget, input: VcpuState): { state: VcpuState; notes: string[] } {
  const s = parseVcpuState(input);
  const notes: string[] = [];
  // Registers before sregs (as KVM's own save order); events after sregs, whose
  // interrupt bitmap would otherwise queue a stale vector over ours.
  t.setRegisters64(stateRegisters64(s));
  t.setSpecialRegisters(s.sregs);
  try {
    writeFpu(t, s.fpu, s.long?.xmmHigh ?? NO_XMM_HIGH);
  } catch (e) {
    notes.push(`KVM_SET_XSAVE/KVM_SET_FPU failed (${message(e)}): FPU state not restored`);
  }
  const refused: number[] = [];
  try {
    msrBatches(t.fd, abi.KVM_SET_MSRS, s.msrs.map((m) => [m.index, BigInt(m.value)]), 'KVM_SET_MSRS', refused);
  } catch (e) {
    notes.push(`KVM_SET_MSRS failed (${message(e)}): MSRs not restored`);
  }
  for (const index of refused) notes.push(`KVM refused ${msrName(index)} = ${s.msrs.find((m) => m.index === index)?.value}, dropped`);
  const tsc = s.msrs.find((m) => m.index === abi.MSR_INDEX_TSC);
  if (tsc && !refused.includes(abi.MSR_INDEX_TSC)) {
    // kvm-pvm accepts the write and keeps the host's TSC: say so, the guest's clock jumps.
    try {
      const now = msrBatches(t.fd, abi.KVM_GET_MSRS, [[abi.MSR_INDEX_TSC, 0n]], 'KVM_GET_MSRS', [])[0]?.[1];
      const want = BigInt(tsc.value);
      if (now !== undefined && (now < want || now - want > TSC_SLACK)) notes.push(`KVM did not take IA32_TSC = ${tsc.value} (reads 0x${now.toString(16)}): the guest TSC jumps`);
    } catch {
      // Reading it back is only a check.
    }
  }
  try {
    const b = new Uint8Array(abi.DEBUGREGS_BYTES);
    const v = new DataView(b.buffer);
    const d = s.debug;
    [d.dr0, d.dr1, d.dr2, d.dr3].forEach((x, i) => v.setBigUint64(8 * i, unsigned64(x), true));
    v.setBigUint64(abi.DEBUGREGS.dr6, BigInt(d.dr6 >>> 0), true);
    v.setBigUint64(abi.DEBUGREGS.dr7, BigInt(d.dr7 >>> 0), true);
    ioctlBuf(t.fd, abi.KVM_SET_DEBUGREGS, b, 'KVM_SET_DEBUGREGS');
  } catch (e) {
    notes.push(`KVM_SET_DEBUGREGS failed (${message(e)}): debug registers not restored`);
  }
  try {
    ioctlBuf(t.fd, abi.KVM_SET_VCPU_EVENTS, eventsToKvm(s.events), 'KVM_SET_VCPU_EVENTS');
  } catch (e) {
    notes.push(`KVM_SET_VCPU_EVENTS failed (${message(e)}): interrupt shadow and queued events not restored`);
  }
  return { state: s, notes };
}
