// Save record for the 8254 PIT (Xen hvm/save.h "PIT" record: three channels plus
// the speaker port). Times are in PIT ticks of the domain clock, so a restored
// domain continues counting exactly where it stopped.

export interface PitChannelState {
  /** Control word bits 3:1 as written (6 and 7 alias modes 2 and 3). */
  modeBits: number;
  /** Control word bits 5:4: 1 = LSB only, 2 = MSB only, 3 = LSB then MSB. */
  access: number;
  bcd: boolean;
  /** Count register as written (raw, BCD digits if bcd); 0 means the maximum count. */
  reload: number;
  /** A count is loaded and (for modes 1/5 once triggered) the counter runs. */
  armed: boolean;
  /** Modes 1 and 5: a gate rising edge has started the count. */
  triggered: boolean;
  /** Counting now (gate allows it); elapsed = nowTick - startTick. */
  running: boolean;
  startTick: number;
  /** Elapsed ticks frozen while not running. */
  pausedElapsed: number;
  /** Elapsed ticks up to which OUT edges were already reported (channel 0 → IRQ0). */
  reportedElapsed: number;
  gate: boolean;
  /** LSB/MSB access: a first write byte is held here until the second arrives. */
  writeHigh: boolean;
  writeLow: number;
  /** LSB/MSB access: the next read returns the MSB. */
  readHigh: boolean;
  countLatched: boolean;
  latchedCount: number;
  statusLatched: boolean;
  latchedStatus: number;
  /** Status bit 6: count written but not yet moved into the counting element. */
  nullCount: boolean;
  loadTick: number;
}

export interface PitState {
  version: 1;
  channels: PitChannelState[];
  /** Port 0x61 bits 3:0 as last written (bit 0 = channel 2 gate, bit 1 = speaker data). */
  port61: number;
}

export function initialChannelState(): PitChannelState {
  return {
    modeBits: 0,
    access: 3,
    bcd: false,
    reload: 0,
    armed: false,
    triggered: false,
    running: false,
    startTick: 0,
    pausedElapsed: 0,
    reportedElapsed: 0,
    gate: true,
    writeHigh: false,
    writeLow: 0,
    readHigh: false,
    countLatched: false,
    latchedCount: 0,
    statusLatched: false,
    latchedStatus: 0,
    nullCount: false,
    loadTick: 0,
  };
}

/** Validate a channel record from a save stream (numbers finite and in range). */
export function restoreChannelState(s: PitChannelState): PitChannelState {
  const n = (v: unknown, max: number): number =>
    typeof v === 'number' && Number.isFinite(v) ? Math.min(Math.max(Math.floor(v), 0), max) : 0;
  const t = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? Math.floor(v) : 0);
  const access = n(s.access, 3);
  return {
    modeBits: n(s.modeBits, 7),
    access: access === 0 ? 3 : access,
    bcd: !!s.bcd,
    reload: n(s.reload, 0xffff),
    armed: !!s.armed,
    triggered: !!s.triggered,
    running: !!s.running,
    startTick: t(s.startTick),
    pausedElapsed: n(s.pausedElapsed, Number.MAX_SAFE_INTEGER),
    reportedElapsed: n(s.reportedElapsed, Number.MAX_SAFE_INTEGER),
    gate: !!s.gate,
    writeHigh: !!s.writeHigh,
    writeLow: n(s.writeLow, 0xff),
    readHigh: !!s.readHigh,
    countLatched: !!s.countLatched,
    latchedCount: n(s.latchedCount, 0xffff),
    statusLatched: !!s.statusLatched,
    latchedStatus: n(s.latchedStatus, 0xff),
    nullCount: !!s.nullCount,
    loadTick: t(s.loadTick),
  };
}
