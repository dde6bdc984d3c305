// The hypercall table (Xen's hvm_hypercall in xen/arch/x86/hvm/hypercall.c): check
// the caller may make hypercalls, decode number and arguments, run the family's
// handler, put the result in EAX. Families register here one line each as they
// arrive (event_channel_op, grant_table_op, hvm_op, ...).

import { HYPERVISOR_console_io, HYPERVISOR_multicall, HYPERVISOR_event_channel_op, HYPERVISOR_grant_table_op, HYPERVISOR_hvm_op, HYPERVISOR_memory_op, HYPERVISOR_physdev_op, HYPERVISOR_sched_op, HYPERVISOR_vcpu_op, HYPERVISOR_xen_version } from '../../abi/hypercall-numbers.js';
import { XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import { GuestHandleAccess } from './guest-handle.js';
import { doSchedOp } from './sched-op.js';
import { doConsoleIo } from './console-io.js';
import type { HypercallCall, HypercallContext, HypercallHandler, XenDomainIdentity } from './hypercall-context.js';
import { doXenVersion } from './xen-version.js';
import { doEventChannelOp } from './event-channel-op.js';
import { doGrantTableOp } from './grant-table-op.js';
import { doMemoryOp } from './memory-op.js';
import { doHvmOp } from './hvm-op.js';
import { doVcpuOp } from './vcpu-op.js';
import { doPhysdevOp } from './physdev-op.js';
import { doMulticall } from './multicall.js';

/** Hypercall number -> handler. Numbers absent here are -ENOSYS, as Xen's table gives HVM guests for PV-only ops. */
export const HYPERCALL_TABLE: ReadonlyMap<number, HypercallHandler> = new Map<number, HypercallHandler>([
  [HYPERVISOR_xen_version, doXenVersion],
  [HYPERVISOR_event_channel_op, doEventChannelOp],
  [HYPERVISOR_grant_table_op, doGrantTableOp],
  [HYPERVISOR_sched_op, doSchedOp],
  [HYPERVISOR_console_io, doConsoleIo],
  [HYPERVISOR_memory_op, doMemoryOp],
  [HYPERVISOR_hvm_op, doHvmOp],
  [HYPERVISOR_vcpu_op, doVcpuOp],
  [HYPERVISOR_physdev_op, doPhysdevOp],
  [HYPERVISOR_multicall, doMulticall],
]);

const UNPRIVILEGED_GUEST: XenDomainIdentity = { privileged: false, handle: new Uint8Array(16) };

/**
 * Run the hypercall the vCPU's registers describe (32-bit convention: EAX = op,
 * EBX, ECX, EDX, ESI, EDI = arguments) and write the result to EAX. Returns the
 * signed result. Non-zero CPL in protected mode, or vm86 mode, is -EPERM; real
 * mode is allowed. Never throws for anything the guest put in registers or memory.
 */
export function dispatchHypercall(ctx: HypercallContext, table: ReadonlyMap<number, HypercallHandler> = HYPERCALL_TABLE): number {
  const regs = ctx.regs.get();
  const op = regs.eax >>> 0;
  const mode = ctx.mode ?? 'protected32';
  let result: number;
  if (mode === 'vm86' || (mode !== 'real' && (ctx.cpl ?? 0) !== 0)) {
    result = -XEN_EPERM;
  } else {
    const handler = table.get(op);
    if (!handler) {
      result = -XEN_ENOSYS;
    } else {
      const call: HypercallCall = {
        op,
        args: [regs.ebx >>> 0, regs.ecx >>> 0, regs.edx >>> 0, regs.esi >>> 0, regs.edi >>> 0],
        guest: new GuestHandleAccess(ctx.memory, ctx.translate),
        domain: ctx.domain ?? UNPRIVILEGED_GUEST,
        ctx,
        table,
      };
      try {
        result = handler(call);
      } catch (e) {
        // A handler bug must not take the domain down through a guest's hypercall.
        ctx.log?.('warn', `hypercall ${op}: handler failed: ${e instanceof Error ? e.message : String(e)}`);
        result = -XEN_ENOSYS;
      }
    }
  }
  ctx.regs.set({ ...regs, eax: result >>> 0 });
  return result | 0;
}
