// A BlockBackend over a byte array: unit tests, and RAM disks built by the toolstack.
// It checks ranges like a file backend would, so a device bug shows up as a throw here.

import type { BlockBackend } from '../block/block-backend.js';

export class MemoryBlockBackend implements BlockBackend {
  readonly sizeBytes: number;
  /** How many times flush() ran (tests check FLUSH CACHE reaches the backend). */
  flushes = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly readOnly = false,
  ) {
    this.sizeBytes = bytes.length;
  }

  read(offset: number, dest: Uint8Array): void {
    this.check(offset, dest.length);
    dest.set(this.bytes.subarray(offset, offset + dest.length));
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error('memory disk is read-only');
    this.check(offset, src.length);
    this.bytes.set(src, offset);
  }

  flush(): void {
    this.flushes++;
  }

  private check(offset: number, len: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + len > this.sizeBytes) {
      throw new RangeError(`memory disk access ${offset}+${len} is outside its ${this.sizeBytes} bytes`);
    }
  }
}
