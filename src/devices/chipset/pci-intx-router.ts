// Where a PCI function's INTx# goes, as on Xen (xen/arch/x86/hvm/irq.c): each
// (device, pin) drives a fixed IOAPIC GSI, ((device * 4 + device / 8 + pin) mod 32)
// + 16, which the DSDT's _PRT publishes, and also its PIIX3 link (device + pin) mod 4,
// whose PIRQRC route puts it on an ISA IRQ for guests in PIC mode. Lines are shared
// (wired-OR): a GSI, link or ISA IRQ drops only when its last source drops.

import type { IrqLine } from '../bus/irq.js';
import type { Piix3Isa } from './piix3-isa.js';

/** Xen's hvm_pci_intx_gsi: pin is 0-based (INTA = 0). */
export function pciIntxGsi(device: number, pin0: number): number {
  return ((device * 4 + (device >> 3) + pin0) & 31) + 16;
}

/** Xen's hvm_pci_intx_link: the PIIX3 PIRQ link (0 = A) a (device, pin) is wired to. */
export function pciIntxLink(device: number, pin0: number): number {
  return (device + pin0) & 3;
}

export class PciIntxRouter {
  private readonly gsiCount = new Map<number, number>();
  private readonly linkCount = [0, 0, 0, 0];
  /** ISA IRQ each link is currently asserting (0 = none), so a reroute can move it. */
  private readonly linkDriving = [0, 0, 0, 0];
  private readonly isaCount = new Map<number, number>();
  /** One source line per GSI and per ISA IRQ, made on first use (the router is one wired-OR source). */
  private readonly gsiLines = new Map<number, IrqLine>();
  private readonly isaLines = new Map<number, IrqLine>();

  constructor(
    private readonly makeGsiLine: (gsi: number) => IrqLine,
    private readonly makeIsaLine: (irq: number) => IrqLine,
    private readonly piix3: Piix3Isa,
  ) {
    piix3.routeChanged = (link) => this.reroute(link);
  }

  private gsiLine(gsi: number): IrqLine {
    let l = this.gsiLines.get(gsi);
    if (!l) this.gsiLines.set(gsi, (l = this.makeGsiLine(gsi)));
    return l;
  }

  private isaLine(irq: number): IrqLine {
    let l = this.isaLines.get(irq);
    if (!l) this.isaLines.set(irq, (l = this.makeIsaLine(irq)));
    return l;
  }

  /** The IrqLine of `device`'s pin (1 = INTA .. 4 = INTD): give it to the function. */
  line(device: number, pin: number): IrqLine {
    const pin0 = (pin - 1) & 3;
    const gsi = pciIntxGsi(device, pin0);
    const link = pciIntxLink(device, pin0);
    let level = false;
    return {
      set: (l: boolean) => {
        if (l === level) return;
        level = l;
        this.count(this.gsiCount, gsi, l ? 1 : -1, (up) => this.gsiLine(gsi).set(up));
        this.linkCount[link] += l ? 1 : -1;
        this.driveLink(link);
      },
    };
  }

  private driveLink(link: number): void {
    const want = this.linkCount[link] > 0 ? this.piix3.linkIrq(link) : 0;
    const have = this.linkDriving[link];
    if (want === have) return;
    if (have) this.count(this.isaCount, have, -1, (up) => this.isaLine(have).set(up));
    if (want) this.count(this.isaCount, want, 1, (up) => this.isaLine(want).set(up));
    this.linkDriving[link] = want;
  }

  private reroute(link: number): void {
    this.driveLink(link);
  }

  /** Adjust a wired-OR count; call `edge` when the line's level changes. */
  private count(map: Map<number, number>, key: number, delta: number, edge: (up: boolean) => void): void {
    const before = map.get(key) ?? 0;
    const after = Math.max(0, before + delta);
    map.set(key, after);
    if (before === 0 && after > 0) edge(true);
    else if (before > 0 && after === 0) edge(false);
  }
}
