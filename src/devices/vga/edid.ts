// The monitor std-vga reports in BAR2 0x000-0x07F: one VESA EDID 1.4 base block
// (VESA E-EDID standard, release A rev. 2). Linux's bochs-drm reads it for the mode
// list and preferred mode; SeaVGABIOS copies it for VBE/DDC (INT 10h AX=4F15).
// Preferred mode 1024x768@60 (VESA DMT timing), plus the usual established and
// standard timings, all within what DISPI offers.

const HEADER = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
/** PNP manufacturer id, three letters A=1..Z=26 in 5 bits each, big endian. */
const MANUFACTURER = 'TSX';
const PRODUCT = 0x1111;
const MODEL_NAME = 'tsxen std-vga';
/** Screen size reported: 40 × 30 cm (a 20" 4:3 panel). */
const WIDTH_MM = 400;
const HEIGHT_MM = 300;

/** VESA DMT 1024x768 @ 60 Hz: 65 MHz, both syncs negative. */
const PREFERRED = {
  clockKHz: 65000,
  hActive: 1024, hFront: 24, hSync: 136, hBack: 160,
  vActive: 768, vFront: 3, vSync: 6, vBack: 29,
};

/** sRGB primaries and D65 white point (CIE x, y). */
const CHROMATICITY = { rx: 0.64, ry: 0.33, gx: 0.3, gy: 0.6, bx: 0.15, by: 0.06, wx: 0.3127, wy: 0.329 };

function descriptorText(tag: number, text: string): number[] {
  const bytes = [0, 0, 0, tag, 0];
  const chars = [...text.slice(0, 13)].map((c) => c.charCodeAt(0) & 0x7f);
  if (chars.length < 13) chars.push(0x0a);
  while (chars.length < 13) chars.push(0x20);
  return bytes.concat(chars);
}

function detailedTiming(): number[] {
  const t = PREFERRED;
  const hBlank = t.hFront + t.hSync + t.hBack;
  const vBlank = t.vFront + t.vSync + t.vBack;
  const clock = t.clockKHz / 10;
  return [
    clock & 0xff, clock >> 8,
    t.hActive & 0xff, hBlank & 0xff, ((t.hActive >> 8) << 4) | (hBlank >> 8),
    t.vActive & 0xff, vBlank & 0xff, ((t.vActive >> 8) << 4) | (vBlank >> 8),
    t.hFront & 0xff, t.hSync & 0xff, ((t.vFront & 0xf) << 4) | (t.vSync & 0xf),
    ((t.hFront >> 8) << 6) | ((t.hSync >> 8) << 4) | ((t.vFront >> 4) << 2) | (t.vSync >> 4),
    WIDTH_MM & 0xff, HEIGHT_MM & 0xff, ((WIDTH_MM >> 8) << 4) | (HEIGHT_MM >> 8),
    0, 0,
    0x18, // digital separate sync, both polarities negative
  ];
}

/** The 128-byte EDID base block, checksum included. */
export function stdVgaEdid(): Uint8Array {
  const e = new Uint8Array(128);
  e.set(HEADER, 0);
  const m = [...MANUFACTURER].map((c) => c.charCodeAt(0) - 0x40);
  const id = (m[0] << 10) | (m[1] << 5) | m[2];
  e.set([id >> 8, id & 0xff, PRODUCT & 0xff, PRODUCT >> 8], 8);
  e[16] = 1; // week of manufacture
  e[17] = 2024 - 1990;
  e[18] = 1; // EDID 1.4
  e[19] = 4;
  e[20] = 0x80; // digital input, depth and interface undefined
  e[21] = WIDTH_MM / 10;
  e[22] = HEIGHT_MM / 10;
  e[23] = 120; // gamma 2.2 = (120 + 100) / 100
  e[24] = 0x06; // sRGB default colour space, preferred timing is native
  const c = CHROMATICITY;
  const q = (v: number) => Math.round(v * 1024);
  const [rx, ry, gx, gy, bx, by, wx, wy] = [c.rx, c.ry, c.gx, c.gy, c.bx, c.by, c.wx, c.wy].map(q);
  e[25] = ((rx & 3) << 6) | ((ry & 3) << 4) | ((gx & 3) << 2) | (gy & 3);
  e[26] = ((bx & 3) << 6) | ((by & 3) << 4) | ((wx & 3) << 2) | (wy & 3);
  e.set([rx, ry, gx, gy, bx, by, wx, wy].map((v) => v >> 2), 27);
  // Established timings: 640x480@60 and 800x600@60 (byte 35 bits 5, 0), 1024x768@60 (byte 36 bit 3).
  e.set([0x21, 0x08, 0x00], 35);
  // Standard timings: (width / 8 - 31), aspect in bits 7:6 (00 16:10, 01 4:3, 10 5:4, 11 16:9), refresh - 60.
  const standard = [
    [1280, 0b10], // 1280x1024
    [1600, 0b01], // 1600x1200
    [1920, 0b11], // 1920x1080
    [1680, 0b00], // 1680x1050
  ];
  for (let i = 0; i < 8; i++) {
    const s = standard[i];
    e.set(s ? [s[0] / 8 - 31, s[1] << 6] : [0x01, 0x01], 38 + 2 * i);
  }
  e.set(detailedTiming(), 54);
  // Range limits: 50-125 Hz vertical, 30-160 kHz horizontal, 300 MHz max clock, no formula.
  e.set([0, 0, 0, 0xfd, 0, 50, 125, 30, 160, 30, 0x01, 0x0a, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20], 72);
  e.set(descriptorText(0xfc, MODEL_NAME), 90);
  e.set([0, 0, 0, 0x10, 0], 108); // dummy descriptor
  let sum = 0;
  for (let i = 0; i < 127; i++) sum += e[i];
  e[127] = (256 - (sum & 0xff)) & 0xff;
  return e;
}
