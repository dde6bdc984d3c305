// PIIX3 reset control register at 0xCF9 (82371SB §4.1.5; pc-platform §5): bit 1
// selects hard/soft reset, writing bit 2 = 1 resets the system. Linux's and memtest's
// CF9 reboot write v|2 then v|6; any write with bit 2 resets, as QEMU does.

import type { PioDevice } from '../bus/io-bus.js';
import type { AccessSize } from '../../hypervisor/types.js';

const SYS_RST = 1 << 1;
const RST_CPU = 1 << 2;

export class ResetControl implements PioDevice {
  private value = 0;
  constructor(private readonly reset: () => void) {}

  pioRead(_offset: number, _size: AccessSize): number {
    return this.value & SYS_RST;
  }

  pioWrite(_offset: number, _size: AccessSize, value: number): void {
    this.value = value & 0x0e;
    if (value & RST_CPU) this.reset();
  }
}
