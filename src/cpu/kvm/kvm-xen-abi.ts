// KVM's Xen hypercall interception (api.rst §4.98 KVM_XEN_HVM_CONFIG, §5 KVM_EXIT_XEN;
// include/uapi/linux/kvm.h, x86-64 layouts). With KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL,
// every VMCALL/VMMCALL of the guest — from the hypercall page or made directly, as
// Linux does since it dropped the page (xen-abi.md §2.1) — leaves KVM_RUN as
// KVM_EXIT_XEN with the guest's registers untouched; userspace puts the result in
// kvm_run.xen.u.hcall.result and the next KVM_RUN writes it to RAX and skips the
// instruction.

import { XEN_HVM_CONFIG_BYTES } from './kvm-abi.js';

/** KVM_CHECK_EXTENSION(KVM_CAP_XEN_HVM) answers a mask of these. */
export const KVM_XEN_HVM_CONFIG_HYPERCALL_MSR = 1 << 0;
export const KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL = 1 << 1;

export const KVM_EXIT_XEN = 34;
export const KVM_EXIT_XEN_HCALL = 1;

/** struct kvm_xen_exit in kvm_run's exit union (at 32): type u32, then the 8-aligned union. */
export const RUN_XEN = { type: 32, longmode: 40, cpl: 44, input: 48, result: 56, params: 64 } as const;

/**
 * struct kvm_xen_hvm_config { u32 flags; u32 msr; u64 blob_addr_32; u64 blob_addr_64;
 * u8 blob_size_32; u8 blob_size_64; u8 pad[30] }: interception needs `msr` set (KVM
 * enables its Xen support by it) and no blobs (KVM refuses blobs with interception).
 */
export function xenHvmConfig(flags: number, msr: number): Uint8Array {
  const b = new Uint8Array(XEN_HVM_CONFIG_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, flags >>> 0, true);
  v.setUint32(4, msr >>> 0, true);
  return b;
}

/** What a KVM_EXIT_XEN of type HCALL says (the registers themselves are the guest's, unchanged). */
export interface XenHcallExit {
  type: number;
  longMode: boolean;
  cpl: number;
  input: bigint;
  params: bigint[];
}

export function readXenExit(run: DataView): XenHcallExit {
  return {
    type: run.getUint32(RUN_XEN.type, true),
    longMode: run.getUint32(RUN_XEN.longmode, true) !== 0,
    cpl: run.getUint32(RUN_XEN.cpl, true),
    input: run.getBigUint64(RUN_XEN.input, true),
    params: Array.from({ length: 6 }, (_, i) => run.getBigUint64(RUN_XEN.params + 8 * i, true)),
  };
}
