import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { StdVga } from './device.js';
import { DISPI_INDEX_BANK, DISPI_INDEX_BPP, DISPI_INDEX_ENABLE, DISPI_ENABLED } from './dispi.js';

function rig() {
  const io = new IoBus();
  const vram = new Uint8Array(1 << 20);
  const vga = new StdVga({ vram, vramBackingOffset: 0 });
  vga.registerLegacy(io);
  const sr = (i: number, v: number) => io.pioWrite(0x3c4, 2, i | (v << 8));
  const gr = (i: number, v: number) => io.pioWrite(0x3ce, 2, i | (v << 8));
  const wb = (a: number, v: number) => io.mmioWrite(a, 1, v);
  const rb = (a: number) => io.mmioRead(a, 1);
  /** Plane bytes of planar address a, plane 0 first. */
  const planes = (a: number) => [...vram.subarray(a * 4, a * 4 + 4)];
  // Planar graphics: no chain-4, odd/even off, all planes, A0000 64K map.
  sr(2, 0x0f);
  sr(4, 0x06);
  gr(5, 0x00);
  gr(6, 0x05);
  gr(8, 0xff);
  return { io, vga, vram, sr, gr, wb, rb, planes };
}

test('write mode 0: rotate, set/reset on enabled planes, ALU with latches, bit mask, plane mask', () => {
  const { vram, sr, gr, wb, rb, planes } = rig();
  vram.set([0xf0, 0x0f, 0xaa, 0x55], 0x10 * 4);
  assert.equal(rb(0xa0010), 0xf0, 'read mode 0 plane 0 (and latches loaded)');
  // Rotate right 4, set/reset enabled for plane 1 with value 1 (plane 1 → 0xFF).
  gr(3, 0x04);
  gr(0, 0x02);
  gr(1, 0x02);
  gr(8, 0xff);
  wb(0xa0020, 0x12); // rotated = 0x21
  assert.deepEqual(planes(0x20), [0x21, 0xff, 0x21, 0x21]);
  // AND with latches (f0 0f aa 55) and bit mask 0x3C: outside the mask the latches survive.
  gr(1, 0x00);
  gr(3, 0x08); // AND, no rotate
  gr(8, 0x3c);
  wb(0xa0021, 0xcc);
  // plane0: (cc & f0)=c0 → (c0&3c)|(f0&~3c) = 00|c0 = c0
  // plane1: (cc & 0f)=0c → (0c&3c)|(0f&c3) = 0c|03 = 0f
  // plane2: (cc & aa)=88 → (88&3c)|(aa&c3) = 08|82 = 8a
  // plane3: (cc & 55)=44 → (44&3c)|(55&c3) = 04|41 = 45
  assert.deepEqual(planes(0x21), [0xc0, 0x0f, 0x8a, 0x45]);
  // XOR with only planes 0 and 2 enabled by the sequencer.
  sr(2, 0x05);
  gr(3, 0x18);
  gr(8, 0xff);
  wb(0xa0022, 0xff);
  assert.deepEqual(planes(0x22), [0x0f, 0, 0x55, 0]);
  // OR.
  sr(2, 0x0f);
  gr(3, 0x10);
  wb(0xa0023, 0x01);
  assert.deepEqual(planes(0x23), [0xf1, 0x0f, 0xab, 0x55]);
});

test('write mode 1 copies the latches; mode 2 expands colour bits; mode 3 masks with rotated data', () => {
  const { vram, gr, wb, rb, planes } = rig();
  vram.set([0x11, 0x22, 0x33, 0x44], 0x40 * 4);
  rb(0xa0040);
  gr(5, 0x01);
  gr(8, 0x00); // mode 1 ignores the bit mask
  wb(0xa0050, 0x99);
  assert.deepEqual(planes(0x50), [0x11, 0x22, 0x33, 0x44]);
  // Mode 2: colour 0b0101 → planes 0 and 2 all ones, bit mask 0xF0 keeps latch low nibbles.
  gr(5, 0x02);
  gr(8, 0xf0);
  wb(0xa0051, 0x05);
  assert.deepEqual(planes(0x51), [0xf1, 0x02, 0xf3, 0x04]);
  // Mode 3: bit mask = GR8 & rotated data; colour from set/reset (0b1010).
  gr(5, 0x03);
  gr(0, 0x0a);
  gr(8, 0x3c);
  gr(3, 0x01); // rotate right 1
  wb(0xa0052, 0x0f); // rotated 0x87, mask 0x3c & 0x87 = 0x04
  // plane p: (setreset? ff:00) & 04 | latch & fb
  assert.deepEqual(planes(0x52), [0x11 & 0xfb, 0x22 | 0x04, 0x33 & 0xfb, 0x44 | 0x04]);
});

test('read mode 1 compares colours with GR2 over the planes GR7 selects', () => {
  const { vram, gr, rb } = rig();
  // Pixel colours across 8 pixels: plane bits per column.
  vram.set([0b1100_1100, 0b1010_1010, 0b1111_0000, 0b0000_0000], 0x60 * 4);
  gr(5, 0x08);
  gr(2, 0x07); // colour 7: planes 0,1,2 set, plane 3 clear
  gr(7, 0x0f);
  // Pixel 0: p0=1 p1=1 p2=1 p3=0 → 7 ✓; pixel 1: 1,0,1,0 = 5 ✗; pixel 4: 1,1,0,0 = 3 ✗.
  assert.equal(rb(0xa0060), 0b1000_0000);
  gr(7, 0x01); // only plane 0 matters: colour bit 0 = 1 → pixels with p0 = 1
  assert.equal(rb(0xa0060), 0b1100_1100);
  gr(7, 0x00); // nothing matters: all match
  assert.equal(rb(0xa0060), 0xff);
});

test('chain-4 addresses bytes directly; odd/even steers planes; GR6 maps decide the window', () => {
  const { vram, sr, gr, wb, rb } = rig();
  sr(4, 0x0e); // chain-4
  wb(0xa0005, 0x77);
  assert.equal(vram[5], 0x77);
  sr(2, 0x0e); // plane 0 disabled: byte 4 (plane 0) is not written
  wb(0xa0004, 0x66);
  assert.equal(vram[4], 0);
  assert.equal(rb(0xa0005), 0x77);
  // Text-mode odd/even at B8000: cell i char → plane 0 of address i, attr → plane 1.
  sr(2, 0x03);
  sr(4, 0x02);
  gr(5, 0x10);
  gr(6, 0x0e);
  wb(0xb8000 + 2 * 3, 0x41);
  wb(0xb8000 + 2 * 3 + 1, 0x1f);
  assert.equal(vram[3 * 4], 0x41);
  assert.equal(vram[3 * 4 + 1], 0x1f);
  assert.equal(rb(0xb8007), 0x1f);
  assert.equal(rb(0xa0000), 0xff, 'A0000 is outside the B8000 map');
  wb(0xa0000, 0x12);
  assert.equal(vram[0], 0, 'writes outside the map are dropped');
  gr(6, 0x0a); // B0000/32K
  assert.equal(rb(0xb0006), 0x41);
  assert.equal(rb(0xb8006), 0xff);
  gr(6, 0x02); // A0000/128K: offsets count from A0000, so B0006 is another part of VRAM
  assert.equal(rb(0xa0006), 0x41);
  wb(0xb0006, 0x42);
  assert.equal(vram[(0x10006 >> 1) * 4], 0x42);
});

test('DISPI bank selects which 64 KiB of VRAM the A0000 window shows', () => {
  const { io, vga, vram, wb, rb } = rig();
  const dispi = vga.core.dispi;
  dispi.write(DISPI_INDEX_BPP, 8);
  dispi.write(DISPI_INDEX_ENABLE, DISPI_ENABLED);
  dispi.write(DISPI_INDEX_BANK, 3);
  wb(0xa0010, 0x5a);
  assert.equal(vram[3 * 0x10000 + 0x10], 0x5a);
  dispi.write(DISPI_INDEX_BANK, 0);
  assert.equal(rb(0xa0010), 0);
  dispi.write(DISPI_INDEX_BANK, 0x1003); // beyond 1 MiB of VRAM: masked to a bank that exists
  assert.equal(dispi.bank, 3);
  assert.equal(rb(0xa0010), 0x5a);
  assert.equal(io.mmioRead(0xb0000, 1), 0xff, '64K map: B0000 not decoded');
});
