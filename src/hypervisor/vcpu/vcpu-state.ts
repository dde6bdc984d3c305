// The complete state of one vCPU as plain, versioned, JSON-able data: what a
// domain save, a migration or a move between the emu and KVM backends carries
// (issue 6 §3). The field list follows what Xen saves per vCPU
// (public/arch-x86/hvm/save.h struct hvm_hw_cpu) and what KVM exposes
// (kvm_regs, kvm_sregs, kvm_fpu, kvm_msrs, kvm_debugregs, kvm_vcpu_events,
// kvm_mp_state); the layouts of the parts are the architectural ones
// (FXSAVE's legacy image for the FPU, SDM vol. 1 §10.5.1).
//
// 64-bit quantities (MSR values, 64-bit registers, 80-bit and 128-bit registers)
// are hex strings, so JSON keeps them exact; addresses (bases, CR2/CR3, DR0-3) are
// signed64() numbers (backend.ts), exact for canonical addresses. Everything else
// is a plain number or boolean.
//
// Version 2 added `long` (the x86-64 registers) and 64-bit addresses; a version 1
// record (32-bit only) reads as a version 2 record without `long`.

import { EFER_LMA, EFER_LME, REGISTERS64, type SegmentRegister, type VcpuRegisters, type VcpuRegisters64, type VcpuSpecialRegisters } from './backend.js';

export const VCPU_STATE_VERSION = 2;

/** x87 + SSE state in FXSAVE's terms (SDM vol. 2 FXSAVE, Table 3-53). */
export interface VcpuFpuState {
  fcw: number;
  /** Status word including TOP (bits 13:11). */
  fsw: number;
  /** FXSAVE's abridged tag: bit p = 1 when physical register p is not empty. */
  ftw: number;
  /** Last x87 opcode (11 bits). */
  fop: number;
  fip: number;
  fcs: number;
  fdp: number;
  fds: number;
  /** ST(0)..ST(7) in stack order, as FXSAVE stores them: 80-bit values as 20 hex digits, sign/exponent first. */
  st: string[];
  mxcsr: number;
  /** XMM0..XMM7: 128-bit values as 32 hex digits, most significant first. */
  xmm: string[];
}

/** One model-specific register; `value` is a 64-bit hex string ("0x..."). */
export interface VcpuMsr {
  index: number;
  value: string;
}

export interface VcpuDebugRegisters {
  dr0: number;
  dr1: number;
  dr2: number;
  dr3: number;
  dr6: number;
  dr7: number;
}

/**
 * The interrupt shadow after STI or MOV SS/POP SS (SDM vol. 3A §6.8.3; VMX
 * interruptibility state, vol. 3C §24.4.2): the next instruction runs before any
 * interrupt is taken.
 */
export type InterruptShadow = 'none' | 'sti' | 'mov-ss';

/** Events between instructions (kvm_vcpu_events; hvm_hw_cpu's pending_event). */
export interface VcpuEvents {
  interruptShadow: InterruptShadow;
  /** An exception queued or half-delivered, delivered before the next instruction; errorCode -1 = none. */
  exception: { vector: number; errorCode: number } | null;
  /** An external interrupt already acknowledged at the controller (INTA done) but not yet delivered. */
  interrupt: number | null;
  nmiPending: boolean;
  /** NMIs blocked until the next IRET (SDM vol. 3A §6.7.1). */
  nmiMasked: boolean;
}

/** The x86-64 part of a vCPU (cpu/kvm); absent means all of it is zero. */
export interface VcpuLongState {
  /** RAX..R15, RIP, RFLAGS (REGISTERS64 order) as "0x" + hex: authoritative; `regs` holds their low halves. */
  regs: string[];
  /** XMM8..XMM15 (32 hex digits each, most significant first). */
  xmmHigh: string[];
}

export interface VcpuState {
  version: typeof VCPU_STATE_VERSION;
  /** The 32-bit view: the low halves of `long.regs` when that is present. */
  regs: VcpuRegisters;
  long?: VcpuLongState;
  sregs: VcpuSpecialRegisters;
  fpu: VcpuFpuState;
  /** The MSRs of STATE_MSRS this backend has; TSC is the guest-visible value when the state was taken. */
  msrs: VcpuMsr[];
  debug: VcpuDebugRegisters;
  events: VcpuEvents;
  /** In HLT: nothing runs until an interrupt, NMI or reset (kvm_mp_state HALTED). */
  halted: boolean;
  /** Level of the INTR pin as the interrupt controller last drove it. */
  intrLine: boolean;
  /** Emu-only precision state (fpu-float80.ts's sticky rounding sides per physical register); other backends ignore it. */
  emu?: { fpuRoundingSides: number[] };
}

// MSR indices (SDM vol. 4 Table 2-2).
export const MSR_TSC = 0x10;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SFMASK = 0xc0000084;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;
/** Variable-range MTRR base/mask pairs 0x200..0x20F and the fixed-range MTRRs (SDM vol. 3A §11.11.2). */
export const MSR_MTRRS: readonly number[] = [
  ...Array.from({ length: 16 }, (_, i) => 0x200 + i),
  0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
  MSR_MTRR_DEF_TYPE,
];

/**
 * The MSRs a vCPU state carries (EFER and APIC_BASE travel in sregs). A backend
 * saves those it has; on restore it takes those it models and reports the rest.
 */
export const STATE_MSRS: readonly number[] = [
  MSR_TSC, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP, MSR_MISC_ENABLE, MSR_PAT,
  MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE, MSR_TSC_AUX, ...MSR_MTRRS,
];

export const MSR_NAMES: Readonly<Record<number, string>> = {
  [MSR_TSC]: 'IA32_TSC', [MSR_SYSENTER_CS]: 'IA32_SYSENTER_CS', [MSR_SYSENTER_ESP]: 'IA32_SYSENTER_ESP',
  [MSR_SYSENTER_EIP]: 'IA32_SYSENTER_EIP', [MSR_MISC_ENABLE]: 'IA32_MISC_ENABLE', [MSR_PAT]: 'IA32_PAT',
  [MSR_MTRR_DEF_TYPE]: 'IA32_MTRR_DEF_TYPE', [MSR_STAR]: 'STAR', [MSR_LSTAR]: 'LSTAR', [MSR_CSTAR]: 'CSTAR',
  [MSR_SFMASK]: 'SFMASK', [MSR_KERNEL_GS_BASE]: 'KERNEL_GS_BASE', [MSR_TSC_AUX]: 'TSC_AUX',
};

export function msrName(index: number): string {
  return MSR_NAMES[index] ?? `MSR 0x${(index >>> 0).toString(16)}`;
}

/** A malformed state record; the message names the field. */
export class VcpuStateError extends Error {
  constructor(message: string) {
    super(`vCPU state: ${message}`);
    this.name = 'VcpuStateError';
  }
}

// ---- value encodings -----------------------------------------------------------

/** A 64-bit MSR value as "0x" + hex. */
export function msrHex(value: bigint): string {
  return '0x' + BigInt.asUintN(64, value).toString(16);
}

/** The value of an MSR in a state, or undefined if the state does not carry it. */
export function msrValue(state: Pick<VcpuState, 'msrs'>, index: number): bigint | undefined {
  const m = state.msrs.find((x) => x.index === index);
  return m === undefined ? undefined : BigInt(m.value);
}

/** An 80-bit register from its sign/exponent word and significand halves (int32 or uint32). */
export function float80Hex(se: number, hi: number, lo: number): string {
  return (se & 0xffff).toString(16).padStart(4, '0') + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** [sign/exponent, significand 63:32, 31:0] of a 20-digit hex 80-bit value (validated by parseVcpuState). */
export function float80Parts(hex: string): [number, number, number] {
  return [parseInt(hex.slice(0, 4), 16), parseInt(hex.slice(4, 12), 16) >>> 0, parseInt(hex.slice(12, 20), 16) >>> 0];
}

/** Little-endian bytes (memory order, as in an FXSAVE image) → hex, most significant first. */
export function bytesToHexLe(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = bytes.length - 1; i >= 0; i--) s += (bytes[i] & 0xff).toString(16).padStart(2, '0');
  return s;
}

/** The inverse of bytesToHexLe into `out` (length = hex digits / 2). */
export function hexToBytesLe(hex: string, out: Uint8Array, at = 0): void {
  const n = hex.length >> 1;
  for (let i = 0; i < n; i++) out[at + i] = parseInt(hex.slice(hex.length - 2 * (i + 1), hex.length - 2 * i), 16);
}

/** Architectural FXSAVE state after RESET/FNINIT+MXCSR reset: empty registers, FCW 0x037F, MXCSR 0x1F80. */
export function initialFpuState(): VcpuFpuState {
  return {
    fcw: 0x37f, fsw: 0, ftw: 0, fop: 0, fip: 0, fcs: 0, fdp: 0, fds: 0,
    st: Array.from({ length: 8 }, () => '0'.repeat(20)), mxcsr: 0x1f80, xmm: Array.from({ length: 8 }, () => '0'.repeat(32)),
  };
}

// ---- the 64-bit registers ---------------------------------------------------------------

/** REGISTERS64-ordered values as a VcpuRegisters64. */
export function registers64(values: readonly bigint[]): VcpuRegisters64 {
  const out = {} as VcpuRegisters64;
  REGISTERS64.forEach((name, i) => (out[name] = BigInt.asUintN(64, values[i] ?? 0n)));
  return out;
}

/** The 32-bit view of 64-bit registers. */
export function lowHalves(r: VcpuRegisters64): VcpuRegisters {
  const out = {} as VcpuRegisters;
  for (const k of REGS) out[k] = Number(BigInt.asUintN(32, r[LONG_NAME[k]]));
  return out;
}

/** The state's registers at full width (`long` when present, else the 32-bit view zero-extended). */
export function stateRegisters64(state: Pick<VcpuState, 'regs' | 'long'>): VcpuRegisters64 {
  if (state.long) return registers64(state.long.regs.map((v) => BigInt(v)));
  const out = registers64([]);
  for (const k of REGS) out[LONG_NAME[k]] = BigInt(state.regs[k] >>> 0);
  return out;
}


/**
 * What a backend without long mode cannot take from `state`: long mode itself (an
 * error), and x86-64 register contents it would drop (a note; outside long mode they
 * are not architecturally visible to 32-bit code).
 */
export function longModeParts(state: VcpuState): { refuse: string | null; dropped: string[] } {
  const s = state.sregs;
  if ((s.efer & (EFER_LMA | EFER_LME)) !== 0) return { refuse: `the vCPU is in long mode (EFER = 0x${s.efer.toString(16)}); the software CPU runs 32-bit code only`, dropped: [] };
  const dropped: string[] = [];
  if (state.long) {
    const r = stateRegisters64(state);
    for (const name of REGISTERS64) if (r[name] >> 32n !== 0n) dropped.push(name);
    if (state.long.xmmHigh.some((x) => /[^0]/.test(x))) dropped.push('xmm8-15');
  }
  return { refuse: null, dropped };
}

// ---- validation -------------------------------------------------------------------

const SEGMENTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
const REGS = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'esp', 'ebp', 'eip', 'eflags'] as const;
const LONG_NAME: Record<(typeof REGS)[number], keyof VcpuRegisters64> = {
  eax: 'rax', ebx: 'rbx', ecx: 'rcx', edx: 'rdx', esi: 'rsi', edi: 'rdi', esp: 'rsp', ebp: 'rbp', eip: 'rip', eflags: 'rflags',
};

function obj(x: unknown, path: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new VcpuStateError(`${path} is not an object`);
  return x as Record<string, unknown>;
}

function uint(x: unknown, path: string, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) {
    throw new VcpuStateError(`${path} = ${JSON.stringify(x)} is not an integer in 0..0x${max.toString(16)}`);
  }
  return x;
}

function bool(x: unknown, path: string): boolean {
  if (typeof x !== 'boolean') throw new VcpuStateError(`${path} is not a boolean`);
  return x;
}

function hexDigits(x: unknown, path: string, digits: number): string {
  if (typeof x !== 'string' || x.length !== digits || !/^[0-9a-fA-F]*$/.test(x)) {
    throw new VcpuStateError(`${path} is not ${digits} hex digits`);
  }
  return x.toLowerCase();
}

function list(x: unknown, path: string, length?: number): unknown[] {
  if (!Array.isArray(x) || (length !== undefined && x.length !== length)) {
    throw new VcpuStateError(`${path} is not an array${length !== undefined ? ` of ${length}` : ''}`);
  }
  return x;
}

const U32 = 0xffffffff;

/** A signed64() address: a safe integer (canonical 64-bit addresses and every 32-bit value are). */
function address(x: unknown, path: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x > U32 * 2 ** 21) throw new VcpuStateError(`${path} = ${JSON.stringify(x)} is not a 64-bit address`);
  return x;
}

function segment(x: unknown, path: string): SegmentRegister {
  const o = obj(x, path);
  const bit = (k: string) => uint(o[k], `${path}.${k}`, 1);
  return {
    selector: uint(o.selector, `${path}.selector`, 0xffff), base: address(o.base, `${path}.base`),
    limit: uint(o.limit, `${path}.limit`, U32), type: uint(o.type, `${path}.type`, 15), s: bit('s'),
    dpl: uint(o.dpl, `${path}.dpl`, 3), present: bit('present'), db: bit('db'), g: bit('g'), avl: bit('avl'),
    l: bit('l'), unusable: bit('unusable'),
  };
}

/**
 * Check a record from a save file or another backend and return a normalised
 * copy (hex in lower case, no extra fields). Throws VcpuStateError naming the
 * first bad field; nothing of the input is trusted.
 */
export function parseVcpuState(x: unknown): VcpuState {
  const o = obj(x, 'state');
  if (o.version !== VCPU_STATE_VERSION && o.version !== 1) throw new VcpuStateError(`version ${JSON.stringify(o.version)} is not 1 or ${VCPU_STATE_VERSION}`);
  const r = obj(o.regs, 'regs');
  const regs = {} as VcpuRegisters;
  for (const k of REGS) regs[k] = uint(r[k], `regs.${k}`, U32);
  let long: VcpuLongState | undefined;
  if (o.long !== undefined) {
    const l = obj(o.long, 'long');
    const values = list(l.regs, 'long.regs', REGISTERS64.length).map((v, i) => {
      if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(v)) throw new VcpuStateError(`long.regs[${i}] (${REGISTERS64[i]}) is not a 64-bit hex value`);
      return BigInt(v);
    });
    // The 32-bit view must be the low halves: a record that says two things is refused.
    const low = lowHalves(registers64(values));
    for (const k of REGS) if (low[k] !== regs[k]) throw new VcpuStateError(`regs.${k} = 0x${regs[k].toString(16)} is not the low half of long.regs' ${LONG_NAME[k]}`);
    long = { regs: values.map(msrHex), xmmHigh: list(l.xmmHigh, 'long.xmmHigh', 8).map((v, i) => hexDigits(v, `long.xmmHigh[${i}]`, 32)) };
  }
  const s = obj(o.sregs, 'sregs');
  const dt = (k: string) => {
    const d = obj(s[k], `sregs.${k}`);
    return { base: address(d.base, `sregs.${k}.base`), limit: uint(d.limit, `sregs.${k}.limit`, 0xffff) };
  };
  const segs = {} as Record<(typeof SEGMENTS)[number], SegmentRegister>;
  for (const k of SEGMENTS) segs[k] = segment(s[k], `sregs.${k}`);
  const sregs: VcpuSpecialRegisters = {
    ...segs, gdt: dt('gdt'), idt: dt('idt'),
    cr0: uint(s.cr0, 'sregs.cr0', U32), cr2: address(s.cr2, 'sregs.cr2'), cr3: address(s.cr3, 'sregs.cr3'),
    cr4: uint(s.cr4, 'sregs.cr4', U32), efer: uint(s.efer, 'sregs.efer', U32), apicBase: uint(s.apicBase, 'sregs.apicBase', U32),
  };
  const f = obj(o.fpu, 'fpu');
  const fpu: VcpuFpuState = {
    fcw: uint(f.fcw, 'fpu.fcw', 0xffff), fsw: uint(f.fsw, 'fpu.fsw', 0xffff), ftw: uint(f.ftw, 'fpu.ftw', 0xff),
    fop: uint(f.fop, 'fpu.fop', 0x7ff), fip: uint(f.fip, 'fpu.fip', U32), fcs: uint(f.fcs, 'fpu.fcs', 0xffff),
    fdp: uint(f.fdp, 'fpu.fdp', U32), fds: uint(f.fds, 'fpu.fds', 0xffff),
    st: list(f.st, 'fpu.st', 8).map((v, i) => hexDigits(v, `fpu.st[${i}]`, 20)),
    mxcsr: uint(f.mxcsr, 'fpu.mxcsr', U32),
    xmm: list(f.xmm, 'fpu.xmm', 8).map((v, i) => hexDigits(v, `fpu.xmm[${i}]`, 32)),
  };
  const msrs = list(o.msrs, 'msrs').map((m, i): VcpuMsr => {
    const e = obj(m, `msrs[${i}]`);
    const index = uint(e.index, `msrs[${i}].index`, U32);
    if (typeof e.value !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(e.value)) throw new VcpuStateError(`msrs[${i}].value is not a 64-bit hex value`);
    return { index, value: msrHex(BigInt(e.value)) };
  });
  if (msrs.length > 1024) throw new VcpuStateError(`${msrs.length} MSRs is more than any backend has`);
  if (new Set(msrs.map((m) => m.index)).size !== msrs.length) throw new VcpuStateError('an MSR appears twice');
  const d = obj(o.debug, 'debug');
  const debug: VcpuDebugRegisters = {
    dr0: address(d.dr0, 'debug.dr0'), dr1: address(d.dr1, 'debug.dr1'), dr2: address(d.dr2, 'debug.dr2'),
    dr3: address(d.dr3, 'debug.dr3'), dr6: uint(d.dr6, 'debug.dr6', U32), dr7: uint(d.dr7, 'debug.dr7', U32),
  };
  const ev = obj(o.events, 'events');
  const shadow = ev.interruptShadow;
  if (shadow !== 'none' && shadow !== 'sti' && shadow !== 'mov-ss') throw new VcpuStateError(`events.interruptShadow = ${JSON.stringify(shadow)}`);
  let exception: VcpuEvents['exception'] = null;
  if (ev.exception !== null) {
    const e = obj(ev.exception, 'events.exception');
    const vector = uint(e.vector, 'events.exception.vector', 31);
    const errorCode = e.errorCode === -1 ? -1 : uint(e.errorCode, 'events.exception.errorCode', U32);
    exception = { vector, errorCode };
  }
  const events: VcpuEvents = {
    interruptShadow: shadow, exception,
    interrupt: ev.interrupt === null ? null : uint(ev.interrupt, 'events.interrupt', 0xff),
    nmiPending: bool(ev.nmiPending, 'events.nmiPending'), nmiMasked: bool(ev.nmiMasked, 'events.nmiMasked'),
  };
  const state: VcpuState = {
    version: VCPU_STATE_VERSION, regs, sregs, fpu, msrs, debug, events,
    halted: bool(o.halted, 'halted'), intrLine: bool(o.intrLine, 'intrLine'),
  };
  if (long) state.long = long;
  if (o.emu !== undefined) {
    const e = obj(o.emu, 'emu');
    const sides = list(e.fpuRoundingSides, 'emu.fpuRoundingSides', 8).map((v, i) => {
      if (v !== -1 && v !== 0 && v !== 1) throw new VcpuStateError(`emu.fpuRoundingSides[${i}] is not -1, 0 or 1`);
      return v as number;
    });
    state.emu = { fpuRoundingSides: sides };
  }
  return state;
}
