import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { StdVga } from './device.js';
import { DISPI_8BIT_DAC, DISPI_INDEX_ENABLE } from './dispi.js';

function rig() {
  const io = new IoBus();
  const vga = new StdVga({ vram: new Uint8Array(1 << 20), vramBackingOffset: 0 });
  vga.registerLegacy(io);
  const out = (p: number, v: number) => io.pioWrite(p, 1, v);
  const inb = (p: number) => io.pioRead(p, 1);
  return { io, vga, regs: vga.core.regs, out, inb };
}

test('attribute controller: index/data flip-flop, 0x3C0 reads the index, input status 1 resets it', () => {
  const { out, inb, regs } = rig();
  out(0x3c2, 0x01); // colour ports
  inb(0x3da);
  out(0x3c0, 0x03); // index 3, PAS clear
  out(0x3c0, 0x2a); // data
  assert.equal(regs.ar[3], 0x2a);
  assert.equal(inb(0x3c0), 0x03, '0x3C0 reads the index');
  assert.equal(inb(0x3c1), 0x2a, '0x3C1 reads the data');
  out(0x3c0, 0x24); // index again (flip-flop back at index): 4 with PAS
  assert.equal(inb(0x3c0), 0x24);
  // Leave the flip-flop in the data state, then reset it through 0x3DA.
  inb(0x3da);
  out(0x3c0, 0x10);
  assert.equal(regs.arFlipFlop, true);
  inb(0x3da);
  assert.equal(regs.arFlipFlop, false);
  out(0x3c0, 0x31); // an index write, not data for AR10
  assert.equal(regs.ar[0x10], 0);
  assert.equal(inb(0x3c0), 0x31);
  // Palette registers keep 6 bits; AR10 drops its reserved bit 4.
  out(0x3c0, 0xff);
  assert.equal(regs.ar[0x11], 0xff, 'AR11 overscan is 8 bits');
  out(0x3c0, 0x10);
  out(0x3c0, 0xff);
  assert.equal(regs.ar[0x10], 0xef);
  out(0x3c0, 0x05);
  out(0x3c0, 0xff);
  assert.equal(regs.ar[5], 0x3f);
});

test('input status 1 toggles retrace and blank bits on each read; mono/colour relocation', () => {
  const { out, inb } = rig();
  out(0x3c2, 0x01);
  const a = inb(0x3da);
  const b = inb(0x3da);
  assert.equal(a ^ b, 0x09, 'bits 0 and 3 flip per read');
  assert.equal(inb(0x3ba), 0xff, 'mono status port is open bus in colour mode');
  out(0x3d4, 0x0e);
  out(0x3d5, 0x12);
  assert.equal(inb(0x3d5), 0x12);
  assert.equal(inb(0x3cc), 0x01, 'misc output reads back at 0x3CC');
  // Switch to mono: the CRTC moves to 0x3B4/0x3B5.
  out(0x3c2, 0x00);
  assert.equal(inb(0x3d5), 0xff);
  assert.equal(inb(0x3d4), 0xff);
  out(0x3d4, 0x0f); // ignored now
  out(0x3b4, 0x0e);
  assert.equal(inb(0x3b5), 0x12, 'same CRTC registers through the mono ports');
  assert.notEqual(inb(0x3ba), 0xff);
});

test('CRTC: CR11 bit 7 locks CR0-CR7 except CR7 bit 4; other registers stay writable', () => {
  const { out, inb, regs } = rig();
  out(0x3c2, 0x01);
  const crw = (i: number, v: number) => (out(0x3d4, i), out(0x3d5, v));
  const crr = (i: number) => (out(0x3d4, i), inb(0x3d5));
  crw(0x00, 0x5f);
  crw(0x07, 0x00);
  crw(0x11, 0x80);
  crw(0x00, 0x11);
  assert.equal(crr(0x00), 0x5f, 'CR0 locked');
  crw(0x07, 0xff);
  assert.equal(crr(0x07), 0x10, 'only CR7 bit 4 changes while locked');
  crw(0x0c, 0x12);
  assert.equal(crr(0x0c), 0x12, 'CR0C is not covered by the lock');
  crw(0x11, 0x00);
  crw(0x00, 0x11);
  assert.equal(crr(0x00), 0x11, 'unlocked');
  crw(0x40, 0x55); // beyond the CRTC: ignored, reads 0
  assert.equal(crr(0x40), 0);
  assert.equal(regs.cr.length, 0x19);
});

test('word OUT to an index port writes index then data; sequencer and GR reserved bits read 0', () => {
  const { io, inb, regs } = rig();
  io.pioWrite(0x3c4, 2, 0x0f02); // SR2 = 0x0F
  assert.equal(regs.sr[2], 0x0f);
  io.pioWrite(0x3c4, 2, 0xff04);
  assert.equal(regs.sr[4], 0x0e);
  io.pioWrite(0x3ce, 2, 0xff05);
  assert.equal(regs.gr[5], 0x7b);
  assert.equal(io.pioRead(0x3ce, 2), 0x7b05, 'word read: index then data');
  io.pioWrite(0x3c2, 1, 1);
  io.pioWrite(0x3d4, 2, 0x340c);
  assert.equal(regs.cr[0x0c], 0x34);
  assert.equal(inb(0x3c5), 0x0e);
});

test('DAC: write index auto-increments after blue, read index independently, 0x3C7 state, 8-bit mode via DISPI', () => {
  const { out, inb, regs, vga } = rig();
  out(0x3c8, 5);
  for (const v of [1, 2, 3, 4, 5, 0xff]) out(0x3c9, v);
  assert.deepEqual([...regs.palette.subarray(15, 21)], [1, 2, 3, 4, 5, 0x3f], '6-bit entries 5 and 6');
  assert.equal(inb(0x3c8), 7, 'write index moved on');
  assert.equal(inb(0x3c7), 0, 'state: write mode');
  out(0x3c7, 6);
  assert.equal(inb(0x3c7), 3, 'state: read mode');
  assert.deepEqual([inb(0x3c9), inb(0x3c9), inb(0x3c9), inb(0x3c9)], [4, 5, 0x3f, 0]);
  // A partial triple does not land until blue.
  out(0x3c8, 9);
  out(0x3c9, 10);
  out(0x3c9, 11);
  assert.deepEqual([...regs.palette.subarray(27, 30)], [0, 0, 0]);
  out(0x3c9, 12);
  assert.deepEqual([...regs.palette.subarray(27, 30)], [10, 11, 12]);
  // Index 255 wraps to 0.
  out(0x3c8, 255);
  for (let i = 0; i < 6; i++) out(0x3c9, 7);
  assert.equal(regs.palette[0], 7);
  // Colours: 6-bit 0x3F → 0xFF, and with DISPI's 8-bit DAC values stay 8-bit.
  assert.equal(regs.dacColour(9), (0x28 << 16) | (0x2c << 8) | 0x30);
  vga.core.dispi.write(DISPI_INDEX_ENABLE, DISPI_8BIT_DAC);
  out(0x3c8, 1);
  for (const v of [0x80, 0x81, 0xfe]) out(0x3c9, v);
  assert.equal(regs.dacColour(1), 0x8081fe);
  out(0x3c6, 0x0f);
  assert.equal(inb(0x3c6), 0x0f, 'pixel mask');
});
