import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { StdVga } from './device.js';
import { MODE_03H, MODE_12H, MODE_13H, programMode } from './standard-modes.js';

function rig() {
  const io = new IoBus();
  const vram = new Uint8Array(16 << 20);
  const vga = new StdVga({ vram, vramBackingOffset: 0 });
  vga.registerLegacy(io);
  const out = (p: number, v: number) => io.pioWrite(p, 1, v);
  const inb = (p: number) => io.pioRead(p, 1);
  const wb = (a: number, v: number) => io.mmioWrite(a, 1, v);
  const dac = (i: number, r: number, g: number, b: number) => (out(0x3c8, i), out(0x3c9, r), out(0x3c9, g), out(0x3c9, b));
  const crtc = (i: number, v: number) => io.pioWrite(0x3d4, 2, i | (v << 8));
  return { io, vram, vga, out, inb, wb, dac, crtc };
}

type Rig = ReturnType<typeof rig>;

function pixel(f: { width: number; rgba: Uint8Array }, x: number, y: number): number[] {
  const o = (y * f.width + x) * 4;
  return [...f.rgba.subarray(o, o + 4)];
}

/** Load a glyph into plane 2 the way a BIOS does: planar access to plane 2 only. */
function loadGlyph(r: Rig, ch: number, rows: number[]): void {
  const sr = (i: number, v: number) => r.io.pioWrite(0x3c4, 2, i | (v << 8));
  const gr = (i: number, v: number) => r.io.pioWrite(0x3ce, 2, i | (v << 8));
  sr(2, 0x04);
  sr(4, 0x07);
  gr(4, 0x02);
  gr(5, 0x00);
  gr(6, 0x04);
  rows.forEach((bits, line) => r.wb(0xa0000 + ch * 32 + line, bits));
  sr(2, 0x03);
  sr(4, 0x02);
  gr(4, 0x00);
  gr(5, 0x10);
  gr(6, 0x0e);
}

function textRig(): Rig {
  const r = rig();
  programMode(r.out, r.inb, MODE_03H);
  return r;
}

function putText(r: Rig, cell: number, text: string, attr = 0x07): void {
  for (let i = 0; i < text.length; i++) {
    r.wb(0xb8000 + (cell + i) * 2, text.charCodeAt(i));
    r.wb(0xb8000 + (cell + i) * 2 + 1, attr);
  }
}

const WHITE = [0xff, 0xff, 0xff, 0xff];
const BLUE = [0, 0, 0xaa, 0xff];
const BLACK = [0, 0, 0, 0xff];
const GREY = [0xaa, 0xaa, 0xaa, 0xff];

test('text mode 3: glyph pixels from plane 2, colours through AR palette and DAC, 9th column, cursor', () => {
  const r = textRig();
  const A = [0x00, 0x00, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe, 0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00];
  loadGlyph(r, 0x41, A);
  loadGlyph(r, 0xc4, [0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]); // '─'
  r.dac(0x00, 0, 0, 0);
  r.dac(0x01, 0, 0, 0x2a);
  r.dac(0x07, 0x2a, 0x2a, 0x2a);
  r.dac(0x3f, 0x3f, 0x3f, 0x3f);
  putText(r, 2 * 80 + 5, 'A', 0x1f);
  putText(r, 2 * 80 + 6, '\u00c4', 0x1f);
  putText(r, 0, ' ', 0x07);
  r.crtc(0x0e, 0);
  r.crtc(0x0f, 0);
  const f = r.vga.render();
  assert.equal(f.width, 720);
  assert.equal(f.height, 400);
  const x0 = 5 * 9;
  const y0 = 2 * 16;
  // Row 5 of 'A' is 0xC6 = 11000110.
  const row5 = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((x) => pixel(f, x0 + x, y0 + 5));
  assert.deepEqual(row5, [WHITE, WHITE, BLUE, BLUE, BLUE, WHITE, WHITE, BLUE, BLUE], 'glyph bits, 9th column = background');
  assert.deepEqual(pixel(f, x0 + 3, y0 + 0), BLUE);
  assert.deepEqual(pixel(f, x0 + 6, y0 + 7), WHITE, 'row 7 = 0xFE');
  // Box-drawing 0xC4 extends its line into the 9th column (AR10 bit 2 in mode 3).
  assert.deepEqual(pixel(f, 6 * 9 + 8, y0 + 7), WHITE);
  // Cursor at cell 0, scan lines CR0A..CR0B = 13..14, drawn in the cell's foreground.
  assert.deepEqual(pixel(f, 0, 13), GREY);
  assert.deepEqual(pixel(f, 3, 14), GREY);
  assert.deepEqual(pixel(f, 0, 12), BLACK);
  assert.deepEqual(pixel(f, 0, 15), BLACK);
  r.crtc(0x0a, 0x20); // cursor off
  assert.deepEqual(pixel(r.vga.render(), 0, 13), BLACK);
  // Blink enabled (AR10 bit 3, mode 3 default): attribute bit 7 does not make the background bright.
  putText(r, 2 * 80 + 5, 'A', 0x9f);
  assert.deepEqual(pixel(r.vga.render(), x0, y0), BLUE);
  // 8-dot mode: 640 wide.
  r.io.pioWrite(0x3c4, 2, 0x0101);
  const f8 = r.vga.render();
  assert.equal(f8.width, 640);
  assert.deepEqual(pixel(f8, 5 * 8 + 1, y0 + 5), WHITE);
});

test('textScreen reads B8000 through the start address, scrolls and wraps in 32 KiB', () => {
  const r = textRig();
  putText(r, 0, 'HELLO');
  putText(r, 80, 'WORLD \u0082t\u00e9');
  putText(r, 80 * 24 + 79, 'Z');
  r.crtc(0x0e, 0);
  r.crtc(0x0f, 81);
  let s = r.vga.textScreen();
  assert.ok(s);
  assert.equal(s.cols, 80);
  assert.equal(s.rows, 25);
  assert.equal(s.lines[0], 'HELLO');
  assert.equal(s.lines[1], 'WORLD ét\u0398', 'CP437 0x82 = é, 0xE9 = Θ');
  assert.equal(s.lines[24], ' '.repeat(79) + 'Z');
  assert.deepEqual(s.cursor, { row: 1, col: 1 });
  // vgacon scrolls by moving the start address one row down.
  r.crtc(0x0c, 0);
  r.crtc(0x0d, 80);
  s = r.vga.textScreen();
  assert.ok(s);
  assert.equal(s.lines[0], 'WORLD ét\u0398');
  assert.deepEqual(s.cursor, { row: 0, col: 1 });
  // Start on the last row of the 16K-cell window: the next row wraps to cell 0.
  const last = 0x4000 - 80;
  putText(r, last, 'TOP');
  r.crtc(0x0c, last >> 8);
  r.crtc(0x0d, last & 0xff);
  s = r.vga.textScreen();
  assert.ok(s);
  assert.equal(s.lines[0], 'TOP');
  assert.equal(s.lines[1], 'HELLO');
  assert.deepEqual(s.cursor, { row: 2, col: 1 }, 'cursor cell 81 wraps onto row 2 as well');
  r.crtc(0x0f, 0xff);
  r.crtc(0x0e, 0x3f); // cell 0x3FFF: the end of row 0
  assert.deepEqual(r.vga.textScreen()?.cursor, { row: 0, col: 79 });
  r.crtc(0x0e, 0x3e); // cell 0x3EFF: before the start, off screen
  assert.equal(r.vga.textScreen()?.cursor, null);
  const f = r.vga.render();
  assert.equal(f.height, 400);
  // Graphics modes have no text.
  programMode(r.out, r.inb, MODE_13H);
  assert.equal(r.vga.textScreen(), null);
});

test('mode 13h: chain-4 byte per pixel through the DAC; mode 12h: planar 16 colours', () => {
  const r = rig();
  programMode(r.out, r.inb, MODE_13H);
  r.dac(0x20, 0x3f, 0, 0);
  r.wb(0xa0000 + 20 * 320 + 10, 0x20);
  let f = r.vga.render();
  assert.equal(f.width, 320);
  assert.equal(f.height, 200);
  assert.deepEqual(pixel(f, 10, 20), [0xff, 0, 0, 0xff]);
  assert.deepEqual(pixel(f, 11, 20), BLACK);
  // DAC mask hides bit 5: the pixel shows DAC entry 0.
  r.out(0x3c6, 0x1f);
  assert.deepEqual(pixel(r.vga.render(), 10, 20), BLACK);
  r.out(0x3c6, 0xff);

  programMode(r.out, r.inb, MODE_12H);
  const gr = (i: number, v: number) => r.io.pioWrite(0x3ce, 2, i | (v << 8));
  r.dac(0x3c, 0x3f, 0x15, 0x15);
  // Write mode 2, bit mask selecting pixel 100 (bit 7 - 4 = 3): colour 0xC.
  gr(5, 0x02);
  gr(8, 0x80 >> (100 & 7));
  const addr = 0xa0000 + 50 * 80 + (100 >> 3);
  r.io.mmioRead(addr, 1);
  r.wb(addr, 0x0c);
  f = r.vga.render();
  assert.equal(f.width, 640);
  assert.equal(f.height, 480);
  assert.deepEqual(pixel(f, 100, 50), [0xff, 0x55, 0x55, 0xff]);
  assert.deepEqual(pixel(f, 101, 50), BLACK);
  assert.deepEqual(pixel(f, 100, 51), BLACK);
  // Screen off (SR1 bit 5): a black frame of the same size.
  r.io.pioWrite(0x3c4, 2, 0x2101);
  f = r.vga.render();
  assert.equal(f.width, 640);
  assert.deepEqual(pixel(f, 100, 50), BLACK);
});

test('CGA 4-colour (mode 4 layout): 2 bits per pixel, odd lines 8 KiB up', () => {
  const r = rig();
  programMode(r.out, r.inb, MODE_13H);
  // Mode 4 differences: CR1 = 0x27, CR9 = 0xC1, CR13 = 0x14, CR17 = 0xA2, GR5 = 0x30, GR6 = 0x0F,
  // SR4 = 0x02 (odd/even), SR2 = 0x03, AR10 = 0x01.
  const sr = (i: number, v: number) => r.io.pioWrite(0x3c4, 2, i | (v << 8));
  const gr = (i: number, v: number) => r.io.pioWrite(0x3ce, 2, i | (v << 8));
  sr(2, 0x03);
  sr(4, 0x02);
  gr(5, 0x30);
  gr(6, 0x0f);
  r.crtc(0x11, 0x0e); // unlock CR0-CR7 (mode 13h left CR11 bit 7 set)
  r.crtc(0x01, 0x27);
  r.crtc(0x09, 0xc1);
  r.crtc(0x13, 0x14);
  r.crtc(0x17, 0xa2);
  r.inb(0x3da);
  r.out(0x3c0, 0x10);
  r.out(0x3c0, 0x01);
  r.out(0x3c0, 0x20);
  r.dac(0x02, 0, 0x2a, 0); // AR2 = 2: green
  r.dac(0x03, 0, 0x2a, 0x2a); // AR3 = 3: cyan
  // Line 0, byte 0 (pixels 0-3): 10 11 00 00; line 1 lives at B8000 + 0x2000.
  r.wb(0xb8000, 0b1011_0000);
  r.wb(0xba000, 0b0000_0011);
  const f = r.vga.render();
  assert.equal(f.width, 320);
  assert.equal(f.height, 200);
  assert.deepEqual(pixel(f, 0, 0), [0, 0xaa, 0, 0xff]);
  assert.deepEqual(pixel(f, 1, 0), [0, 0xaa, 0xaa, 0xff]);
  assert.deepEqual(pixel(f, 2, 0), BLACK);
  assert.deepEqual(pixel(f, 3, 1), [0, 0xaa, 0xaa, 0xff]);
});

test('VBE 800x600x32 via DISPI ports, LFB writes, virtual width and panning; 16 and 8 bpp', () => {
  const r = rig();
  const dispi = (i: number, v: number) => (r.io.pioWrite(0x1ce, 2, i), r.io.pioWrite(0x1cf, 2, v));
  const dispiRead = (i: number) => (r.io.pioWrite(0x1ce, 2, i), r.io.pioRead(0x1cf, 2));
  r.vram.fill(0x33, 0, 0x1000); // old contents: enabling clears them
  dispi(0, 0xb0c5);
  dispi(4, 0);
  dispi(1, 800);
  dispi(2, 600);
  dispi(3, 32);
  dispi(4, 0x41);
  assert.equal(dispiRead(4), 0x41);
  assert.equal(r.vram[0], 0);
  // PAS clear (as at power-on) blanks VBE modes too; bochs-drm sets it through 0x3C0.
  r.vram.set([0, 0, 0xff, 0], 0);
  assert.deepEqual(pixel(r.vga.render(), 0, 0), BLACK);
  r.inb(0x3da);
  r.out(0x3c0, 0x20);
  const put32 = (x: number, y: number, pitch: number, rgb: number) => {
    const o = y * pitch + x * 4;
    r.vram.set([rgb & 0xff, (rgb >> 8) & 0xff, rgb >> 16, 0], o);
  };
  put32(799, 599, 3200, 0x123456);
  put32(0, 0, 3200, 0xff8000);
  let f = r.vga.render();
  assert.equal(f.width, 800);
  assert.equal(f.height, 600);
  assert.deepEqual(pixel(f, 799, 599), [0x12, 0x34, 0x56, 0xff]);
  assert.deepEqual(pixel(f, 0, 0), [0xff, 0x80, 0x00, 0xff]);
  assert.equal(r.vga.textScreen(), null);
  // Virtual width 1024 (pitch 4096), pan to (8, 10).
  dispi(6, 1024);
  assert.equal(dispiRead(6), 1024);
  assert.equal(dispiRead(7), Math.floor((16 << 20) / 4096));
  dispi(8, 8);
  dispi(9, 10);
  put32(8 + 3, 10 + 2, 4096, 0xabcdef);
  f = r.vga.render();
  assert.deepEqual(pixel(f, 3, 2), [0xab, 0xcd, 0xef, 0xff]);
  // 16 bpp 5:6:5.
  dispi(4, 0);
  dispi(3, 16);
  dispi(4, 0x41);
  r.vram.set([0xe0, 0x07], 2 * (5 * 800 + 7)); // green = 0x3F
  r.vram.set([0x1f, 0xf8], 2 * (5 * 800 + 8)); // red and blue = 0x1F
  f = r.vga.render();
  assert.deepEqual(pixel(f, 7, 5), [0, 0xff, 0, 0xff]);
  assert.deepEqual(pixel(f, 8, 5), [0xff, 0, 0xff, 0xff]);
  // 8 bpp through the DAC, 8-bit DAC (ENABLE bit 5).
  dispi(4, 0);
  dispi(3, 8);
  dispi(4, 0x61);
  r.dac(9, 0x80, 0x40, 0x20);
  r.vram[800 + 1] = 9;
  assert.deepEqual(pixel(r.vga.render(), 1, 1), [0x80, 0x40, 0x20, 0xff]);
  // Disabling returns to the VGA renderer (the VBE enable left graphics mode set).
  dispi(4, 0);
  assert.notEqual(r.vga.render().width, 800);
});
