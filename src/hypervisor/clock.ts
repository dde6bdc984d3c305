// One virtual clock per domain. PIT, RTC, TSC and (later) LAPIC/HPET/PM timer all
// derive their time from it, so a guest that calibrates one against another (Linux
// calibrates the TSC against PIT channel 2) sees them agree exactly.

export interface Clock {
  /** Monotonic nanoseconds since the domain was created. */
  nowNs(): number;
}

/** A clock the host drives from a monotonic time source (e.g. `performance.now`). */
export class HostClock implements Clock {
  private readonly origin: number;
  constructor(private readonly msSource: () => number) {
    this.origin = msSource();
  }
  nowNs(): number {
    return (this.msSource() - this.origin) * 1e6;
  }
}

/** A clock advanced by hand: unit tests and deterministic runs. */
export class ManualClock implements Clock {
  ns = 0;
  nowNs(): number {
    return this.ns;
  }
  advance(ns: number): void {
    this.ns += ns;
  }
}
