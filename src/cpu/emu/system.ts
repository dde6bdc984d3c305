// System instructions: control/debug registers, MSRs, CPUID, TSC, SYSENTER/SYSEXIT
// (SDM vol. 2; vol. 3A ch. 2 "System Architecture Overview", §2.5 control
// registers, §4.10.4 TLB invalidation; vol. 4 "Model-Specific Registers").
//
// CONTRACT: privilege checks (CPL 0) are done here; failures throw CpuException.

import { readEflags, writeEflags } from './flags.js';
import {
  CpuException,
  CR0_CD,
  CR0_ET,
  CR0_NW,
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_DE,
  CR4_MCE,
  CR4_OSFXSR,
  CR4_OSXMMEXCPT,
  CR4_PAE,
  CR4_PCE,
  CR4_PGE,
  CR4_PSE,
  CR4_TSD,
  CS,
  ECX,
  EDX,
  EFER_NXE,
  ESP,
  EXC_GP,
  EXC_UD,
  FLAG_IF,
  FLAG_RF,
  FLAG_VM,
  SS,
  type CpuState,
} from './state.js';
import { loadPdptes } from './page-walk.js';
import { loadFlat } from './descriptors.js';

/** CR0 bits that exist on a P6 (SDM §2.5); the others are reserved and ignored on writes. */
const CR0_DEFINED = 0xe005003f;
/** CR4 bits this CPU implements (no VME/PVI, no SMEP/SMAP...); setting others => #GP(0). */
const CR4_SUPPORTED = CR4_PSE | CR4_PAE | CR4_PGE | CR4_TSD | CR4_DE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_MCE;
/** CR0 changes that alter translations cached in the TLB (paging on/off; WP is baked into write entries). */
const CR0_TLB_BITS = CR0_PG | CR0_WP;
/** CR4 changes after which PDPTEs reload and the whole TLB (global too) is flushed (SDM §4.4.1, §4.10.4.1). */
const CR4_PAGING_BITS = CR4_PAE | CR4_PGE | CR4_PSE;

// MSR indices (SDM vol. 4 Table 2-2).
export const MSR_TSC = 0x10;
export const MSR_PLATFORM_ID = 0x17;
export const MSR_APIC_BASE = 0x1b;
export const MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_EFER = 0xc0000080;

function requireCpl0(cpu: CpuState): void {
  if (cpu.cpl !== 0) throw new CpuException(EXC_GP, 0);
}

function paePaging(cr0: number, cr4: number): boolean {
  return (cr0 & CR0_PG) !== 0 && (cr4 & CR4_PAE) !== 0;
}

export function readCr(cpu: CpuState, n: number): number {
  requireCpl0(cpu);
  switch (n) {
    case 0:
      return cpu.cr0 | CR0_ET;
    case 2:
      return cpu.cr2;
    case 3:
      return cpu.cr3;
    case 4:
      return cpu.cr4;
    default:
      throw new CpuException(EXC_UD);
  }
}

/** MOV CRn, r32 with all checks; flushes the TLB / reloads PDPTEs as needed. */
export function writeCr(cpu: CpuState, n: number, value: number): void {
  requireCpl0(cpu);
  value |= 0;
  switch (n) {
    case 0:
      writeCr0(cpu, value);
      return;
    case 2:
      cpu.cr2 = value;
      return;
    case 3:
      // PAE: the PDPTEs load first; a reserved bit => #GP(0) with CR3 unchanged.
      if (paePaging(cpu.cr0, cpu.cr4)) loadPdptes(cpu, value);
      cpu.cr3 = value;
      cpu.mmu.flush(false);
      return;
    case 4:
      writeCr4(cpu, value);
      return;
    default:
      throw new CpuException(EXC_UD);
  }
}

function writeCr0(cpu: CpuState, value: number): void {
  value = (value & CR0_DEFINED) | CR0_ET;
  if ((value & CR0_PG) !== 0 && (value & CR0_PE) === 0) throw new CpuException(EXC_GP, 0);
  if ((value & CR0_NW) !== 0 && (value & CR0_CD) === 0) throw new CpuException(EXC_GP, 0);
  const changed = value ^ cpu.cr0;
  // SDM §4.4.1: PDPTEs load when PG/CD/NW change with PAE paging resulting.
  if (paePaging(value, cpu.cr4) && (changed & (CR0_PG | CR0_CD | CR0_NW)) !== 0) loadPdptes(cpu, cpu.cr3);
  cpu.cr0 = value;
  if ((changed & CR0_TLB_BITS) !== 0) cpu.mmu.flush(true);
  if ((value & CR0_PE) === 0) cpu.cpl = 0;
  cpu.modeChanged();
}

function writeCr4(cpu: CpuState, value: number): void {
  if ((value & ~CR4_SUPPORTED) !== 0) throw new CpuException(EXC_GP, 0);
  const changed = value ^ cpu.cr4;
  if (paePaging(cpu.cr0, value) && (changed & CR4_PAGING_BITS) !== 0) loadPdptes(cpu, cpu.cr3);
  cpu.cr4 = value;
  if ((changed & CR4_PAGING_BITS) !== 0) cpu.mmu.flush(true);
}

/** DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD); SDM §17.2.2. */
function debugRegisterIndex(cpu: CpuState, n: number): number {
  if (n === 4 || n === 5) {
    if ((cpu.cr4 & CR4_DE) !== 0) throw new CpuException(EXC_UD);
    return n + 2;
  }
  if (n < 0 || n > 7) throw new CpuException(EXC_UD);
  return n;
}

export function readDr(cpu: CpuState, n: number): number {
  requireCpl0(cpu);
  const i = debugRegisterIndex(cpu, n);
  // DR6/DR7 fixed bits (SDM §17.2.3, §17.2.4): DR6 bits 31:16 and 11:4 read 1 on P6, DR7 bit 10 reads 1.
  if (i === 6) return cpu.dr[6] | 0xffff0ff0;
  if (i === 7) return cpu.dr[7] | 0x400;
  return cpu.dr[i];
}

export function writeDr(cpu: CpuState, n: number, value: number): void {
  requireCpl0(cpu);
  cpu.dr[debugRegisterIndex(cpu, n)] = value | 0;
}

/** Memory types valid in a PAT entry: UC WC WT WP WB UC- (SDM §11.12.2). */
export function validPat(value: bigint): boolean {
  for (let i = 0n; i < 8n; i++) {
    const t = Number((value >> (8n * i)) & 0xffn);
    if (t !== 0 && t !== 1 && t !== 4 && t !== 5 && t !== 6 && t !== 7) return false;
  }
  return true;
}

function isMtrr(index: number): boolean {
  return index === MSR_MTRR_DEF_TYPE || (index >= 0x200 && index <= 0x20f) || (index >= 0x250 && index <= 0x26f);
}

function tscWithoutOffset(cpu: CpuState): bigint {
  return BigInt(Math.floor(cpu.clock.nowNs() * cpu.tscPerNs));
}

/**
 * RDMSR: the value, or `undefined` for an MSR the CPU does not own (the core then
 * returns an `msr` exit for the hypervisor to answer).
 */
export function readMsr(cpu: CpuState, index: number): bigint | undefined {
  requireCpl0(cpu);
  index >>>= 0;
  switch (index) {
    case MSR_TSC:
      return readTsc(cpu);
    case MSR_PLATFORM_ID:
    case MSR_BIOS_SIGN_ID:
    case MSR_MTRRCAP:
      return 0n;
    case MSR_SYSENTER_CS:
      return BigInt(cpu.sysenterCs >>> 0);
    case MSR_SYSENTER_ESP:
      return BigInt(cpu.sysenterEsp >>> 0);
    case MSR_SYSENTER_EIP:
      return BigInt(cpu.sysenterEip >>> 0);
    case MSR_PAT:
      return cpu.pat;
    case MSR_EFER:
      return BigInt(cpu.efer >>> 0);
  }
  if (isMtrr(index)) return cpu.mtrrs.get(index) ?? 0n;
  return undefined;
}

/** WRMSR: true if handled; false for an MSR the CPU does not own (→ `msr` exit). Throws #GP for bad values. */
export function writeMsr(cpu: CpuState, index: number, value: bigint): boolean {
  requireCpl0(cpu);
  index >>>= 0;
  value = BigInt.asUintN(64, value);
  switch (index) {
    case MSR_TSC:
      cpu.tscOffset = value - tscWithoutOffset(cpu);
      return true;
    case MSR_BIOS_SIGN_ID:
      // Writing 0 before CPUID(1) is how microcode revision is read back; accept and keep reading 0.
      return true;
    case MSR_SYSENTER_CS:
      cpu.sysenterCs = Number(value & 0xffffffffn) | 0;
      return true;
    case MSR_SYSENTER_ESP:
      cpu.sysenterEsp = Number(value & 0xffffffffn) | 0;
      return true;
    case MSR_SYSENTER_EIP:
      cpu.sysenterEip = Number(value & 0xffffffffn) | 0;
      return true;
    case MSR_PAT:
      if (!validPat(value)) throw new CpuException(EXC_GP, 0);
      cpu.pat = value;
      return true;
    case MSR_EFER: {
      if ((value & ~BigInt(EFER_NXE)) !== 0n) throw new CpuException(EXC_GP, 0);
      const efer = Number(value);
      // NXE turns bit 63 of PAE entries from reserved into XD: cached rights change.
      if (((efer ^ cpu.efer) & EFER_NXE) !== 0) cpu.mmu.flush(true);
      cpu.efer = efer;
      return true;
    }
  }
  if (isMtrr(index)) {
    cpu.mtrrs.set(index, value);
    return true;
  }
  return false;
}

/**
 * CPUID from the policy table (KVM_SET_CPUID2 semantics): indexed leaves match
 * the subleaf, others ignore it; a leaf in a range (basic 0..., hypervisor
 * 0x40000000..., extended 0x80000000...) above that range's maximum returns
 * the highest basic leaf, as Intel CPUs do (SDM vol. 2 CPUID, "If a value
 * entered for CPUID.EAX is higher than the maximum input value"); a leaf inside
 * the range but absent from the table reads as zeros.
 */
export function cpuidLookup(cpu: CpuState, leaf: number, subleaf: number): [number, number, number, number] {
  leaf >>>= 0;
  subleaf >>>= 0;
  let e = findLeaf(cpu, leaf, subleaf);
  if (!e) {
    const base = (leaf & 0xf0000000) === 0x80000000 ? 0x80000000 : (leaf & 0xf0000000) === 0x40000000 ? 0x40000000 : 0;
    const rangeMax = findLeaf(cpu, base, 0);
    const basicMax = findLeaf(cpu, 0, 0);
    const inRange = rangeMax !== undefined && leaf <= rangeMax.eax >>> 0;
    if (!inRange && basicMax) e = findLeaf(cpu, basicMax.eax >>> 0, subleaf);
  }
  return e ? [e.eax | 0, e.ebx | 0, e.ecx | 0, e.edx | 0] : [0, 0, 0, 0];
}

function findLeaf(cpu: CpuState, leaf: number, subleaf: number) {
  for (const e of cpu.cpuid) {
    if (e.leaf >>> 0 === leaf && (!e.indexed || e.subleaf >>> 0 === subleaf)) return e;
  }
  return undefined;
}

/** Make the TSC read `value` now, counting on from there (a restored vCPU state continues from its saved TSC). */
export function setTsc(cpu: CpuState, value: bigint): void {
  cpu.tscOffset = BigInt.asUintN(64, value) - tscWithoutOffset(cpu);
}

/** The current TSC value. */
export function readTsc(cpu: CpuState): bigint {
  return BigInt.asUintN(64, tscWithoutOffset(cpu) + cpu.tscOffset);
}

/** RDTSC privilege rule: CR4.TSD at CPL > 0 => #GP(0). */
export function checkRdtsc(cpu: CpuState): void {
  if ((cpu.cr4 & CR4_TSD) !== 0 && cpu.cpl !== 0 && (cpu.cr0 & CR0_PE) !== 0) throw new CpuException(EXC_GP, 0);
}

/** SYSENTER (SDM vol. 2): flat CPL-0 CS/SS from IA32_SYSENTER_CS, ESP/EIP from the MSRs; clears VM IF RF. */
export function sysenter(cpu: CpuState): void {
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.sysenterCs & 0xfffc) === 0) throw new CpuException(EXC_GP, 0);
  writeEflags(cpu, readEflags(cpu) & ~(FLAG_VM | FLAG_IF | FLAG_RF));
  cpu.cpl = 0;
  loadFlat(cpu, CS, cpu.sysenterCs & 0xfffc, true, 0);
  loadFlat(cpu, SS, (cpu.sysenterCs + 8) & 0xfffc, false, 0);
  cpu.regs[ESP] = cpu.sysenterEsp;
  cpu.eip = cpu.sysenterEip;
  cpu.modeChanged();
}

/** SYSEXIT (SDM vol. 2): flat CPL-3 CS = MSR+16, SS = MSR+24; EIP = EDX, ESP = ECX. */
export function sysexit(cpu: CpuState): void {
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.flags & FLAG_VM) !== 0 || cpu.cpl !== 0 || (cpu.sysenterCs & 0xfffc) === 0) {
    throw new CpuException(EXC_GP, 0);
  }
  cpu.cpl = 3;
  loadFlat(cpu, CS, ((cpu.sysenterCs + 16) & 0xfffc) | 3, true, 3);
  loadFlat(cpu, SS, ((cpu.sysenterCs + 24) & 0xfffc) | 3, false, 3);
  cpu.regs[ESP] = cpu.regs[ECX];
  cpu.eip = cpu.regs[EDX];
  cpu.modeChanged();
}

/**
 * After CR0/CR3/CR4 were set directly (KVM_SET_SREGS-style restore, not MOV CR):
 * reload the PAE PDPTEs when PAE paging is on and drop the whole TLB. Returns
 * false when a present PDPTE has reserved bits (the PDPTEs are then left as they were).
 */
export function reloadPagingState(cpu: CpuState): boolean {
  let ok = true;
  if (paePaging(cpu.cr0, cpu.cr4)) {
    try {
      loadPdptes(cpu, cpu.cr3);
    } catch (e) {
      if (!(e instanceof CpuException)) throw e;
      ok = false;
    }
  }
  cpu.mmu.flush(true);
  return ok;
}
