// The clock a restored domain is built on: it reads `startNs` at construction and
// moves with its base clock from there. Timer states in the image hold absolute
// guest nanoseconds, so guest time must continue where the save stopped it — the
// time the domain spent saved does not exist for the guest (as with xl save/restore,
// whose guest sees its clocksource continue and NTP fixes the wall clock).

import type { Clock } from '../clock.js';

export class ResumedClock implements Clock {
  private offset: number;

  constructor(
    private readonly base: Clock,
    private readonly startNs: number,
  ) {
    if (!Number.isFinite(startNs) || startNs < 0) throw new RangeError(`resumed clock: start ${startNs} ns is not a guest time`);
    this.offset = startNs - base.nowNs();
  }

  /**
   * Read `startNs` now. Building the domain takes host time (module loads, devices,
   * the firmware tables) that the guest must not see pass: call this right before the
   * image's state is applied, whose timers then continue exactly where they stopped.
   */
  anchor(): void {
    this.offset = this.startNs - this.base.nowNs();
  }

  nowNs(): number {
    return this.base.nowNs() + this.offset;
  }
}
