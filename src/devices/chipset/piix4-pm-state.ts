// Save record of the PIIX4 PM function's I/O-side registers (ACPI 6.x §4.8.3 fixed
// hardware: PM1 status/enable/control, GPE0 status/enable; APM status at 0xB3) and
// the PM timer's last seen half-period. The PM I/O base and PMREGMISC are config
// space and travel in the PCI record. The timer value itself is not stored: it is
// guest time × 3.579545 MHz, and a restored domain's clock resumes at the saved
// guest time, so the count neither jumps back nor skips.

export interface Piix4PmState {
  version: 1;
  pm1Status: number;
  pm1Enable: number;
  pm1Control: number;
  gpe0Status: number;
  gpe0Enable: number;
  apmStatus: number;
  /** Half-periods of timer bit 31 already seen (a later flip sets TMR_STS). */
  timerEpoch: number;
}

function field(raw: Record<string, unknown>, name: keyof Piix4PmState, allowed: number): number {
  const v = raw[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (v & ~allowed) !== 0 || v > allowed) {
    throw new RangeError(`pm record: ${name} ${String(v)} is not a value of that register (allowed bits 0x${allowed.toString(16)})`);
  }
  return v;
}

/**
 * Validate a record from an image against the register bits that exist and the
 * current guest time's timer half-period; throws RangeError naming the field.
 */
export function parsePiix4PmState(raw: unknown, bits: { status: number; enable: number; control: number }, nowEpoch: number): Piix4PmState {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RangeError('pm record: not an object');
  const r = raw as Record<string, unknown>;
  if (r.version !== 1) throw new RangeError(`pm record: version ${String(r.version)} is not supported`);
  const timerEpoch = r.timerEpoch;
  if (typeof timerEpoch !== 'number' || !Number.isSafeInteger(timerEpoch) || timerEpoch < 0) throw new RangeError(`pm record: timerEpoch ${String(timerEpoch)} is not a count`);
  // Ahead of guest time means the domain's clock did not resume at the image's time.
  if (timerEpoch > nowEpoch) throw new RangeError(`pm record: timerEpoch ${timerEpoch} is ahead of guest time (half-period ${nowEpoch}): the clock did not resume at the saved time`);
  return {
    version: 1,
    pm1Status: field(r, 'pm1Status', bits.status),
    pm1Enable: field(r, 'pm1Enable', bits.enable),
    pm1Control: field(r, 'pm1Control', bits.control),
    gpe0Status: field(r, 'gpe0Status', 0xffff),
    gpe0Enable: field(r, 'gpe0Enable', 0xffff),
    apmStatus: field(r, 'apmStatus', 0xff),
    timerEpoch,
  };
}
