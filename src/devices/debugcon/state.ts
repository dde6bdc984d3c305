// isa-debugcon keeps no guest-visible state (its port and readback value are
// configuration); the record exists so every device saves the same way.

export interface DebugConState {
  version: 1;
}

export function restoreDebugConState(_s: DebugConState): DebugConState {
  return { version: 1 };
}
