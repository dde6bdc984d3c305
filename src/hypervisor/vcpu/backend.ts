// The CPU backend interface (rust-vmm/cloud-hypervisor's `Vcpu`), implemented by
// cpu/emu (software) and cpu/kvm (/dev/kvm). Register layouts follow KVM's
// kvm_regs / kvm_sregs / kvm_segment so state moves between backends unchanged.

import type { VmExit } from './vm-exit.js';
import type { VcpuState } from './vcpu-state.js';

/**
 * General registers and EIP/EFLAGS: the 32-bit view (the low halves of the x86-64
 * registers). setRegisters writes a changed register as a 32-bit write would
 * (zero-extended) and leaves the others, and R8-R15, as they are.
 */
export interface VcpuRegisters {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
  esi: number;
  edi: number;
  esp: number;
  ebp: number;
  eip: number;
  eflags: number;
}

/** The x86-64 general registers, exact (kvm_regs order and names), for long-mode guests. */
export interface VcpuRegisters64 {
  rax: bigint;
  rbx: bigint;
  rcx: bigint;
  rdx: bigint;
  rsi: bigint;
  rdi: bigint;
  rsp: bigint;
  rbp: bigint;
  r8: bigint;
  r9: bigint;
  r10: bigint;
  r11: bigint;
  r12: bigint;
  r13: bigint;
  r14: bigint;
  r15: bigint;
  rip: bigint;
  rflags: bigint;
}

export const REGISTERS64: readonly (keyof VcpuRegisters64)[] = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags',
];

/**
 * A 64-bit address or register value as a JS number in two's-complement form
 * (Number(BigInt.asIntN(64, v))): 32-bit values stay as they are, and canonical
 * 64-bit addresses (the upper half is negative) are exact. This is how the
 * special registers carry segment and descriptor-table bases, CR2/CR3 and DR0-3.
 */
export function signed64(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

/** The inverse of signed64 for a value that came from it (or any 32-bit value). */
export function unsigned64(n: number): bigint {
  return BigInt.asUintN(64, BigInt(Math.trunc(n)));
}

/** EFER.LME / EFER.LMA: long mode enabled / active (SDM vol. 3A §2.2.1). */
export const EFER_LME = 0x100;
export const EFER_LMA = 0x400;

/** The vCPU runs 64-bit code: long mode active and a 64-bit code segment (not compatibility mode). */
export function runs64BitCode(s: Pick<VcpuSpecialRegisters, 'efer' | 'cs'>): boolean {
  return (s.efer & EFER_LMA) !== 0 && s.cs.l === 1;
}

/** A segment register's selector and hidden descriptor cache (kvm_segment). */
export interface SegmentRegister {
  selector: number;
  base: number;
  /** Byte-granular limit (already scaled when G=1). */
  limit: number;
  /** Descriptor type field (4 bits). */
  type: number;
  /** 1 = code/data, 0 = system. */
  s: number;
  dpl: number;
  present: number;
  /** D/B bit: 32-bit default size. */
  db: number;
  g: number;
  avl: number;
  l: number;
  /** 1 = null/unusable (VT's "unusable" bit). */
  unusable: number;
}

export interface DescriptorTableRegister {
  base: number;
  limit: number;
}

/**
 * Control, segment and descriptor-table registers (kvm_sregs). Bases, CR2 and CR3 are
 * signed64() numbers: plain 32-bit values outside long mode, exact canonical addresses in it.
 */
export interface VcpuSpecialRegisters {
  cs: SegmentRegister;
  ds: SegmentRegister;
  es: SegmentRegister;
  fs: SegmentRegister;
  gs: SegmentRegister;
  ss: SegmentRegister;
  tr: SegmentRegister;
  ldt: SegmentRegister;
  gdt: DescriptorTableRegister;
  idt: DescriptorTableRegister;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  efer: number;
  apicBase: number;
}

/** One CPUID leaf as the hypervisor's policy defines it (kvm_cpuid_entry2). */
export interface CpuidEntry {
  leaf: number;
  /** Sub-leaf (ECX) when `indexed`, else ignored. */
  subleaf: number;
  indexed: boolean;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export interface VcpuBackend {
  /** Run guest code until something needs the hypervisor. */
  run(): VmExit;
  getRegisters(): VcpuRegisters;
  setRegisters(regs: VcpuRegisters): void;
  /** The backend runs long mode (x86-64 guests): cpu/kvm does, the software CPU does not (yet). */
  readonly longMode: boolean;
  /** All 64 bits of every register; a backend without long mode has zero upper halves and no R8-R15. */
  getRegisters64(): VcpuRegisters64;
  /** Load all 64 bits; a backend without long mode throws RangeError naming a register it cannot hold. */
  setRegisters64(regs: VcpuRegisters64): void;
  /** The guest TSC's rate in kHz (the software CPU counts 1 per ns; KVM: KVM_GET_TSC_KHZ), 0 when unknown. */
  readonly tscKhz: number;
  /** The guest's TSC now, as RDTSC would read it (Xen's PV clock pairs it with system time). */
  readTsc(): bigint;
  getSpecialRegisters(): VcpuSpecialRegisters;
  setSpecialRegisters(sregs: VcpuSpecialRegisters): void;
  /** The CPUID policy, as KVM_SET_CPUID2: leaves not listed read as zeros (Intel: the top basic leaf). */
  setCpuid(entries: CpuidEntry[]): void;
  /** Level of the INTR pin, driven by the interrupt controller. */
  setIrqLine(level: boolean): void;
  /** Answer the last `msr` exit: a value for RDMSR, or `undefined` to raise #GP(0). */
  completeMsr(value: bigint | undefined): void;
  /** Linear → guest-physical through the guest's page tables (supervisor access), undefined if it faults; no guest-visible effect beyond A/D bits. */
  translate?(linear: number, write: boolean): number | undefined;
  /** Ask a running vCPU to return from run() soon with `interrupted` (callable from the vCPU's own thread between slices, or from a timer). */
  requestExit(): void;
  /**
   * The domain has (re)written Xen's hypercall stubs into guest page `gpa` (the MSR
   * write, or a restore). A backend whose guests cannot use those stubs as they are
   * rewrites the page with its own (cpu/kvm without KVM_XEN_HVM_CONFIG).
   */
  hypercallPageInstalled?(gpa: number): void;
  /** Reset the vCPU to the architectural power-on state (SDM vol. 3A "Processor Management and Initialization"). */
  reset(): void;
  /**
   * The complete vCPU state (vcpu-state.ts), taken between run() calls after the
   * last exit was completed (completeMsr). The same record loads into either backend.
   */
  getState(): VcpuState;
  /**
   * Load a state from getState() of this or the other backend, or from a save file.
   * The record is checked first (VcpuStateError, nothing changed). Returns what this
   * backend could not take (an MSR it does not model, NMI masking...), [] when all of it applied.
   */
  setState(state: VcpuState): string[];
}
