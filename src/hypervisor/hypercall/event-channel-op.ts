// event_channel_op (hypercall 32; xen/include/public/event_channel.h; Xen's
// do_event_channel_op in common/event_channel.c): copy the argument struct in,
// run the op on the caller's EventChannels, copy the OUT fields back. A fault
// copying in is -EFAULT with nothing done; Xen also answers -EFAULT when the
// copy-out fails after a bind (the port stays bound: "cleaning up here would be a
// mess"). FIFO ops are -ENOSYS so Linux stays on the 2-level ABI; PIRQs are not
// offered to HVM guests here (-ENOSYS).

import {
  EVTCHNOP_alloc_unbound,
  EVTCHNOP_bind_interdomain,
  EVTCHNOP_bind_ipi,
  EVTCHNOP_bind_vcpu,
  EVTCHNOP_bind_virq,
  EVTCHNOP_close,
  EVTCHNOP_reset,
  EVTCHNOP_reset_cont,
  EVTCHNOP_send,
  EVTCHNOP_status,
  EVTCHNOP_unmask,
  EVTCHN_ALLOC_UNBOUND,
  EVTCHN_BIND_INTERDOMAIN,
  EVTCHN_BIND_IPI,
  EVTCHN_BIND_VCPU,
  EVTCHN_BIND_VIRQ,
  EVTCHN_PORT_ARG,
  EVTCHN_RESET,
  EVTCHN_STATUS,
} from '../../abi/event-channel.js';
import { XEN_EFAULT, XEN_ENOSYS } from '../../abi/xen-errno.js';
import type { HypercallCall } from './hypercall-context.js';

export function u16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}
export function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
export function putU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
}
export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

export function doEventChannelOp(call: HypercallCall): number {
  // Every event_channel_op struct has one layout for both widths (fixed-size fields only).
  const cmd = call.args[0];
  const arg = call.ptrs[1];
  const ev = call.ctx.xen?.events;
  if (!ev) return -XEN_ENOSYS;
  const read = (size: number) => call.guest.copyFrom(arg, size);
  const write = (bytes: Uint8Array) => call.guest.copyTo(arg, bytes);

  /** An op returning a port into field `at` of a struct of `size` bytes. */
  const bindOp = (size: number, at: number, run: (a: Uint8Array) => number): number => {
    const a = read(size);
    if (!a) return -XEN_EFAULT;
    const port = run(a);
    if (port < 0) return port;
    putU32(a, at, port);
    return write(a) ? 0 : -XEN_EFAULT;
  };

  switch (cmd) {
    case EVTCHNOP_alloc_unbound: {
      const s = EVTCHN_ALLOC_UNBOUND;
      return bindOp(s.size, s.port, (a) => ev.allocUnbound(u16(a, s.dom), u16(a, s.remoteDom)));
    }
    case EVTCHNOP_bind_interdomain: {
      const s = EVTCHN_BIND_INTERDOMAIN;
      return bindOp(s.size, s.localPort, (a) => ev.bindInterdomain(u16(a, s.remoteDom), u32(a, s.remotePort)));
    }
    case EVTCHNOP_bind_virq: {
      const s = EVTCHN_BIND_VIRQ;
      return bindOp(s.size, s.port, (a) => ev.bindVirq(u32(a, s.virq), u32(a, s.vcpu)));
    }
    case EVTCHNOP_bind_ipi: {
      const s = EVTCHN_BIND_IPI;
      return bindOp(s.size, s.port, (a) => ev.bindIpi(u32(a, s.vcpu)));
    }
    case EVTCHNOP_close:
    case EVTCHNOP_send:
    case EVTCHNOP_unmask: {
      const a = read(EVTCHN_PORT_ARG.size);
      if (!a) return -XEN_EFAULT;
      const port = u32(a, EVTCHN_PORT_ARG.port);
      return cmd === EVTCHNOP_close ? ev.close(port) : cmd === EVTCHNOP_send ? ev.send(port) : ev.unmask(port);
    }
    case EVTCHNOP_status: {
      const s = EVTCHN_STATUS;
      const a = read(s.size);
      if (!a) return -XEN_EFAULT;
      const st = ev.status(u16(a, s.dom), u32(a, s.port));
      if (typeof st === 'number') return st;
      putU32(a, s.status, st.status);
      putU32(a, s.vcpu, st.vcpu);
      a.fill(0, s.union);
      // unbound/interdomain: dom is a u16 at @16; virq/pirq: a u32 at @16.
      putU32(a, s.union, st.dom);
      putU32(a, s.unionPort, st.port);
      return write(a) ? 0 : -XEN_EFAULT;
    }
    case EVTCHNOP_bind_vcpu: {
      const s = EVTCHN_BIND_VCPU;
      const a = read(s.size);
      if (!a) return -XEN_EFAULT;
      return ev.bindVcpu(u32(a, s.port), u32(a, s.vcpu));
    }
    case EVTCHNOP_reset:
    case EVTCHNOP_reset_cont: {
      const a = read(EVTCHN_RESET.size);
      if (!a) return -XEN_EFAULT;
      return ev.reset(u16(a, EVTCHN_RESET.dom));
    }
    default:
      // bind_pirq (no emulated PIRQs), init_control / expand_array / set_priority (FIFO), unknown.
      return -XEN_ENOSYS;
  }
}
