// 00:01.0, the PIIX3 PCI-to-ISA bridge (82371SB datasheet §2.2; pc-platform §2.1, §5):
// the PIRQ route control registers that steer PCI INTA#-INTD# links onto ISA IRQs.
// Function 0 of a multi-function device: header type bit 7 is set, or the IDE and PM
// functions at 01.1 and 01.3 would never be scanned.

import { PciFunction } from '../pci/pci-function.js';

export const PIRQRC = 0x60;
/** PIRQRC bit 7: routing disabled. Bits 3:0: the ISA IRQ. */
const ROUTE_DISABLED = 0x80;
/** ISA IRQs a PIRQ may be routed to (3-7, 9-12, 14, 15); others mean "not routed". */
const ROUTABLE = 0xdef8;

export class Piix3Isa extends PciFunction {
  /** Called with the link (0-3) whose routing changed. */
  routeChanged: (link: number) => void = () => {};

  constructor() {
    super('piix3-isa', { vendorId: 0x8086, deviceId: 0x7000, classCode: 0x060100, revision: 0x00, headerType: 0x80, subsystemVendorId: 0x1af4, subsystemId: 0x1100 });
    // Reset values (82371SB §2.2): the PIRQs are disabled; TOM, MBIRQ, APIC base, DLC,
    // SMI registers are stored for the guest's benefit.
    this.set16(0x04, 0x0007);
    this.config[0x4c] = 0x4d;
    this.config[0x4e] = 0x03;
    for (let l = 0; l < 4; l++) this.config[PIRQRC + l] = ROUTE_DISABLED;
    this.config[0x69] = 0x02;
    this.config[0x70] = 0x80;
    this.config[0x76] = 0x0c;
    this.config[0x77] = 0x0c;
    this.config[0x78] = 0x02;
    this.config[0xa0] = 0x08;
    this.config[0xa8] = 0x0f;
    for (const o of [0x4c, 0x4e, 0x4f, 0x69, 0x6a, 0x70, 0x71, 0x76, 0x77, 0x78, 0x79, 0x80, 0x82, 0xa0, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xaa, 0xab, 0xac, 0xae]) this.writeMask[o] = 0xff;
    for (let l = 0; l < 4; l++) this.writeMask[PIRQRC + l] = 0x8f;
  }

  /** The ISA IRQ link `link` (0 = A .. 3 = D) is routed to, or 0 when disabled. */
  linkIrq(link: number): number {
    const v = this.config[PIRQRC + (link & 3)];
    if (v & ROUTE_DISABLED) return 0;
    const irq = v & 0x0f;
    return (ROUTABLE >> irq) & 1 ? irq : 0;
  }

  protected override configWritten(offset: number, size: number): void {
    for (let l = 0; l < 4; l++) if (PIRQRC + l >= offset && PIRQRC + l < offset + size) this.routeChanged(l);
  }
}
