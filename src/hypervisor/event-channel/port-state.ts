// One event channel's state (Xen's struct evtchn and its ECS_* states,
// xen/include/xen/sched.h; behaviour of common/event_channel.c).

export enum ChannelState {
  Free = 0,
  /** Port 0: never allocated (Linux treats 0 as "no port"). */
  Reserved = 1,
  Unbound = 2,
  Interdomain = 3,
  Pirq = 4,
  Virq = 5,
  Ipi = 6,
}

export interface Channel {
  state: ChannelState;
  /** vCPU notified when the port becomes pending. */
  notifyVcpu: number;
  /** Unbound: the domain allowed to bind; Interdomain: the peer domain. */
  remoteDom: number;
  /** Interdomain: the peer's port. */
  remotePort: number;
  /** Virq: which VIRQ. */
  virq: number;
}

export function freeChannel(): Channel {
  return { state: ChannelState.Free, notifyVcpu: 0, remoteDom: 0, remotePort: 0, virq: 0 };
}

/** Xen's get_virq_type: per-vCPU VIRQs stay on their vCPU; global ones go to one handler domain's vCPU 0. */
export type VirqType = 'vcpu' | 'domain' | 'global';
