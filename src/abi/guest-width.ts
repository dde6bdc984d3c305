// The two x86 guest ABIs Xen's public headers describe (xen/include/public/
// arch-x86/xen-x86_32.h and xen-x86_64.h): a 32-bit caller (protected mode, or a
// compat segment in long mode) has 4-byte xen_ulong_t, xen_pfn_t and guest
// handles with uint64_t aligned to 4; a 64-bit caller has them 8 bytes, uint64_t
// aligned to 8. Xen picks the layout per call from hvm_guest_x86_mode() and, for
// shared_info and the runstate areas, from the domain's latched has_32bit_shinfo.

/** Bytes in a xen_ulong_t / xen_pfn_t / guest handle: 4 for a 32-bit caller, 8 for long mode. */
export type GuestWidth = 4 | 8;

/** One struct's layout for each width: `LAYOUT[call.width]`. */
export type ByWidth<T> = { readonly 4: T; readonly 8: T };
