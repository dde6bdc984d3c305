import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory, GuestMemoryError, VGA_HOLE_START } from './guest-memory.js';
import { gpa } from '../types.js';

test('RAM reads back little-endian values; the VGA hole is not RAM', () => {
  const m = new GuestMemory({ ramBytes: 4 << 20 });
  m.writeU32(0x1000, 0xdeadbeef);
  assert.equal(m.readU32(0x1000), 0xdeadbeef);
  assert.equal(m.readU16(0x1002), 0xdead);
  assert.equal(m.readU8(0x1000), 0xef);
  assert.equal(m.isRam(0x9f000, 0x1000), true);
  assert.equal(m.isRam(VGA_HOLE_START, 1), false);
  assert.throws(() => m.readU8(VGA_HOLE_START), GuestMemoryError);
});

test('out-of-range guest addresses are errors naming the address, never silent', () => {
  const m = new GuestMemory({ ramBytes: 1 << 20 });
  assert.throws(() => m.write(gpa(0xffffe), new Uint8Array(4)), /0x00100000 is not RAM/);
  assert.throws(() => m.read(-1, 4), /outside the physical address space/);
  assert.throws(() => m.view(0x100000000, 1), GuestMemoryError);
  assert.throws(() => m.readU32(1.5), GuestMemoryError);
});

test('ROM maps read-only and refuses DMA writes', () => {
  const m = new GuestMemory({ ramBytes: 1 << 20, romBytes: 0x10000 });
  const off = m.loadRom(new Uint8Array(0x10000).fill(0xea));
  m.mapRom(gpa(0xffff0000), off, 0x10000);
  assert.equal(m.readU8(0xfffffff0), 0xea);
  assert.throws(() => m.writeU8(0xfffffff0, 1), /read-only/);
});

test('writes from outside the CPU are reported to listeners by frame', () => {
  const m = new GuestMemory({ ramBytes: 1 << 20 });
  const seen: Array<[number, number]> = [];
  m.onWrite((a, b) => seen.push([a, b]));
  m.write(0x1ffe, new Uint8Array(4));
  m.writeU8(0x5000, 1);
  assert.deepEqual(seen, [[1, 2], [5, 5]]);
});

test('a shared buffer is the same memory seen from two GuestMemory objects', () => {
  const a = new GuestMemory({ ramBytes: 1 << 20 });
  const b = new GuestMemory({ ramBytes: 1 << 20 }, a.buffer);
  a.writeU32(0x2000, 42);
  assert.equal(b.readU32(0x2000), 42);
  assert.throws(() => new GuestMemory({ ramBytes: 2 << 20 }, a.buffer), /expected/);
});

test('sizes that are not whole pages or exceed the MMIO hole are refused', () => {
  assert.throws(() => new GuestMemory({ ramBytes: 1000 }), /multiple of 4 KiB/);
  assert.throws(() => new GuestMemory({ ramBytes: 0xf1000000 }), /MMIO hole/);
});
