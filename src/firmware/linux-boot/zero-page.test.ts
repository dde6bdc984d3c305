import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { gpa } from '../../hypervisor/types.js';
import { parseBzImage } from './bzimage.js';
import { buildZeroPage, ZP_E820_ENTRIES, ZP_E820_TABLE, ZP_SENTINEL } from './zero-page.js';
import { e820FromMemory, e820RamBytes, E820_RAM, E820_RESERVED, type E820Entry } from './e820.js';
import { makeSyntheticBzImage } from './synthetic-bzimage.js';

test('e820 for 256 MiB: low RAM, EBDA and BIOS reserved, RAM from 1 MiB to the end', () => {
  const map = e820FromMemory(new GuestMemory({ ramBytes: 256 << 20 }));
  assert.deepEqual(map, [
    { addr: 0, size: 0x9fc00, type: E820_RAM },
    { addr: 0x9fc00, size: 0x400, type: E820_RESERVED },
    { addr: 0xf0000, size: 0x10000, type: E820_RESERVED },
    { addr: 0x100000, size: 0xff00000, type: E820_RAM },
  ]);
  assert.equal(e820RamBytes(map), 0x9fc00 + 0xff00000);
});

test('e820 follows the memory: ROM above 1 MiB is reserved, size changes move the end', () => {
  const m = new GuestMemory({ ramBytes: 64 << 20, romBytes: 0x20000 });
  m.mapRom(gpa(0xfffe0000), m.loadRom(new Uint8Array(0x20000)), 0x20000);
  const map = e820FromMemory(m);
  assert.deepEqual(map.at(-2), { addr: 0x100000, size: (64 << 20) - 0x100000, type: E820_RAM });
  assert.deepEqual(map.at(-1), { addr: 0xfffe0000, size: 0x20000, type: E820_RESERVED });
});

test('e820 for a guest smaller than 640 KiB has only its RAM', () => {
  assert.deepEqual(e820FromMemory(new GuestMemory({ ramBytes: 0x40000 })), [{ addr: 0, size: 0x40000, type: E820_RAM }]);
});

test('the zero page: header copied, loader fields set, e820 table packed', () => {
  const bytes = makeSyntheticBzImage({ code: new Uint8Array(16), loadflags: 0x81 });
  bytes[ZP_SENTINEL] = 0xff; // images ship a non-zero sentinel
  const image = parseBzImage(bytes, 'z.img');
  const e820: E820Entry[] = [
    { addr: 0, size: 0x9fc00, type: 1 },
    { addr: 0x100000, size: 0x1_0000_0000, type: 1 },
  ];
  const zp = buildZeroPage(image, { cmdLinePtr: 0x20000, ramdiskImage: 0xfefb000, ramdiskSize: 0x104321, e820 });
  const v = new DataView(zp.buffer);
  assert.equal(zp.length, 4096);
  // Copied header bytes: boot_flag, HdrS, version, jump, fields up to 0x26C.
  assert.equal(v.getUint16(0x1fe, true), 0xaa55);
  assert.equal(v.getUint32(0x202, true), 0x53726448);
  assert.equal(v.getUint16(0x206, true), 0x020f);
  assert.equal(v.getUint32(0x214, true), 0x100000);
  assert.equal(v.getUint32(0x238, true), 0x7ff);
  assert.equal(v.getUint32(0x260, true), 0x100000);
  // Nothing outside the header is copied (the image is zero there anyway except what we set).
  assert.equal(zp[0x1f0], 0);
  assert.equal(zp[0x26c], 0);
  assert.equal(zp[ZP_SENTINEL], 0);
  assert.equal(v.getUint16(0x1fa, true), 0xffff, 'vid_mode');
  assert.equal(zp[0x210], 0xff, 'type_of_loader');
  assert.equal(zp[0x211], 0x01, 'loadflags keep LOADED_HIGH, lose CAN_USE_HEAP');
  assert.equal(v.getUint32(0x228, true), 0x20000, 'cmd_line_ptr');
  assert.equal(v.getUint32(0x218, true), 0xfefb000, 'ramdisk_image');
  assert.equal(v.getUint32(0x21c, true), 0x104321, 'ramdisk_size');
  assert.equal(zp[ZP_E820_ENTRIES], 2);
  assert.equal(v.getUint32(ZP_E820_TABLE + 8, true), 0x9fc00);
  assert.equal(v.getUint32(ZP_E820_TABLE + 16, true), 1);
  assert.equal(v.getUint32(ZP_E820_TABLE + 20, true), 0x100000);
  assert.equal(v.getUint32(ZP_E820_TABLE + 28, true), 0, 'size low half');
  assert.equal(v.getUint32(ZP_E820_TABLE + 32, true), 1, 'size high half (4 GiB)');
  assert.equal(v.getUint32(ZP_E820_TABLE + 36, true), 1);
  assert.equal(zp[ZP_E820_TABLE + 40], 0, 'no third entry');
  // screen_info stays zero: no VGA console.
  assert.ok(zp.subarray(0, 0x40).every((b) => b === 0));
});

test('more than 128 e820 entries do not fit the zero page', () => {
  const image = parseBzImage(makeSyntheticBzImage({ code: new Uint8Array(16) }), 'z.img');
  const e820 = Array.from({ length: 129 }, (_, i) => ({ addr: i * 0x2000, size: 0x1000, type: 1 }));
  assert.throws(() => buildZeroPage(image, { cmdLinePtr: 0, ramdiskImage: 0, ramdiskSize: 0, e820 }), /129 entries; the zero page holds 128/);
});
