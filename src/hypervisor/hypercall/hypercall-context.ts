// What a hypercall handler sees: the calling vCPU's registers, the domain's memory
// (through guest handles), and who the domain is. The lead builds one per
// `hypercall` exit (Domain's exit loop) and calls dispatchHypercall.

import type { GuestMemory } from '../memory/guest-memory.js';
import type { VcpuRegisters, VcpuRegisters64 } from '../vcpu/backend.js';
import type { GuestWidth } from '../../abi/guest-width.js';
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
  /** The CPU backend runs x86-64 guests (cpu/kvm): XENVER_capabilities lists hvm-3.0-x86_64. */
  longMode?: boolean;
  /**
   * Latch the domain's shared_info width (Xen's hvm_latch_shinfo_size) from the
   * caller: hvm_op does on a guest write of HVM_PARAM_CALLBACK_IRQ (absent: nothing latched).
   */
  latchGuestWidth?: (width: GuestWidth) => void;
}

/**
 * The caller's execution mode (Xen's hvm_guest_x86_mode): vm86 is refused, real
 * mode allowed. 'long64' is 64-bit mode (EFER.LMA and CS.L): RAX = number, RDI RSI
 * RDX R10 R8 = arguments, 64-bit struct layouts. Compat mode (long mode with a
 * 32-bit CS) is 'protected32', with the 32-bit convention and layouts, as in Xen.
 */
export type HypercallCallerMode = 'real' | 'vm86' | 'protected16' | 'protected32' | 'long64';

/** xen_ulong_t width of a caller in `mode`: 8 only in 64-bit mode (Xen: hvm_guest_x86_mode() == 8). */
export function callerWidth(mode: HypercallCallerMode | undefined): GuestWidth {
  return mode === 'long64' ? 8 : 4;
}

/** The domain facts xen_version reports. */
export interface XenDomainIdentity {
  /** dom0-like privilege (XSM_PRIV checks); guests are never privileged here. */
  privileged: boolean;
  /** The domain handle (UUID, 16 bytes) XENVER_guest_handle returns. */
  handle: Uint8Array;
}

export interface HypercallContext {
  regs: { get(): VcpuRegisters; set(regs: VcpuRegisters): void };
  /** All 64 bits of the registers; required for mode 'long64' (absent there: -ENOSYS, registers untouched). */
  regs64?: { get(): VcpuRegisters64; set(regs: VcpuRegisters64): void };
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

export type HypercallArgs = readonly [number, number, number, number, number];

/**
 * One call, decoded: number and the five argument registers (EBX ECX EDX ESI EDI
 * for a 32-bit caller, RDI RSI RDX R10 R8 for a 64-bit one).
 */
export interface HypercallCall {
  op: number;
  /** The low 32 bits of each argument: what an `int` / `unsigned int` parameter sees in Xen. */
  args: HypercallArgs;
  /** 4: a 32-bit caller (compat layouts); 8: long mode (native x86_64 layouts). */
  width: GuestWidth;
  /**
   * The arguments as guest handles (linear addresses): width 4, the 32-bit value;
   * width 8, the register as a signed 64-bit number (signed64): canonical
   * addresses are exact, a non-canonical one makes every copy fail (-EFAULT).
   */
  ptrs: HypercallArgs;
  /** The full argument registers, for `unsigned long` parameters (width 4: zero-extended). */
  wide: readonly [bigint, bigint, bigint, bigint, bigint];
  guest: GuestHandleAccess;
  domain: XenDomainIdentity;
  ctx: HypercallContext;
  /** The table this call was dispatched through (multicall runs its entries through it). */
  table?: ReadonlyMap<number, HypercallHandler>;
  /** Made from inside a multicall (Xen's _MCSF_in_multicall: a nested multicall is -EINVAL). */
  inMulticall?: boolean;
}

/** A call made before the width existed (tests, old callers): a 32-bit caller unless it says otherwise. */
export type HypercallCallInput = Omit<HypercallCall, 'width' | 'ptrs' | 'wide'> & Partial<Pick<HypercallCall, 'width' | 'ptrs' | 'wide'>>;

/** A hypercall family: returns the (signed) result for EAX/RAX. Must never throw for bad guest input. */
export type HypercallHandler = (call: HypercallCall) => number;
