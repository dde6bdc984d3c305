// Save record for the MC146818 RTC + CMOS (Xen hvm/save.h "RTC" record holds the
// CMOS bytes and the index). Time is kept as "RTC milliseconds since the epoch at
// a domain-clock instant" so the saved clock keeps running after restore.

import type { RtcTime } from './calendar.js';

export interface RtcState {
  version: 1;
  /** CMOS bytes. The time/date bytes (0x00, 0x02, 0x04, 0x06-0x09, 0x32) are computed, not stored. */
  cmos: number[];
  /** Last index written to 0x70 (bits 6:0). */
  index: number;
  /** Bit 7 of the last 0x70 write: NMI masked (kept for the platform; the RTC ignores it). */
  nmiDisabled: boolean;
  /** RTC time (ms since 1970, as broken down in UTC) at domain time `baseNs`. */
  baseMs: number;
  baseNs: number;
  /**
   * With Register B SET = 1 the clock stands still at these fields; guest writes
   * change them one by one without normalising (day 31 before month 12 is fine)
   * until SET clears.
   */
  held: RtcTime;
  /** Register C flags PF/AF/UF (bits 6:4) not yet read. */
  flags: number;
  /** Domain time up to which periodic/alarm/update events were accounted. */
  lastNs: number;
  /** Level driven on IRQ8. */
  irqLevel: boolean;
}

export function restoreRtcState(s: RtcState): RtcState {
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const cmos: number[] = [];
  for (let i = 0; i < 128; i++) cmos.push(num(Array.isArray(s.cmos) ? s.cmos[i] : 0) & 0xff);
  return {
    version: 1,
    cmos,
    index: num(s.index) & 0x7f,
    nmiDisabled: !!s.nmiDisabled,
    baseMs: num(s.baseMs),
    baseNs: num(s.baseNs),
    held: {
      second: num(s.held?.second) & 0xff,
      minute: num(s.held?.minute) & 0xff,
      hour: num(s.held?.hour) & 0xff,
      dayOfWeek: num(s.held?.dayOfWeek) & 0xff,
      day: num(s.held?.day) & 0xff,
      month: num(s.held?.month) & 0xff,
      year: Math.floor(num(s.held?.year)) % 10000,
    },
    flags: num(s.flags) & 0x70,
    lastNs: num(s.lastNs),
    irqLevel: !!s.irqLevel,
  };
}
