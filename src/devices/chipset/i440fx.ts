// 00:00.0, the Intel 82441FX host bridge (PMC) of the 440FX chipset (pc-platform §5).
// On Xen nothing programs it: PAM and SMRAM registers are plain storage, since RAM
// below 1 MiB is always RAM (hvmloader copies the BIOS into it) and there is no SMM.

import { PciFunction } from '../pci/pci-function.js';

/** PAM0-PAM6 (0x59-0x5F), DRB0-7 (0x60-0x67), SMRAM (0x72): 82441FX datasheet §3.2. */
const PAM0 = 0x59;
const SMRAM = 0x72;

export class I440fxHostBridge extends PciFunction {
  constructor() {
    super('i440fx', { vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000, revision: 0x02, subsystemVendorId: 0x1af4, subsystemId: 0x1100 });
    for (let o = PAM0; o <= 0x67; o++) this.writeMask[o] = 0xff;
    this.config[SMRAM] = 0x02;
    this.writeMask[SMRAM] = 0x78; // D_OPEN, D_CLS, D_LCK, G_SMRAME: stored, no SMM
  }
}
