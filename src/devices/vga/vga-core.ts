// A standard VGA with the Bochs VBE extensions, independent of how it is attached:
// the register file, the legacy window, DISPI and the renderers over one VRAM
// array. device.ts wraps it as the PCI std-vga; a test can drive it directly.

import { BochsDispi } from './dispi.js';
import { renderVbe, renderVgaGraphics, vgaGraphicsSize } from './graphics-render.js';
import { blankFrame, type Frame } from './palette.js';
import { VgaPorts } from './ports.js';
import { GR6_GRAPHICS, GR_MISC, VgaRegisters } from './registers.js';
import { readTextScreen, renderText, textGeometry, type TextScreen } from './text-render.js';
import { VgaMemory } from './vga-memory.js';

/** Smallest VRAM the VGA side needs: 4 planes × 64 KiB. */
export const VGA_MIN_VRAM = 0x40000;

export class VgaCore {
  readonly regs = new VgaRegisters();
  readonly dispi: BochsDispi;
  /** The 0xA0000-0xBFFFF window (register with length VGA_WINDOW_SIZE). */
  readonly memory: VgaMemory;
  /** Ports 0x3B0-0x3DF, offsets from VGA_PORT_BASE (StdVga.registerLegacy claims only VGA_DECODED_PORTS). */
  readonly ports: VgaPorts;

  constructor(readonly vram: Uint8Array) {
    if (vram.length < VGA_MIN_VRAM || (vram.length & (vram.length - 1)) !== 0) {
      throw new RangeError(`std-vga: VRAM must be a power of two >= 256 KiB, got ${vram.length} bytes`);
    }
    this.dispi = new BochsDispi(this.regs, vram);
    this.memory = new VgaMemory(this.regs, vram, this.dispi);
    this.ports = new VgaPorts(this.regs);
  }

  private get textMode(): boolean {
    return !this.dispi.enabled && (this.regs.gr[GR_MISC] & GR6_GRAPHICS) === 0;
  }

  /** The picture the monitor would show now (pure: reads state, changes nothing). */
  render(): Frame {
    const { regs, vram } = this;
    if (this.dispi.enabled) {
      const l = this.dispi.layout();
      // PAS and SR1 blank VBE modes too: bochs-drm blanks by writing 0x00/0x20 to 0x3C0.
      return regs.blanked ? blankFrame(Math.min(l.width, 4096), Math.min(l.height, 2048)) : renderVbe(regs, vram, l);
    }
    if (this.textMode) {
      if (!regs.blanked) return renderText(regs, vram);
      const g = textGeometry(regs);
      return blankFrame(g.cols * g.charWidth, g.rows * g.charHeight);
    }
    if (!regs.blanked) return renderVgaGraphics(regs, vram);
    const s = vgaGraphicsSize(regs);
    return blankFrame(s.width, s.height);
  }

  /** The text on screen in a text mode; null in graphics modes. */
  textScreen(): TextScreen | null {
    return this.textMode ? readTextScreen(this.regs, this.vram) : null;
  }
}
