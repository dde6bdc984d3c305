// Hypercall numbers (xen/include/public/xen.h, __HYPERVISOR_*). The hypercall page
// has one 32-byte stub per number below HYPERCALL_PAGE_STUBS.

export const HYPERVISOR_set_trap_table = 0;
export const HYPERVISOR_mmu_update = 1;
export const HYPERVISOR_set_gdt = 2;
export const HYPERVISOR_stack_switch = 3;
export const HYPERVISOR_set_callbacks = 4;
export const HYPERVISOR_fpu_taskswitch = 5;
export const HYPERVISOR_sched_op_compat = 6;
export const HYPERVISOR_platform_op = 7;
export const HYPERVISOR_set_debugreg = 8;
export const HYPERVISOR_get_debugreg = 9;
export const HYPERVISOR_update_descriptor = 10;
export const HYPERVISOR_memory_op = 12;
export const HYPERVISOR_multicall = 13;
export const HYPERVISOR_update_va_mapping = 14;
export const HYPERVISOR_set_timer_op = 15;
export const HYPERVISOR_event_channel_op_compat = 16;
export const HYPERVISOR_xen_version = 17;
export const HYPERVISOR_console_io = 18;
export const HYPERVISOR_physdev_op_compat = 19;
export const HYPERVISOR_grant_table_op = 20;
export const HYPERVISOR_vm_assist = 21;
export const HYPERVISOR_update_va_mapping_otherdomain = 22;
/** x86 only; its hypercall-page stub is UD2 for HVM guests. */
export const HYPERVISOR_iret = 23;
export const HYPERVISOR_vcpu_op = 24;
export const HYPERVISOR_set_segment_base = 25;
export const HYPERVISOR_mmuext_op = 26;
export const HYPERVISOR_xsm_op = 27;
export const HYPERVISOR_nmi_op = 28;
export const HYPERVISOR_sched_op = 29;
export const HYPERVISOR_callback_op = 30;
export const HYPERVISOR_xenoprof_op = 31;
export const HYPERVISOR_event_channel_op = 32;
export const HYPERVISOR_physdev_op = 33;
export const HYPERVISOR_hvm_op = 34;
export const HYPERVISOR_sysctl = 35;
export const HYPERVISOR_domctl = 36;
export const HYPERVISOR_kexec_op = 37;
export const HYPERVISOR_tmem_op = 38;
export const HYPERVISOR_argo_op = 39;
export const HYPERVISOR_xenpmu_op = 40;
export const HYPERVISOR_dm_op = 41;
export const HYPERVISOR_hypfs_op = 42;

/** One 4 KiB page of 32-byte stubs (Xen fills PAGE_SIZE / 32 of them). */
export const HYPERCALL_PAGE_STUBS = 128;
export const HYPERCALL_STUB_BYTES = 32;
