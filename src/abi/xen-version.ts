// xen_version hypercall sub-ops and their argument layouts
// (xen/include/public/version.h) and the feature bits of XENVER_get_features
// submap 0 (xen/include/public/features.h).

export const XENVER_version = 0;
export const XENVER_extraversion = 1;
export const XENVER_compile_info = 2;
export const XENVER_capabilities = 3;
export const XENVER_changeset = 4;
export const XENVER_platform_parameters = 5;
export const XENVER_get_features = 6;
export const XENVER_pagesize = 7;
export const XENVER_guest_handle = 8;
export const XENVER_commandline = 9;
export const XENVER_build_id = 10;

/** xen_extraversion_t: char[16]. */
export const XEN_EXTRAVERSION_LEN = 16;
/** xen_compile_info_t: compiler[64] @0, compile_by[16] @64, compile_domain[32] @80, compile_date[32] @112. */
export const XEN_COMPILE_INFO = {
  compiler: { offset: 0, size: 64 },
  compileBy: { offset: 64, size: 16 },
  compileDomain: { offset: 80, size: 32 },
  compileDate: { offset: 112, size: 32 },
  size: 144,
} as const;
/** xen_capabilities_info_t: char[1024]. */
export const XEN_CAPABILITIES_INFO_LEN = 1024;
/** xen_changeset_info_t: char[64]. */
export const XEN_CHANGESET_INFO_LEN = 64;
/** xen_platform_parameters_t: xen_ulong_t virt_start; 4 bytes for a 32-bit caller (compat layout), 8 for 64-bit. */
export const XEN_PLATFORM_PARAMETERS_32_LEN = 4;
export const XEN_PLATFORM_PARAMETERS_64_LEN = 8;
/** xen_feature_info_t: u32 submap_idx @0 (IN), u32 submap @4 (OUT). */
export const XEN_FEATURE_INFO_LEN = 8;
/** xen_domain_handle_t: u8[16] (the domain's UUID). */
export const XEN_DOMAIN_HANDLE_LEN = 16;
/** xen_commandline_t: char[1024]. */
export const XEN_COMMANDLINE_LEN = 1024;
/** XENFEAT_NR_SUBMAPS: only submap 0 exists. */
export const XENFEAT_NR_SUBMAPS = 1;

export const XENFEAT_writable_page_tables = 0;
export const XENFEAT_writable_descriptor_tables = 1;
export const XENFEAT_auto_translated_physmap = 2;
export const XENFEAT_supervisor_mode_kernel = 3;
export const XENFEAT_pae_pgdir_above_4gb = 4;
export const XENFEAT_mmu_pt_update_preserve_ad = 5;
export const XENFEAT_highmem_assist = 6;
export const XENFEAT_gnttab_map_avail_bits = 7;
export const XENFEAT_hvm_callback_vector = 8;
export const XENFEAT_hvm_safe_pvclock = 9;
export const XENFEAT_hvm_pirqs = 10;
export const XENFEAT_dom0 = 11;
export const XENFEAT_grant_map_identity = 12;
export const XENFEAT_memory_op_vnode_supported = 13;
export const XENFEAT_ARM_SMCCC_supported = 14;
export const XENFEAT_linux_rsdp_unrestricted = 15;
export const XENFEAT_not_direct_mapped = 16;
export const XENFEAT_direct_mapped = 17;
export const XENFEAT_runstate_phys_area = 18;
export const XENFEAT_vcpu_time_phys_area = 19;
export const XENFEAT_dm_msix_all_writes = 20;
