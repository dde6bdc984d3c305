// multicall_entry (xen/include/public/xen.h): {op, result, args[6]} of xen_ulong_t,
// so 8-byte fields for a 64-bit caller and 4-byte fields for a 32-bit one
// (compat_multicall_entry). Only args[0..4] reach a handler (5 argument registers).

export interface MulticallLayout {
  /** Bytes per entry. */
  size: number;
  /** Bytes per field (op, result, each arg). */
  word: 4 | 8;
  op: number;
  result: number;
  /** args[0]; args[i] at args + i * word. */
  args: number;
}

export const MULTICALL_ENTRY_32: MulticallLayout = { size: 32, word: 4, op: 0, result: 4, args: 8 };
export const MULTICALL_ENTRY_64: MulticallLayout = { size: 64, word: 8, op: 0, result: 8, args: 16 };

/** Arguments a hypercall takes from an entry (xen.h: "args[6]" but hypercalls have at most 5). */
export const MULTICALL_HANDLER_ARGS = 5;
