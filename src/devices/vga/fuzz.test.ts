import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import type { AccessSize } from '../../hypervisor/types.js';
import { StdVga } from './device.js';
import { xorshift32 } from '../../../test/support/fuzz.js';

test('random port, window and BAR2 accesses never throw and render() stays consistent', () => {
  const io = new IoBus();
  const vga = new StdVga({ vram: new Uint8Array(4 << 20), vramBackingOffset: 0 });
  vga.registerLegacy(io);
  const sizes: AccessSize[] = [1, 1, 1, 2, 4];
  let vbeFrames = 0;
  for (const seed of [1, 0xdeadbeef, 12345]) {
    const rnd = xorshift32(seed);
    for (let i = 0; i < 4000; i++) {
      const r = rnd();
      const size = sizes[r % sizes.length];
      // Half the values are small, so index registers land on real registers and
      // DISPI gets enabled with plausible modes now and then.
      const value = rnd() & (r & 0x80000000 ? 0xffffffff : 0x1f);
      switch ((r >>> 8) % 6) {
        case 0:
        case 1:
          io.pioWrite(0x3b0 + ((r >>> 12) % 0x30), size, value);
          break;
        case 2:
          if (r & 0x1000) {
            io.pioWrite(0x1ce, 2, (r >>> 13) % 12);
            io.pioWrite(0x1cf, 2, (r >>> 17) & 1 ? value : [0, 8, 16, 24, 32, 64, 200, 320, 0x41, 0xc1][value % 10]);
          } else {
            io.pioWrite(0x1ce + ((r >>> 12) % 3), size, value);
          }
          break;
        case 3:
          io.mmioWrite(0xa0000 + ((r >>> 12) % 0x20000), size, value);
          break;
        case 4:
          vga.mmio.mmioWrite(r & 0x1000 ? 0x400 + ((r >>> 13) % 0x120) : (r >>> 12) % 0x1000, size, value);
          break;
        default: {
          const sel = (r >>> 12) & 3;
          const v =
            sel === 0
              ? io.pioRead(0x3b0 + ((r >>> 14) % 0x30), size)
              : sel === 1
                ? io.mmioRead(0xa0000 + ((r >>> 14) % 0x20000), size)
                : sel === 2
                  ? vga.mmio.mmioRead((r >>> 14) % 0x1000, size)
                  : io.pioRead(0x1ce + ((r >>> 14) % 3), size);
          assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** (8 * size), `read of size ${size} returned ${v}`);
        }
      }
      if (i % 500 === 499) {
        const f = vga.render();
        if (vga.core.dispi.enabled) vbeFrames++;
        assert.ok(f.width > 0 && f.height > 0, `frame ${f.width}x${f.height}`);
        assert.equal(f.rgba.length, f.width * f.height * 4);
        assert.ok(f.width <= 4096 && f.height <= 2048);
        for (let p = 3; p < f.rgba.length; p += 4 * 1021) assert.equal(f.rgba[p], 0xff, 'alpha');
        const t = vga.textScreen();
        if (t) {
          assert.equal(t.lines.length, t.rows);
          for (const line of t.lines) assert.ok(line.length <= t.cols);
        }
      }
    }
  }
  assert.ok(vbeFrames > 0, 'the fuzzer reached VBE modes too');
});
