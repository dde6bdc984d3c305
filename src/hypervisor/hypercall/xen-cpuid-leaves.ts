// The hypervisor CPUID leaves an HVM guest reads to find Xen (reference/xen-abi.md
// §1; xen/arch/x86/cpuid.c cpuid_hypervisor_leaves): signature, version, where the
// hypercall page MSR is, TSC parameters and the HVM leaf. SeaBIOS (xen_preinit)
// and Linux scan 0x40000000, 0x40000100, ... for "XenVMMXenVMM".

import type { CpuidEntry } from '../vcpu/backend.js';
import {
  CPUID1_ECX_HYPERVISOR,
  XEN_CPUID_BASE,
  XEN_CPUID_BASE_VIRIDIAN,
  XEN_CPUID_LEAF_HVM,
  XEN_CPUID_LEAF_HYPERCALL,
  XEN_CPUID_LEAF_PV,
  XEN_CPUID_LEAF_SIGNATURE,
  XEN_CPUID_LEAF_TIME,
  XEN_CPUID_LEAF_VERSION,
  XEN_CPUID_MAX_NUM_LEAVES,
  XEN_CPUID_SIGNATURE_EBX,
  XEN_CPUID_SIGNATURE_ECX,
  XEN_CPUID_SIGNATURE_EDX,
  XEN_CPUID_TSC_MODE_DEFAULT,
  XEN_HVM_CPUID_DOMID_PRESENT,
  XEN_HVM_CPUID_VCPU_ID_PRESENT,
  XEN_MSR_HYPERCALL_PAGE,
  XEN_MSR_HYPERCALL_PAGE_VIRIDIAN,
} from '../../abi/xen-cpuid.js';

/** The Xen version tsxen advertises (CPUID base+1 and XENVER_version). Linux wants major >= 4. */
export const XEN_VERSION_MAJOR = 4;
export const XEN_VERSION_MINOR = 17;

export interface XenCpuidOptions {
  /** Viridian leaves occupy 0x40000000: Xen's block moves to 0x40000100 (and its MSR to 0x40000200). */
  viridian?: boolean;
  /** Reported in the HVM leaf (EBX) with XEN_HVM_CPUID_VCPU_ID_PRESENT. */
  vcpuId?: number;
  /** Reported in the HVM leaf (ECX) with XEN_HVM_CPUID_DOMID_PRESENT. */
  domId?: number;
  /** Guest TSC frequency in kHz (the software CPU ticks 1 GHz: 1 TSC per ns). */
  tscKhz?: number;
  version?: { major: number; minor: number };
}

/** First leaf of Xen's block for this domain. */
export function xenCpuidBase(viridian = false): number {
  return viridian ? XEN_CPUID_BASE_VIRIDIAN : XEN_CPUID_BASE;
}

/** The hypercall-page MSR index for this domain (CPUID base+2 EBX). */
export function xenHypercallMsr(viridian = false): number {
  return viridian ? XEN_MSR_HYPERCALL_PAGE_VIRIDIAN : XEN_MSR_HYPERCALL_PAGE;
}

/**
 * Xen's tsc->ns scale (vcpu_time_info's mul_frac and shift): ns = ((tsc << shift) *
 * mul_frac) >> 32 with shift negative meaning a right shift. Normalise the
 * frequency into (1e9, 2e9] by halving or doubling, then mul_frac = 1e9 * 2^32 / that.
 */
export function tscToNsScale(tscHz: number): { mulFrac: number; shift: number } {
  let hz = Math.max(1, Math.floor(tscHz));
  let shift = 0;
  while (hz > 2e9) {
    hz = Math.floor(hz / 2);
    shift--;
  }
  while (hz <= 1e9) {
    hz *= 2;
    shift++;
  }
  const mulFrac = Number((1_000_000_000n << 32n) / BigInt(hz));
  return { mulFrac, shift };
}

function leaf(l: number, eax: number, ebx = 0, ecx = 0, edx = 0): CpuidEntry {
  return { leaf: l >>> 0, subleaf: 0, indexed: false, eax: eax >>> 0, ebx: ebx >>> 0, ecx: ecx >>> 0, edx: edx >>> 0 };
}
function subleaf(l: number, sub: number, eax: number, ebx = 0, ecx = 0, edx = 0): CpuidEntry {
  return { ...leaf(l, eax, ebx, ecx, edx), subleaf: sub, indexed: true };
}

/**
 * Xen's leaves as an HVM guest with no optional feature sees them. Time leaf: TSC
 * not emulated, mode default, no RDTSCP (the CPU policy has none); HVM leaf: only
 * the vCPU and domain ids (no APIC virtualisation, no IOMMU, no per-vCPU upcall
 * vector, so Linux picks the domain-wide callback, xen-abi.md §1).
 * Sub-leaves Xen leaves empty (time 3+, HVM 1+) read as zeros through `indexed`.
 */
export function xenCpuidLeaves(opts: XenCpuidOptions = {}): CpuidEntry[] {
  const base = xenCpuidBase(opts.viridian);
  const version = opts.version ?? { major: XEN_VERSION_MAJOR, minor: XEN_VERSION_MINOR };
  const tscKhz = opts.tscKhz ?? 1_000_000;
  const scale = tscToNsScale(tscKhz * 1000);
  const hvmFlags = XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT;
  return [
    leaf(base + XEN_CPUID_LEAF_SIGNATURE, base + XEN_CPUID_MAX_NUM_LEAVES, XEN_CPUID_SIGNATURE_EBX, XEN_CPUID_SIGNATURE_ECX, XEN_CPUID_SIGNATURE_EDX),
    leaf(base + XEN_CPUID_LEAF_VERSION, ((version.major & 0xffff) << 16) | (version.minor & 0xffff)),
    // One hypercall page; ECX feature word is PV-only (MMU_PT_UPDATE_PRESERVE_AD).
    leaf(base + XEN_CPUID_LEAF_HYPERCALL, 1, xenHypercallMsr(opts.viridian)),
    subleaf(base + XEN_CPUID_LEAF_TIME, 0, 0, XEN_CPUID_TSC_MODE_DEFAULT, tscKhz, 0),
    subleaf(base + XEN_CPUID_LEAF_TIME, 1, 0, 0, scale.mulFrac, scale.shift),
    subleaf(base + XEN_CPUID_LEAF_TIME, 2, tscKhz),
    subleaf(base + XEN_CPUID_LEAF_HVM, 0, hvmFlags, opts.vcpuId ?? 0, opts.domId ?? 0),
    // PV-only parameters: empty for HVM, but inside the reported range.
    subleaf(base + XEN_CPUID_LEAF_PV, 0, 0),
  ];
}

/**
 * A domain's CPUID policy with Xen's leaves appended and CPUID.1:ECX bit 31
 * ("hypervisor present") set, as Xen does for every HVM guest. The input is not
 * modified; leaves already in Xen's block are replaced.
 */
export function withXenLeaves(policy: readonly CpuidEntry[], opts: XenCpuidOptions = {}): CpuidEntry[] {
  const base = xenCpuidBase(opts.viridian);
  const inBlock = (l: number) => l >>> 0 >= base && l >>> 0 <= base + 0xff;
  const out = policy.filter((e) => !inBlock(e.leaf)).map((e) => (e.leaf === 1 ? { ...e, ecx: (e.ecx | CPUID1_ECX_HYPERVISOR) >>> 0 } : { ...e }));
  return [...out, ...xenCpuidLeaves(opts)];
}
