// Architectural state of one software vCPU (SDM vol. 3A), shared by every part of
// cpu/emu. Kept as flat typed arrays and plain fields so V8 keeps it in fast,
// monomorphic form; nothing here allocates after construction.
//
// Conventions every cpu/emu file follows:
// - General registers, EIP and linear addresses are int32 (`x | 0`); use `>>> 0`
//   only to compare or print as unsigned.
// - Physical addresses are non-negative numbers (< 2^36 under PAE).
// - Faults are thrown as `CpuException` (not an Error: no stack capture).
// - Segment registers are indexed ES=0 CS=1 SS=2 DS=3 FS=4 GS=5 (the ModRM sreg
//   encoding), LDTR=6, TR=7.

import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import type { Clock } from '../../hypervisor/clock.js';
import type { CpuidEntry } from '../../hypervisor/vcpu/backend.js';
import type { VmExit } from '../../hypervisor/vcpu/vm-exit.js';
import type { Mmu } from './mmu.js';
import type { Fpu } from './fpu.js';

export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'];

export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
export const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

// EFLAGS bits (SDM vol. 1 §3.4.3).
export const FLAG_CF = 1 << 0;
export const FLAG_PF = 1 << 2;
export const FLAG_AF = 1 << 4;
export const FLAG_ZF = 1 << 6;
export const FLAG_SF = 1 << 7;
export const FLAG_TF = 1 << 8;
export const FLAG_IF = 1 << 9;
export const FLAG_DF = 1 << 10;
export const FLAG_OF = 1 << 11;
export const FLAG_IOPL = 3 << 12;
export const FLAG_NT = 1 << 14;
export const FLAG_RF = 1 << 16;
export const FLAG_VM = 1 << 17;
export const FLAG_AC = 1 << 18;
export const FLAG_VIF = 1 << 19;
export const FLAG_VIP = 1 << 20;
export const FLAG_ID = 1 << 21;
/** The six arithmetic flags, computed lazily by flags.ts. */
export const ARITH_FLAGS = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

// Segment attribute word (VMX "access rights" layout, SDM vol. 3C §24.4.1).
export const ATTR_TYPE = 0xf;
export const ATTR_S = 1 << 4;
export const ATTR_DPL_SHIFT = 5;
export const ATTR_P = 1 << 7;
export const ATTR_AVL = 1 << 12;
export const ATTR_L = 1 << 13;
export const ATTR_DB = 1 << 14;
export const ATTR_G = 1 << 15;
export const ATTR_UNUSABLE = 1 << 16;

// CR0/CR4/EFER bits.
export const CR0_PE = 1 << 0, CR0_MP = 1 << 1, CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_ET = 1 << 4, CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
export const CR4_VME = 1 << 0, CR4_PVI = 1 << 1, CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4, CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6, CR4_PGE = 1 << 7, CR4_PCE = 1 << 8, CR4_OSFXSR = 1 << 9, CR4_OSXMMEXCPT = 1 << 10;
export const EFER_NXE = 1 << 11;

// Exception vectors (SDM vol. 3A §6.3.1).
export const EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6, EXC_NM = 7;
export const EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17;
export const EXC_MC = 18, EXC_XM = 19;

/** A fault or trap raised while executing an instruction. `errorCode` is -1 when the vector has none. */
export class CpuException {
  constructor(
    readonly vector: number,
    readonly errorCode: number = -1,
  ) {}
}

/**
 * Raised for a valid instruction tsxen does not implement: the domain stops with a
 * diagnostic (never a silent wrong result). Invalid opcodes raise #UD instead.
 */
export class UnimplementedInstruction {
  constructor(readonly what: string) {}
}

/** Accessors the core provides for segment-relative memory (segmentation + limit checks + paging). */
export interface SegmentedMemory {
  read8(seg: number, offset: number): number;
  read16(seg: number, offset: number): number;
  read32(seg: number, offset: number): number;
  write8(seg: number, offset: number, value: number): void;
  write16(seg: number, offset: number, value: number): void;
  write32(seg: number, offset: number, value: number): void;
}

export class CpuState {
  // ---- general state -------------------------------------------------------
  readonly regs = new Int32Array(8);
  eip = 0;
  /**
   * EFLAGS bits other than the six arithmetic ones (bit 1 always set). The
   * arithmetic flags live in the lazy-flag fields below; read and write EFLAGS
   * only through flags.ts `readEflags` / `writeEflags`.
   */
  flags = 2;

  // ---- lazy arithmetic flags (owned by flags.ts) ----------------------------
  /** Which operation produced the flags (flags.ts defines the codes). */
  lazyOp = 0;
  lazyResult = 0;
  lazyDst = 0;
  lazySrc = 0;
  /** Arithmetic flags materialised when lazyOp says "none pending". */
  lazyFlags = 0;

  // ---- core execution bookkeeping (owned by the core: decoder, run loop) ----
  /** Set by an instruction to end the current decoded block after it (SMC, mode change, exit). */
  stopBlock = false;
  /** ESP before the current instruction, restored when it faults. */
  savedEsp = 0;
  /** Ring of the last 32 notable events (diagnostics.ts): 5 int32 per entry (kind, eip, a, b, c). */
  readonly eventLog = new Int32Array(32 * 5);
  /** Next slot of eventLog; counts up forever (slot = eventCount & 31). */
  eventCount = 0;
  /** Length of the instruction that produced pendingExit while leaving EIP on it (RDMSR/WRMSR). */
  exitInsnLen = 0;

  // ---- segmentation --------------------------------------------------------
  readonly segSel = new Int32Array(8);
  readonly segBase = new Int32Array(8);
  /** Effective byte limit (already scaled by G). */
  readonly segLimit = new Uint32Array(8);
  /** Attribute word, ATTR_* layout. */
  readonly segAttr = new Int32Array(8);
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0xffff;
  /** Current privilege level: CS.RPL after protected-mode loads, 0 in real mode, 3 in V86. */
  cpl = 0;

  // Mode caches recomputed by `modeChanged()`; the decoder reads these.
  /** CS.D: default operand and address size 32. */
  code32 = false;
  /** SS.B: stack pointer is ESP (else SP). */
  stack32 = false;
  /** CR0.PE && !EFLAGS.VM. */
  protectedMode = false;

  // ---- control, debug and model-specific registers -------------------------
  cr0 = 0x60000010;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  efer = 0;
  readonly dr = new Int32Array(8);
  /** PAE PDPTE cache (SDM vol. 3A §4.4.1), loaded on CR3 writes under PAE paging. Low/high dwords. */
  readonly pdpte = new Int32Array(8);
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  // ---- system (owned by the system files: mmu, segmentation, interrupts, system) ----
  /** Variable and fixed MTRRs and MTRRdefType (0x200-0x20F, 0x250-0x26F, 0x2FF): stored, not interpreted. */
  readonly mtrrs = new Map<number, bigint>();
  /** IA32_PAT, power-on value 0x0007040600070406. */
  pat = 0x0007040600070406n;
  apicBase = 0;
  /** TSC = clock ns * tscPerNs + tscOffset (so WRMSR TSC can move it). */
  tscOffset = 0n;
  /** Guest TSC ticks per nanosecond of the domain clock (1 GHz => 1). */
  tscPerNs = 1;

  // ---- execution state -----------------------------------------------------
  /** In HLT: nothing runs until an unmasked interrupt (or NMI/reset). */
  halted = false;
  /** INTR pin level, driven by the platform's interrupt controller. */
  intrLine = false;
  /** Instructions left in an STI / MOV SS interrupt shadow (SDM vol. 3A §6.8.3). */
  interruptShadow = 0;
  /** Nesting of exception delivery, for #DF / triple-fault escalation (0 = none in progress). */
  deliveringVector = -1;
  /** Set by an instruction that needs the hypervisor (MSR, hypercall, HLT...): run() returns it. */
  pendingExit: VmExit | null = null;
  /** Instructions retired (statistics, benchmark MIPS). */
  instructions = 0;
  /** CPUID policy (KVM_SET_CPUID2 semantics). */
  cpuid: CpuidEntry[] = [];

  /** EIP of the instruction being executed (faults push it; the FPU records it as FIP). */
  insnEip = 0;

  // ---- parts, wired by the Cpu constructor (cpu.ts) ------------------------
  mmu!: Mmu;
  /** Segment-relative memory access with limit checks (the core implements it). */
  smem!: SegmentedMemory;
  fpu!: Fpu;

  constructor(
    readonly memory: GuestMemory,
    readonly ops: VmOps,
    readonly clock: Clock,
  ) {}

  /** Recompute the mode caches after CS, SS, CR0 or EFLAGS.VM change. */
  modeChanged(): void {
    this.code32 = (this.segAttr[CS] & ATTR_DB) !== 0;
    this.stack32 = (this.segAttr[SS] & ATTR_DB) !== 0;
    this.protectedMode = (this.cr0 & CR0_PE) !== 0 && (this.flags & FLAG_VM) === 0;
  }
}
