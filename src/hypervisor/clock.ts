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

/**
 * Guest time driven by retired instructions, kept in step with a host clock.
 *
 * guest ns = anchor + (instructions retired since the anchor) × nsPerInstruction.
 * Between two syncs time advances only as the vCPU executes, so a guest that
 * measures one timer against another (Linux calibrates the TSC against PIT
 * channel 2, and checks the loop's own jitter) sees smooth, repeatable time that
 * no host preemption can disturb. At each sync the rate is steered so guest time
 * converges on host time within about a second, and a halted vCPU (nothing can
 * observe the jump) catches up with the host at once. This is the idea behind
 * QEMU's `-icount shift=auto`; the facts it rests on are in
 * reference/x86-cpu-and-linux-boot.md §9 ("derive PIT time and TSC from one
 * virtual clock so calibration is deterministic").
 */
/**
 * The guest never sees a CPU slower than 25 MIPS. When the emulator falls below
 * that (cold code), guest time runs slower than the host instead of stretching each
 * instruction: a guest section with interrupts off must not span several timer
 * periods, or ticks are lost and Linux's clocksource watchdog rejects the TSC. A
 * halted vCPU then catches up with the host tick by tick (Xen's
 * delay_for_missed_ticks).
 */
const MAX_NS_PER_INSN = 40;
const MIN_NS_PER_INSN = 0.25;

export class InstructionClock implements Clock {
  /** Nanoseconds per instruction; starts at a 50 MIPS guess. */
  nsPerInstruction = 20;
  private anchorNs = 0;
  private anchorRetired = 0;
  private lastHostNs = 0;
  private lastRetired = 0;
  private retired: () => number = () => 0;

  constructor(private readonly host: Clock) {
    this.anchorNs = host.nowNs();
    this.lastHostNs = this.anchorNs;
  }

  /** Bind the instruction counter of the vCPU whose execution drives time. */
  attach(retired: () => number): void {
    this.retired = retired;
    this.anchorRetired = this.lastRetired = retired();
  }

  nowNs(): number {
    return this.anchorNs + (this.retired() - this.anchorRetired) * this.nsPerInstruction;
  }

  /** Host time, for sleeping: an idle domain wakes when the host reaches a guest deadline. */
  hostNowNs(): number {
    return this.host.nowNs();
  }

  /**
   * Guest time is `ns` now (a restore: the image's timers, PM timer and TSC continue
   * from the saved time, whatever the build of the domain took). Steering then closes
   * any gap to the host clock as sync() always does.
   */
  resetTo(ns: number): void {
    this.anchorNs = ns;
    this.anchorRetired = this.lastRetired = this.retired();
    this.lastHostNs = this.host.nowNs();
  }

  /** Re-anchor and steer the rate toward host time. Call between run slices. */
  sync(): void {
    const retired = this.retired();
    const host = this.host.nowNs();
    const guest = this.nowNs();
    const dInsn = retired - this.lastRetired;
    const dHost = host - this.lastHostNs;
    // Re-measure the emulator's speed only over windows long enough to mean something.
    if (dInsn >= 200_000 && dHost >= 10e6) {
      const measured = dHost / dInsn;
      // Steer: lagging guest time runs faster, leading guest time slower, ±50% at most.
      const error = Math.max(-0.5, Math.min(0.5, (host - guest) / 1e9));
      const target = measured * (1 + error);
      this.nsPerInstruction = Math.max(MIN_NS_PER_INSN, Math.min(MAX_NS_PER_INSN, this.nsPerInstruction * 0.75 + target * 0.25));
      this.lastRetired = retired;
      this.lastHostNs = host;
    }
    this.anchorNs = guest;
    this.anchorRetired = retired;
  }

  /** The vCPU is halted: guest time may jump to host time (never backwards). */
  catchUp(): void {
    this.sync();
    const host = this.host.nowNs();
    if (host > this.anchorNs) this.anchorNs = host;
    this.lastHostNs = host;
    this.lastRetired = this.anchorRetired;
  }

  /** Jump guest time forward to `ns` (an idle vCPU's next timer). */
  advanceTo(ns: number): void {
    this.sync();
    if (ns > this.anchorNs) this.anchorNs = ns;
  }
}
