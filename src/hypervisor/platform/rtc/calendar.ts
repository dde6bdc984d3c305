// Broken-down RTC time <-> seconds since 1970, and the MC146818's BCD/binary and
// 12/24-hour register encodings (MC146818A datasheet, "Time, Calendar and Alarm").
// The RTC counts in whatever zone the wall-clock function supplies; fields are
// taken with the UTC accessors so the host's time zone never leaks in.

export interface RtcTime {
  second: number;
  minute: number;
  hour: number;
  /** 1 = Sunday .. 7 = Saturday. */
  dayOfWeek: number;
  day: number;
  /** 1..12 */
  month: number;
  /** Full year, e.g. 2026. */
  year: number;
}

/** Earliest/latest seconds we let the RTC reach (years 1..9999): Date stays valid. */
const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300799;

export function clampSeconds(s: number): number {
  if (!Number.isFinite(s)) return 0;
  return Math.min(Math.max(Math.floor(s), MIN_SECONDS), MAX_SECONDS);
}

export function timeFromSeconds(seconds: number): RtcTime {
  const d = new Date(clampSeconds(seconds) * 1000);
  return {
    second: d.getUTCSeconds(),
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    dayOfWeek: d.getUTCDay() + 1,
    day: d.getUTCDate(),
    month: d.getUTCMonth() + 1,
    year: d.getUTCFullYear(),
  };
}

/** Out-of-range fields roll over (second 75 = next minute), as Date does; never NaN. */
export function secondsFromTime(t: RtcTime): number {
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour, t.minute, t.second, 0);
  const ms = d.getTime();
  return Number.isFinite(ms) ? clampSeconds(ms / 1000) : 0;
}

export function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | v % 10;
}
export function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0xf);
}

export function encodeField(v: number, binary: boolean): number {
  return binary ? v & 0xff : toBcd(v % 100);
}
export function decodeField(v: number, binary: boolean): number {
  return binary ? v : fromBcd(v);
}

/** Hours register: 24-hour, or 1..12 with bit 7 = PM (Register B bit 1 = 24-hour). */
export function encodeHour(hour: number, binary: boolean, h24: boolean): number {
  if (h24) return encodeField(hour, binary);
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  return encodeField(h12, binary) | (hour >= 12 ? 0x80 : 0);
}
export function decodeHour(v: number, binary: boolean, h24: boolean): number {
  if (h24) return decodeField(v, binary);
  const h = decodeField(v & 0x7f, binary) % 12;
  return v & 0x80 ? h + 12 : h;
}
