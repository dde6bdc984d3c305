// XENMEM_* (xen/include/public/memory.h; xen-abi.md §7) with each struct's
// 32-bit and 64-bit layout (guest-width.ts): xen_ulong_t, xen_pfn_t and guest
// handles are 4 bytes for a 32-bit caller, 8 for a 64-bit one.

import type { ByWidth } from './guest-width.js';

/** cmd bits 5:0 are the op; bits 6+ carry a continuation's start extent. */
export const MEMOP_CMD_MASK = 0x3f;
export const MEMOP_EXTENT_SHIFT = 6;

export const XENMEM_increase_reservation = 0;
export const XENMEM_decrease_reservation = 1;
export const XENMEM_maximum_ram_page = 2;
export const XENMEM_current_reservation = 3;
export const XENMEM_maximum_reservation = 4;
export const XENMEM_machphys_mfn_list = 5;
export const XENMEM_populate_physmap = 6;
export const XENMEM_add_to_physmap = 7;
export const XENMEM_memory_map = 9;
export const XENMEM_machine_memory_map = 10;
export const XENMEM_machphys_mapping = 12;
export const XENMEM_maximum_gpfn = 14;
export const XENMEM_remove_from_physmap = 15;
export const XENMEM_add_to_physmap_batch = 23;

/** add_to_physmap spaces. */
export const XENMAPSPACE_shared_info = 0;
export const XENMAPSPACE_grant_table = 1;
export const XENMAPSPACE_gmfn = 2;
export const XENMAPSPACE_gmfn_range = 3;
export const XENMAPSPACE_gmfn_foreign = 4;
export const XENMAPSPACE_dev_mmio = 5;
/** OR'd into a grant_table idx: map a status frame (v2 only). */
export const XENMAPIDX_grant_table_status = 0x80000000;

/** struct xen_add_to_physmap: domid u16, size u16, space u32, idx xen_ulong_t, gpfn xen_pfn_t. */
export const XEN_ADD_TO_PHYSMAP: ByWidth<{ size: number; domid: number; count: number; space: number; idx: number; gpfn: number }> = {
  4: { size: 16, domid: 0, count: 2, space: 4, idx: 8, gpfn: 12 },
  8: { size: 24, domid: 0, count: 2, space: 4, idx: 8, gpfn: 16 },
};
/**
 * struct xen_add_to_physmap_batch: domid u16, space u16, size u16, u (foreign_domid
 * u16), then handles idxs (xen_ulong_t[]), gpfns (xen_pfn_t[]), errs (int[]).
 */
export const XEN_ADD_TO_PHYSMAP_BATCH: ByWidth<{ size: number; domid: number; space: number; count: number; foreignDomid: number; idxs: number; gpfns: number; errs: number }> = {
  4: { size: 20, domid: 0, space: 2, count: 4, foreignDomid: 6, idxs: 8, gpfns: 12, errs: 16 },
  8: { size: 32, domid: 0, space: 2, count: 4, foreignDomid: 6, idxs: 8, gpfns: 16, errs: 24 },
};
/** struct xen_remove_from_physmap: domid u16, gpfn xen_pfn_t. */
export const XEN_REMOVE_FROM_PHYSMAP: ByWidth<{ size: number; domid: number; gpfn: number }> = {
  4: { size: 8, domid: 0, gpfn: 4 },
  8: { size: 16, domid: 0, gpfn: 8 },
};
/** struct xen_memory_reservation: extent_start handle, nr_extents xen_ulong_t, extent_order u32, mem_flags u32, domid u16. */
export const XEN_MEMORY_RESERVATION: ByWidth<{ size: number; extentStart: number; nrExtents: number; extentOrder: number; memFlags: number; domid: number }> = {
  4: { size: 20, extentStart: 0, nrExtents: 4, extentOrder: 8, memFlags: 12, domid: 16 },
  8: { size: 32, extentStart: 0, nrExtents: 8, extentOrder: 16, memFlags: 20, domid: 24 },
};
/** struct xen_memory_map: nr_entries u32, buffer handle; entries are 20-byte e820 records. */
export const XEN_MEMORY_MAP: ByWidth<{ size: number; nrEntries: number; buffer: number }> = {
  4: { size: 8, nrEntries: 0, buffer: 4 },
  8: { size: 16, nrEntries: 0, buffer: 8 },
};
export const E820_ENTRY = { size: 20, addr: 0, size_: 8, type: 16 } as const;

/** Xen's EDOM (errno.h): add_to_physmap's start extent does not fit its u16 size field. */
export const XEN_EDOM = 33;

/** Largest extent order a domU may ask for (Xen's CONFIG_DOMU_MAX_ORDER). */
export const DOMU_MAX_ORDER = 9;
