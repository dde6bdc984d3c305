// hvm_op (hypercall 34; xen/include/public/hvm/hvm_op.h, hvm/params.h; xen-abi.md §8)
// as Xen's do_hvm_op answers the guest itself: params it may read or write about
// itself (others -EPERM, deprecated -EINVAL), DOMID_SELF only, the time, and the
// per-vCPU upcall vector when CPUID leaf 4 advertises it. Its structs are the same
// for 32- and 64-bit callers (fixed-size fields, uint64_t 8-aligned); a guest write
// of HVM_PARAM_CALLBACK_IRQ latches the domain's shared_info width (xen-abi.md §4.1).

import {
  GUEST_GETTABLE_PARAMS,
  GUEST_SETTABLE_PARAMS,
  HVMOP_get_param,
  HVMOP_get_time,
  HVMOP_set_evtchn_upcall_vector,
  HVMOP_set_param,
  HVM_NR_PARAMS,
  HVM_PARAM_ACPI_IOPORTS_LOCATION,
  HVM_PARAM_ALTP2M,
  HVM_PARAM_CALLBACK_IRQ,
  HVM_PARAM_VM86_TSS,
  HVM_PARAM_VM86_TSS_SIZED,
  HVM_PARAM_X87_FIP_WIDTH,
  TSS32_SIZE,
  UPCALL_VECTOR_MIN,
  XEN_HVM_EVTCHN_UPCALL_VECTOR,
  XEN_HVM_GET_TIME,
  XEN_HVM_PARAM,
  isDeprecatedParam,
} from '../../abi/hvm-params.js';
import { XEN_EEXIST, XEN_EFAULT, XEN_EINVAL, XEN_ENOENT, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import { checkSelfDomid } from '../xen-domain.js';
import { u16, u32 } from './event-channel-op.js';
import type { HypercallCall } from './hypercall-context.js';

export function doHvmOp(call: HypercallCall): number {
  // op is an unsigned long: a 64-bit caller's high bits name no op.
  const op = call.wide[0] > 0xffffffffn ? -1 : call.args[0];
  const arg = call.ptrs[1];
  const hvm = call.ctx.xen?.hvm;
  if (!hvm) return -XEN_ENOSYS;
  switch (op) {
    case HVMOP_set_param:
    case HVMOP_get_param: {
      const s = XEN_HVM_PARAM;
      const a = call.guest.copyFrom(arg, s.size);
      if (!a) return -XEN_EFAULT;
      const index = u32(a, s.index);
      if (index >= HVM_NR_PARAMS) return -XEN_EINVAL;
      const rc = checkSelfDomid(u16(a, s.domid), hvm.domid, hvm.domainExists);
      if (rc < 0) return rc;
      if (isDeprecatedParam(index)) return -XEN_EINVAL;
      const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
      if (op === HVMOP_set_param) {
        if (index === HVM_PARAM_ALTP2M) return -XEN_EEXIST; // read-only
        if (!GUEST_SETTABLE_PARAMS.has(index)) return -XEN_EPERM;
        const value = dv.getBigUint64(s.value, true);
        const rc2 = checkParamValue(index, value, hvm.get(index));
        if (rc2 < 0) return rc2;
        // Xen's hvm_latch_shinfo_size: one of the first things PV drivers do, so the
        // caller's mode now decides the shared_info layout (64-bit mode: 64-bit).
        if (index === HVM_PARAM_CALLBACK_IRQ) call.ctx.xen?.latchGuestWidth?.(call.width);
        hvm.set(index, value);
        return 0;
      }
      if (!GUEST_GETTABLE_PARAMS.has(index)) return -XEN_EPERM;
      dv.setBigUint64(s.value, hvm.get(index), true);
      return call.guest.copyTo(arg, a) ? 0 : -XEN_EFAULT;
    }
    case HVMOP_get_time: {
      const out = new Uint8Array(XEN_HVM_GET_TIME.size);
      const ns = Math.max(0, Math.floor(hvm.now()));
      new DataView(out.buffer).setBigUint64(XEN_HVM_GET_TIME.now, BigInt(ns), true);
      return call.guest.copyTo(arg, out) ? 0 : -XEN_EFAULT;
    }
    case HVMOP_set_evtchn_upcall_vector: {
      if (!hvm.perVcpuUpcallVector) return -XEN_ENOSYS;
      const s = XEN_HVM_EVTCHN_UPCALL_VECTOR;
      const a = call.guest.copyFrom(arg, s.size);
      if (!a) return -XEN_EFAULT;
      const vector = a[s.vector];
      if (vector < UPCALL_VECTOR_MIN) return -XEN_EINVAL;
      const vcpu = u32(a, s.vcpu);
      if (vcpu >= hvm.vcpuCount) return -XEN_ENOENT;
      hvm.upcallVectors.set(vcpu, vector);
      return 0;
    }
    default:
      // pagetable_dying (Linux then stops using it), flush_tlbs, get_mem_type, the
      // toolstack's ops (superseded by dm_op), altp2m, unknown: -ENOSYS.
      return -XEN_ENOSYS;
  }
}

/** hvm_set_param's value checks for the params a guest may set (x86/hvm/hvm.c). */
function checkParamValue(index: number, value: bigint, old: bigint): number {
  switch (index) {
    case HVM_PARAM_X87_FIP_WIDTH:
      return value === 0n || value === 4n || value === 8n ? 0 : -XEN_EINVAL;
    case HVM_PARAM_VM86_TSS:
      return value >> 32n === 0n ? 0 : -XEN_EINVAL; // the hardware field is 32 bits
    case HVM_PARAM_VM86_TSS_SIZED:
      return value >> 32n >= BigInt(TSS32_SIZE) ? 0 : -XEN_EINVAL;
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
      // pmtimer_change_ioport: only between layouts 0 and 1.
      return value === old || (value ^ old) === 1n ? 0 : -XEN_EINVAL;
    default:
      return 0;
  }
}
