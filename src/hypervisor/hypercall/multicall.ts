// multicall (hypercall 13: call_list, nr_calls; xen/include/public/xen.h
// multicall_entry; behaviour of Xen's common/multicall.c do_multicall with
// x86/hvm/hypercall.c's hvm_do_multicall_call): each entry is read, run through
// the same hypercall table as a trapped call, and its result written back into
// the entry. The call itself returns 0, or -EFAULT when an entry cannot be read
// (the batch stops there) or a result cannot be written (the batch goes on).
// A multicall inside a multicall is -EINVAL in that entry (Xen's reentry flag).
//
// Xen splits a long batch with hypercall continuations; tsxen has none, so a
// batch longer than MULTICALL_MAX_CALLS is refused whole with -EINVAL (Linux
// batches at most 32 entries: arch/x86/xen/multicalls.h MC_BATCH).

import { MULTICALL_ENTRY_32, MULTICALL_ENTRY_64, MULTICALL_HANDLER_ARGS, type MulticallLayout } from '../../abi/multicall.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS } from '../../abi/xen-errno.js';
import type { GuestWidth } from '../../abi/guest-width.js';
import { signed64 } from '../vcpu/backend.js';
import type { HypercallArgs, HypercallCall, HypercallCallInput } from './hypercall-context.js';

/** Entries one multicall may carry (no continuations: see the header). */
export const MULTICALL_MAX_CALLS = 1024;

/** The hypercall, as Xen's hvm_hypercall table: a 64-bit caller's entries are the native layout, a 32-bit caller's the compat one. */
export function doMulticall(call: HypercallCall): number {
  return runMulticall(call, call.width === 8 ? MULTICALL_ENTRY_64 : MULTICALL_ENTRY_32);
}

/**
 * Run `nr_calls` entries of `layout` at call_list (args[0], args[1]). Each entry
 * is a call of the caller's width: a 64-bit caller's entries carry 64-bit
 * arguments. A 32-bit caller handed the 64-bit layout (tests) gets -EFAULT for an
 * entry whose argument does not fit 32 bits (no 32-bit handle can name it); an op
 * beyond the table is -ENOSYS.
 */
export function runMulticall(input: HypercallCallInput, layout: MulticallLayout): number {
  const width: GuestWidth = input.width ?? 4;
  if (input.inMulticall) return -XEN_EINVAL;
  const table = input.table;
  if (!table) return -XEN_ENOSYS;
  const list = input.ptrs?.[0] ?? input.args[0];
  const nrCalls = input.args[1];
  if (nrCalls > MULTICALL_MAX_CALLS) return -XEN_EINVAL;
  let rc = 0;
  for (let i = 0; i < nrCalls; i++) {
    const at = list + i * layout.size;
    const entry = input.guest.copyFrom(at, layout.size);
    if (!entry) return -XEN_EFAULT;
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    const word = (off: number): bigint => (layout.word === 4 ? BigInt(view.getUint32(off, true)) : view.getBigUint64(off, true));
    const op = word(layout.op);
    const wide: bigint[] = [];
    for (let a = 0; a < MULTICALL_HANDLER_ARGS; a++) wide.push(word(layout.args + a * layout.word));
    const tooWide = width === 4 && wide.some((v) => v > 0xffffffffn);
    const handler = op <= 0xffffffffn ? table.get(Number(op)) : undefined;
    let result: number;
    if (!handler) result = -XEN_ENOSYS;
    else if (tooWide) result = -XEN_EFAULT;
    else {
      const args = wide.map((v) => Number(v & 0xffffffffn)) as unknown as HypercallArgs;
      const ptrs = width === 4 ? args : (wide.map(signed64) as unknown as HypercallArgs);
      const entryCall: HypercallCall = { ...input, op: Number(op), args, width, ptrs, wide: wide as unknown as HypercallCall['wide'], inMulticall: true };
      try {
        result = handler(entryCall);
      } catch (e) {
        input.ctx.log?.('warn', `multicall entry ${i} (op ${op}): handler failed: ${e instanceof Error ? e.message : String(e)}`);
        result = -XEN_ENOSYS;
      }
    }
    const out = new Uint8Array(layout.word);
    const outView = new DataView(out.buffer);
    if (layout.word === 4) outView.setUint32(0, result >>> 0, true);
    else outView.setBigInt64(0, BigInt.asIntN(64, BigInt(Math.trunc(result))), true);
    if (!input.guest.copyTo(at + layout.result, out)) rc = -XEN_EFAULT;
  }
  return rc;
}
