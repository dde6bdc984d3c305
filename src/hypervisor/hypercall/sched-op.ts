// sched_op (hypercall 29; xen/include/public/sched.h, xen/common/sched/core.c
// do_sched_op): what an HVM guest uses of it. yield returns at once; block and
// poll return at once when an event is already pending (Xen's
// local_events_need_delivery / evtchn_port_is_pending), else they ask the Domain
// to idle the vCPU (HypercallContext.block) and return 0 — a wakeup the guest
// treats like any other, so without a Domain hook they return at once, which the
// ABI allows (Linux re-checks its condition; xen-abi.md §9). shutdown ends the
// domain with the guest's reason; shutdown_code records the reason for later.

import {
  SCHED_POLL,
  SCHED_POLL_MAX_PORTS,
  SCHEDOP_block, SCHEDOP_poll, SCHEDOP_remote_shutdown, SCHEDOP_shutdown, SCHEDOP_shutdown_code, SCHEDOP_yield, SHUTDOWN_MAX,
} from '../../abi/sched.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import { readStruct } from './guest-struct.js';
import type { HypercallCall } from './hypercall-context.js';

function readU32(call: HypercallCall, linear: number): number | undefined {
  const b = call.guest.copyFrom(linear, 4);
  return b ? (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0 : undefined;
}

function upcallPending(call: HypercallCall, vcpu: number): boolean {
  return call.ctx.xen?.vcpus?.sharedInfo.upcallPending(vcpu) ?? false;
}

/** SCHEDOP_poll, checked as Xen's do_poll: nr_ports ≤ 128, every port readable and below the limit. */
function poll(call: HypercallCall, arg: number): number {
  const s = SCHED_POLL[call.width];
  const a = readStruct(call, arg, s.size);
  if (!a) return -XEN_EFAULT;
  const list = a.handle(s.ports);
  const nrPorts = a.u32(s.nrPorts);
  const timeout = a.u64(s.timeout);
  if (nrPorts > SCHED_POLL_MAX_PORTS) return -XEN_EINVAL;
  const events = call.ctx.xen?.events;
  const ports: number[] = [];
  let pending = false;
  for (let i = 0; i < nrPorts; i++) {
    const port = readU32(call, list + 4 * i);
    if (port === undefined) return -XEN_EFAULT;
    if (events && port >= events.maxPorts) return -XEN_EINVAL;
    if (events?.delivery.isPending(port)) pending = true;
    ports.push(port);
  }
  const vcpu = call.ctx.xen?.vcpus?.timers?.current() ?? 0;
  if (pending || upcallPending(call, vcpu)) return 0;
  const now = call.ctx.xen?.vcpus?.now() ?? 0;
  // A timeout already past wakes at once (Xen's poll timer fires immediately).
  if (timeout !== 0n && Number(timeout) <= now) return 0;
  call.ctx.block?.({ vcpu, ports, ...(timeout !== 0n ? { deadlineNs: Number(timeout) } : {}) });
  return 0;
}

export function doSchedOp(call: HypercallCall): number {
  const cmd = call.args[0];
  const arg = call.ptrs[1];
  switch (cmd) {
    case SCHEDOP_yield:
      return 0;
    case SCHEDOP_block: {
      const vcpu = call.ctx.xen?.vcpus?.timers?.current() ?? 0;
      if (!upcallPending(call, vcpu)) call.ctx.block?.({ vcpu, ports: [] });
      return 0;
    }
    case SCHEDOP_poll:
      return poll(call, arg);
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
