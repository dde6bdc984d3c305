// Alphanumeric (text) modes (IBM VGA Technical Reference, "Alphanumeric Modes";
// pc-platform §7): cell i holds its character in plane 0 and its attribute in
// plane 1 at planar address start + i; glyphs are 32-byte slots in plane 2. The
// start address (CR0C/0D) is honoured with wrap in the 32 KiB B8000 window, since
// Linux's vgacon scrolls by moving it. Blinking is not animated: with AR10 bit 3
// the blink bit only drops the background's intensity, as in the "on" phase.

import { cp437ToString } from './cp437.js';
import { attributeColours, putPixel, type Frame } from './palette.js';
import {
  AR10_BLINK,
  AR10_LINE_GRAPHICS,
  AR_MODE,
  CR0A_CURSOR_OFF,
  CR_CURSOR_END,
  CR_CURSOR_START,
  CR_H_DISPLAY_END,
  CR_MAX_SCAN,
  CR_OFFSET,
  SR1_8DOT,
  SR_CHAR_MAP,
  SR_CLOCKING,
  type VgaRegisters,
} from './registers.js';

/** Cells addressable through the 32 KiB window at B8000 (2 bytes per cell). */
const TEXT_CELLS = 0x4000;
/** Byte offset in plane 2 of font maps 0-7 (SR3 selects; map = bit 2 from SR3 bit 5/4). */
const FONT_MAP_OFFSETS = [0x0000, 0x4000, 0x8000, 0xc000, 0x2000, 0x6000, 0xa000, 0xe000];

export interface TextGeometry {
  cols: number;
  rows: number;
  charHeight: number;
  charWidth: number;
  /** Cells from one row to the next (2 × CR13). */
  pitch: number;
  start: number;
}

export interface TextScreen {
  cols: number;
  rows: number;
  /** One string per row, code page 437 mapped to Unicode, trailing spaces removed. */
  lines: string[];
  /** Cursor cell if it is on screen and enabled, else null. */
  cursor: { row: number; col: number } | null;
}

export function textGeometry(regs: VgaRegisters): TextGeometry {
  const cr = regs.cr;
  const charHeight = (cr[CR_MAX_SCAN] & 0x1f) + 1;
  let lines = regs.displayLines;
  if (cr[CR_MAX_SCAN] & 0x80) lines >>= 1;
  return {
    cols: cr[CR_H_DISPLAY_END] + 1,
    rows: Math.max(1, Math.floor(lines / charHeight)),
    charHeight,
    charWidth: regs.sr[SR_CLOCKING] & SR1_8DOT ? 8 : 9,
    pitch: cr[CR_OFFSET] * 2,
    start: regs.startAddress,
  };
}

function cellAddress(g: TextGeometry, row: number, col: number): number {
  return (g.start + row * g.pitch + col) % TEXT_CELLS;
}

function cursorCell(regs: VgaRegisters, g: TextGeometry): { row: number; col: number } | null {
  if (regs.cr[CR_CURSOR_START] & CR0A_CURSOR_OFF) return null;
  const rel = (regs.cursorAddress - g.start + TEXT_CELLS * 4) % TEXT_CELLS;
  if (g.pitch === 0) return rel < g.cols ? { row: 0, col: rel } : null;
  const row = Math.floor(rel / g.pitch);
  const col = rel % g.pitch;
  return row < g.rows && col < g.cols ? { row, col } : null;
}

export function readTextScreen(regs: VgaRegisters, vram: Uint8Array): TextScreen {
  const g = textGeometry(regs);
  const lines: string[] = [];
  const codes = new Uint8Array(g.cols);
  for (let row = 0; row < g.rows; row++) {
    for (let col = 0; col < g.cols; col++) codes[col] = vram[cellAddress(g, row, col) * 4];
    lines.push(cp437ToString(codes).replace(/ +$/, ''));
  }
  return { cols: g.cols, rows: g.rows, lines, cursor: cursorCell(regs, g) };
}

export function renderText(regs: VgaRegisters, vram: Uint8Array): Frame {
  const g = textGeometry(regs);
  const width = g.cols * g.charWidth;
  const height = g.rows * g.charHeight;
  const rgba = new Uint8Array(width * height * 4);
  const colours = attributeColours(regs);
  const ar10 = regs.ar[AR_MODE];
  const sr3 = regs.sr[SR_CHAR_MAP];
  const fontA = FONT_MAP_OFFSETS[((sr3 >> 3) & 4) | ((sr3 >> 2) & 3)];
  const fontB = FONT_MAP_OFFSETS[((sr3 >> 2) & 4) | (sr3 & 3)];
  const cursor = cursorCell(regs, g);
  const cursorFirst = regs.cr[CR_CURSOR_START] & 0x1f;
  const cursorLast = Math.min(regs.cr[CR_CURSOR_END] & 0x1f, g.charHeight - 1);

  for (let row = 0; row < g.rows; row++) {
    for (let col = 0; col < g.cols; col++) {
      const cell = cellAddress(g, row, col) * 4;
      const ch = vram[cell];
      const attr = vram[cell + 1];
      const fg = colours[attr & 0x0f];
      const bg = colours[ar10 & AR10_BLINK ? (attr >> 4) & 7 : attr >> 4];
      const font = (attr & 0x08 ? fontA : fontB) + ch * 32;
      // Box-drawing characters C0-DF extend into the 9th column (AR10 bit 2).
      const ninthCopies = g.charWidth === 9 && ar10 & AR10_LINE_GRAPHICS && ch >= 0xc0 && ch <= 0xdf;
      const isCursorCell = cursor !== null && cursor.row === row && cursor.col === col;
      for (let line = 0; line < g.charHeight; line++) {
        let bits = vram[(font + line) * 4 + 2];
        if (isCursorCell && line >= cursorFirst && line <= cursorLast) bits = 0xff;
        const y = row * g.charHeight + line;
        let p = y * width + col * g.charWidth;
        for (let x = 0; x < 8; x++) putPixel(rgba, p++, bits & (0x80 >> x) ? fg : bg);
        if (g.charWidth === 9) putPixel(rgba, p, (ninthCopies || (isCursorCell && bits === 0xff)) && bits & 1 ? fg : bg);
      }
    }
  }
  return { width, height, rgba };
}
