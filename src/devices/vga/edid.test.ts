import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stdVgaEdid } from './edid.js';
import { StdVgaMmio } from './mmio-bar.js';
import { VgaCore } from './vga-core.js';

test('EDID base block: header, version 1.4, checksum, preferred 1024x768@60 detailed timing', () => {
  const e = stdVgaEdid();
  assert.equal(e.length, 128);
  assert.deepEqual([...e.subarray(0, 8)], [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]);
  assert.equal(e.reduce((a, b) => a + b, 0) % 256, 0, 'bytes sum to 0 mod 256');
  assert.deepEqual([e[18], e[19]], [1, 4]);
  // Manufacturer "TSX" packed 5 bits per letter.
  const id = (e[8] << 8) | e[9];
  assert.equal(String.fromCharCode(0x40 + ((id >> 10) & 31), 0x40 + ((id >> 5) & 31), 0x40 + (id & 31)), 'TSX');
  // Detailed timing 1 at 54: pixel clock in 10 kHz units, active/blank split into nibbles.
  const d = e.subarray(54, 72);
  assert.equal(d[0] | (d[1] << 8), 6500);
  assert.equal(d[2] | ((d[4] >> 4) << 8), 1024);
  assert.equal(d[3] | ((d[4] & 0xf) << 8), 320);
  assert.equal(d[5] | ((d[7] >> 4) << 8), 768);
  assert.equal(d[6] | ((d[7] & 0xf) << 8), 38);
  // Established timing bits: 640x480, 800x600, 1024x768 at 60 Hz.
  assert.deepEqual([e[35], e[36], e[37]], [0x21, 0x08, 0x00]);
  // Monitor name descriptor.
  assert.equal(e[93], 0xfc);
  assert.equal(String.fromCharCode(...e.subarray(95, 108)).trim(), 'tsxen std-vga');
  assert.equal(e[126], 0, 'no extension blocks');
});

test('BAR2 offset 0 reads the EDID, zeros after it', () => {
  const core = new VgaCore(new Uint8Array(1 << 20));
  const mmio = new StdVgaMmio(core.ports, core.dispi);
  const e = stdVgaEdid();
  for (let i = 0; i < 128; i++) assert.equal(mmio.mmioRead(i, 1), e[i]);
  assert.equal(mmio.mmioRead(0, 4), 0xffffff00);
  assert.equal(mmio.mmioRead(128, 4), 0);
  assert.equal(mmio.mmioRead(0x3fc, 4), 0);
});
