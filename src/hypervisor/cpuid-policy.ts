// The CPUID a domain sees: exactly the features the software CPU implements
// (issue: "CPUID leaves describing exactly the features implemented"). Both backends
// receive this table (KVM_SET_CPUID2 semantics).
//
// Vendor choice: AuthenticAMD, family 6 model 2 (a K7-class part). Linux whitelists
// AMD against Meltdown/MDS/L1TF (cpu_vuln_whitelist), so the 686-pae kernel runs
// without page-table isolation (a CR3 switch on every kernel entry) and without a
// VERW on every return to user — both pure overhead for an emulator. Models 6..10
// would make Linux force-enable SSE through MSR_K7_HWCR and 8+ touch MSR_K7_CLK_CTL
// (arch/x86/kernel/cpu/amd.c init_amd_k7), so model 2 keeps those paths off.
// Family 6 gives `uname -m` = i686.

import type { CpuidEntry } from './vcpu/backend.js';

// CPUID.1:EDX feature bits (SDM vol. 2 CPUID, Table 3-11).
export const CPUID1_EDX = {
  FPU: 1 << 0,
  PSE: 1 << 3,
  TSC: 1 << 4,
  MSR: 1 << 5,
  PAE: 1 << 6,
  CX8: 1 << 8,
  APIC: 1 << 9,
  SEP: 1 << 11,
  PGE: 1 << 13,
  CMOV: 1 << 15,
  PAT: 1 << 16,
  FXSR: 1 << 24,
} as const;
/** CPUID.80000001h:EDX bit 20: execute-disable (EFER.NXE) under PAE paging. */
export const CPUID_EXT_EDX_NX = 1 << 20;

const BRAND = 'tsxen virtual i686 CPU';

/** Pack 4 ASCII chars as a little-endian register value. */
function fourcc(s: string): number {
  return (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
}

function brandLeaves(): CpuidEntry[] {
  const text = BRAND.padEnd(48, '\0');
  const out: CpuidEntry[] = [];
  for (let i = 0; i < 3; i++) {
    const chunk = text.slice(i * 16, i * 16 + 16);
    out.push({
      leaf: 0x80000002 + i,
      subleaf: 0,
      indexed: false,
      eax: fourcc(chunk.slice(0, 4)),
      ebx: fourcc(chunk.slice(4, 8)),
      ecx: fourcc(chunk.slice(8, 12)),
      edx: fourcc(chunk.slice(12, 16)),
    });
  }
  return out;
}

export interface CpuidOptions {
  /** A local APIC is present (later: the HVM platform's LAPIC). */
  apic: boolean;
}

/** The CPUID table of an emu-backed i686 domain. */
export function emuCpuidPolicy(opts: CpuidOptions = { apic: false }): CpuidEntry[] {
  const f = CPUID1_EDX;
  let edx = f.FPU | f.PSE | f.TSC | f.MSR | f.PAE | f.CX8 | f.SEP | f.PGE | f.CMOV | f.PAT | f.FXSR;
  if (opts.apic) edx |= f.APIC;
  return [
    // Leaf 0: highest basic leaf 1, vendor "AuthenticAMD" in EBX, EDX, ECX order.
    { leaf: 0, subleaf: 0, indexed: false, eax: 1, ebx: fourcc('Auth'), edx: fourcc('enti'), ecx: fourcc('cAMD') },
    // Leaf 1: family 6, model 2, stepping 0.
    { leaf: 1, subleaf: 0, indexed: false, eax: 0x00000620, ebx: 0, ecx: 0, edx: edx >>> 0 },
    { leaf: 0x80000000, subleaf: 0, indexed: false, eax: 0x80000004, ebx: fourcc('Auth'), edx: fourcc('enti'), ecx: fourcc('cAMD') },
    { leaf: 0x80000001, subleaf: 0, indexed: false, eax: 0x00000620, ebx: 0, ecx: 0, edx: CPUID_EXT_EDX_NX },
    ...brandLeaves(),
  ];
}

export const CPU_BRAND_STRING = BRAND;
