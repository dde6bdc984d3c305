// isa-debug-exit keeps no guest-visible state (its port range is configuration);
// the record exists so every device saves the same way.

export interface DebugExitState {
  version: 1;
}

export function restoreDebugExitState(s: DebugExitState): DebugExitState {
  if (!s || s.version !== 1) throw new RangeError(`debug-exit state version ${String(s?.version)} is not 1`);
  return { version: 1 };
}
