// Two one-byte chipset ports (fact sheet pc-platform §5).
//
// System Control Port A, 0x92 (PS/2, PIIX): bit 0 = fast CPU reset on its 0 → 1
// transition, bit 1 = fast A20 gate. The register reads back as written, but A20
// masking itself is not emulated: like Xen's HVM platform, memory never wraps at
// 1 MiB, so the A20 bit is stored and has no other effect. A guest must write 0
// to bit 0 before it can reset again this way (the platform may call reset()).
//
// POST code port, 0x80: firmware and Linux's I/O delay write it constantly. The
// last value is kept for diagnostics; reads return 0xFF, as on a PC whose chipset
// forwards port 0x80 writes to the ISA bus (a POST card listens) and where nothing
// drives the bus for a read — the same value Xen's unclaimed port gives.

import type { AccessSize } from '../../hypervisor/types.js';
import { ONES, type PioDevice } from '../bus/io-bus.js';
import {
  restorePostCodeState,
  restoreSystemControlState,
  SYSTEM_CONTROL_RESET_VALUE,
  type PostCodeState,
  type SystemControlState,
} from './state.js';

const FAST_RESET = 0x01;

export class SystemControlPort implements PioDevice {
  private value = SYSTEM_CONTROL_RESET_VALUE;

  constructor(private readonly requestReset: () => void) {}

  pioRead(_offset: number, size: AccessSize): number {
    // Wider reads see the byte in every lane a one-port device decodes: only lane 0 is ours.
    return size === 1 ? this.value : (this.value | (size === 2 ? 0xff00 : 0xffffff00)) >>> 0;
  }

  pioWrite(_offset: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    const rising = (v & FAST_RESET) !== 0 && (this.value & FAST_RESET) === 0;
    this.value = v;
    if (rising) this.requestReset();
  }

  /** The A20 gate bit as the guest set it (informational: A20 is never masked). */
  get a20(): boolean {
    return (this.value & 0x02) !== 0;
  }

  /** Platform reset: back to the power-on value. */
  reset(): void {
    this.value = SYSTEM_CONTROL_RESET_VALUE;
  }

  save(): SystemControlState {
    return { version: 1, value: this.value };
  }
  restore(state: SystemControlState): void {
    this.value = restoreSystemControlState(state).value;
  }
}

export class PostCodePort implements PioDevice {
  private last = -1;

  /** `onCode` sees every code written (a POST card's display), if given. */
  constructor(private readonly onCode?: (code: number) => void) {}

  /** Last code written, or -1. */
  get lastCode(): number {
    return this.last;
  }

  pioRead(_offset: number, size: AccessSize): number {
    return ONES[size];
  }

  pioWrite(_offset: number, _size: AccessSize, value: number): void {
    this.last = value & 0xff;
    this.onCode?.(this.last);
  }

  save(): PostCodeState {
    return { version: 1, last: this.last };
  }
  restore(state: PostCodeState): void {
    this.last = restorePostCodeState(state).last;
  }
}
