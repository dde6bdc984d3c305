// sched_op (hypercall 29; xen/include/public/sched.h, xen/common/sched/core.c
// do_sched_op): what an HVM guest uses of it. yield/block/poll return at once — an
// HVM vCPU idles with HLT, and Linux's PV spinlocks tolerate a poll that returns
// early (xen-abi.md §9) —, shutdown ends the domain with the guest's reason, and
// shutdown_code records the reason for a later shutdown.

import {
  SCHEDOP_block, SCHEDOP_poll, SCHEDOP_remote_shutdown, SCHEDOP_shutdown, SCHEDOP_shutdown_code, SCHEDOP_yield, SHUTDOWN_MAX,
} from '../../abi/sched.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import type { HypercallCall } from './hypercall-context.js';

function readU32(call: HypercallCall, linear: number): number | undefined {
  const b = call.guest.copyFrom(linear, 4);
  return b ? (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0 : undefined;
}

export function doSchedOp(call: HypercallCall): number {
  const [cmd, arg] = call.args;
  switch (cmd) {
    case SCHEDOP_yield:
    case SCHEDOP_block:
      return 0;
    case SCHEDOP_poll: {
      // struct sched_poll (32-bit): ports handle @0, nr_ports @4, timeout u64 @8. Validate like Xen.
      const nrPorts = readU32(call, arg + 4);
      if (nrPorts === undefined) return -XEN_EFAULT;
      if (nrPorts > 128) return -XEN_EINVAL;
      return 0;
    }
    case SCHEDOP_shutdown:
    case SCHEDOP_shutdown_code: {
      const reason = readU32(call, arg);
      if (reason === undefined) return -XEN_EFAULT;
      if (reason > SHUTDOWN_MAX) return -XEN_EINVAL;
      if (cmd === SCHEDOP_shutdown_code) {
        call.ctx.log?.('info', `sched_op shutdown_code: reason ${reason} recorded`);
        return 0;
      }
      if (!call.ctx.shutdown) return -XEN_ENOSYS;
      call.ctx.shutdown(reason);
      return 0;
    }
    case SCHEDOP_remote_shutdown:
      // Only a privileged domain may shut another down.
      return call.domain.privileged ? -XEN_ENOSYS : -XEN_EPERM;
    default:
      return -XEN_ENOSYS;
  }
}
