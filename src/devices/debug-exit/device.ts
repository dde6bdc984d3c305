// QEMU's isa-debug-exit: a write of V to its port ends the machine with exit
// status (V << 1) | 1, so a test guest reports pass/fail to the host process
// (an odd status always: 1 means "wrote 0", never a clean exit by accident).
// QEMU's own property defaults are iobase 0x501, iosize 2; tsxen defaults to the
// common test setup `iobase=0xf4,iosize=0x04`, so a 32-bit OUT lands in one access
// (a narrower registration still works: the IoBus splits the OUT into bytes and
// the low byte, which alone decides the 8-bit status, arrives first).
// Reads return 0 (the region has no read handler in QEMU).

import type { AccessSize } from '../../hypervisor/types.js';
import type { PioDevice } from '../bus/io-bus.js';
import { restoreDebugExitState, type DebugExitState } from './state.js';

export const DEBUG_EXIT_DEFAULT_IOBASE = 0xf4;
export const DEBUG_EXIT_DEFAULT_IOSIZE = 4;

/**
 * The process exit status for a written value: (V << 1) | 1, cut to the 8 bits a
 * POSIX exit status carries (what a shell sees when QEMU exits this way).
 */
export function debugExitStatus(value: number): number {
  return (((value >>> 0) << 1) | 1) & 0xff;
}

export class DebugExit implements PioDevice {
  /**
   * @param requestExit told the status (and the raw value written); the lead wires it to
   *   Domain.requestShutdown and RunResult.exitStatus. Called for every write; the
   *   domain keeps the first request.
   */
  constructor(private readonly requestExit: (status: number, value: number) => void) {}

  pioRead(_offset: number, _size: AccessSize): number {
    return 0;
  }

  pioWrite(_offset: number, size: AccessSize, value: number): void {
    const width = size === 4 ? 32 : size * 8;
    const v = width === 32 ? value >>> 0 : value & ((1 << width) - 1);
    this.requestExit(debugExitStatus(v), v);
  }

  save(): DebugExitState {
    return { version: 1 };
  }
  restore(state: DebugExitState): void {
    restoreDebugExitState(state);
  }
}
