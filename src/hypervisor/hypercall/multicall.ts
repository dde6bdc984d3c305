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
import type { HypercallCall } from './hypercall-context.js';

/** Entries one multicall may carry (no continuations: see the header). */
export const MULTICALL_MAX_CALLS = 1024;

/** A field of an entry as an unsigned number; undefined when it does not fit 32 bits (no 32-bit handler can take it). */
function field(view: DataView, at: number, word: 4 | 8): number | undefined {
  if (word === 4) return view.getUint32(at, true);
  const v = view.getBigUint64(at, true);
  return v > 0xffffffffn ? undefined : Number(v);
}

/** The hypercall, as Xen's hvm_hypercall table: 32-bit callers use the compat layout. */
export function doMulticall(call: HypercallCall): number {
  return runMulticall(call, MULTICALL_ENTRY_32);
}

/**
 * Run `nr_calls` entries of `layout` at call_list (args[0], args[1]). The 64-bit
 * layout is what a long-mode caller passes; tsxen's handlers take 32-bit
 * arguments, so an op or argument above 4 GiB makes that entry -EFAULT (no
 * 32-bit guest handle can name it) or -ENOSYS (no such op).
 */
export function runMulticall(call: HypercallCall, layout: MulticallLayout): number {
  if (call.inMulticall) return -XEN_EINVAL;
  const table = call.table;
  if (!table) return -XEN_ENOSYS;
  const [list, nrCalls] = call.args;
  if (nrCalls > MULTICALL_MAX_CALLS) return -XEN_EINVAL;
  let rc = 0;
  for (let i = 0; i < nrCalls; i++) {
    const at = list + i * layout.size;
    const entry = call.guest.copyFrom(at, layout.size);
    if (!entry) return -XEN_EFAULT;
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    const op = field(view, layout.op, layout.word);
    const args: number[] = [];
    let wide = false;
    for (let a = 0; a < MULTICALL_HANDLER_ARGS; a++) {
      const v = field(view, layout.args + a * layout.word, layout.word);
      if (v === undefined) wide = true;
      args.push(v ?? 0);
    }
    const handler = op === undefined ? undefined : table.get(op);
    let result: number;
    if (!handler) result = -XEN_ENOSYS;
    else if (wide) result = -XEN_EFAULT;
    else {
      try {
        result = handler({ ...call, op: op!, args: args as [number, number, number, number, number], inMulticall: true });
      } catch (e) {
        call.ctx.log?.('warn', `multicall entry ${i} (op ${op}): handler failed: ${e instanceof Error ? e.message : String(e)}`);
        result = -XEN_ENOSYS;
      }
    }
    const out = new Uint8Array(layout.word);
    const outView = new DataView(out.buffer);
    if (layout.word === 4) outView.setUint32(0, result >>> 0, true);
    else outView.setBigInt64(0, BigInt(result | 0), true);
    if (!call.guest.copyTo(at + layout.result, out)) rc = -XEN_EFAULT;
  }
  return rc;
}
