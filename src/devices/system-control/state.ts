// Save records for System Control Port A (0x92) and the POST code port (0x80).

export interface SystemControlState {
  version: 1;
  /** Port 0x92 as last written: bit 0 fast reset, bit 1 A20 gate, other bits stored. */
  value: number;
}

export interface PostCodeState {
  version: 1;
  /** Last POST code written (-1: none yet). */
  last: number;
}

/** Power-on value of 0x92: A20 enabled (it always is here), no reset. */
export const SYSTEM_CONTROL_RESET_VALUE = 0x02;

export function restoreSystemControlState(s: SystemControlState): SystemControlState {
  const v = typeof s.value === 'number' && Number.isFinite(s.value) ? s.value & 0xff : SYSTEM_CONTROL_RESET_VALUE;
  return { version: 1, value: v };
}

export function restorePostCodeState(s: PostCodeState): PostCodeState {
  const v = typeof s.last === 'number' && Number.isFinite(s.last) && s.last >= 0 ? s.last & 0xff : -1;
  return { version: 1, last: v };
}
