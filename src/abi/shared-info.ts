// shared_info and vcpu_info (xen/include/public/xen.h with arch-x86/xen-x86_32.h
// and xen-x86_64.h; xen-abi.md §4.1). Which layout a domain's page has is Xen's
// per-domain has_32bit_shinfo (default 64-bit), latched from the guest's mode.

import type { ByWidth } from './guest-width.js';

/** vcpu_info slots inside shared_info (XEN_LEGACY_MAX_VCPUS). */
export const XEN_LEGACY_MAX_VCPUS = 32;
export const VCPU_INFO_SIZE = 64;

/** vcpu_info fields (32-bit). */
export const VCPU_INFO_32 = {
  upcallPending: 0, // u8
  upcallMask: 1, // u8
  pendingSel: 4, // xen_ulong_t (u32)
  arch: 8, // arch_vcpu_info {cr2, pad[5]}
  time: 32, // vcpu_time_info, 32 bytes
} as const;

/** vcpu_time_info (same on 32 and 64). */
export const VCPU_TIME_INFO = {
  size: 32,
  version: 0, // u32
  tscTimestamp: 8, // u64
  systemTime: 16, // u64
  tscToSystemMul: 24, // u32
  tscShift: 28, // i8
  flags: 29, // u8
} as const;

/** shared_info fields (32-bit). */
export const SHARED_INFO_32 = {
  vcpuInfo: 0,
  evtchnPending: 2048, // 32 x u32
  evtchnMask: 2176, // 32 x u32
  wcVersion: 2304,
  wcSec: 2308,
  wcNsec: 2312,
  arch: 2316, // max_pfn, pfn_to_mfn_frame_list_list, nmi_reason, p2m_cr3, p2m_vaddr, p2m_generation (4 B each)
  wcSecHi: 2340,
  size: 2344,
} as const;

/** Bits per evtchn_pending word / selector bit for a 32-bit guest. */
export const EVTCHN_WORD_BITS_32 = 32;

/** vcpu_info fields (64-bit): evtchn_pending_sel is a u64 at 8; time stays at 32. */
export const VCPU_INFO_64 = {
  upcallPending: 0,
  upcallMask: 1,
  pendingSel: 8,
  arch: 16,
  time: 32,
} as const;

/**
 * shared_info fields (64-bit): 64 x u64 pending and mask words (4096 ports),
 * wc_sec_hi right after wc_nsec, arch_shared_info 8-byte fields from 3088.
 */
export const SHARED_INFO_64 = {
  vcpuInfo: 0,
  evtchnPending: 2048,
  evtchnMask: 2560,
  wcVersion: 3072,
  wcSec: 3076,
  wcNsec: 3080,
  wcSecHi: 3084,
  arch: 3088,
  size: 3136,
} as const;

/** The layouts a page may have, by width; `wordBits` = bits per pending word and per selector bit (xen_ulong_t). */
export const SHARED_INFO_LAYOUT: ByWidth<{ shared: typeof SHARED_INFO_32 | typeof SHARED_INFO_64; vcpu: typeof VCPU_INFO_32 | typeof VCPU_INFO_64; wordBits: number; ports: number }> = {
  4: { shared: SHARED_INFO_32, vcpu: VCPU_INFO_32, wordBits: 32, ports: 1024 },
  8: { shared: SHARED_INFO_64, vcpu: VCPU_INFO_64, wordBits: 64, ports: 4096 },
};

/** vcpu_time_info.flags (xen.h XEN_PVCLOCK_*): the TSC is stable across vCPUs; the guest was stopped. */
export const XEN_PVCLOCK_TSC_STABLE_BIT = 1;
export const XEN_PVCLOCK_GUEST_STOPPED = 2;
