// EFLAGS with lazily computed arithmetic flags.
// STUB (contract only): the core helper replaces the internals with lazy flags,
// keeping readEflags/writeEflags and their meaning.

import { ARITH_FLAGS, type CpuState } from './state.js';

/** The full EFLAGS value (bit 1 set), materialising pending arithmetic flags. */
export function readEflags(cpu: CpuState): number {
  return (cpu.flags & ~ARITH_FLAGS) | (cpu.lazyFlags & ARITH_FLAGS) | 2;
}

/**
 * Store all of EFLAGS verbatim (no privilege rules: POPF/IRET callers apply the
 * IOPL/IF/VM rules first). Calls cpu.modeChanged() if VM changed.
 */
export function writeEflags(cpu: CpuState, value: number): void {
  const vmChanged = ((cpu.flags ^ value) & (1 << 17)) !== 0;
  cpu.flags = (value & ~ARITH_FLAGS) | 2;
  cpu.lazyOp = 0;
  cpu.lazyFlags = value & ARITH_FLAGS;
  if (vmChanged) cpu.modeChanged();
}
