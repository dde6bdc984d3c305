// SCSI sense data a packet device reports after CHECK CONDITION (SPC-3 §4.5,
// MMC-3; the codes pc-platform §6.6 lists).

export interface Sense {
  key: number;
  asc: number;
  ascq: number;
}

export const SENSE_NONE: Sense = { key: 0, asc: 0, ascq: 0 };
export const NOT_READY = 2;
export const ILLEGAL_REQUEST = 5;
export const UNIT_ATTENTION = 6;

export const SENSE_NO_MEDIUM_TRAY_CLOSED: Sense = { key: NOT_READY, asc: 0x3a, ascq: 0x01 };
export const SENSE_NO_MEDIUM_TRAY_OPEN: Sense = { key: NOT_READY, asc: 0x3a, ascq: 0x02 };
export const SENSE_MEDIUM_CHANGED: Sense = { key: UNIT_ATTENTION, asc: 0x28, ascq: 0x00 };
export const SENSE_INVALID_OPCODE: Sense = { key: ILLEGAL_REQUEST, asc: 0x20, ascq: 0x00 };
export const SENSE_LBA_OUT_OF_RANGE: Sense = { key: ILLEGAL_REQUEST, asc: 0x21, ascq: 0x00 };
export const SENSE_INVALID_FIELD: Sense = { key: ILLEGAL_REQUEST, asc: 0x24, ascq: 0x00 };
export const SENSE_SAVING_NOT_SUPPORTED: Sense = { key: ILLEGAL_REQUEST, asc: 0x39, ascq: 0x00 };
export const SENSE_REMOVAL_PREVENTED: Sense = { key: ILLEGAL_REQUEST, asc: 0x53, ascq: 0x02 };

/** Fixed-format sense data, 18 bytes (SPC-3 §4.5.3). */
export function senseBytes(s: Sense): Uint8Array {
  const b = new Uint8Array(18);
  b[0] = 0x70; // current error, fixed format
  b[2] = s.key & 0x0f;
  b[7] = 10; // additional length
  b[12] = s.asc;
  b[13] = s.ascq;
  return b;
}
