// From a pixel's colour number to RGBA (IBM VGA Technical Reference, "Attribute
// Controller" and "Video DAC"): a 4-bit colour passes AR12 plane enable, the 16
// palette registers and AR14's colour select to become a DAC index; 8-bit colours
// (AR10 bit 6, mode 13h and VBE 8 bpp) index the DAC directly. The DAC mask
// (0x3C6) gates every index.

import {
  AR10_P54_SELECT,
  AR_COLOUR_SELECT,
  AR_MODE,
  AR_PLANE_ENABLE,
  type VgaRegisters,
} from './registers.js';

export interface Frame {
  width: number;
  height: number;
  /** width*height pixels of R, G, B, A (A always 0xFF). */
  rgba: Uint8Array;
}

/** DAC index for 4-bit colour `c` through the attribute controller. */
export function attributeDacIndex(regs: VgaRegisters, c: number): number {
  const ar = regs.ar;
  let idx = ar[c & ar[AR_PLANE_ENABLE] & 0x0f] & 0x3f;
  const select = ar[AR_COLOUR_SELECT];
  if (ar[AR_MODE] & AR10_P54_SELECT) idx = (idx & 0x0f) | ((select & 0x03) << 4);
  idx |= (select & 0x0c) << 4;
  return idx & regs.dacMask;
}

/** 0xRRGGBB for each of the 16 attribute colours, for one frame. */
export function attributeColours(regs: VgaRegisters): Int32Array {
  const out = new Int32Array(16);
  for (let c = 0; c < 16; c++) out[c] = regs.dacColour(attributeDacIndex(regs, c));
  return out;
}

/** 0xRRGGBB for each of the 256 DAC entries as 8-bit pixels see them (DAC mask applied). */
export function dacColours(regs: VgaRegisters): Int32Array {
  const out = new Int32Array(256);
  for (let i = 0; i < 256; i++) out[i] = regs.dacColour(i & regs.dacMask);
  return out;
}

export function blankFrame(width: number, height: number): Frame {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 0xff;
  return { width, height, rgba };
}

/** Store 0xRRGGBB at pixel index `i`. */
export function putPixel(rgba: Uint8Array, i: number, rgb: number): void {
  const o = i * 4;
  rgba[o] = (rgb >> 16) & 0xff;
  rgba[o + 1] = (rgb >> 8) & 0xff;
  rgba[o + 2] = rgb & 0xff;
  rgba[o + 3] = 0xff;
}
