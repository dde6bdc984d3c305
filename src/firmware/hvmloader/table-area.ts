// A bump allocator over a guest-physical range that hvmloader fills with tables:
// the scratch area SeaBIOS reads during POST, and the reserved area that keeps
// the ACPI tables and SMBIOS structures for the OS.

import { hex } from '../../hypervisor/types.js';

export class TableAreaError extends Error {
  override name = 'TableAreaError';
}

export class TableArea {
  private next: number;

  constructor(
    readonly name: string,
    readonly start: number,
    readonly end: number,
  ) {
    this.next = start;
  }

  /** Reserve `size` bytes aligned to `align` (a power of two); returns the address. */
  alloc(size: number, align = 16): number {
    const at = Math.ceil(this.next / align) * align;
    if (!(size > 0) || at + size > this.end) {
      throw new TableAreaError(`${this.name} [${hex(this.start)}, ${hex(this.end)}) has no room for ${size} bytes at ${hex(at)}`);
    }
    this.next = at + size;
    return at;
  }

  /** First address not yet handed out. */
  get used(): number {
    return this.next;
  }
}
