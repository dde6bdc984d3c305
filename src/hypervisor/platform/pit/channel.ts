// One 8254 counter (Intel 82C54 datasheet, "Modes of Operation"). Nothing runs in
// the background: the count and OUT are computed from the domain clock, in PIT
// ticks, whenever someone looks. Elapsed ticks since the count was loaded (minus
// time the gate held it) drive everything.
//
// Simplifications (documented, none visible to Linux): the count starts on the
// tick of the write rather than the next CLK; rewriting the count in modes 2/3
// restarts the period at once instead of at the end of the current one.

import { initialChannelState, restoreChannelState, type PitChannelState } from './state.js';

/** Input clock of the PC's 8254: 14.31818 MHz / 12. */
export const PIT_HZ = 1193182;

/** PIT ticks elapsed at `ns` (split so the product stays exact below 2^53). */
export function ticksAt(ns: number): number {
  if (!(ns > 0)) return 0;
  const sec = Math.floor(ns / 1e9);
  const rem = ns - sec * 1e9;
  return sec * PIT_HZ + Math.floor((rem * PIT_HZ) / 1e9);
}

/** The first nanosecond at which ticksAt() reaches `tick`. */
export function nsAtTick(tick: number): number {
  if (!(tick > 0)) return 0;
  const sec = Math.floor(tick / PIT_HZ);
  const r = tick - sec * PIT_HZ;
  return sec * 1e9 + Math.ceil((r * 1e9) / PIT_HZ);
}

function fromBcd(v: number): number {
  return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
}
function toBcd(v: number): number {
  return (Math.floor(v / 1000) % 10 << 12) | (Math.floor(v / 100) % 10 << 8) | (Math.floor(v / 10) % 10 << 4) | v % 10;
}

export class PitChannel {
  private s: PitChannelState = initialChannelState();

  save(): PitChannelState {
    return { ...this.s };
  }
  restore(state: PitChannelState): void {
    this.s = restoreChannelState(state);
  }

  /** Operating mode 0..5 (control word values 6 and 7 are modes 2 and 3). */
  get mode(): number {
    return this.s.modeBits >= 6 ? this.s.modeBits & 3 : this.s.modeBits;
  }
  get gate(): boolean {
    return this.s.gate;
  }

  private get modulus(): number {
    return this.s.bcd ? 10000 : 65536;
  }

  /** The count N in effect (a written 0 is the maximum count). */
  private get initialCount(): number {
    let n = this.s.bcd ? fromBcd(this.s.reload) % 10000 : this.s.reload;
    if (n === 0) n = this.modulus;
    // Counts of 1 are illegal in modes 2 and 3 (datasheet); run them as 2 so time moves on.
    if ((this.mode === 2 || this.mode === 3) && n < 2) n = 2;
    return n;
  }

  private get waitsForTrigger(): boolean {
    const m = this.mode;
    return (m === 1 || m === 5) && !this.s.triggered;
  }

  private elapsed(now: number): number {
    const s = this.s;
    if (!s.armed) return 0;
    return s.running ? Math.max(0, now - s.startTick) : s.pausedElapsed;
  }

  /** The counting element now, as a plain number 0..N. */
  private countAt(now: number): number {
    const n = this.initialCount;
    const e = this.elapsed(now);
    const mod = this.modulus;
    switch (this.mode) {
      case 2:
        return (n - (e % n)) % mod;
      case 3: {
        // Square wave: each half-period counts down by two (odd N approximated as N-1).
        const p = e % n;
        const high = Math.ceil(n / 2);
        const q = p < high ? p : p - high;
        return Math.max((n & ~1) - 2 * q, 2) % mod;
      }
      default: // modes 0, 1, 4, 5: count down once, then keep wrapping
        return (((n - e) % mod) + mod) % mod;
    }
  }

  private displayed(count: number): number {
    return this.s.bcd ? toBcd(count) : count & 0xffff;
  }

  /** OUT pin level now. */
  outAt(now: number): boolean {
    const s = this.s;
    const m = this.mode;
    if (!s.armed) return m !== 0; // control word: mode 0 drives OUT low, the others high
    if (this.waitsForTrigger) return true;
    const n = this.initialCount;
    const e = this.elapsed(now);
    switch (m) {
      case 0:
      case 1:
        return e >= n;
      case 2:
        return !s.running || e % n !== n - 1;
      case 3:
        return !s.running || e % n < Math.ceil(n / 2);
      default: // 4, 5: one-tick low strobe at terminal count
        return e !== n;
    }
  }

  /** Elapsed tick of the first OUT rising edge after elapsed `e`, or Infinity. */
  private nextEdgeAfter(e: number): number {
    const n = this.initialCount;
    switch (this.mode) {
      case 0:
      case 1:
        return n > e ? n : Infinity;
      case 2:
      case 3:
        return (Math.floor(e / n) + 1) * n;
      default:
        return n + 1 > e ? n + 1 : Infinity;
    }
  }

  /** Did OUT rise since the last call? Many missed periods count as one. */
  catchUpEdges(now: number): boolean {
    const s = this.s;
    const e = this.elapsed(now);
    const fired = s.armed && !this.waitsForTrigger && this.nextEdgeAfter(s.reportedElapsed) <= e;
    s.reportedElapsed = e;
    return fired;
  }

  /** Absolute tick of the next OUT rising edge, Infinity if none is coming. */
  nextEdgeTick(): number {
    const s = this.s;
    if (!s.armed || !s.running || this.waitsForTrigger) return Infinity;
    const e = this.nextEdgeAfter(s.reportedElapsed);
    return e === Infinity ? Infinity : s.startTick + e;
  }

  private refreshNullCount(now: number): void {
    const s = this.s;
    if (s.nullCount && s.armed && !this.waitsForTrigger && now > s.loadTick) s.nullCount = false;
  }

  /** Status byte (read-back): OUT, null count, RW, mode, BCD. */
  status(now: number): number {
    this.refreshNullCount(now);
    const s = this.s;
    return (
      (this.outAt(now) ? 0x80 : 0) | (s.nullCount ? 0x40 : 0) | (s.access << 4) | (s.modeBits << 1) | (s.bcd ? 1 : 0)
    );
  }

  /** Control word with RW ≠ 0: new mode; the counter stops until a count is written. */
  control(value: number): void {
    const s = this.s;
    s.access = (value >> 4) & 3;
    s.modeBits = (value >> 1) & 7;
    s.bcd = (value & 1) !== 0;
    s.armed = false;
    s.triggered = false;
    s.running = false;
    s.pausedElapsed = 0;
    s.reportedElapsed = 0;
    s.writeHigh = false;
    s.readHigh = false;
    s.countLatched = false;
    s.statusLatched = false;
    s.nullCount = true;
  }

  latchCount(now: number): void {
    const s = this.s;
    if (s.countLatched) return; // datasheet: later latches are ignored until the count is read
    s.latchedCount = this.displayed(this.countAt(now));
    s.countLatched = true;
  }

  latchStatus(now: number): void {
    const s = this.s;
    if (s.statusLatched) return;
    s.latchedStatus = this.status(now);
    s.statusLatched = true;
  }

  readByte(now: number): number {
    const s = this.s;
    if (s.statusLatched) {
      s.statusLatched = false;
      return s.latchedStatus;
    }
    const latched = s.countLatched;
    const v = latched ? s.latchedCount : this.displayed(this.countAt(now));
    let out: number;
    if (s.access === 1) out = v & 0xff;
    else if (s.access === 2) out = v >> 8;
    else {
      out = s.readHigh ? v >> 8 : v & 0xff;
      s.readHigh = !s.readHigh;
      if (s.readHigh) return out; // the latch holds until the MSB is read too
    }
    if (latched) s.countLatched = false;
    return out & 0xff;
  }

  writeByte(value: number, now: number): void {
    const s = this.s;
    value &= 0xff;
    if (s.access === 1) this.load(value, now);
    else if (s.access === 2) this.load(value << 8, now);
    else if (!s.writeHigh) {
      s.writeLow = value;
      s.writeHigh = true;
      // Mode 0: writing the first byte stops the count and drives OUT low.
      if (this.mode === 0) s.armed = false;
    } else {
      s.writeHigh = false;
      this.load(s.writeLow | (value << 8), now);
    }
  }

  private load(reload: number, now: number): void {
    const s = this.s;
    s.reload = reload;
    s.armed = true;
    s.nullCount = true;
    s.loadTick = now;
    s.reportedElapsed = 0;
    const m = this.mode;
    if (m === 1 || m === 5) return; // hardware-triggered: waits for a gate rising edge
    s.pausedElapsed = 0;
    s.running = s.gate;
    s.startTick = now;
  }

  setGate(level: boolean, now: number): void {
    const s = this.s;
    if (level === s.gate) return;
    s.gate = level;
    const m = this.mode;
    if (level) {
      if (!s.armed) return;
      if (m === 1 || m === 5 || m === 2 || m === 3) {
        // Rising edge (re)triggers modes 1/5 and reloads modes 2/3.
        if (m === 1 || m === 5) {
          s.triggered = true;
          s.loadTick = now;
        }
        s.running = true;
        s.startTick = now;
        s.pausedElapsed = 0;
        s.reportedElapsed = 0;
      } else if (!s.running) {
        // Modes 0/4: gate high resumes counting where it stopped.
        s.running = true;
        s.startTick = now - s.pausedElapsed;
      }
    } else if (m !== 1 && m !== 5 && s.running) {
      s.pausedElapsed = Math.max(0, now - s.startTick);
      s.running = false;
    }
  }
}
