// The CPUID a domain sees: exactly the features its CPU backend implements
// (issue: "CPUID leaves describing exactly the features implemented"), as a
// KVM_SET_CPUID2 table: the i686 set of the software CPU, or for backends that run
// long mode (cpu/kvm) the x86-64 set. A save image records the table, so a domain
// never moves to a backend lacking a feature its guest was shown (domain-save.ts).
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
  CLFSH: 1 << 19,
  MMX: 1 << 23,
  FXSR: 1 << 24,
  SSE: 1 << 25,
  SSE2: 1 << 26,
} as const;
// CPUID.80000001h feature bits (AMD APM vol. 3 E.4.2; SDM vol. 2 CPUID).
/** EDX bit 11: SYSCALL/SYSRET. */
export const CPUID_EXT_EDX_SYSCALL = 1 << 11;
/** EDX bit 29: long mode (x86-64). */
export const CPUID_EXT_EDX_LM = 1 << 29;
/** ECX bit 0: LAHF/SAHF in 64-bit mode. */
export const CPUID_EXT_ECX_LAHF_LM = 1 << 0;
/** CPUID.80000001h:EDX bit 20: execute-disable (EFER.NXE) under PAE paging. */
export const CPUID_EXT_EDX_NX = 1 << 20;

const BRAND = 'tsxen virtual i686 CPU';
const BRAND_64 = 'tsxen virtual x86-64 CPU';

/** Pack 4 ASCII chars as a little-endian register value. */
function fourcc(s: string): number {
  return (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
}

function brandLeaves(brand: string): CpuidEntry[] {
  const text = brand.padEnd(48, '\0');
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
  /**
   * The backend runs x86-64 (cpu/kvm): add what an x86-64 kernel requires on top of the
   * i686 set — MMX, SSE, SSE2 and CLFLUSH (the x86-64 baseline; Linux's
   * required-features for CONFIG_X86_64), long mode, SYSCALL, LAHF/SAHF, and leaf
   * 0x80000008's address sizes. The brand string says so.
   */
  longMode?: boolean;
}

/** The CPUID table of a domain: the i686 set the software CPU implements, or with longMode the x86-64 set (cpu/kvm). */
export function domainCpuidPolicy(opts: CpuidOptions = { apic: false }): CpuidEntry[] {
  const f = CPUID1_EDX;
  let edx = f.FPU | f.PSE | f.TSC | f.MSR | f.PAE | f.CX8 | f.SEP | f.PGE | f.CMOV | f.PAT | f.FXSR;
  if (opts.apic) edx |= f.APIC;
  const long = opts.longMode === true;
  if (long) edx |= f.MMX | f.SSE | f.SSE2 | f.CLFSH;
  // Leaf 1 EBX bits 15:8: the CLFLUSH line size in 8-byte units (64 bytes).
  const ebx1 = long ? 8 << 8 : 0;
  const extEdx = long ? CPUID_EXT_EDX_NX | CPUID_EXT_EDX_LM | CPUID_EXT_EDX_SYSCALL : CPUID_EXT_EDX_NX;
  return [
    // Leaf 0: highest basic leaf 1, vendor "AuthenticAMD" in EBX, EDX, ECX order.
    { leaf: 0, subleaf: 0, indexed: false, eax: 1, ebx: fourcc('Auth'), edx: fourcc('enti'), ecx: fourcc('cAMD') },
    // Leaf 1: family 6, model 2, stepping 0.
    { leaf: 1, subleaf: 0, indexed: false, eax: 0x00000620, ebx: ebx1, ecx: 0, edx: edx >>> 0 },
    { leaf: 0x80000000, subleaf: 0, indexed: false, eax: long ? 0x80000008 : 0x80000004, ebx: fourcc('Auth'), edx: fourcc('enti'), ecx: fourcc('cAMD') },
    { leaf: 0x80000001, subleaf: 0, indexed: false, eax: 0x00000620, ebx: 0, ecx: long ? CPUID_EXT_ECX_LAHF_LM : 0, edx: extEdx >>> 0 },
    ...brandLeaves(long ? BRAND_64 : BRAND),
    // 0x80000008 EAX: linear address bits 15:8 = 48, physical 7:0 = 36 (what PAE allows;
    // tsxen's guests have less than 4 GiB, and no host has fewer).
    ...(long ? [{ leaf: 0x80000008, subleaf: 0, indexed: false, eax: (48 << 8) | 36, ebx: 0, ecx: 0, edx: 0 }] : []),
  ];
}

export const CPU_BRAND_STRING = BRAND;

// ---- named feature flags (xl.cfg `cpuid = "host,<flag>=0,..."`, libxl's names) ----------

type CpuidRegister = 'eax' | 'ebx' | 'ecx' | 'edx';

/** The feature flags a policy can show, by libxl's names (libxl_cpuid.c's flag table; SDM/APM CPUID bits). */
export const CPUID_FLAGS: Readonly<Record<string, { leaf: number; reg: CpuidRegister; bit: number }>> = {
  fpu: { leaf: 1, reg: 'edx', bit: 0 },
  pse: { leaf: 1, reg: 'edx', bit: 3 },
  tsc: { leaf: 1, reg: 'edx', bit: 4 },
  msr: { leaf: 1, reg: 'edx', bit: 5 },
  pae: { leaf: 1, reg: 'edx', bit: 6 },
  cx8: { leaf: 1, reg: 'edx', bit: 8 },
  apic: { leaf: 1, reg: 'edx', bit: 9 },
  sysenter: { leaf: 1, reg: 'edx', bit: 11 },
  pge: { leaf: 1, reg: 'edx', bit: 13 },
  cmov: { leaf: 1, reg: 'edx', bit: 15 },
  pat: { leaf: 1, reg: 'edx', bit: 16 },
  clfsh: { leaf: 1, reg: 'edx', bit: 19 },
  mmx: { leaf: 1, reg: 'edx', bit: 23 },
  fxsr: { leaf: 1, reg: 'edx', bit: 24 },
  sse: { leaf: 1, reg: 'edx', bit: 25 },
  sse2: { leaf: 1, reg: 'edx', bit: 26 },
  lahfsahf: { leaf: 0x80000001, reg: 'ecx', bit: 0 },
  syscall: { leaf: 0x80000001, reg: 'edx', bit: 11 },
  nx: { leaf: 0x80000001, reg: 'edx', bit: 20 },
  lm: { leaf: 0x80000001, reg: 'edx', bit: 29 },
};

function flagSet(policy: readonly CpuidEntry[], name: string): boolean {
  const f = CPUID_FLAGS[name];
  const e = policy.find((x) => x.leaf === f.leaf && (!x.indexed || x.subleaf === 0));
  return e !== undefined && ((e[f.reg] >>> f.bit) & 1) === 1;
}

/** The named flags `policy` shows. */
export function cpuidFlags(policy: readonly CpuidEntry[]): string[] {
  return Object.keys(CPUID_FLAGS).filter((name) => flagSet(policy, name));
}

/**
 * `policy` without the named flags (xl.cfg cpuid's "<flag>=0"). Hiding lm also lowers the
 * top extended leaf to 0x80000004, as an i686 part has (0x80000008 describes x86-64 address sizes).
 */
export function hideCpuidFlags(policy: readonly CpuidEntry[], names: readonly string[]): CpuidEntry[] {
  const out = policy.map((e) => ({ ...e }));
  for (const name of names) {
    const f = CPUID_FLAGS[name];
    if (!f) throw new RangeError(`unknown CPUID flag "${name}" (known: ${Object.keys(CPUID_FLAGS).join(', ')})`);
    for (const e of out) if (e.leaf === f.leaf) e[f.reg] = (e[f.reg] & ~(1 << f.bit)) >>> 0;
  }
  if (names.includes('lm')) {
    const top = out.find((e) => e.leaf === 0x80000000);
    if (top && top.eax > 0x80000004) top.eax = 0x80000004;
    return out.filter((e) => !(e.leaf > 0x80000004 && e.leaf <= 0x8000ffff));
  }
  return out;
}

/** Flags a guest was shown (`saved`) that `current` lacks: a domain must not move where they are missing. */
export function missingCpuidFlags(saved: readonly CpuidEntry[], current: readonly CpuidEntry[]): string[] {
  const have = new Set(cpuidFlags(current));
  return cpuidFlags(saved).filter((name) => !have.has(name));
}

/** What the x86-64 table shows beyond the software CPU's: cpuid = "host,<each>=0" pins a KVM domain to the emu's set. */
export const X86_64_ONLY_FLAGS: readonly string[] = missingCpuidFlags(domainCpuidPolicy({ apic: true, longMode: true }), domainCpuidPolicy({ apic: true }));
