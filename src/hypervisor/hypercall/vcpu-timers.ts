// Xen's per-vCPU timers (xen/common/domain.c VCPUOP_*_timer, common/sched/core.c
// vcpu_singleshot_timer_fn / vcpu_periodic_timer_work): a single-shot deadline
// and a periodic tick, both in system time, each sending VIRQ_TIMER to its vCPU
// when due. Linux's "xen" clockevent programs the single-shot one
// (VCPUOP_set_singleshot_timer) after stopping the periodic one.
//
// Nothing here runs by itself: the Domain asks nextDeadlineNs() to size its run
// slices and idle sleeps, and calls run(now) between slices.

import type { VcpuTimers } from '../xen-domain.js';

export interface VcpuTimerState {
  /** Single-shot deadline (system time ns), or null when stopped. */
  singleshot: number | null;
  /** Periodic period (ns), 0 = stopped. */
  period: number;
  /** When the periodic timer next fires. */
  periodicNext: number;
}

export interface VcpuTimersRecord {
  version: 1;
  vcpus: VcpuTimerState[];
}

export class XenVcpuTimers implements VcpuTimers {
  private readonly vcpus: VcpuTimerState[];

  constructor(
    readonly vcpuCount: number,
    /** System time now (ns). */
    private readonly now: () => number,
    /** Send VIRQ_TIMER to `vcpu` (Xen's send_timer_event). */
    private readonly fire: (vcpu: number) => void,
    /** The vCPU making the current hypercall (one vCPU: always 0). */
    private readonly currentVcpu: () => number = () => 0,
  ) {
    this.vcpus = Array.from({ length: Math.max(1, vcpuCount | 0) }, () => ({ singleshot: null, period: 0, periodicNext: 0 }));
  }

  current(): number {
    return this.currentVcpu();
  }

  private at(vcpu: number): VcpuTimerState | undefined {
    return Number.isInteger(vcpu) ? this.vcpus[vcpu] : undefined;
  }

  /** A deadline already past fires at the next run(), as Xen's set_timer does. */
  setSingleshot(vcpu: number, deadlineNs: number): void {
    const t = this.at(vcpu);
    if (t && Number.isFinite(deadlineNs)) t.singleshot = Math.max(0, deadlineNs);
    else if (t) t.singleshot = null; // beyond any representable time: never
  }

  stopSingleshot(vcpu: number): void {
    const t = this.at(vcpu);
    if (t) t.singleshot = null;
  }

  setPeriodic(vcpu: number, periodNs: number): void {
    const t = this.at(vcpu);
    if (!t) return;
    t.period = Number.isFinite(periodNs) ? Math.max(0, periodNs) : 0;
    t.periodicNext = this.now() + t.period;
  }

  stopPeriodic(vcpu: number): void {
    const t = this.at(vcpu);
    if (t) t.period = 0;
  }

  /** System time of the earliest pending timer (Infinity: none). */
  nextDeadlineNs(): number {
    let next = Infinity;
    for (const t of this.vcpus) {
      if (t.singleshot !== null && t.singleshot < next) next = t.singleshot;
      if (t.period > 0 && t.periodicNext < next) next = t.periodicNext;
    }
    return next;
  }

  /**
   * Fire what is due at `nowNs`: a single-shot timer once (then stopped), a
   * periodic one once however many periods passed, re-armed one period from now
   * (Xen sets periodic_last_event = now: missed ticks are not replayed).
   * Returns how many VIRQ_TIMER events were sent.
   */
  run(nowNs: number): number {
    let sent = 0;
    this.vcpus.forEach((t, vcpu) => {
      let due = false;
      if (t.singleshot !== null && t.singleshot <= nowNs) {
        t.singleshot = null;
        due = true;
      }
      if (t.period > 0 && t.periodicNext <= nowNs) {
        t.periodicNext = nowNs + t.period;
        due = true;
      }
      if (due) {
        this.fire(vcpu);
        sent++;
      }
    });
    return sent;
  }

  /** Timer state of one vCPU (tests, diagnostics). */
  state(vcpu: number): Readonly<VcpuTimerState> | undefined {
    const t = this.at(vcpu);
    return t ? { ...t } : undefined;
  }

  save(): VcpuTimersRecord {
    return { version: 1, vcpus: this.vcpus.map((t) => ({ ...t })) };
  }

  restore(r: VcpuTimersRecord): void {
    this.vcpus.forEach((t, i) => {
      const s = r.vcpus[i];
      const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
      t.singleshot = s && s.singleshot !== null ? num(s.singleshot, 0) : null;
      t.period = s ? num(s.period, 0) : 0;
      t.periodicNext = s ? num(s.periodicNext, 0) : 0;
    });
  }
}
