// Segment-relative memory: offset → linear through the segment cache, with the
// limit and type checks of SDM vol. 3A §5.3 (limit checking, expand-down) and
// §5.4–5.5 (type checking), then the MMU. Faults: #GP(0), or #SS(0) through SS.

import { ATTR_DB, ATTR_UNUSABLE, CpuException, EXC_GP, EXC_SS, SS, type CpuState, type SegmentedMemory } from './state.js';

// Type nibble bits: 8 code, 4 expand-down (data) / conforming (code), 2 writable (data) / readable (code).
const TYPE_CODE = 8, TYPE_EXPAND_DOWN = 4, TYPE_WR = 2;

export class CpuSegmentedMemory implements SegmentedMemory {
  constructor(private readonly cpu: CpuState) {}

  /**
   * Linear address of `size` bytes at `off` in `seg`, or a thrown fault.
   * Fast path: usable expand-up data segment with the access inside the limit.
   */
  linear(seg: number, off: number, size: number, write: boolean): number {
    const cpu = this.cpu;
    const attr = cpu.segAttr[seg];
    if ((attr & (ATTR_UNUSABLE | TYPE_CODE | TYPE_EXPAND_DOWN)) === 0 && (off >>> 0) + size - 1 <= cpu.segLimit[seg] && (!write || (attr & TYPE_WR) !== 0 || !cpu.protectedMode)) {
      return (cpu.segBase[seg] + off) | 0;
    }
    return this.slowLinear(seg, off, size, write);
  }

  /** Whether `size` bytes at `off` in `seg` pass the checks (no fault raised): bulk string runs. */
  fits(seg: number, off: number, size: number, write: boolean): boolean {
    try {
      this.linear(seg, off, size, write);
      return true;
    } catch {
      return false;
    }
  }

  private slowLinear(seg: number, off: number, size: number, write: boolean): number {
    const cpu = this.cpu;
    const attr = cpu.segAttr[seg];
    const vector = seg === SS ? EXC_SS : EXC_GP;
    const start = off >>> 0;
    const end = start + size - 1;
    const limit = cpu.segLimit[seg];
    if (cpu.protectedMode) {
      if (attr & ATTR_UNUSABLE) throw new CpuException(vector, 0);
      if (attr & TYPE_CODE) {
        // Code: never writable, readable only with R (SDM vol. 3A §5.4).
        if (write || (attr & TYPE_WR) === 0) throw new CpuException(vector, 0);
      } else if (write && (attr & TYPE_WR) === 0) {
        throw new CpuException(vector, 0);
      }
    }
    if ((attr & (TYPE_CODE | TYPE_EXPAND_DOWN)) === TYPE_EXPAND_DOWN && (attr & 0x10) !== 0) {
      // Expand-down data: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (B bit).
      const upper = attr & ATTR_DB ? 0xffffffff : 0xffff;
      if (start <= limit || end > upper) throw new CpuException(vector, 0);
    } else if (end > limit) {
      // A 4 GiB segment wraps at the top of the linear space.
      if (!(limit === 0xffffffff && end > 0xffffffff)) throw new CpuException(vector, 0);
    }
    return (cpu.segBase[seg] + off) | 0;
  }

  read8(seg: number, off: number): number {
    return this.cpu.mmu.read8(this.linear(seg, off, 1, false));
  }
  read16(seg: number, off: number): number {
    return this.cpu.mmu.read16(this.linear(seg, off, 2, false));
  }
  read32(seg: number, off: number): number {
    return this.cpu.mmu.read32(this.linear(seg, off, 4, false));
  }
  write8(seg: number, off: number, value: number): void {
    this.cpu.mmu.write8(this.linear(seg, off, 1, true), value);
  }
  write16(seg: number, off: number, value: number): void {
    this.cpu.mmu.write16(this.linear(seg, off, 2, true), value);
  }
  write32(seg: number, off: number, value: number): void {
    this.cpu.mmu.write32(this.linear(seg, off, 4, true), value);
  }
}
