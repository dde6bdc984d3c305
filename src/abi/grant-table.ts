// Grant table ABI v1 (xen/include/public/grant_table.h): sub-ops, entry flags,
// map flags, per-op status codes and the 32-bit argument layouts.

import type { ByWidth } from './guest-width.js';

export const GNTTABOP_map_grant_ref = 0;
export const GNTTABOP_unmap_grant_ref = 1;
export const GNTTABOP_setup_table = 2;
export const GNTTABOP_dump_table = 3;
export const GNTTABOP_transfer = 4;
export const GNTTABOP_copy = 5;
export const GNTTABOP_query_size = 6;
export const GNTTABOP_unmap_and_replace = 7;
export const GNTTABOP_set_version = 8;
export const GNTTABOP_get_status_frames = 9;
export const GNTTABOP_get_version = 10;
export const GNTTABOP_swap_grant_ref = 11;
export const GNTTABOP_cache_flush = 12;

/** grant_entry_v1 (8 bytes): flags u16, domid u16, frame u32. */
export const GRANT_ENTRY_V1 = { size: 8, flags: 0, domid: 2, frame: 4 } as const;
export const GRANT_ENTRIES_PER_FRAME_V1 = 4096 / 8;
/** Refs the toolstack reserves (console 0, xenstore 1); guests allocate from 8. */
export const GNTTAB_NR_RESERVED_ENTRIES = 8;
export const GNTTAB_RESERVED_CONSOLE = 0;
export const GNTTAB_RESERVED_XENSTORE = 1;

export const GTF_invalid = 0;
export const GTF_permit_access = 1;
export const GTF_accept_transfer = 2;
export const GTF_transitive = 3;
export const GTF_type_mask = 3;
export const GTF_readonly = 1 << 2;
export const GTF_reading = 1 << 3;
export const GTF_writing = 1 << 4;
export const GTF_PWT = 1 << 5;
export const GTF_PCD = 1 << 6;
export const GTF_PAT = 1 << 7;
export const GTF_sub_page = 1 << 8;

export const GNTMAP_device_map = 1 << 0;
export const GNTMAP_host_map = 1 << 1;
export const GNTMAP_readonly = 1 << 2;
export const GNTMAP_application_map = 1 << 3;
export const GNTMAP_contains_pte = 1 << 4;

export const GNTCOPY_source_gref = 1 << 0;
export const GNTCOPY_dest_gref = 1 << 1;

export const GNTST_okay = 0;
export const GNTST_general_error = -1;
export const GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3;
export const GNTST_bad_handle = -4;
export const GNTST_bad_virt_addr = -5;
export const GNTST_bad_dev_addr = -6;
export const GNTST_no_device_space = -7;
export const GNTST_permission_denied = -8;
export const GNTST_bad_page = -9;
export const GNTST_bad_copy_arg = -10;
export const GNTST_address_too_big = -11;
export const GNTST_eagain = -12;
export const GNTST_no_space = -13;

/** Xen's default max_grant_frames (opt_max_grant_frames). */
export const DEFAULT_MAX_GRANT_FRAMES = 64;

/** Argument structs with the same layout for both widths (fixed-size fields, uint64_t at 8-aligned offsets). */
export const GNTTAB_MAP_GRANT_REF = { size: 32, hostAddr: 0, flags: 8, ref: 12, dom: 16, status: 18, handle: 20, devBusAddr: 24 } as const;
export const GNTTAB_UNMAP_GRANT_REF = { size: 24, hostAddr: 0, devBusAddr: 8, handle: 16, status: 20 } as const;
/** gnttab_setup_table: dom u16, nr_frames u32, status i16, frame_list handle of xen_pfn_t (entries `width` bytes). */
export const GNTTAB_SETUP_TABLE: ByWidth<{ size: number; dom: number; nrFrames: number; status: number; frameList: number; frameEntry: number }> = {
  4: { size: 16, dom: 0, nrFrames: 4, status: 8, frameList: 12, frameEntry: 4 },
  8: { size: 24, dom: 0, nrFrames: 4, status: 8, frameList: 16, frameEntry: 8 },
};
/**
 * gnttab_copy: source and dest are gnttab_copy_ptr {union {ref u32, gmfn xen_pfn_t},
 * domid u16, offset u16}, then len u16, flags u16, status i16.
 */
export const GNTTAB_COPY: ByWidth<{ size: number; source: number; dest: number; ptrRef: number; ptrDomid: number; ptrOffset: number; len: number; flags: number; status: number }> = {
  4: { size: 24, source: 0, dest: 8, ptrRef: 0, ptrDomid: 4, ptrOffset: 6, len: 16, flags: 18, status: 20 },
  8: { size: 40, source: 0, dest: 16, ptrRef: 0, ptrDomid: 8, ptrOffset: 10, len: 32, flags: 34, status: 36 },
};
export const GNTTAB_SETUP_TABLE_32 = GNTTAB_SETUP_TABLE[4];
export const GNTTAB_COPY_32 = GNTTAB_COPY[4];
export const GNTTAB_QUERY_SIZE = { size: 16, dom: 0, nrFrames: 4, maxNrFrames: 8, status: 12 } as const;
export const GNTTAB_SET_VERSION = { size: 4, version: 0 } as const;
export const GNTTAB_GET_VERSION = { size: 8, dom: 0, version: 4 } as const;
export const GNTTAB_SWAP_GRANT_REF = { size: 12, refA: 0, refB: 4, status: 8 } as const;
