// What a hypercall handler sees: the calling vCPU's registers, the domain's memory
// (through guest handles), and who the domain is. The lead builds one per
// `hypercall` exit (Domain's exit loop) and calls dispatchHypercall.

import type { GuestMemory } from '../memory/guest-memory.js';
import type { VcpuRegisters } from '../vcpu/backend.js';
import type { GuestHandleAccess, LinearTranslate } from './guest-handle.js';
import type { EventChannels } from '../event-channel/event-channels.js';
import type { GrantTable } from '../grant-table/grant-table.js';
import type { GrantAccess } from '../grant-table/grant-access.js';
import type { HvmState, XenPhysmap, XenVcpus } from '../xen-domain.js';

/** The calling domain's Xen objects that event_channel_op and grant_table_op act on (absent: -ENOSYS). */
export interface XenDomainState {
  events?: EventChannels;
  grants?: GrantTable;
  /** This domain as a grant mapper/copier (copy between its frames and others' grants). */
  grantAccess?: GrantAccess;
  /** memory_op's p2m view: shared_info/grant placement, reservations, E820 (absent: -ENOSYS). */
  physmap?: XenPhysmap;
  /** hvm_op's params store and upcall routing (absent: -ENOSYS). */
  hvm?: HvmState;
  /** vcpu_op's vCPUs, vcpu_info registration and optional timers (absent: -ENOSYS). */
  vcpus?: XenVcpus;
  /** XENVER_get_features submap 0 for this domain (absent: HVM_FEATURE_SUBMAP0). */
  features?: number;
}

/** The caller's execution mode (Xen's hvm_guest_x86_mode): vm86 is refused, real mode allowed. */
export type HypercallCallerMode = 'real' | 'vm86' | 'protected16' | 'protected32';

/** The domain facts xen_version reports. */
export interface XenDomainIdentity {
  /** dom0-like privilege (XSM_PRIV checks); guests are never privileged here. */
  privileged: boolean;
  /** The domain handle (UUID, 16 bytes) XENVER_guest_handle returns. */
  handle: Uint8Array;
}

export interface HypercallContext {
  regs: { get(): VcpuRegisters; set(regs: VcpuRegisters): void };
  memory: GuestMemory;
  /** CPL of the caller; the emu exits for VMCALL only at CPL 0, KVM reports it. Default 0. */
  cpl?: number;
  /** Default 'protected32'. */
  mode?: HypercallCallerMode;
  /** Linear -> physical for guest handles when paging is on; absent = identity. */
  translate?: LinearTranslate;
  domain?: XenDomainIdentity;
  xen?: XenDomainState;
  /** SCHEDOP_shutdown: the domain asks to stop with a Xen SHUTDOWN_* reason (absent: -ENOSYS). */
  shutdown?: (reason: number) => void;
  /**
   * SCHEDOP_block/poll found nothing pending: the Domain may idle `vcpu` until an
   * upcall is pending, one of `ports` is pending or system time reaches
   * `deadlineNs` (absent: the call returns at once, a spurious wakeup).
   */
  block?: (request: BlockRequest) => void;
  /** CONSOLEIO_write: bytes for the hypervisor console, i.e. the domain's log (absent: dropped). */
  console?: (text: string) => void;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/** What a blocked vCPU waits for (SCHEDOP_block: any event; SCHEDOP_poll: these ports or the timeout). */
export interface BlockRequest {
  vcpu: number;
  ports: number[];
  deadlineNs?: number;
}

/** One call, decoded: number and the 32-bit convention's arguments (EBX, ECX, EDX, ESI, EDI). */
export interface HypercallCall {
  op: number;
  args: readonly [number, number, number, number, number];
  guest: GuestHandleAccess;
  domain: XenDomainIdentity;
  ctx: HypercallContext;
  /** The table this call was dispatched through (multicall runs its entries through it). */
  table?: ReadonlyMap<number, HypercallHandler>;
  /** Made from inside a multicall (Xen's _MCSF_in_multicall: a nested multicall is -EINVAL). */
  inMulticall?: boolean;
}

/** A hypercall family: returns the (signed) result for EAX. Must never throw for bad guest input. */
export type HypercallHandler = (call: HypercallCall) => number;
