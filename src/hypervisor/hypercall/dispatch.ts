// The hypercall table (Xen's hvm_hypercall in xen/arch/x86/hvm/hypercall.c): check
// the caller may make hypercalls, decode number and arguments by the caller's mode
// (32-bit registers and layouts, or 64-bit ones from long mode), run the family's
// handler, put the result in EAX / RAX. Families register here one line each as they
// arrive (event_channel_op, grant_table_op, hvm_op, ...).

import { HYPERVISOR_console_io, HYPERVISOR_multicall, HYPERVISOR_event_channel_op, HYPERVISOR_grant_table_op, HYPERVISOR_hvm_op, HYPERVISOR_memory_op, HYPERVISOR_physdev_op, HYPERVISOR_sched_op, HYPERVISOR_vcpu_op, HYPERVISOR_xen_version } from '../../abi/hypercall-numbers.js';
import { XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import type { GuestWidth } from '../../abi/guest-width.js';
import { GuestHandleAccess } from './guest-handle.js';
import { signed64 } from '../vcpu/backend.js';
import { doSchedOp } from './sched-op.js';
import { doConsoleIo } from './console-io.js';
import type { HypercallArgs, HypercallCall, HypercallCallerMode, HypercallContext, HypercallHandler, XenDomainIdentity } from './hypercall-context.js';
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

type WideArgs = readonly [bigint, bigint, bigint, bigint, bigint];

/** The decoded call for `op` with these five argument registers. */
function decodeCall(ctx: HypercallContext, table: ReadonlyMap<number, HypercallHandler>, op: number, width: GuestWidth, wide: WideArgs): HypercallCall {
  const low = wide.map((v) => Number(v & 0xffffffffn)) as unknown as HypercallArgs;
  return {
    op,
    args: low,
    width,
    ptrs: width === 4 ? low : (wide.map(signed64) as unknown as HypercallArgs),
    wide,
    guest: new GuestHandleAccess(ctx.memory, ctx.translate, width),
    domain: ctx.domain ?? UNPRIVILEGED_GUEST,
    ctx,
    table,
  };
}

/** Run `handler`; a handler bug must not take the domain down through a guest's hypercall. */
function runHandler(ctx: HypercallContext, handler: HypercallHandler, call: HypercallCall): number {
  try {
    return handler(call);
  } catch (e) {
    ctx.log?.('warn', `hypercall ${call.op}: handler failed: ${e instanceof Error ? e.message : String(e)}`);
    return -XEN_ENOSYS;
  }
}

/** The caller may make hypercalls: not vm86, CPL 0 unless in real mode (else -EPERM). */
function permitted(ctx: HypercallContext, mode: HypercallCallerMode): boolean {
  return mode !== 'vm86' && (mode === 'real' || (ctx.cpl ?? 0) === 0);
}

/**
 * Run the hypercall the vCPU's registers describe and write the result back.
 * 32-bit convention: EAX = op, EBX ECX EDX ESI EDI = arguments, result in EAX.
 * 64-bit ('long64'): RAX = op (all 64 bits: a number beyond the table is
 * -ENOSYS), RDI RSI RDX R10 R8 = arguments, the result sign-extended into RAX;
 * no other register changes. Returns the signed result. Non-zero CPL in
 * protected or long mode, or vm86 mode, is -EPERM; real mode is allowed. Never
 * throws for anything the guest put in registers or memory.
 */
export function dispatchHypercall(ctx: HypercallContext, table: ReadonlyMap<number, HypercallHandler> = HYPERCALL_TABLE): number {
  const mode = ctx.mode ?? 'protected32';
  if (mode === 'long64') return dispatchLong64(ctx, table);
  const regs = ctx.regs.get();
  const op = regs.eax >>> 0;
  let result: number;
  if (!permitted(ctx, mode)) {
    result = -XEN_EPERM;
  } else {
    const handler = table.get(op);
    if (!handler) result = -XEN_ENOSYS;
    else {
      const wide = [regs.ebx, regs.ecx, regs.edx, regs.esi, regs.edi].map((r) => BigInt(r >>> 0)) as unknown as WideArgs;
      result = runHandler(ctx, handler, decodeCall(ctx, table, op, 4, wide));
    }
  }
  ctx.regs.set({ ...regs, eax: result >>> 0 });
  return result | 0;
}

/** A hypercall from 64-bit mode (Xen's hvm_hypercall with hvm_guest_x86_mode() == 8). */
function dispatchLong64(ctx: HypercallContext, table: ReadonlyMap<number, HypercallHandler>): number {
  if (!ctx.regs64) {
    ctx.log?.('warn', 'hypercall from 64-bit mode without 64-bit registers: -ENOSYS in EAX');
    const regs = ctx.regs.get();
    ctx.regs.set({ ...regs, eax: -XEN_ENOSYS >>> 0 });
    return -XEN_ENOSYS;
  }
  const regs = ctx.regs64.get();
  const rax = BigInt.asUintN(64, regs.rax);
  let result: number;
  if (!permitted(ctx, 'long64')) {
    result = -XEN_EPERM;
  } else {
    const handler = rax <= 0xffffffffn ? table.get(Number(rax)) : undefined;
    if (!handler) result = -XEN_ENOSYS;
    else {
      const wide = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8].map((r) => BigInt.asUintN(64, r)) as unknown as WideArgs;
      result = runHandler(ctx, handler, decodeCall(ctx, table, Number(rax), 8, wide));
    }
  }
  // Xen returns a long: the result sign-extended to 64 bits.
  ctx.regs64.set({ ...regs, rax: BigInt.asUintN(64, BigInt(Math.trunc(result))) });
  return result;
}
