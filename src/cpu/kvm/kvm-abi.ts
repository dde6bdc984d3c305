// KVM ioctl numbers, capabilities, exit reasons and struct layouts
// (include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h; x86-64 layouts).

const KVMIO = 0xae;
const io = (nr: number) => (KVMIO << 8) | nr;
// _IOC(dir, type, nr, size): dir in bits 30-31 (1 = write, 2 = read), size in bits 16-29.
const ioc = (dir: number, nr: number, size: number) => ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
const iow = (nr: number, size: number) => ioc(1, nr, size);
const ior = (nr: number, size: number) => ioc(2, nr, size);
const iowr = (nr: number, size: number) => ioc(3, nr, size);

export const KVM_API_VERSION = 12;

// System ioctls.
export const KVM_GET_API_VERSION = io(0x00);
export const KVM_CREATE_VM = io(0x01);
export const KVM_CHECK_EXTENSION = io(0x03);
export const KVM_GET_VCPU_MMAP_SIZE = io(0x04);
export const KVM_GET_SUPPORTED_CPUID = iowr(0x05, 8);

// VM ioctls.
export const KVM_CREATE_VCPU = io(0x41);
export const KVM_SET_USER_MEMORY_REGION = iow(0x46, 32);
export const KVM_SET_TSS_ADDR = io(0x47);
/** struct kvm_xen_hvm_config is 56 bytes (kvm-xen-abi.ts). */
export const XEN_HVM_CONFIG_BYTES = 56;
export const KVM_XEN_HVM_CONFIG = iow(0x7a, XEN_HVM_CONFIG_BYTES);
export const KVM_SET_IDENTITY_MAP_ADDR = iow(0x48, 8);
export const KVM_CREATE_IRQCHIP = io(0x60);
export const KVM_IRQ_LINE = iow(0x61, 8);
export const KVM_CREATE_PIT2 = iow(0x77, 64);
export const KVM_ENABLE_CAP = iow(0xa3, 104);
export const KVM_X86_SET_MSR_FILTER = iow(0xc6, 392);

// vCPU ioctls.
export const KVM_RUN = io(0x80);
/** The vCPU's TSC rate in kHz (api.rst §4.56 KVM_GET_TSC_KHZ). */
export const KVM_GET_TSC_KHZ = io(0xa3);
export const KVM_GET_REGS = ior(0x81, 144);
export const KVM_SET_REGS = iow(0x82, 144);
export const KVM_GET_SREGS = ior(0x83, 312);
export const KVM_SET_SREGS = iow(0x84, 312);
export const KVM_INTERRUPT = iow(0x86, 4);
export const KVM_GET_MSRS = iowr(0x88, 8);
export const KVM_SET_MSRS = iow(0x89, 8);
export const KVM_GET_FPU = ior(0x8c, 416);
export const KVM_SET_FPU = iow(0x8d, 416);
export const KVM_SET_CPUID2 = iow(0x90, 8);
// vCPU state for save/restore (api.rst §4.31-4.40; arch/x86/include/uapi/asm/kvm.h).
export const KVM_GET_MP_STATE = ior(0x98, 4);
export const KVM_SET_MP_STATE = iow(0x99, 4);
export const KVM_GET_VCPU_EVENTS = ior(0x9f, 64);
export const KVM_SET_VCPU_EVENTS = iow(0xa0, 64);
export const KVM_GET_DEBUGREGS = ior(0xa1, 128);
export const KVM_SET_DEBUGREGS = iow(0xa2, 128);
/** IA32_TSC (SDM vol. 4 Table 2-2): KVM_SET_MSRS of it moves the guest TSC. */
export const MSR_INDEX_TSC = 0x10;
export const KVM_GET_XSAVE = ior(0xa4, 4096);
export const KVM_SET_XSAVE = iow(0xa5, 4096);
/** System ioctl: struct kvm_msr_list { u32 nmsrs; u32 indices[]; }. */
export const KVM_GET_MSR_INDEX_LIST = iowr(0x02, 4);

// Capabilities (KVM_CHECK_EXTENSION).
export const KVM_CAP_IRQCHIP = 0;
export const KVM_CAP_HLT = 1;
export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_SET_TSS_ADDR = 4;
export const KVM_CAP_EXT_CPUID = 7;
export const KVM_CAP_PIT2 = 33;
export const KVM_CAP_SET_IDENTITY_MAP_ADDR = 37;
export const KVM_CAP_XEN_HVM = 38;
export const KVM_CAP_XSAVE = 55;
export const KVM_CAP_READONLY_MEM = 81;
export const KVM_CAP_IMMEDIATE_EXIT = 136;
export const KVM_CAP_X86_USER_SPACE_MSR = 188;
export const KVM_CAP_X86_MSR_FILTER = 189;

/** kvm_userspace_memory_region.flags */
export const KVM_MEM_READONLY = 1 << 1;

/** KVM_CAP_X86_USER_SPACE_MSR argument: which failed MSR accesses exit to userspace. */
export const KVM_MSR_EXIT_REASON_INVAL = 1 << 0;
export const KVM_MSR_EXIT_REASON_UNKNOWN = 1 << 1;
export const KVM_MSR_EXIT_REASON_FILTER = 1 << 2;
/** kvm_msr_filter.flags / range flags */
export const KVM_MSR_FILTER_DEFAULT_ALLOW = 0;
export const KVM_MSR_FILTER_READ = 1 << 0;
export const KVM_MSR_FILTER_WRITE = 1 << 1;

// kvm_run.exit_reason
export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_EXCEPTION = 1;
export const KVM_EXIT_IO = 2;
export const KVM_EXIT_HYPERCALL = 3;
export const KVM_EXIT_DEBUG = 4;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_IRQ_WINDOW_OPEN = 7;
export const KVM_EXIT_SHUTDOWN = 8;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_SYSTEM_EVENT = 24;
export const KVM_EXIT_X86_RDMSR = 29;
export const KVM_EXIT_X86_WRMSR = 30;

export const EXIT_REASON_NAMES: Record<number, string> = {
  0: 'unknown', 1: 'exception', 2: 'io', 3: 'hypercall', 4: 'debug', 5: 'hlt', 6: 'mmio', 7: 'irq-window-open',
  8: 'shutdown', 9: 'fail-entry', 10: 'intr', 17: 'internal-error', 24: 'system-event', 29: 'rdmsr', 30: 'wrmsr',
};
export const INTERNAL_SUBERROR_NAMES: Record<number, string> = {
  1: 'emulation failure', 2: 'simultaneous exception', 3: 'delivery event', 4: 'unexpected exit reason',
};

export const KVM_EXIT_IO_IN = 0;
export const KVM_EXIT_IO_OUT = 1;

/** struct kvm_run offsets (the mmap'd page shared with the kernel). */
export const RUN = {
  requestInterruptWindow: 0,
  immediateExit: 1,
  exitReason: 8,
  readyForInterruptInjection: 12,
  ifFlag: 13,
  flags: 14,
  cr8: 16,
  apicBase: 24,
  // union at 32
  ioDirection: 32,
  ioSize: 33,
  ioPort: 34,
  ioCount: 36,
  ioDataOffset: 40,
  mmioPhysAddr: 32,
  mmioData: 40,
  mmioLen: 48,
  mmioIsWrite: 52,
  failEntryReason: 32,
  failEntryCpu: 40,
  internalSuberror: 32,
  internalNdata: 36,
  internalData: 40,
  msrError: 32,
  msrReason: 40,
  msrIndex: 44,
  msrData: 48,
} as const;

/** struct kvm_segment: 24 bytes. */
export const SEGMENT_BYTES = 24;
/** kvm_sregs: cs ds es fs gs ss tr ldt, gdt idt, cr0 cr2 cr3 cr4 cr8 efer apic_base, interrupt_bitmap[4]. */
export const SREGS = {
  segments: ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const,
  gdt: 192,
  idt: 208,
  cr0: 224,
  cr2: 232,
  cr3: 240,
  cr4: 248,
  cr8: 256,
  efer: 264,
  apicBase: 272,
  bytes: 312,
} as const;

/** kvm_regs: rax rbx rcx rdx rsi rdi rsp rbp r8-r15 rip rflags, 8 bytes each. */
export const REGS_BYTES = 144;
export const REG_INDEX = { eax: 0, ebx: 1, ecx: 2, edx: 3, esi: 4, edi: 5, esp: 6, ebp: 7, eip: 16, eflags: 17 } as const;

/** struct kvm_fpu: fpr[8][16], fcw, fsw, ftwx, pad, last_opcode, last_ip, last_dp, xmm[16][16], mxcsr, pad. */
export const FPU_BYTES = 416;
export const FPU = { fpr: 0, fcw: 128, fsw: 130, ftwx: 132, lastOpcode: 134, lastIp: 136, lastDp: 144, xmm: 152, mxcsr: 408 } as const;

/**
 * struct kvm_vcpu_events (64 bytes): exception {injected, nr, has_error_code, pending, u32 error_code},
 * interrupt {injected, nr, soft, shadow}, nmi {injected, pending, masked, pad}, u32 sipi_vector, u32 flags,
 * smi {smm, pending, smm_inside_nmi, latched_init}, triple_fault.pending, reserved, exception_has_payload, u64 payload.
 */
export const VCPU_EVENTS_BYTES = 64;
export const EVENTS = {
  exceptionInjected: 0, exceptionNr: 1, exceptionHasErrorCode: 2, exceptionPending: 3, exceptionErrorCode: 4,
  interruptInjected: 8, interruptNr: 9, interruptSoft: 10, interruptShadow: 11,
  nmiInjected: 12, nmiPending: 13, nmiMasked: 14, sipiVector: 16, flags: 20,
} as const;
export const KVM_VCPUEVENT_VALID_NMI_PENDING = 0x1;
export const KVM_VCPUEVENT_VALID_SIPI_VECTOR = 0x2;
export const KVM_VCPUEVENT_VALID_SHADOW = 0x4;
/** kvm_vcpu_events.interrupt.shadow bits. */
export const KVM_X86_SHADOW_INT_MOV_SS = 0x1;
export const KVM_X86_SHADOW_INT_STI = 0x2;

/**
 * struct kvm_xsave: the XSAVE standard-format image, 4096 bytes: the FXSAVE legacy region
 * (0-511, 64-bit layout: FIP/FDP are 64-bit, their upper halves where the 32-bit layout
 * keeps FCS/FDS), then the XSAVE header whose first u64 is XSTATE_BV (SDM vol. 1 §13.4).
 */
export const XSAVE_BYTES = 4096;
export const XSAVE = { fcw: 0, fsw: 2, ftw: 4, fop: 6, fip: 8, fcs: 12, fdp: 16, fds: 20, mxcsr: 24, st: 32, xmm: 160, xstateBv: 512 } as const;
/** XSTATE_BV bits: a clear bit means the component is in its initial state and XRSTOR loads that, not the image. */
export const XFEATURE_X87 = 1n;
export const XFEATURE_SSE = 2n;

/** struct kvm_debugregs: u64 db[4], dr6, dr7, flags, reserved[9] (128 bytes). */
export const DEBUGREGS_BYTES = 128;
export const DEBUGREGS = { db: 0, dr6: 32, dr7: 40, flags: 48 } as const;

/** kvm_mp_state.mp_state values. */
export const KVM_MP_STATE_RUNNABLE = 0;
export const KVM_MP_STATE_UNINITIALIZED = 1;
export const KVM_MP_STATE_INIT_RECEIVED = 2;
export const KVM_MP_STATE_HALTED = 3;
export const KVM_MP_STATE_SIPI_RECEIVED = 4;

/** kvm_cpuid_entry2: function index flags eax ebx ecx edx padding[3], 40 bytes. */
export const CPUID_ENTRY_BYTES = 40;
export const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;
