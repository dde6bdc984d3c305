// Xen's hypervisor CPUID leaves (xen/include/public/arch-x86/cpuid.h): a block of
// leaves at 0x40000000, or 0x40000100 when Viridian (Hyper-V) leaves take the
// first block (xen/arch/x86/cpuid.c). Offsets below are relative to that base.

export const XEN_CPUID_BASE = 0x40000000;
/** Where Xen's leaves move when the domain has Viridian enabled. */
export const XEN_CPUID_BASE_VIRIDIAN = 0x40000100;
/** Base+0 EAX = base + this (leaves 0..5; leaf 5 is PV-only and reads as zeros for HVM). */
export const XEN_CPUID_MAX_NUM_LEAVES = 5;

/** Base+0 EBX, ECX, EDX: "XenV" "MMXe" "nVMM". */
export const XEN_CPUID_SIGNATURE_EBX = 0x566e6558;
export const XEN_CPUID_SIGNATURE_ECX = 0x65584d4d;
export const XEN_CPUID_SIGNATURE_EDX = 0x4d4d566e;

export const XEN_CPUID_LEAF_SIGNATURE = 0;
/** EAX = (major << 16) | minor. */
export const XEN_CPUID_LEAF_VERSION = 1;
/** EAX = hypercall pages, EBX = hypercall-page MSR, ECX/EDX = feature words. */
export const XEN_CPUID_LEAF_HYPERCALL = 2;
/** Sub-leaf 0: TSC features/mode/kHz/incarnation; 1: offset and tsc->ns scale; 2: host kHz. */
export const XEN_CPUID_LEAF_TIME = 3;
/** Sub-leaf 0: HVM feature flags, vCPU id, domain id. */
export const XEN_CPUID_LEAF_HVM = 4;
export const XEN_CPUID_LEAF_PV = 5;

/** The hypercall-page MSR: 0x40000000, or 0x40000200 with Viridian. */
export const XEN_MSR_HYPERCALL_PAGE = 0x40000000;
export const XEN_MSR_HYPERCALL_PAGE_VIRIDIAN = 0x40000200;

// Time leaf sub-leaf 0 EAX.
export const XEN_CPUID_TSC_EMULATED = 1 << 0;
export const XEN_CPUID_HOST_TSC_RELIABLE = 1 << 1;
export const XEN_CPUID_RDTSCP_INSTR_AVAIL = 1 << 2;
/** Time leaf sub-leaf 0 EBX: tsc_mode. */
export const XEN_CPUID_TSC_MODE_DEFAULT = 0;

// HVM leaf sub-leaf 0 EAX.
export const XEN_HVM_CPUID_APIC_ACCESS_VIRT = 1 << 0;
export const XEN_HVM_CPUID_X2APIC_VIRT = 1 << 1;
export const XEN_HVM_CPUID_IOMMU_MAPPINGS = 1 << 2;
export const XEN_HVM_CPUID_VCPU_ID_PRESENT = 1 << 3;
export const XEN_HVM_CPUID_DOMID_PRESENT = 1 << 4;
export const XEN_HVM_CPUID_EXT_DEST_ID = 1 << 5;
export const XEN_HVM_CPUID_UPCALL_VECTOR = 1 << 6;

/** CPUID.1:ECX bit 31: "running under a hypervisor" (Xen sets it for HVM guests). */
export const CPUID1_ECX_HYPERVISOR = 1 << 31;
