import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { encodePng, writePng } from './screenshot.js';
import { StdVga } from '../devices/vga/device.js';
import { MODE_13H, programMode } from '../devices/vga/standard-modes.js';
import { IoBus } from '../devices/bus/io-bus.js';

test('PNG round trip: decoding gives back the exact RGBA', () => {
  const width = 7;
  const height = 5;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37 + 11) & 0xff;
  const png = PNG.sync.read(encodePng({ width, height, rgba }));
  assert.equal(png.width, width);
  assert.equal(png.height, height);
  assert.deepEqual(new Uint8Array(png.data), rgba);
  assert.throws(() => encodePng({ width: 3, height: 3, rgba: new Uint8Array(5) }), RangeError);
});

test('writePng of a rendered mode 13h frame', () => {
  const io = new IoBus();
  const vga = new StdVga({ vram: new Uint8Array(1 << 20), vramBackingOffset: 0 });
  vga.registerLegacy(io);
  programMode((p, v) => io.pioWrite(p, 1, v), (p) => io.pioRead(p, 1), MODE_13H);
  io.pioWrite(0x3c8, 1, 4);
  for (const v of [0x3f, 0x3f, 0]) io.pioWrite(0x3c9, 1, v);
  io.mmioWrite(0xa0000 + 199 * 320 + 319, 1, 4);
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-png-'));
  try {
    const path = join(dir, 'screen.png');
    writePng(path, vga.render());
    const png = PNG.sync.read(readFileSync(path));
    assert.equal(png.width, 320);
    assert.equal(png.height, 200);
    const o = (199 * 320 + 319) * 4;
    assert.deepEqual([...png.data.subarray(o, o + 4)], [0xff, 0xff, 0, 0xff]);
    assert.deepEqual([...png.data.subarray(0, 4)], [0, 0, 0, 0xff]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
