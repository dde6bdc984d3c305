// Bochs VBE "DISPI" interface (pc-platform §7 "DISPI"; the register set Bochs and
// QEMU's std-vga share): a 16-bit index/data pair at ports 0x1CE/0x1CF, also seen
// through BAR2 at 0x500 + index*2. Enabling it switches the card to a linear
// framebuffer of XRES x YRES at BPP bits per pixel with a pitch set by VIRT_WIDTH.

import type { AccessSize } from '../../hypervisor/types.js';
import type { PioDevice } from '../bus/io-bus.js';
import type { BankSource } from './vga-memory.js';
import {
  AR10_GRAPHICS,
  AR_MODE,
  CR_MODE,
  CR_OFFSET,
  GR6_GRAPHICS,
  GR_MISC,
  GR_MODE,
  GR5_256_COLOUR,
  SR4_CHAIN4,
  SR_MEMORY_MODE,
  type VgaRegisters,
} from './registers.js';

export const DISPI_INDEX_ID = 0;
export const DISPI_INDEX_XRES = 1;
export const DISPI_INDEX_YRES = 2;
export const DISPI_INDEX_BPP = 3;
export const DISPI_INDEX_ENABLE = 4;
export const DISPI_INDEX_BANK = 5;
export const DISPI_INDEX_VIRT_WIDTH = 6;
export const DISPI_INDEX_VIRT_HEIGHT = 7;
export const DISPI_INDEX_X_OFFSET = 8;
export const DISPI_INDEX_Y_OFFSET = 9;
export const DISPI_INDEX_VIDEO_MEMORY_64K = 0x0a;
export const DISPI_REGISTER_COUNT = 0x0b;

export const DISPI_ID0 = 0xb0c0;
export const DISPI_ID5 = 0xb0c5;

export const DISPI_ENABLED = 0x01;
export const DISPI_GETCAPS = 0x02;
export const DISPI_8BIT_DAC = 0x20;
export const DISPI_LFB_ENABLED = 0x40;
export const DISPI_NOCLEARMEM = 0x80;

/**
 * Largest mode offered (GETCAPS). Bochs' and older QEMU's 2560x1600 keeps a
 * rendered frame at most 16 MiB of RGBA; modes must also fit in VRAM.
 */
export const DISPI_MAX_XRES = 2560;
export const DISPI_MAX_YRES = 1600;
export const DISPI_MAX_BPP = 32;

const VALID_BPP = new Set([4, 8, 15, 16, 24, 32]);

/** What the renderer needs to draw the linear framebuffer. */
export interface DispiLayout {
  width: number;
  height: number;
  bpp: number;
  /** Bytes from one line to the next. */
  pitch: number;
  /** Byte offset of the top-left visible pixel. */
  start: number;
}

export class BochsDispi implements BankSource {
  index = 0;
  id = DISPI_ID0;
  xres = 640;
  yres = 480;
  bpp = 8;
  enable = 0;
  bank = 0;
  virtWidth = 640;
  xOffset = 0;
  yOffset = 0;

  constructor(
    private readonly regs: VgaRegisters,
    private readonly vram: Uint8Array,
  ) {}

  get enabled(): boolean {
    return (this.enable & DISPI_ENABLED) !== 0;
  }

  get bankOffset(): number {
    return this.bank * 0x10000;
  }

  /** Bytes per line: VIRT_WIDTH pixels (half a byte each at 4 bpp). */
  get pitch(): number {
    return this.pitchFor(this.virtWidth);
  }

  private pitchFor(width: number): number {
    return this.bpp === 4 ? width >> 1 : width * ((this.bpp + 7) >> 3);
  }

  get virtHeight(): number {
    const p = this.pitch;
    return p === 0 ? 0 : Math.min(0xffff, Math.floor(this.vram.length / p));
  }

  layout(): DispiLayout {
    const bytesPerPixelX = this.bpp === 4 ? this.xOffset >> 1 : this.xOffset * ((this.bpp + 7) >> 3);
    return { width: this.xres, height: this.yres, bpp: this.bpp, pitch: this.pitch, start: this.yOffset * this.pitch + bytesPerPixelX };
  }

  read(index: number): number {
    const caps = (this.enable & DISPI_GETCAPS) !== 0;
    switch (index) {
      case DISPI_INDEX_ID:
        return this.id;
      case DISPI_INDEX_XRES:
        return caps ? DISPI_MAX_XRES : this.xres;
      case DISPI_INDEX_YRES:
        return caps ? DISPI_MAX_YRES : this.yres;
      case DISPI_INDEX_BPP:
        return caps ? DISPI_MAX_BPP : this.bpp;
      case DISPI_INDEX_ENABLE:
        return this.enable;
      case DISPI_INDEX_BANK:
        return this.bank;
      case DISPI_INDEX_VIRT_WIDTH:
        return this.virtWidth;
      case DISPI_INDEX_VIRT_HEIGHT:
        return this.virtHeight;
      case DISPI_INDEX_X_OFFSET:
        return this.xOffset;
      case DISPI_INDEX_Y_OFFSET:
        return this.yOffset;
      case DISPI_INDEX_VIDEO_MEMORY_64K:
        return Math.min(0xffff, this.vram.length >>> 16);
      default:
        return 0;
    }
  }

  write(index: number, value: number): void {
    const v = value & 0xffff;
    switch (index) {
      case DISPI_INDEX_ID:
        if (v >= DISPI_ID0 && v <= DISPI_ID5) this.id = v;
        return;
      case DISPI_INDEX_XRES:
        if (v > 0 && v <= DISPI_MAX_XRES && (v & 7) === 0) {
          this.xres = v;
          if (this.virtWidth < v) this.virtWidth = v;
        }
        return;
      case DISPI_INDEX_YRES:
        if (v > 0 && v <= DISPI_MAX_YRES) this.yres = v;
        return;
      case DISPI_INDEX_BPP: {
        const bpp = v === 0 ? 8 : v;
        if (VALID_BPP.has(bpp)) this.bpp = bpp;
        return;
      }
      case DISPI_INDEX_ENABLE:
        this.writeEnable(v);
        return;
      case DISPI_INDEX_BANK:
        // Only banks inside VRAM exist (the count is a power of two).
        this.bank = v & (Math.max(1, this.vram.length >>> 16) - 1);
        return;
      case DISPI_INDEX_VIRT_WIDTH:
        // Narrower than XRES is ignored, and so is a pitch that leaves no room for
        // YRES lines in VRAM; otherwise it sets the pitch (VIRT_HEIGHT follows).
        if (v >= this.xres && this.pitchFor(v) * this.yres <= this.vram.length) this.virtWidth = v;
        return;
      case DISPI_INDEX_X_OFFSET:
        this.xOffset = v;
        return;
      case DISPI_INDEX_Y_OFFSET:
        this.yOffset = v;
        return;
      default:
        return; // VIRT_HEIGHT and VIDEO_MEMORY_64K are derived, read-only
    }
  }

  private writeEnable(v: number): void {
    const wasEnabled = this.enabled;
    this.enable = v & (DISPI_ENABLED | DISPI_GETCAPS | DISPI_8BIT_DAC | DISPI_LFB_ENABLED | DISPI_NOCLEARMEM);
    this.regs.dac8Bit = (v & DISPI_8BIT_DAC) !== 0;
    if (!this.enabled) {
      this.bank = 0;
      return;
    }
    if (wasEnabled) return;
    // Enable 0 → 1: a fresh mode (§7): virtual size = visible size, no panning.
    this.virtWidth = this.xres;
    // A mode larger than VRAM keeps only the lines that fit.
    if (this.yres * this.pitch > this.vram.length) this.yres = Math.max(1, Math.floor(this.vram.length / this.pitch));
    this.xOffset = 0;
    this.yOffset = 0;
    this.bank = 0;
    if ((v & DISPI_NOCLEARMEM) === 0) this.vram.fill(0, 0, Math.min(this.vram.length, this.yres * this.pitch));
    // Put the VGA side into graphics mode with the 64 KiB window at A0000 so the
    // banked window works; chain-4 makes it linear for byte-per-pixel modes.
    const r = this.regs;
    r.gr[GR_MISC] = (r.gr[GR_MISC] & ~0x0c) | 0x04 | GR6_GRAPHICS;
    r.ar[AR_MODE] |= AR10_GRAPHICS;
    r.cr[CR_MODE] |= 0x03;
    r.cr[CR_OFFSET] = (this.pitch >> 3) & 0xff;
    if (this.bpp >= 8) {
      r.sr[SR_MEMORY_MODE] |= SR4_CHAIN4;
      r.gr[GR_MODE] = (r.gr[GR_MODE] & ~0x60) | GR5_256_COLOUR;
    } else {
      r.sr[SR_MEMORY_MODE] &= ~SR4_CHAIN4;
      r.gr[GR_MODE] &= ~0x60;
    }
  }

  /** Ports 0x1CE (index), 0x1CF (data) and 0x1D0 (data alias), 16-bit; register with length 3. */
  readonly ports: PioDevice = {
    pioRead: (offset: number, size: AccessSize): number => {
      if (offset === 0) {
        const v = size === 4 ? this.index | (this.read(this.index) << 16) : this.index;
        return v >>> 0;
      }
      const data = this.read(this.index);
      // A byte read of the alias port 0x1D0 sees the data's high byte.
      return offset === 2 && size === 1 ? data >> 8 : data;
    },
    pioWrite: (offset: number, size: AccessSize, value: number): void => {
      if (offset === 0) {
        this.index = value & 0xffff;
        if (size === 4) this.write(this.index, value >>> 16);
        return;
      }
      this.write(this.index, value & (size === 1 ? 0xff : 0xffff));
    },
  };
}
