// The parts of the KVM ABI only the run path uses: the vCPU signal mask for kicks
// and the kvm_run sync-register area (include/uapi/linux/kvm.h, x86-64 layouts;
// api.rst §4.33 KVM_SET_SIGNAL_MASK, §5 "kvm_valid_regs / kvm_dirty_regs").
// Kept beside kvm-abi.ts while that file's state ioctls are being extended; they
// belong together and can be merged once both settle.

/** _IOW(KVMIO, 0x8b, struct kvm_signal_mask): the struct is `u32 len` + the sigset bytes. */
export const KVM_SET_SIGNAL_MASK = 0x4004ae8b;
/** struct kvm_signal_mask header size; `len` must be the kernel's sigset size (8 on x86-64). */
export const SIGNAL_MASK_HEADER_BYTES = 4;

/** KVM_CHECK_EXTENSION(KVM_CAP_SYNC_REGS) answers the mask of KVM_SYNC_X86_* KVM can sync. */
export const KVM_CAP_SYNC_REGS = 74;
export const KVM_SYNC_X86_REGS = 1 << 0;
export const KVM_SYNC_X86_SREGS = 1 << 1;

/** Offsets in kvm_run after the 256-byte exit union at 32. */
export const RUN_SYNC = {
  validRegs: 288,
  dirtyRegs: 296,
  /** struct kvm_regs (144 bytes) then struct kvm_sregs (312 bytes). */
  regs: 304,
  sregs: 448,
} as const;
