// The legacy VGA window 0xA0000-0xBFFFF (IBM VGA Technical Reference, "Graphics
// Controller"; pc-platform §7 "Memory model"). VRAM is one byte array shared with
// BAR0's linear view; the four planes are interleaved in it, so plane p of planar
// address a is byte a*4 + p. Chain-4 addresses bytes directly, odd/even steers
// even/odd addresses to planes 0/1 (2/3), and otherwise the full planar path runs:
// 32-bit latches, write modes 0-3 with rotate, set/reset, ALU and bit mask, read
// modes 0 (one plane) and 1 (colour compare).

import type { AccessSize } from '../../hypervisor/types.js';
import type { MmioDevice } from '../bus/io-bus.js';
import {
  GR5_ODD_EVEN,
  GR5_READ_MODE1,
  GR_BIT_MASK,
  GR_COLOUR_COMPARE,
  GR_COLOUR_DONT_CARE,
  GR_ENABLE_SET_RESET,
  GR_MISC,
  GR_MODE,
  GR_READ_PLANE,
  GR_ROTATE,
  GR_SET_RESET,
  SR4_CHAIN4,
  SR4_ODD_EVEN_OFF,
  SR_MEMORY_MODE,
  SR_PLANE_MASK,
  type VgaRegisters,
} from './registers.js';

/** Size of the legacy window at 0xA0000. */
export const VGA_WINDOW_SIZE = 0x20000;

/** Each of the 4 low bits of n widened to a byte of ones, plane 0 in the low byte. */
function planeBytes(n: number): number {
  return ((n & 1 ? 0xff : 0) | (n & 2 ? 0xff00 : 0) | (n & 4 ? 0xff0000 : 0) | (n & 8 ? 0xff000000 : 0)) >>> 0;
}

export interface BankSource {
  /** Byte offset into VRAM of the 64 KiB window while GR6 maps A0000/64K (DISPI BANK). */
  readonly bankOffset: number;
}

export class VgaMemory implements MmioDevice {
  /** Planes 0-3 of the last planar read, plane 0 in bits 7:0. */
  latch = 0;

  constructor(
    private readonly regs: VgaRegisters,
    readonly vram: Uint8Array,
    private readonly bank: BankSource,
  ) {}

  mmioRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(offset + i) << (8 * i);
    return v >>> 0;
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte(offset + i, (value >>> (8 * i)) & 0xff);
  }

  /**
   * Window offset (from 0xA0000) → address the planar logic sees, or -1 if GR6's
   * memory map does not decode it (reads 0xFF, writes dropped).
   */
  private decode(offset: number): number {
    switch ((this.regs.gr[GR_MISC] >> 2) & 3) {
      case 0:
        return offset >= 0 && offset < VGA_WINDOW_SIZE ? offset : -1;
      case 1:
        return offset >= 0 && offset < 0x10000 ? offset + this.bank.bankOffset : -1;
      case 2:
        return offset >= 0x10000 && offset < 0x18000 ? offset - 0x10000 : -1;
      default:
        return offset >= 0x18000 && offset < 0x20000 ? offset - 0x18000 : -1;
    }
  }

  private vramByte(i: number): number {
    return i >= 0 && i < this.vram.length ? this.vram[i] : 0xff;
  }

  readByte(offset: number): number {
    const a = this.decode(offset);
    if (a < 0) return 0xff;
    const r = this.regs;
    if (r.sr[SR_MEMORY_MODE] & SR4_CHAIN4) return this.vramByte(a);
    if (r.gr[GR_MODE] & GR5_ODD_EVEN) {
      const plane = (r.gr[GR_READ_PLANE] & 2) | (a & 1);
      return this.vramByte(((a & ~1) << 1) | plane);
    }
    const base = a * 4;
    if (base + 3 >= this.vram.length) return 0xff;
    const m = this.vram;
    this.latch = (m[base] | (m[base + 1] << 8) | (m[base + 2] << 16) | (m[base + 3] << 24)) >>> 0;
    if ((r.gr[GR_MODE] & GR5_READ_MODE1) === 0) return (this.latch >>> (8 * (r.gr[GR_READ_PLANE] & 3))) & 0xff;
    // Read mode 1: a 1 bit for every pixel whose colour, in the planes GR7 cares
    // about, equals GR2.
    let diff = (this.latch ^ planeBytes(r.gr[GR_COLOUR_COMPARE])) & planeBytes(r.gr[GR_COLOUR_DONT_CARE]);
    diff |= diff >>> 16;
    diff |= diff >>> 8;
    return ~diff & 0xff;
  }

  writeByte(offset: number, value: number): void {
    const a = this.decode(offset);
    if (a < 0) return;
    const r = this.regs;
    const planeMask = r.sr[SR_PLANE_MASK] & 0x0f;
    if (r.sr[SR_MEMORY_MODE] & SR4_CHAIN4) {
      if (planeMask & (1 << (a & 3)) && a < this.vram.length) this.vram[a] = value;
      return;
    }
    if ((r.sr[SR_MEMORY_MODE] & SR4_ODD_EVEN_OFF) === 0) {
      const plane = (r.gr[GR_READ_PLANE] & 2) | (a & 1);
      const i = ((a & ~1) << 1) | plane;
      if (planeMask & (1 << plane) && i < this.vram.length) this.vram[i] = value;
      return;
    }
    const base = a * 4;
    if (base + 3 >= this.vram.length) return;
    const gr = r.gr;
    let data: number;
    let bitMask = gr[GR_BIT_MASK];
    const rotate = gr[GR_ROTATE] & 7;
    const rotated = ((value >>> rotate) | (value << (8 - rotate))) & 0xff;
    switch (gr[GR_MODE] & 3) {
      case 0: {
        data = Math.imul(rotated, 0x01010101) >>> 0;
        const sr = planeBytes(gr[GR_ENABLE_SET_RESET]);
        data = ((data & ~sr) | (planeBytes(gr[GR_SET_RESET]) & sr)) >>> 0;
        break;
      }
      case 1:
        // Write mode 1: the latches go straight back, unaffected by ALU and bit mask.
        this.storePlanes(base, this.latch, planeMask);
        return;
      case 2:
        data = planeBytes(value);
        break;
      default:
        bitMask &= rotated;
        data = planeBytes(gr[GR_SET_RESET]);
        break;
    }
    switch ((gr[GR_ROTATE] >> 3) & 3) {
      case 1:
        data &= this.latch;
        break;
      case 2:
        data |= this.latch;
        break;
      case 3:
        data ^= this.latch;
        break;
    }
    const bits = Math.imul(bitMask, 0x01010101) >>> 0;
    data = ((data & bits) | (this.latch & ~bits)) >>> 0;
    this.storePlanes(base, data, planeMask);
  }

  private storePlanes(base: number, data: number, planeMask: number): void {
    for (let p = 0; p < 4; p++) if (planeMask & (1 << p)) this.vram[base + p] = (data >>> (8 * p)) & 0xff;
  }
}
