// XENMEM_* (xen/include/public/memory.h; xen-abi.md §7), 32-bit guest layouts:
// xen_ulong_t, xen_pfn_t and guest handles are 4 bytes there.

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

/** add_to_physmap spaces. */
export const XENMAPSPACE_shared_info = 0;
export const XENMAPSPACE_grant_table = 1;
export const XENMAPSPACE_gmfn = 2;
export const XENMAPSPACE_gmfn_range = 3;
export const XENMAPSPACE_gmfn_foreign = 4;
export const XENMAPSPACE_dev_mmio = 5;
/** OR'd into a grant_table idx: map a status frame (v2 only). */
export const XENMAPIDX_grant_table_status = 0x80000000;

/** struct xen_add_to_physmap, 32-bit: 16 bytes. */
export const XEN_ADD_TO_PHYSMAP_32 = { size: 16, domid: 0, count: 2, space: 4, idx: 8, gpfn: 12 } as const;
/** struct xen_remove_from_physmap, 32-bit: 8 bytes. */
export const XEN_REMOVE_FROM_PHYSMAP_32 = { size: 8, domid: 0, gpfn: 4 } as const;
/** struct xen_memory_reservation, 32-bit: 20 bytes. */
export const XEN_MEMORY_RESERVATION_32 = { size: 20, extentStart: 0, nrExtents: 4, extentOrder: 8, memFlags: 12, domid: 16 } as const;
/** struct xen_memory_map, 32-bit: 8 bytes; entries are 20-byte e820 records. */
export const XEN_MEMORY_MAP_32 = { size: 8, nrEntries: 0, buffer: 4 } as const;
export const E820_ENTRY = { size: 20, addr: 0, size_: 8, type: 16 } as const;
/** xen_pfn_t in an extent list, 32-bit. */
export const XEN_PFN_BYTES_32 = 4;

/** Xen's EDOM (errno.h): add_to_physmap's start extent does not fit its u16 size field. */
export const XEN_EDOM = 33;

/** Largest extent order a domU may ask for (Xen's CONFIG_DOMU_MAX_ORDER). */
export const DOMU_MAX_ORDER = 9;
