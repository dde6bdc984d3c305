// Save record for the 8259A pair (Xen hvm/save.h has one PIC record per chip).
// Plain numbers and booleans only, so it serialises as JSON unchanged.

/** One 8259A's registers and init-sequence progress (8259A datasheet, "Programming"). */
export interface I8259State {
  /** Interrupt request register: lines asking for service. */
  irr: number;
  /** In-service register. */
  isr: number;
  /** Interrupt mask register (OCW1). */
  imr: number;
  /** Input levels last seen on IR0..IR7, for edge detection. */
  inputs: number;
  /** ICW2 & 0xF8: vector of IR0. */
  vectorBase: number;
  /** ICW3: master = lines with a slave; slave = its cascade id. */
  icw3: number;
  /** Next ICW expected: 0 = initialised, 2/3/4 = waiting for that word. */
  initStep: number;
  /** ICW1 bit 0: an ICW4 follows. */
  needIcw4: boolean;
  /** ICW1 bit 1: single chip (no ICW3). */
  single: boolean;
  /** ICW1 bit 3: every line level-triggered. */
  levelAll: boolean;
  /** ICW4 bit 1: automatic EOI at the end of INTA. */
  autoEoi: boolean;
  /** ICW4 bit 0 (8086 mode) and bits 3:2 (buffered / master-slave), stored only. */
  icw4Raw: number;
  /** ICW4 bit 4: special fully nested mode. */
  specialFullyNested: boolean;
  /** OCW2 "rotate in automatic EOI mode". */
  rotateOnAutoEoi: boolean;
  /** Line with the highest priority (0 after ICW1; rotation moves it). */
  priorityBase: number;
  /** OCW3 RR/RIS: true = port A0=0 reads ISR, false = IRR. */
  readIsr: boolean;
  /** OCW3 poll command: the next read of A0=0 is an interrupt acknowledge. */
  poll: boolean;
  /** OCW3 special mask mode. */
  specialMask: boolean;
  /** Edge/level control register (PIIX ELCR 0x4D0/0x4D1): 1 = level. */
  elcr: number;
}

export interface PicState {
  version: 1;
  master: I8259State;
  slave: I8259State;
}

export function initialI8259State(): I8259State {
  return {
    irr: 0,
    isr: 0,
    imr: 0xff,
    inputs: 0,
    vectorBase: 0,
    icw3: 0,
    initStep: 0,
    needIcw4: false,
    single: false,
    levelAll: false,
    autoEoi: false,
    icw4Raw: 0,
    specialFullyNested: false,
    rotateOnAutoEoi: false,
    priorityBase: 0,
    readIsr: false,
    poll: false,
    specialMask: false,
    elcr: 0,
  };
}

export function copyI8259State(s: I8259State): I8259State {
  return { ...s };
}

/** Validate a record from a save stream into a clean state (bytes masked, steps bounded). */
export function restoreI8259State(s: I8259State): I8259State {
  const b = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) ? n & 0xff : 0);
  const step = b(s.initStep);
  return {
    irr: b(s.irr),
    isr: b(s.isr),
    imr: b(s.imr),
    inputs: b(s.inputs),
    vectorBase: b(s.vectorBase) & 0xf8,
    icw3: b(s.icw3),
    initStep: step >= 2 && step <= 4 ? step : 0,
    needIcw4: !!s.needIcw4,
    single: !!s.single,
    levelAll: !!s.levelAll,
    autoEoi: !!s.autoEoi,
    icw4Raw: b(s.icw4Raw),
    specialFullyNested: !!s.specialFullyNested,
    rotateOnAutoEoi: !!s.rotateOnAutoEoi,
    priorityBase: b(s.priorityBase) & 7,
    readIsr: !!s.readIsr,
    poll: !!s.poll,
    specialMask: !!s.specialMask,
    elcr: b(s.elcr),
  };
}
