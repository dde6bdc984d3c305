// One domain's event channels (Xen's common/event_channel.c, 2-level ABI): the
// port table and the operations EVTCHNOP_* perform on it. Results follow Xen:
// a port number (≥ 0) or a negative Xen errno; nothing here throws on bad input.
//
// Ports are allocated lowest-first from 1 (port 0 is reserved at creation). Xen
// grows its table in buckets; a port is "valid" once its bucket exists, so ops on
// a never-allocated port beyond the last bucket are -EINVAL, while a free port
// inside one is reported closed (status) or refused per op.

import {
  DOMID_SELF,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_ipi,
  EVTCHNSTAT_pirq,
  EVTCHNSTAT_unbound,
  EVTCHNSTAT_virq,
  EVTCHN_2L_NR_CHANNELS_32,
  NR_VIRQS,
  VIRQ_ARCH_0,
  VIRQ_ARCH_7,
  VIRQ_ARGO,
  VIRQ_DEBUG,
  VIRQ_TIMER,
  VIRQ_XENOPROF,
  VIRQ_XENPMU,
} from '../../abi/event-channel.js';
import { XEN_EBUSY, XEN_EEXIST, XEN_EINVAL, XEN_ENOENT, XEN_ENOSPC, XEN_EPERM, XEN_ESRCH } from '../../abi/xen-errno.js';
import type { EventDelivery } from './delivery.js';
import { ChannelState, freeChannel, type Channel, type VirqType } from './port-state.js';

/** Xen allocates struct evtchn in buckets; ports below the highest bucket are valid. */
const PORTS_PER_BUCKET = 64;

export interface EventChannelsOptions {
  domId: number;
  vcpuCount: number;
  delivery: EventDelivery;
  /** Another domain's event channels by id (undefined: not reachable from here). */
  lookupDomain: (domId: number) => EventChannels | undefined;
  /** A domain of the host that lookupDomain cannot reach exists (-EPERM, not -ESRCH, for an unprivileged caller). */
  domainExists?: (domId: number) => boolean;
  /** A fixed port limit; default: what the delivery holds (2-level: 1024 or 4096 by the shared_info layout), else 1024. */
  maxPorts?: number;
  /** Xen's global VIRQ handler (dom0 by default): only it may bind global VIRQs. */
  globalVirqHandler?: boolean;
  /** dom0-like privilege (XSM_TARGET): may name other domains in alloc_unbound/status/reset. */
  privileged?: boolean;
}

export interface ChannelStatus {
  status: number;
  vcpu: number;
  /** unbound: remote dom; interdomain: peer dom; virq: virq; pirq: pirq. */
  dom: number;
  /** interdomain: peer port. */
  port: number;
}

export function virqType(virq: number): VirqType {
  if (virq === VIRQ_TIMER || virq === VIRQ_DEBUG || virq === VIRQ_XENOPROF || virq === VIRQ_XENPMU) return 'vcpu';
  if (virq === VIRQ_ARGO) return 'domain';
  if (virq >= VIRQ_ARCH_0 && virq <= VIRQ_ARCH_7) return 'global'; // x86: arch VIRQs (MCA) are global
  return 'global';
}

/** A domain's ports as a save record: every port not free, as [port, state, notifyVcpu, remoteDom, remotePort, virq]. */
export interface EventChannelsRecord {
  version: 1;
  /** Ports Xen had buckets for (port_is_valid). */
  validPorts: number;
  ports: Array<[number, ChannelState, number, number, number, number]>;
}

export class EventChannels {
  readonly domId: number;
  readonly vcpuCount: number;
  readonly delivery: EventDelivery;
  private readonly channels: Channel[] = [];
  /** virqToPort[vcpu][virq], 0 = unbound. */
  private readonly virqToPort: number[][];
  private readonly opts: EventChannelsOptions;

  constructor(opts: EventChannelsOptions) {
    this.opts = opts;
    this.domId = opts.domId;
    this.vcpuCount = Math.max(1, opts.vcpuCount | 0);
    this.delivery = opts.delivery;
    this.virqToPort = Array.from({ length: this.vcpuCount }, () => new Array<number>(NR_VIRQS).fill(0));
    this.growTo(0);
    this.channels[0].state = ChannelState.Reserved;
  }

  /**
   * Ports the domain may allocate (Xen's max_evtchns: 2-level capacity follows the
   * latched shared_info width). Ports allocated under a larger limit stay valid.
   */
  get maxPorts(): number {
    return this.opts.maxPorts ?? this.delivery.portLimit?.() ?? EVTCHN_2L_NR_CHANNELS_32;
  }

  /** Xen's port_is_valid: inside an allocated bucket. */
  isValid(port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port < this.channels.length;
  }

  /** A copy of the channel at `port`, for backends and tests; undefined when invalid. */
  channel(port: number): Readonly<Channel> | undefined {
    return this.isValid(port) ? { ...this.channels[port] } : undefined;
  }

  private growTo(port: number): void {
    while (this.channels.length <= port) {
      for (let i = 0; i < PORTS_PER_BUCKET && this.channels.length < this.maxPorts; i++) this.channels.push(freeChannel());
    }
  }

  /** get_free_port: lowest free port, or -ENOSPC. */
  private allocatePort(): number {
    for (let port = 1; port < this.maxPorts; port++) {
      if (port >= this.channels.length) this.growTo(port);
      if (this.channels[port].state === ChannelState.Free) return port;
    }
    return -XEN_ENOSPC;
  }

  private resolveDom(dom: number): number {
    return dom === DOMID_SELF ? this.domId : dom;
  }

  /** rcu_lock_domain_by_any_id + XSM_TARGET: self always, others only when privileged. */
  private targetDomain(dom: number): EventChannels | number {
    const id = this.resolveDom(dom);
    const d = id === this.domId ? this : this.opts.lookupDomain(id);
    if (!d) return !this.opts.privileged && this.opts.domainExists?.(id) ? -XEN_EPERM : -XEN_ESRCH;
    if (d !== this && !this.opts.privileged) return -XEN_EPERM;
    return d;
  }

  private validVcpu(vcpu: number): boolean {
    return Number.isInteger(vcpu) && vcpu >= 0 && vcpu < this.vcpuCount;
  }

  /** EVTCHNOP_alloc_unbound: a port in domain `dom` that `remoteDom` may bind. */
  allocUnbound(dom: number, remoteDom: number): number {
    const d = this.targetDomain(dom);
    if (typeof d === 'number') return d;
    const port = d.allocatePort();
    if (port < 0) return port;
    const ch = d.channels[port];
    ch.state = ChannelState.Unbound;
    ch.remoteDom = remoteDom === DOMID_SELF ? this.domId : remoteDom & 0xffff;
    ch.notifyVcpu = 0;
    return port;
  }

  /**
   * EVTCHNOP_bind_interdomain: connect a new local port to `remotePort` of
   * `remoteDom`, which must be unbound and offered to us. The new local port
   * starts pending (Xen raises it so no notification sent before bind is lost).
   */
  bindInterdomain(remoteDom: number, remotePort: number): number {
    const rid = this.resolveDom(remoteDom);
    const rd = rid === this.domId ? this : this.opts.lookupDomain(rid);
    if (!rd) return -XEN_ESRCH;
    const lport = this.allocatePort();
    if (lport < 0) return lport;
    if (!rd.isValid(remotePort)) return -XEN_EINVAL;
    const rch = rd.channels[remotePort];
    if (rch.state !== ChannelState.Unbound || rch.remoteDom !== this.domId) return -XEN_EINVAL;
    const lch = this.channels[lport];
    lch.state = ChannelState.Interdomain;
    lch.remoteDom = rid;
    lch.remotePort = remotePort;
    lch.notifyVcpu = 0;
    rch.state = ChannelState.Interdomain;
    rch.remoteDom = this.domId;
    rch.remotePort = lport;
    this.delivery.setPending(lport, lch.notifyVcpu);
    return lport;
  }

  /** EVTCHNOP_bind_virq. */
  bindVirq(virq: number, vcpu: number): number {
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return -XEN_EINVAL;
    const type = virqType(virq);
    if (type !== 'vcpu' && vcpu !== 0) return -XEN_EINVAL;
    if (!this.validVcpu(vcpu)) return -XEN_ENOENT;
    if (type === 'global' && !this.opts.globalVirqHandler) return -XEN_EBUSY;
    if (this.virqToPort[vcpu][virq] !== 0) return -XEN_EEXIST;
    const port = this.allocatePort();
    if (port < 0) return port;
    const ch = this.channels[port];
    ch.state = ChannelState.Virq;
    ch.virq = virq;
    ch.notifyVcpu = vcpu;
    this.virqToPort[vcpu][virq] = port;
    return port;
  }

  /** EVTCHNOP_bind_ipi. */
  bindIpi(vcpu: number): number {
    if (!this.validVcpu(vcpu)) return -XEN_ENOENT;
    const port = this.allocatePort();
    if (port < 0) return port;
    const ch = this.channels[port];
    ch.state = ChannelState.Ipi;
    ch.notifyVcpu = vcpu;
    return port;
  }

  /** EVTCHNOP_close: free the port; an interdomain peer goes back to unbound (waiting for us). */
  close(port: number): number {
    if (!this.isValid(port)) return -XEN_EINVAL;
    const ch = this.channels[port];
    switch (ch.state) {
      case ChannelState.Free:
      case ChannelState.Reserved:
        return -XEN_EINVAL;
      case ChannelState.Virq:
        for (const row of this.virqToPort) if (row[ch.virq] === port) row[ch.virq] = 0;
        break;
      case ChannelState.Interdomain: {
        const rd = ch.remoteDom === this.domId ? this : this.opts.lookupDomain(ch.remoteDom);
        const rch = rd?.isValid(ch.remotePort) ? rd.channels[ch.remotePort] : undefined;
        if (rch && rch.state === ChannelState.Interdomain && rch.remoteDom === this.domId && rch.remotePort === port) {
          rch.state = ChannelState.Unbound;
          rch.remoteDom = this.domId;
          rch.remotePort = 0;
        }
        break;
      }
      default:
        break;
    }
    this.free(port);
    return 0;
  }

  /** Xen's evtchn_free: pending state cleared, back to free on vCPU 0. */
  private free(port: number): void {
    this.delivery.clearPending(port);
    this.channels[port] = freeChannel();
  }

  /** EVTCHNOP_send: raise the peer's port (interdomain) or our own (IPI); unbound drops silently. */
  send(port: number): number {
    if (!this.isValid(port)) return -XEN_EINVAL;
    const ch = this.channels[port];
    switch (ch.state) {
      case ChannelState.Interdomain: {
        const rd = ch.remoteDom === this.domId ? this : this.opts.lookupDomain(ch.remoteDom);
        if (!rd || !rd.isValid(ch.remotePort)) return 0;
        rd.raise(ch.remotePort);
        return 0;
      }
      case ChannelState.Ipi:
        this.delivery.setPending(port, ch.notifyVcpu);
        return 0;
      case ChannelState.Unbound:
        return 0;
      default:
        return -XEN_EINVAL;
    }
  }

  /** Set `port` pending for its notify vCPU (what a peer's send or a VIRQ does). */
  raise(port: number): void {
    if (!this.isValid(port) || this.channels[port].state === ChannelState.Free) return;
    this.delivery.setPending(port, this.channels[port].notifyVcpu);
  }

  /** send_guest_vcpu_virq / send_guest_global_virq: raise a VIRQ if the domain bound it. */
  raiseVirq(virq: number, vcpu = 0): boolean {
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return false;
    const v = virqType(virq) === 'vcpu' ? vcpu : 0;
    if (!this.validVcpu(v)) return false;
    const port = this.virqToPort[v][virq];
    if (port === 0) return false;
    this.raise(port);
    return true;
  }

  /** EVTCHNOP_status for port `port` of domain `dom`. */
  status(dom: number, port: number): ChannelStatus | number {
    const d = this.targetDomain(dom);
    if (typeof d === 'number') return d;
    if (!d.isValid(port)) return -XEN_EINVAL;
    const ch = d.channels[port];
    const out: ChannelStatus = { status: EVTCHNSTAT_closed, vcpu: ch.notifyVcpu, dom: 0, port: 0 };
    switch (ch.state) {
      case ChannelState.Unbound:
        out.status = EVTCHNSTAT_unbound;
        out.dom = ch.remoteDom;
        break;
      case ChannelState.Interdomain:
        out.status = EVTCHNSTAT_interdomain;
        out.dom = ch.remoteDom;
        out.port = ch.remotePort;
        break;
      case ChannelState.Pirq:
        out.status = EVTCHNSTAT_pirq;
        break;
      case ChannelState.Virq:
        out.status = EVTCHNSTAT_virq;
        out.dom = ch.virq;
        break;
      case ChannelState.Ipi:
        out.status = EVTCHNSTAT_ipi;
        break;
      default:
        break;
    }
    return out;
  }

  /** EVTCHNOP_bind_vcpu: move notifications; IPIs and per-vCPU VIRQs stay put. */
  bindVcpu(port: number, vcpu: number): number {
    if (!this.validVcpu(vcpu)) return -XEN_ENOENT;
    if (!this.isValid(port)) return -XEN_EINVAL;
    const ch = this.channels[port];
    switch (ch.state) {
      case ChannelState.Virq:
        if (virqType(ch.virq) === 'vcpu') return -XEN_EINVAL;
        ch.notifyVcpu = vcpu;
        return 0;
      case ChannelState.Unbound:
      case ChannelState.Interdomain:
        ch.notifyVcpu = vcpu;
        return 0;
      default:
        return -XEN_EINVAL;
    }
  }

  /** EVTCHNOP_unmask: clear the mask bit and redeliver if pending. */
  unmask(port: number): number {
    if (!this.isValid(port)) return -XEN_EINVAL;
    this.delivery.unmask(port, this.channels[port].notifyVcpu);
    return 0;
  }

  /** The port table (pending and mask bits live in shared_info, which is saved with the domain's memory). */
  save(): EventChannelsRecord {
    const ports: EventChannelsRecord['ports'] = [];
    this.channels.forEach((c, port) => {
      if (port !== 0 && c.state !== ChannelState.Free) ports.push([port, c.state, c.notifyVcpu, c.remoteDom, c.remotePort, c.virq]);
    });
    return { version: 1, validPorts: this.channels.length, ports };
  }

  /** Replace the port table with a saved one; throws a RangeError naming the bad entry. */
  restore(r: EventChannelsRecord): void {
    if (!r || r.version !== 1 || !Array.isArray(r.ports)) throw new RangeError(`event channels of domain ${this.domId}: not a version 1 record`);
    const valid = Math.min(Math.max(1, r.validPorts | 0), this.maxPorts);
    const channels: Channel[] = [];
    while (channels.length < valid) channels.push(freeChannel());
    channels[0].state = ChannelState.Reserved;
    for (const row of r.ports) {
      const [port, state, vcpu, remoteDom, remotePort, virq] = (Array.isArray(row) ? row : []) as number[];
      const ok =
        Number.isInteger(port) && port > 0 && port < valid &&
        [ChannelState.Unbound, ChannelState.Interdomain, ChannelState.Pirq, ChannelState.Virq, ChannelState.Ipi].includes(state) &&
        this.validVcpu(vcpu) && Number.isInteger(remoteDom) && Number.isInteger(remotePort) && remotePort >= 0 &&
        Number.isInteger(virq) && virq >= 0 && virq < NR_VIRQS;
      if (!ok) throw new RangeError(`event channels of domain ${this.domId}: bad saved port ${JSON.stringify(row)}`);
      channels[port] = { state, notifyVcpu: vcpu, remoteDom, remotePort, virq };
    }
    this.channels.length = 0;
    this.channels.push(...channels);
    for (const row of this.virqToPort) row.fill(0);
    this.channels.forEach((c, port) => {
      if (c.state === ChannelState.Virq) this.virqToPort[virqType(c.virq) === 'vcpu' ? c.notifyVcpu : 0][c.virq] = port;
    });
  }

  /** EVTCHNOP_reset: close every port of domain `dom`. */
  reset(dom: number): number {
    const d = this.targetDomain(dom);
    if (typeof d === 'number') return d;
    for (let port = 1; port < d.channels.length; port++) {
      if (d.channels[port].state !== ChannelState.Free) d.close(port);
    }
    return 0;
  }
}
