import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { StdVga } from './device.js';
import { MODE_03H, MODE_13H, programMode } from './standard-modes.js';
import type { VgaState } from './state.js';

function card(vram: Uint8Array) {
  const io = new IoBus();
  const vga = new StdVga({ vram, vramBackingOffset: 0 });
  vga.registerLegacy(io);
  return { io, vga };
}

test('save → JSON → restore reproduces the picture, the text and the register file', () => {
  const vram = new Uint8Array(1 << 20);
  const a = card(vram);
  programMode((p, v) => a.io.pioWrite(p, 1, v), (p) => a.io.pioRead(p, 1), MODE_03H);
  for (const [i, ch] of [...'saved'].entries()) a.io.mmioWrite(0xb8000 + 2 * (80 + i), 2, 0x1e00 | ch.charCodeAt(0));
  a.io.pioWrite(0x3c8, 1, 0x3f);
  for (const v of [1, 2, 3]) a.io.pioWrite(0x3c9, 1, v);
  a.io.pioWrite(0x3c9, 1, 9); // half-written next entry stays pending
  a.io.pioWrite(0x3d4, 2, 0x500d);
  const saved = JSON.parse(JSON.stringify(a.vga.save())) as VgaState;

  const b = card(vram);
  b.vga.restore(saved);
  assert.deepEqual(b.vga.textScreen(), a.vga.textScreen());
  assert.equal(b.vga.textScreen()?.lines[0], 'saved');
  assert.deepEqual(b.vga.render(), a.vga.render());
  assert.deepEqual(b.vga.save(), a.vga.save());
  // The pending DAC component continues where it left off.
  b.io.pioWrite(0x3c9, 1, 8);
  b.io.pioWrite(0x3c9, 1, 7);
  assert.deepEqual([...b.vga.core.regs.palette.subarray(0x40 * 3, 0x40 * 3 + 3)], [9, 8, 7]);

  // A VBE mode round-trips without clearing VRAM.
  programMode((p, v) => a.io.pioWrite(p, 1, v), (p) => a.io.pioRead(p, 1), MODE_13H);
  const dispi = (i: number, v: number) => (a.io.pioWrite(0x1ce, 2, i), a.io.pioWrite(0x1cf, 2, v));
  dispi(1, 640);
  dispi(2, 400);
  dispi(3, 16);
  dispi(4, 0x41);
  dispi(6, 800);
  dispi(9, 3);
  vram.set([0xff, 0xff], 2 * (800 * 3 + 1));
  const vbe = JSON.parse(JSON.stringify(a.vga.save())) as VgaState;
  const c = card(vram);
  c.vga.restore(vbe);
  assert.deepEqual(c.vga.core.dispi.layout(), a.vga.core.dispi.layout());
  assert.deepEqual(c.vga.render(), a.vga.render());
  assert.equal(vram[2 * (800 * 3 + 1)], 0xff);
});

test('a damaged record restores to legal values and never throws', () => {
  const { vga, io } = card(new Uint8Array(1 << 20));
  const bad = {
    version: 1,
    misc: 'x',
    sr: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    gr: null,
    ar: Array(40).fill(0xff),
    cr: [1e9, -5, NaN],
    palette: Array(5000).fill(0x1ff),
    dacComponent: 99,
    dispi: { xres: 12345, yres: 0, bpp: 7, enable: 0xffff, bank: 0xffff, virtWidth: 65535, id: 0x1234 },
  } as unknown as VgaState;
  vga.restore(bad);
  const r = vga.core.regs;
  assert.equal(r.misc, 0);
  assert.deepEqual([...r.sr], [0x03, 0x3d, 0x0f, 0x3f, 0x0e]);
  assert.equal(r.ar[0x10], 0xef);
  assert.equal(r.palette[0], 0xff);
  assert.ok(r.dacComponent <= 2);
  const d = vga.core.dispi;
  assert.equal(d.xres, 640, 'illegal XRES not accepted');
  assert.equal(d.bpp, 8);
  assert.equal(d.id, 0xb0c0);
  assert.ok(d.bank < 16);
  assert.equal(d.virtWidth, 640, 'a pitch that would not fit is refused');
  io.pioWrite(0x3c9, 1, 1);
  const f = vga.render();
  assert.equal(f.rgba.length, f.width * f.height * 4);
});
