// Interrupt lines. A device raises or lowers a line; the platform decides where it
// goes (8259 PIC now; IOAPIC, MSI or an event channel later). Edge-triggered ISA
// devices pulse: raise then lower.

export interface IrqLine {
  /** Drive the line to `level` (true = asserted). */
  set(level: boolean): void;
}

/** raise+lower: one edge for an edge-triggered input. */
export function pulse(line: IrqLine): void {
  line.set(true);
  line.set(false);
}

/** A line that goes nowhere (an unwired device pin). */
export const NO_IRQ: IrqLine = { set() {} };
