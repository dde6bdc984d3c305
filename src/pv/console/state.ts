// Save record for the PV console backend. The ring itself lives in guest RAM and
// travels with it; only dom0's side is here: whether the ring was given up on and
// the host input still waiting for room in in[] (at most the queue capacity).

export interface PvConsoleState {
  version: 1;
  broken: boolean;
  pendingInput: number[];
  droppedInput: number;
  outputBytes: number;
}

/** A restorable copy of `s` (which may come from an old or damaged save file). */
export function restorePvConsoleState(s: Partial<PvConsoleState>, capacity: number): PvConsoleState {
  const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
  const pending = Array.isArray(s.pendingInput) ? s.pendingInput.slice(0, capacity).map((v) => (typeof v === 'number' ? v & 0xff : 0)) : [];
  return { version: 1, broken: !!s.broken, pendingInput: pending, droppedInput: count(s.droppedInput), outputBytes: count(s.outputBytes) };
}
