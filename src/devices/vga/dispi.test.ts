import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VgaCore } from './vga-core.js';
import {
  DISPI_ENABLED,
  DISPI_GETCAPS,
  DISPI_INDEX_BANK,
  DISPI_INDEX_BPP,
  DISPI_INDEX_ENABLE,
  DISPI_INDEX_ID,
  DISPI_INDEX_VIDEO_MEMORY_64K,
  DISPI_INDEX_VIRT_HEIGHT,
  DISPI_INDEX_VIRT_WIDTH,
  DISPI_INDEX_XRES,
  DISPI_INDEX_X_OFFSET,
  DISPI_INDEX_YRES,
  DISPI_INDEX_Y_OFFSET,
  DISPI_LFB_ENABLED,
  DISPI_MAX_XRES,
  DISPI_NOCLEARMEM,
} from './dispi.js';

function core(size = 16 << 20) {
  const vga = new VgaCore(new Uint8Array(size));
  return { vga, d: vga.dispi };
}

test('ID handshake, GETCAPS maxima, VIDEO_MEMORY_64K', () => {
  const { d } = core(8 << 20);
  assert.equal(d.read(DISPI_INDEX_ID), 0xb0c0);
  d.write(DISPI_INDEX_ID, 0xb0c5);
  assert.equal(d.read(DISPI_INDEX_ID), 0xb0c5);
  d.write(DISPI_INDEX_ID, 0xb0c6);
  assert.equal(d.read(DISPI_INDEX_ID), 0xb0c5, 'unknown IDs are refused');
  d.write(DISPI_INDEX_XRES, 1024);
  d.write(DISPI_INDEX_ENABLE, DISPI_GETCAPS);
  assert.equal(d.read(DISPI_INDEX_XRES), DISPI_MAX_XRES);
  assert.equal(d.read(DISPI_INDEX_YRES), 1600);
  assert.equal(d.read(DISPI_INDEX_BPP), 32);
  d.write(DISPI_INDEX_ENABLE, 0);
  assert.equal(d.read(DISPI_INDEX_XRES), 1024);
  assert.equal(d.read(DISPI_INDEX_VIDEO_MEMORY_64K), 128);
});

test('mode registers reject bad values; BPP 0 means 8', () => {
  const { d } = core();
  d.write(DISPI_INDEX_XRES, 801); // not a multiple of 8
  d.write(DISPI_INDEX_XRES, 0);
  d.write(DISPI_INDEX_XRES, DISPI_MAX_XRES + 8);
  assert.equal(d.read(DISPI_INDEX_XRES), 640);
  d.write(DISPI_INDEX_YRES, 5000);
  assert.equal(d.read(DISPI_INDEX_YRES), 480);
  d.write(DISPI_INDEX_BPP, 12);
  assert.equal(d.read(DISPI_INDEX_BPP), 8);
  d.write(DISPI_INDEX_BPP, 24);
  d.write(DISPI_INDEX_BPP, 0);
  assert.equal(d.read(DISPI_INDEX_BPP), 8);
  d.write(DISPI_INDEX_BPP, 15);
  assert.equal(d.read(DISPI_INDEX_BPP), 15);
  assert.equal(d.read(0x4000), 0, 'unknown index reads 0');
  d.write(0x4000, 1);
});

test('enable clears the visible frame unless NOCLEARMEM, resets panning and virtual width, forces chain-4 graphics', () => {
  const { vga, d } = core();
  const vram = vga.vram;
  d.write(DISPI_INDEX_XRES, 320);
  d.write(DISPI_INDEX_YRES, 200);
  d.write(DISPI_INDEX_BPP, 16);
  d.write(DISPI_INDEX_X_OFFSET, 5);
  d.write(DISPI_INDEX_VIRT_WIDTH, 400);
  vram.fill(0x77, 0, 320 * 200 * 2 + 16);
  d.write(DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  assert.equal(vram[0], 0);
  assert.equal(vram[320 * 200 * 2 - 1], 0);
  assert.equal(vram[320 * 200 * 2], 0x77, 'only YRES × pitch is cleared');
  assert.equal(d.read(DISPI_INDEX_X_OFFSET), 0);
  assert.equal(d.read(DISPI_INDEX_VIRT_WIDTH), 320);
  assert.equal(d.read(DISPI_INDEX_VIRT_HEIGHT), Math.floor((16 << 20) / 640));
  assert.equal(vga.regs.gr[6] & 0x0d, 0x05, 'graphics, A0000/64K map');
  assert.equal(vga.regs.sr[4] & 0x08, 0x08, 'chain-4');
  // Re-writing ENABLE while enabled does not clear again.
  vram[10] = 0x55;
  d.write(DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  assert.equal(vram[10], 0x55);
  // Virtual width below XRES is ignored; above sets the pitch.
  d.write(DISPI_INDEX_VIRT_WIDTH, 100);
  assert.equal(d.read(DISPI_INDEX_VIRT_WIDTH), 320);
  d.write(DISPI_INDEX_VIRT_WIDTH, 512);
  assert.equal(d.pitch, 1024);
  d.write(DISPI_INDEX_VIRT_HEIGHT, 3); // derived: ignored
  assert.equal(d.read(DISPI_INDEX_VIRT_HEIGHT), (16 << 20) / 1024);
  d.write(DISPI_INDEX_X_OFFSET, 4);
  d.write(DISPI_INDEX_Y_OFFSET, 3);
  assert.deepEqual(d.layout(), { width: 320, height: 200, bpp: 16, pitch: 1024, start: 3 * 1024 + 8 });
  // Disable: bank back to 0; enable with NOCLEARMEM keeps VRAM.
  d.write(DISPI_INDEX_BANK, 2);
  d.write(DISPI_INDEX_ENABLE, 0);
  assert.equal(d.read(DISPI_INDEX_BANK), 0);
  d.write(DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_NOCLEARMEM);
  assert.equal(vram[10], 0x55);
});

test('modes and virtual widths must fit in VRAM', () => {
  const { d } = core(1 << 20);
  d.write(DISPI_INDEX_XRES, 1024);
  d.write(DISPI_INDEX_YRES, 768);
  d.write(DISPI_INDEX_BPP, 32);
  d.write(DISPI_INDEX_ENABLE, DISPI_ENABLED);
  assert.equal(d.read(DISPI_INDEX_YRES), 256, '1 MiB holds 256 lines of 4096 bytes');
  d.write(DISPI_INDEX_VIRT_WIDTH, 2048); // 8192-byte pitch × 256 lines = 2 MiB: refused
  assert.equal(d.read(DISPI_INDEX_VIRT_WIDTH), 1024);
  d.write(DISPI_INDEX_VIRT_WIDTH, 1024 + 8); // 4128 × 256 is just over 1 MiB
  assert.equal(d.pitch, 4096);
  d.write(DISPI_INDEX_YRES, 200);
  d.write(DISPI_INDEX_VIRT_WIDTH, 1024 + 8);
  assert.equal(d.pitch, 4128);
});

test('4 bpp: half a byte per pixel, planar rendering with the attribute palette', () => {
  const { vga, d } = core();
  d.write(DISPI_INDEX_XRES, 640);
  d.write(DISPI_INDEX_YRES, 480);
  d.write(DISPI_INDEX_BPP, 4);
  d.write(DISPI_INDEX_ENABLE, DISPI_ENABLED);
  assert.equal(d.pitch, 320);
  assert.equal(vga.regs.sr[4] & 0x08, 0, '4 bpp is not chained');
  vga.regs.arIndex = 0x20; // PAS: the display owns the palette
  vga.regs.ar[0x12] = 0x0f;
  vga.regs.ar[0x09] = 0x09;
  vga.regs.palette.set([0x3f, 0, 0x3f], 9 * 3);
  // Pixel (8, 1): line 1 starts at VRAM byte 320, pixels 8-15 are the next 4 plane
  // bytes; bit 7 of planes 0 and 3 = colour 9.
  const a = 320 + 4;
  vga.vram[a] = 0x80;
  vga.vram[a + 3] = 0x80;
  const f = vga.render();
  const o = (1 * 640 + 8) * 4;
  assert.deepEqual([...f.rgba.subarray(o, o + 4)], [0xff, 0, 0xff, 0xff]);
  assert.deepEqual([...f.rgba.subarray(o + 4, o + 8)], [0, 0, 0, 0xff]);
});
