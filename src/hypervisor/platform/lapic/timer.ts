// The LAPIC timer's count-down (SDM vol. 3A §10.5.4): the current count falls by one
// every `divisor` bus ticks (10 ns each on Xen), starting from the initial count when
// that is written. One-shot stops at 0; periodic reloads the initial count. The count
// is computed from the domain clock on demand; expire() reports elapsed expiries.

import { BUS_NS_PER_TICK, timerDivisor } from './registers.js';

export interface LapicTimerState {
  initial: number;
  divideConfig: number;
  /** Domain time at which the count was (re)started from `initial`. */
  startNs: number;
  /** Domain time of the next expiry not yet reported; -1 when stopped (JSON has no Infinity). */
  nextNs: number;
}

export class LapicTimer {
  initial = 0;
  divideConfig = 0;
  private startNs = 0;
  private nextNs = Infinity;

  private tickNs(): number {
    return timerDivisor(this.divideConfig) * BUS_NS_PER_TICK;
  }

  private periodNs(): number {
    return this.initial * this.tickNs();
  }

  /** Writing the initial count restarts the count-down; 0 stops the timer. */
  start(initial: number, nowNs: number): void {
    this.initial = initial >>> 0;
    this.startNs = nowNs;
    this.nextNs = this.initial === 0 ? Infinity : nowNs + this.periodNs();
  }

  stop(): void {
    this.initial = 0;
    this.nextNs = Infinity;
  }

  /** Current count register at `nowNs`. */
  current(nowNs: number, periodic: boolean): number {
    if (this.initial === 0) return 0;
    const ticks = Math.floor(Math.max(0, nowNs - this.startNs) / this.tickNs());
    if (periodic) return this.initial - (ticks % this.initial);
    if (this.nextNs === Infinity) return 0;
    return Math.max(0, this.initial - ticks);
  }

  /** A new divisor takes effect from now; the count reached so far is kept. */
  setDivide(value: number, nowNs: number, periodic: boolean): void {
    const running = this.nextNs !== Infinity;
    const count = running ? this.current(nowNs, periodic) : 0;
    this.divideConfig = value & 0xb;
    if (!running) return;
    const tick = this.tickNs();
    this.nextNs = nowNs + count * tick;
    this.startNs = this.nextNs - this.periodNs();
  }

  /** Domain time of the next expiry, Infinity if the timer is stopped. */
  deadlineNs(): number {
    return this.nextNs;
  }

  /**
   * Consume the expiries due by `nowNs`; returns how many happened (missed periods
   * count but the caller raises one interrupt: the IRR holds one bit per vector).
   */
  expire(nowNs: number, periodic: boolean): number {
    if (this.nextNs > nowNs) return 0;
    if (!periodic) {
      this.nextNs = Infinity;
      return 1;
    }
    const period = this.periodNs();
    const n = Math.floor((nowNs - this.nextNs) / period) + 1;
    this.nextNs += n * period;
    this.startNs = this.nextNs - period;
    return n;
  }

  save(): LapicTimerState {
    return { initial: this.initial, divideConfig: this.divideConfig, startNs: this.startNs, nextNs: this.nextNs === Infinity ? -1 : this.nextNs };
  }

  restore(s: LapicTimerState): void {
    const num = (n: unknown, d: number): number => (typeof n === 'number' && !Number.isNaN(n) ? n : d);
    this.initial = num(s.initial, 0) >>> 0;
    this.divideConfig = num(s.divideConfig, 0) & 0xb;
    this.startNs = num(s.startNs, 0);
    const next = num(s.nextNs, -1);
    this.nextNs = this.initial === 0 || next < 0 ? Infinity : next;
  }
}
