// Wired-OR interrupt inputs: several sources may drive one pin (PCI INTx sharing a
// GSI, an ISA IRQ also used by a PCI link). Each source remembers its own level and
// the pin counts asserted sources, so it drops only when the last one drops (Xen's
// gsi_assert_count / isa_irq assert counts in hvm/irq.c).

import type { IrqLine } from '../../../devices/bus/irq.js';

export class SharedPins {
  private readonly counts: Uint16Array;

  constructor(
    pins: number,
    /** Called when a pin's combined level changes. */
    private readonly drive: (pin: number, level: boolean) => void,
  ) {
    this.counts = new Uint16Array(pins);
  }

  /** Combined level of `pin`. */
  level(pin: number): boolean {
    return (this.counts[pin] ?? 0) > 0;
  }

  /** Count one source's transition on `pin`. */
  change(pin: number, asserted: boolean): void {
    const before = this.counts[pin];
    if (asserted) {
      this.counts[pin] = before + 1;
      if (before === 0) this.drive(pin, true);
    } else if (before > 0) {
      this.counts[pin] = before - 1;
      if (before === 1) this.drive(pin, false);
    }
  }
}

/** A new source: one IrqLine whose transitions are counted on the given pins. */
export function sourceLine(onChange: (asserted: boolean) => void): IrqLine {
  let level = false;
  return {
    set(l: boolean): void {
      l = !!l;
      if (l === level) return;
      level = l;
      onChange(l);
    },
  };
}
