// Motorola MC146818A RTC + 128 bytes of CMOS at 0x70 (index, bit 7 = NMI mask)
// and 0x71 (data), as on the PC/AT (fact sheets: x86 §9 step 7, pc-platform §2.3).
// Time comes from the host wall clock once, then advances with the domain Clock,
// so guest time and the PIT/TSC agree. Updates are atomic: UIP (Register A bit 7)
// always reads 0, which the Linux driver accepts. Interrupts (periodic, alarm,
// update-ended) are computed from the clock on access and by update(); IRQ8 is
// driven at the level of Register C's IRQF until the guest reads Register C.
//
// Choices: port 0x70 reads 0xFF (Xen); the day-of-week register is derived from
// the date and guest writes to it are ignored; every divider setting (Register A
// DV) counts as the normal 32.768 kHz time base, except that "divider reset" (DV
// = 11x) stops the periodic/alarm/update interrupts (the time itself runs on);
// time is read in UTC fields of whatever the wall-clock function returns.

import type { PioDevice } from '../../../devices/bus/io-bus.js';
import type { IrqLine } from '../../../devices/bus/irq.js';
import type { Clock } from '../../clock.js';
import type { AccessSize } from '../../types.js';
import {
  decodeField,
  decodeHour,
  encodeField,
  encodeHour,
  secondsFromTime,
  timeFromSeconds,
  type RtcTime,
} from './calendar.js';
import { restoreRtcState, type RtcState } from './state.js';

// CMOS indexes (MC146818A register map; 0x32 = IBM century byte).
const SECONDS = 0x00;
const SECONDS_ALARM = 0x01;
const MINUTES = 0x02;
const MINUTES_ALARM = 0x03;
const HOURS = 0x04;
const HOURS_ALARM = 0x05;
const DAY_OF_WEEK = 0x06;
const DAY_OF_MONTH = 0x07;
const MONTH = 0x08;
const YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const CENTURY = 0x32;

// Register B bits.
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_DM_BINARY = 0x04;
const B_24H = 0x02;
// Register C bits.
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
/** Register D bit 7: valid RAM and time (battery good). */
const D_VRT = 0x80;

/** An alarm byte with bits 7:6 = 11 matches any value ("don't care"). */
const ALARM_ANY = 0xc0;
/** Alarm matching needs at most one day of seconds after a long idle. */
const ALARM_SCAN_LIMIT = 86400;

export class RtcCmos {
  private s: RtcState;

  /** Register at 0x70, length 2. */
  readonly ports: PioDevice;

  constructor(
    private readonly clock: Clock,
    wallClockMs: () => number,
    private readonly irq8: IrqLine,
  ) {
    const now = clock.nowNs();
    const cmos = new Array<number>(128).fill(0);
    // Power-on values a PC BIOS leaves: 32.768 kHz base, 1024 Hz rate; 24 h, BCD.
    cmos[REG_A] = 0x26;
    cmos[REG_B] = B_24H;
    const wall = wallClockMs();
    this.s = {
      version: 1,
      cmos,
      index: 0,
      nmiDisabled: false,
      baseMs: Number.isFinite(wall) ? wall : 0,
      baseNs: now,
      held: timeFromSeconds(0),
      flags: 0,
      lastNs: now,
      irqLevel: false,
    };
    this.ports = {
      pioRead: (offset: number, size: AccessSize) => {
        let v = 0;
        for (let i = 0; i < size; i++) v |= this.readPort((offset + i) & 1) << (8 * i);
        return v >>> 0;
      },
      pioWrite: (offset: number, size: AccessSize, value: number) => {
        for (let i = 0; i < size; i++) this.writePort((offset + i) & 1, (value >>> (8 * i)) & 0xff);
      },
    };
  }

  /** NMI mask bit from the last 0x70 write (for the platform's NMI logic). */
  get nmiDisabled(): boolean {
    return this.s.nmiDisabled;
  }

  /** Domain builder: write a CMOS byte (memory sizes, boot order...) as a guest would. */
  setCmos(index: number, value: number): void {
    this.writeRegister(index & 0x7f, value & 0xff);
  }

  /** Raw CMOS RAM byte, without side effects (diagnostics, tests). */
  cmos(index: number): number {
    return this.s.cmos[index & 0x7f];
  }

  update(): void {
    this.advance(this.clock.nowNs());
  }

  /** Domain time at which IRQ8 would next rise, Infinity when nothing can raise it. */
  nextDeadlineNs(): number {
    const s = this.s;
    const b = s.cmos[REG_B];
    if (s.irqLevel || !this.dividerRunning()) return Infinity;
    let next = Infinity;
    const period = this.periodNs();
    if (b & B_PIE && period > 0) {
      const due = Math.floor(s.lastNs / period) + 1;
      next = Math.min(next, this.firstNsWhere(due * period, (ns) => Math.floor(ns / period) >= due));
    }
    if (b & (B_UIE | B_AIE) && !(b & B_SET)) {
      const due = this.secondsAt(s.lastNs) + 1;
      const guess = s.baseNs + (due * 1000 - s.baseMs) * 1e6;
      next = Math.min(next, this.firstNsWhere(guess, (ns) => this.secondsAt(ns) >= due));
    }
    return next;
  }

  /**
   * An integer ns at or after `guess` (and after lastNs) where `reached` holds, so that
   * update() at the returned time really sees the event despite rounding; an idle loop
   * that sleeps until the deadline then never spins.
   */
  private firstNsWhere(guess: number, reached: (ns: number) => boolean): number {
    let ns = Math.max(Math.ceil(guess), Math.floor(this.s.lastNs) + 1);
    for (let i = 0; i < 8 && !reached(ns); i++) ns += 1;
    return ns;
  }

  // --- time keeping ---

  private dividerRunning(): boolean {
    return (this.s.cmos[REG_A] & 0x60) !== 0x60;
  }

  /** Periodic interrupt period from Register A RS3:0 (0 = off): 1 → 256 Hz, 2 → 128 Hz, n ≥ 3 → 65536 >> n Hz. */
  private periodNs(): number {
    const rs = this.s.cmos[REG_A] & 0x0f;
    if (rs === 0) return 0;
    const shift = rs <= 2 ? rs + 6 : rs - 1;
    return (1e9 * 2 ** shift) / 32768;
  }

  private secondsAt(ns: number): number {
    const s = this.s;
    if (s.cmos[REG_B] & B_SET) return secondsFromTime(s.held);
    return Math.floor((s.baseMs + (ns - s.baseNs) / 1e6) / 1000);
  }

  private currentTime(): RtcTime {
    if (this.s.cmos[REG_B] & B_SET) return this.s.held;
    return timeFromSeconds(this.secondsAt(this.clock.nowNs()));
  }

  /** Account periodic/update/alarm events in (lastNs, now] and drive IRQ8. */
  private advance(now: number): void {
    const s = this.s;
    if (now > s.lastNs && this.dividerRunning()) {
      const period = this.periodNs();
      if (period > 0 && Math.floor(now / period) > Math.floor(s.lastNs / period)) s.flags |= C_PF;
      if (!(s.cmos[REG_B] & B_SET)) {
        const from = this.secondsAt(s.lastNs);
        const to = this.secondsAt(now);
        if (to > from) {
          s.flags |= C_UF;
          for (let t = Math.max(from + 1, to - ALARM_SCAN_LIMIT + 1); t <= to; t++) {
            if (this.alarmMatches(t)) {
              s.flags |= C_AF;
              break;
            }
          }
        }
      }
    }
    if (now > s.lastNs) s.lastNs = now;
    this.driveIrq();
  }

  private alarmMatches(seconds: number): boolean {
    const c = this.s.cmos;
    const binary = (c[REG_B] & B_DM_BINARY) !== 0;
    const h24 = (c[REG_B] & B_24H) !== 0;
    const t = timeFromSeconds(seconds);
    const match = (alarm: number, value: number) => (alarm & ALARM_ANY) === ALARM_ANY || alarm === value;
    return (
      match(c[SECONDS_ALARM], encodeField(t.second, binary)) &&
      match(c[MINUTES_ALARM], encodeField(t.minute, binary)) &&
      match(c[HOURS_ALARM], encodeHour(t.hour, binary, h24))
    );
  }

  private irqf(): boolean {
    return (this.s.flags & this.s.cmos[REG_B] & (C_PF | C_AF | C_UF)) !== 0;
  }

  private driveIrq(): void {
    const level = this.irqf();
    if (level !== this.s.irqLevel) {
      this.s.irqLevel = level;
      this.irq8.set(level);
    }
  }

  /** Restart the running clock at `seconds` now. */
  private setSeconds(seconds: number): void {
    this.s.baseMs = seconds * 1000;
    this.s.baseNs = this.clock.nowNs();
  }

  // --- register file ---

  private readPort(offset: number): number {
    if (offset === 0) return 0xff; // index register is write-only on Xen's RTC
    return this.readRegister(this.s.index);
  }

  private writePort(offset: number, value: number): void {
    if (offset === 0) {
      this.s.index = value & 0x7f;
      this.s.nmiDisabled = (value & 0x80) !== 0;
      return;
    }
    this.writeRegister(this.s.index, value);
  }

  private readRegister(index: number): number {
    const s = this.s;
    const b = s.cmos[REG_B];
    const binary = (b & B_DM_BINARY) !== 0;
    switch (index) {
      case SECONDS:
        return encodeField(this.currentTime().second, binary);
      case MINUTES:
        return encodeField(this.currentTime().minute, binary);
      case HOURS:
        return encodeHour(this.currentTime().hour, binary, (b & B_24H) !== 0);
      case DAY_OF_WEEK:
        return encodeField(this.currentTime().dayOfWeek, binary);
      case DAY_OF_MONTH:
        return encodeField(this.currentTime().day, binary);
      case MONTH:
        return encodeField(this.currentTime().month, binary);
      case YEAR:
        return encodeField(this.currentTime().year % 100, binary);
      case CENTURY:
        return encodeField(Math.floor(this.currentTime().year / 100) % 100, binary);
      case REG_A:
        return s.cmos[REG_A] & 0x7f; // UIP = 0: updates are atomic
      case REG_C: {
        this.update();
        const v = s.flags | (this.irqf() ? C_IRQF : 0);
        s.flags = 0; // reading C clears every flag and drops IRQ8
        this.driveIrq();
        return v;
      }
      case REG_D:
        return D_VRT;
      default:
        return s.cmos[index];
    }
  }

  private writeRegister(index: number, value: number): void {
    const s = this.s;
    const b = s.cmos[REG_B];
    const binary = (b & B_DM_BINARY) !== 0;
    switch (index) {
      case SECONDS:
      case MINUTES:
      case HOURS:
      case DAY_OF_MONTH:
      case MONTH:
      case YEAR:
      case CENTURY: {
        this.update();
        const held = (b & B_SET) !== 0;
        // While SET holds the clock, fields change one at a time, un-normalised.
        const t = held ? s.held : timeFromSeconds(this.secondsAt(this.clock.nowNs()));
        if (index === SECONDS) t.second = decodeField(value, binary);
        else if (index === MINUTES) t.minute = decodeField(value, binary);
        else if (index === HOURS) t.hour = decodeHour(value, binary, (b & B_24H) !== 0);
        else if (index === DAY_OF_MONTH) t.day = decodeField(value, binary);
        else if (index === MONTH) t.month = decodeField(value, binary);
        else if (index === YEAR) t.year = Math.floor(t.year / 100) * 100 + (decodeField(value, binary) % 100);
        else t.year = (decodeField(value, binary) % 100) * 100 + (t.year % 100);
        if (!held) this.setSeconds(secondsFromTime(t));
        return;
      }
      case DAY_OF_WEEK:
        return; // derived from the date
      case REG_A:
        this.update(); // the old rate applies up to now
        s.cmos[REG_A] = value & 0x7f;
        return;
      case REG_B: {
        this.update();
        let v = value & 0xff;
        const setting = (v & B_SET) !== 0;
        const wasSet = (b & B_SET) !== 0;
        if (setting) v &= ~B_UIE; // MC146818A: SET = 1 clears UIE
        if (setting && !wasSet) s.held = timeFromSeconds(this.secondsAt(this.clock.nowNs()));
        s.cmos[REG_B] = v;
        if (!setting && wasSet) {
          // Updates resume from the time held (and possibly written) while SET was 1.
          this.setSeconds(secondsFromTime(s.held));
        }
        this.driveIrq();
        return;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        s.cmos[index] = value & 0xff;
    }
  }

  save(): RtcState {
    return { ...this.s, cmos: this.s.cmos.slice(), held: { ...this.s.held } };
  }

  restore(state: RtcState): void {
    this.s = restoreRtcState(state);
    this.irq8.set(this.s.irqLevel);
  }
}
