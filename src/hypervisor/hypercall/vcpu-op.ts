// vcpu_op (hypercall 24: cmd, vcpuid, arg; xen/include/public/vcpu.h; xen-abi.md §4.3).
// register_vcpu_info with Xen's rules (through SharedInfoPage.registerVcpuInfo,
// then the time info refreshed as Xen's force_update_vcpu_system_time does),
// is_up, and the timer ops and runstate area only when the domain offers them
// (XENFEAT_hvm_safe_pvclock); the rest — initialise/up/down (HVM APs start by
// INIT/SIPI), vcpu_time/runstate phys areas — are -ENOSYS.

import {
  PERIODIC_TIMER_MIN_NS,
  VCPUOP_is_up,
  VCPUOP_register_runstate_memory_area,
  VCPUOP_register_vcpu_info,
  VCPUOP_set_periodic_timer,
  VCPUOP_set_singleshot_timer,
  VCPUOP_stop_periodic_timer,
  VCPUOP_stop_singleshot_timer,
  PERIODIC_TIMER_MAX_NS,
  VCPU_REGISTER_RUNSTATE_AREA,
  VCPU_REGISTER_VCPU_INFO,
  VCPU_SET_PERIODIC_TIMER,
  VCPU_SET_SINGLESHOT_TIMER,
  VCPU_SSHOTTMR_future,
} from '../../abi/vcpu.js';
import { VCPU_INFO_SIZE } from '../../abi/shared-info.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOENT, XEN_ENOSYS, XEN_ENXIO, XEN_ETIME } from '../../abi/xen-errno.js';
import { PAGE_SIZE } from '../memory/guest-memory.js';
import { u32 } from './event-channel-op.js';
import { readStruct } from './guest-struct.js';
import type { HypercallCall } from './hypercall-context.js';

const TIMER_OPS = new Set([VCPUOP_set_periodic_timer, VCPUOP_stop_periodic_timer, VCPUOP_set_singleshot_timer, VCPUOP_stop_singleshot_timer]);

export function doVcpuOp(call: HypercallCall): number {
  const [cmd, vcpu] = call.args;
  const arg = call.ptrs[2];
  const vcpus = call.ctx.xen?.vcpus;
  if (!vcpus) return -XEN_ENOSYS;
  const timers = vcpus.timers;
  // Xen's hvm_vcpu_op filters the command before looking the vCPU up.
  const offered = cmd === VCPUOP_register_vcpu_info || cmd === VCPUOP_is_up || (timers && TIMER_OPS.has(cmd)) || (vcpus.runstate && cmd === VCPUOP_register_runstate_memory_area);
  if (!offered) return -XEN_ENOSYS;
  if (vcpu >= vcpus.count) return -XEN_ENOENT;

  switch (cmd) {
    case VCPUOP_register_vcpu_info: {
      const s = VCPU_REGISTER_VCPU_INFO;
      const a = call.guest.copyFrom(arg, s.size);
      if (!a) return -XEN_EFAULT;
      const gfnLo = u32(a, s.mfn);
      const gfnHi = u32(a, s.mfn + 4);
      const offset = u32(a, s.offset);
      // An offset outside the frame names another frame (Xen: -EINVAL); inside it, an
      // area running past the page end is -ENXIO.
      if (offset >= PAGE_SIZE || gfnHi !== 0 || gfnLo >= 0x100000) return -XEN_EINVAL;
      if (offset > PAGE_SIZE - VCPU_INFO_SIZE) return -XEN_ENXIO;
      const { rc, raised } = vcpus.sharedInfo.registerVcpuInfo(vcpu, gfnLo * PAGE_SIZE + offset);
      if (rc === 0) vcpus.timeUpdate?.(vcpu);
      if (rc === 0 && raised) vcpus.kick(vcpu);
      return rc;
    }
    case VCPUOP_register_runstate_memory_area: {
      // Xen copies the handle in (-EFAULT), then writes the area if it can and answers 0 either way.
      const a = readStruct(call, arg, VCPU_REGISTER_RUNSTATE_AREA.size);
      if (!a || !vcpus.runstate) return -XEN_EFAULT;
      // The handle: a 32-bit guest's in the union's low 4 bytes, a 64-bit guest's in all 8.
      const linear = a.handle(VCPU_REGISTER_RUNSTATE_AREA.addr);
      // A NULL handle switches updates off. The area is as big as the domain's latched layout says.
      vcpus.runstate.register(vcpu, linear === 0 ? undefined : call.guest.physicalRam(linear, vcpus.runstate.areaSize()));
      return 0;
    }
    case VCPUOP_is_up:
      return (vcpus.isUp?.(vcpu) ?? true) ? 1 : 0;
    case VCPUOP_set_singleshot_timer: {
      if (!timers || vcpu !== timers.current()) return -XEN_EINVAL;
      const s = VCPU_SET_SINGLESHOT_TIMER[call.width];
      const a = call.guest.copyFrom(arg, s.size);
      if (!a) return -XEN_EFAULT;
      const deadline = Number(new DataView(a.buffer, a.byteOffset).getBigUint64(s.timeoutAbsNs, true));
      if ((u32(a, s.flags) & VCPU_SSHOTTMR_future) !== 0 && deadline < vcpus.now()) return -XEN_ETIME;
      timers.setSingleshot(vcpu, deadline);
      return 0;
    }
    case VCPUOP_stop_singleshot_timer:
      if (!timers || vcpu !== timers.current()) return -XEN_EINVAL;
      timers.stopSingleshot(vcpu);
      return 0;
    case VCPUOP_set_periodic_timer: {
      const a = call.guest.copyFrom(arg, VCPU_SET_PERIODIC_TIMER.size);
      if (!a || !timers) return -XEN_EFAULT;
      const period = new DataView(a.buffer, a.byteOffset).getBigUint64(VCPU_SET_PERIODIC_TIMER.periodNs, true);
      if (period < BigInt(PERIODIC_TIMER_MIN_NS) || period > PERIODIC_TIMER_MAX_NS) return -XEN_EINVAL;
      timers.setPeriodic(vcpu, Number(period));
      return 0;
    }
    case VCPUOP_stop_periodic_timer:
      timers?.stopPeriodic(vcpu);
      return 0;
    default:
      return -XEN_ENOSYS;
  }
}
