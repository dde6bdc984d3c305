// All-points-addressable modes (IBM VGA Technical Reference, "Graphics Modes"):
// 16-colour planar (modes 0Dh-12h), CGA 4-colour (GR5 bit 5, modes 4/5), CGA
// 2-colour (mode 6: planar with one plane), 256-colour (GR5 bit 6, mode 13h and
// mode X) and the Bochs VBE linear framebuffer at 4/8/15/16/24/32 bpp.
//
// Line addressing follows the CRTC: a row starts CR13 × 8 VRAM bytes after the
// previous one; CR09 repeats rows (and double scan halves the line count); with
// CR17 bit 0 clear (CGA compatibility) scan line bit 0 replaces address bit 13,
// which interleaves even and odd lines 8 KiB apart in the CGA layout.

import type { DispiLayout } from './dispi.js';
import { attributeColours, dacColours, putPixel, type Frame } from './palette.js';
import {
  CR17_BYTE_MODE,
  CR17_NO_CGA_MA13,
  CR_H_DISPLAY_END,
  CR_MAX_SCAN,
  CR_MODE,
  CR_OFFSET,
  GR5_256_COLOUR,
  GR5_CGA_SHIFT,
  GR_MODE,
  type VgaRegisters,
} from './registers.js';

/** VGA memory the CRTC can address: 64K planar addresses × 4 planes. */
const VGA_MEMORY = 0x40000;
const MAX_WIDTH = 2048;
const MAX_HEIGHT = 2048;

type PixelKind = 'planar' | 'cga4' | 'dac8';

interface Scanout {
  width: number;
  height: number;
  kind: PixelKind;
  /** VRAM byte offset of each displayed line. */
  lineStart: (y: number) => number;
  /** Addresses wrap within this many bytes of VRAM. */
  wrap: number;
}

export function vgaGraphicsSize(regs: VgaRegisters): { width: number; height: number } {
  const s = vgaScanout(regs);
  return { width: s.width, height: s.height };
}

function vgaScanout(regs: VgaRegisters): Scanout {
  const cr = regs.cr;
  const gr5 = regs.gr[GR_MODE];
  const kind: PixelKind = gr5 & GR5_256_COLOUR ? 'dac8' : gr5 & GR5_CGA_SHIFT ? 'cga4' : 'planar';
  // 256-colour pixels take two dot clocks, so a character clock is 4 pixels.
  const width = Math.min(MAX_WIDTH, (cr[CR_H_DISPLAY_END] + 1) * (kind === 'dac8' ? 4 : 8));
  let lines = regs.displayLines;
  // Double scan halves the lines; at least one line remains so a frame is never empty.
  if (cr[CR_MAX_SCAN] & 0x80) lines = Math.max(1, lines >> 1);
  const scansPerRow = (cr[CR_MAX_SCAN] & 0x1f) + 1;
  const start = regs.startAddress * 4;
  const lineOffset = cr[CR_OFFSET] * 8;
  const mode = cr[CR_MODE];
  if ((mode & CR17_NO_CGA_MA13) === 0) {
    // CGA interleave: every scan line is distinct; its bit 0 selects the bank.
    const bankBit = 1 << (mode & CR17_BYTE_MODE ? 15 : 14);
    return {
      width,
      height: Math.min(MAX_HEIGHT, lines),
      kind,
      wrap: VGA_MEMORY,
      lineStart: (y) => {
        const a = start + Math.floor(y / scansPerRow) * lineOffset;
        return (y % scansPerRow) & 1 ? a | bankBit : a & ~bankBit;
      },
    };
  }
  // Repeated scan lines (mode 13h's CR09 = 1) show the same row twice: draw it once.
  return {
    width,
    height: Math.min(MAX_HEIGHT, Math.ceil(lines / scansPerRow)),
    kind,
    wrap: VGA_MEMORY,
    lineStart: (y) => start + y * lineOffset,
  };
}

function draw(regs: VgaRegisters, vram: Uint8Array, s: Scanout): Frame {
  const { width, height } = s;
  const rgba = new Uint8Array(width * height * 4);
  const colours = s.kind === 'dac8' ? dacColours(regs) : attributeColours(regs);
  const wrap = Math.min(s.wrap, vram.length);
  const byteAt = (i: number) => (i < wrap ? vram[i] : 0);
  for (let y = 0; y < height; y++) {
    const base = s.lineStart(y);
    let p = y * width;
    for (let x = 0; x < width; x++, p++) {
      let c: number;
      if (s.kind === 'dac8') {
        c = byteAt((base + x) % s.wrap);
      } else {
        const group = (base + (x >> 3) * 4) % s.wrap;
        if (s.kind === 'planar') {
          const bit = 7 - (x & 7);
          c =
            ((byteAt(group) >> bit) & 1) |
            (((byteAt(group + 1) >> bit) & 1) << 1) |
            (((byteAt(group + 2) >> bit) & 1) << 2) |
            (((byteAt(group + 3) >> bit) & 1) << 3);
        } else {
          // CGA 4-colour: plane 0 holds pixels 0-3 of the group, plane 1 pixels 4-7.
          const plane = (x >> 2) & 1;
          const shift = 6 - 2 * (x & 3);
          c = ((byteAt(group + plane) >> shift) & 3) | (((byteAt(group + plane + 2) >> shift) & 3) << 2);
        }
      }
      putPixel(rgba, p, colours[c]);
    }
  }
  return { width, height, rgba };
}

export function renderVgaGraphics(regs: VgaRegisters, vram: Uint8Array): Frame {
  return draw(regs, vram, vgaScanout(regs));
}

/** Bochs VBE linear framebuffer (pc-platform §7 "Pixels"). */
export function renderVbe(regs: VgaRegisters, vram: Uint8Array, l: DispiLayout): Frame {
  const width = Math.min(MAX_WIDTH * 2, l.width);
  const height = Math.min(MAX_HEIGHT, l.height);
  if (l.bpp === 4) {
    // 4 bpp is planar: 8 pixels per planar address, so pitch (xres/2) is in VRAM bytes already.
    return draw(regs, vram, { width, height, kind: 'planar', wrap: vram.length, lineStart: (y) => l.start + y * l.pitch });
  }
  const rgba = new Uint8Array(width * height * 4);
  const bytes = (l.bpp + 7) >> 3;
  const dac = l.bpp === 8 ? dacColours(regs) : null;
  const n = vram.length;
  for (let y = 0; y < height; y++) {
    let o = l.start + y * l.pitch;
    let p = y * width;
    for (let x = 0; x < width; x++, p++, o += bytes) {
      if (o + bytes > n) {
        putPixel(rgba, p, 0);
        continue;
      }
      let rgb: number;
      switch (l.bpp) {
        case 8:
          rgb = dac![vram[o]];
          break;
        case 15: {
          const v = vram[o] | (vram[o + 1] << 8);
          rgb = (expand5(v >> 10) << 16) | (expand5(v >> 5) << 8) | expand5(v);
          break;
        }
        case 16: {
          const v = vram[o] | (vram[o + 1] << 8);
          rgb = (expand5(v >> 11) << 16) | (expand6(v >> 5) << 8) | expand5(v);
          break;
        }
        default:
          // 24 and 32 bpp: B, G, R (, x) bytes.
          rgb = (vram[o + 2] << 16) | (vram[o + 1] << 8) | vram[o];
          break;
      }
      putPixel(rgba, p, rgb);
    }
  }
  return { width, height, rgba };
}

function expand5(v: number): number {
  v &= 0x1f;
  return (v << 3) | (v >> 2);
}

function expand6(v: number): number {
  v &= 0x3f;
  return (v << 2) | (v >> 4);
}
