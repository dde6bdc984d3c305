// hvm_op (xen/include/public/hvm/hvm_op.h) and HVM params (hvm/params.h); xen-abi.md §8.

export const HVMOP_set_param = 0;
export const HVMOP_get_param = 1;
export const HVMOP_flush_tlbs = 5;
export const HVMOP_pagetable_dying = 9;
export const HVMOP_get_time = 10;
export const HVMOP_get_mem_type = 15;
export const HVMOP_set_evtchn_upcall_vector = 23;

/** struct xen_hvm_param: domid u16 @0, index u32 @4, value u64 @8 (16 bytes on 32 and 64). */
export const XEN_HVM_PARAM = { size: 16, domid: 0, index: 4, value: 8 } as const;
/** struct xen_hvm_get_time: now u64 @0. */
export const XEN_HVM_GET_TIME = { size: 8, now: 0 } as const;
/** struct xen_hvm_evtchn_upcall_vector: vcpu u32 @0, vector u8 @4. */
export const XEN_HVM_EVTCHN_UPCALL_VECTOR = { size: 8, vcpu: 0, vector: 4 } as const;
/** Vectors below this are exceptions: set_evtchn_upcall_vector refuses them. */
export const UPCALL_VECTOR_MIN = 0x10;

export const HVM_PARAM_CALLBACK_IRQ = 0;
export const HVM_PARAM_STORE_PFN = 1;
export const HVM_PARAM_STORE_EVTCHN = 2;
export const HVM_PARAM_PAE_ENABLED = 4;
export const HVM_PARAM_IOREQ_PFN = 5;
export const HVM_PARAM_BUFIOREQ_PFN = 6;
export const HVM_PARAM_VIRIDIAN = 9;
export const HVM_PARAM_TIMER_MODE = 10;
export const HVM_PARAM_HPET_ENABLED = 11;
export const HVM_PARAM_IDENT_PT = 12;
export const HVM_PARAM_DM_DOMAIN = 13;
export const HVM_PARAM_ACPI_S_STATE = 14;
export const HVM_PARAM_VM86_TSS = 15;
export const HVM_PARAM_VPT_ALIGN = 16;
export const HVM_PARAM_CONSOLE_PFN = 17;
export const HVM_PARAM_CONSOLE_EVTCHN = 18;
export const HVM_PARAM_ACPI_IOPORTS_LOCATION = 19;
export const HVM_PARAM_MEMORY_EVENT_CR0 = 20;
/** Last of the deprecated run 20..26 (MEMORY_EVENT_*, NESTEDHVM, BUFIOREQ_EVTCHN). */
export const HVM_PARAM_BUFIOREQ_EVTCHN = 26;
export const HVM_PARAM_MEMORY_EVENT_MSR = 30;
export const HVM_PARAM_VM_GENERATION_ID_ADDR = 34;
export const HVM_PARAM_ALTP2M = 35;
export const HVM_PARAM_X87_FIP_WIDTH = 36;
export const HVM_PARAM_VM86_TSS_SIZED = 37;
export const HVM_PARAM_MCA_CAP = 38;
export const HVM_NR_PARAMS = 39;

/** Params the guest may read about itself (Xen's hvm_allow_get_param). */
export const GUEST_GETTABLE_PARAMS: ReadonlySet<number> = new Set([
  HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_PFN,
  HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_VM86_TSS, HVM_PARAM_VM86_TSS_SIZED, HVM_PARAM_ACPI_IOPORTS_LOCATION,
  HVM_PARAM_VM_GENERATION_ID_ADDR, HVM_PARAM_ALTP2M, HVM_PARAM_X87_FIP_WIDTH,
]);
/** Params the guest may set on itself (Xen's hvm_allow_set_param). */
export const GUEST_SETTABLE_PARAMS: ReadonlySet<number> = new Set([
  HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_VM86_TSS,
  HVM_PARAM_VM86_TSS_SIZED, HVM_PARAM_ACPI_IOPORTS_LOCATION, HVM_PARAM_VM_GENERATION_ID_ADDR, HVM_PARAM_X87_FIP_WIDTH,
]);
/** Deprecated indexes: -EINVAL whoever asks (PAE_ENABLED, DM_DOMAIN, MEMORY_EVENT_*, NESTEDHVM, BUFIOREQ_EVTCHN). */
export function isDeprecatedParam(index: number): boolean {
  return index === HVM_PARAM_PAE_ENABLED || index === HVM_PARAM_DM_DOMAIN || (index >= HVM_PARAM_MEMORY_EVENT_CR0 && index <= HVM_PARAM_BUFIOREQ_EVTCHN) || index === HVM_PARAM_MEMORY_EVENT_MSR;
}

/** VM86_TSS_SIZED: bits 63:32 = TSS size, at least a 32-bit TSS (104 bytes). */
export const TSS32_SIZE = 104;

/** CALLBACK_IRQ bits 63:56 = via type (xen-abi.md §5.4). */
export const HVM_PARAM_CALLBACK_TYPE_GSI = 0;
export const HVM_PARAM_CALLBACK_TYPE_PCI_INTX = 1;
export const HVM_PARAM_CALLBACK_TYPE_VECTOR = 2;
