// QEMU's isa-debugcon: a one-byte port (0xE9 by default, configurable at
// registration) whose writes go straight to a sink — firmware and kernels print
// through it without any UART setup. Reads return the readback value, 0xE9 by
// default as in QEMU, which is how software detects the port ("Bochs hack").

import type { AccessSize } from '../../hypervisor/types.js';
import type { PioDevice } from '../bus/io-bus.js';
import { restoreDebugConState, type DebugConState } from './state.js';

/** QEMU's default `readback` property. */
export const DEBUGCON_READBACK = 0xe9;

export class DebugCon implements PioDevice {
  constructor(
    private readonly sink: (byte: number) => void,
    private readonly readback = DEBUGCON_READBACK,
  ) {}

  pioRead(_offset: number, size: AccessSize): number {
    // The port is one byte wide; the IoBus splits wider accesses, so only size 1 arrives
    // for a one-port registration. A wider one (if registered longer) repeats the value.
    let v = 0;
    for (let i = 0; i < size; i++) v |= (this.readback & 0xff) << (8 * i);
    return v >>> 0;
  }

  pioWrite(_offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.sink((value >>> (8 * i)) & 0xff);
  }

  save(): DebugConState {
    return { version: 1 };
  }
  restore(state: DebugConState): void {
    restoreDebugConState(state);
  }
}
