import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBzImage, protocolName, HDR_VERSION, HDR_HEADER, HDR_KERNEL_VERSION } from './bzimage.js';
import { LinuxBootError } from './linux-boot-error.js';
import { makeSyntheticBzImage } from './synthetic-bzimage.js';
import { xorshift32 } from '../../../test/support/fuzz.js';

const code = Uint8Array.from([0xf4, 0xeb, 0xfd]); // hlt; jmp $-1

test('a synthetic bzImage parses into its header fields', () => {
  const bytes = makeSyntheticBzImage({ code, initSize: 0x345000, cmdlineSize: 0x100, prefAddress: 0x1000000, kernelAlignment: 0x1000000 });
  const img = parseBzImage(bytes, 'tiny.img');
  assert.equal(img.version, 0x020f);
  assert.equal(img.setupSects, 4);
  assert.equal(img.protectedModeOffset, 5 * 512);
  assert.equal(img.syssize, 1);
  assert.deepEqual([...img.protectedMode.subarray(0, 3)], [...code]);
  assert.equal(img.protectedMode.length, 16);
  assert.equal(img.headerEnd, 0x26c);
  assert.equal(img.code32Start, 0x100000);
  assert.equal(img.initSize, 0x345000);
  assert.equal(img.cmdlineSize, 0x100);
  assert.equal(img.prefAddress, 0x1000000);
  assert.equal(img.kernelAlignment, 0x1000000);
  assert.equal(img.relocatable, true);
  assert.equal(img.initrdAddrMax, 0x7fffffff);
  assert.equal(img.kernelVersion, undefined);
});

test('setup_sects 0 means 4 (boot.rst)', () => {
  const img = parseBzImage(makeSyntheticBzImage({ code, setupSects: 0 }), 'zero.img');
  assert.equal(img.setupSects, 0);
  assert.equal(img.protectedModeOffset, 0xa00);
  assert.equal(img.protectedMode[0], 0xf4);
});

test('the kernel_version pointer yields the version string', () => {
  const bytes = makeSyntheticBzImage({ code });
  const text = '6.1.0-test (tsxen) #1';
  for (let i = 0; i < text.length; i++) bytes[0x400 + i] = text.charCodeAt(i);
  new DataView(bytes.buffer).setUint16(HDR_KERNEL_VERSION, 0x400 - 0x200, true);
  assert.equal(parseBzImage(bytes, 'v.img').kernelVersion, text);
});

test('protocol versions print as boot.rst writes them', () => {
  assert.equal(protocolName(0x020f), '2.15');
  assert.equal(protocolName(0x0206), '2.06');
});

function rejects(bytes: Uint8Array, message: RegExp): void {
  assert.throws(
    () => parseBzImage(bytes, 'x.img'),
    (e: unknown) => e instanceof LinuxBootError && message.test(e.message) && e.message.startsWith('x.img: '),
  );
}

test('random bytes are not a bzImage', () => {
  const next = xorshift32(0x2545f491);
  const random = new Uint8Array(64 * 1024).map(() => next() & 0xff);
  rejects(random, /not a Linux bzImage \(boot_flag at 0x1FE is 0x[0-9a-f]{4}, expected 0xaa55\)/);
});

test('an ELF file is named as such', () => {
  const elf = new Uint8Array(4096);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  rejects(elf, /not a Linux bzImage \(an ELF file/);
});

test('boot_flag without HdrS is an old or foreign boot sector', () => {
  const bytes = makeSyntheticBzImage({ code });
  bytes.fill(0, HDR_HEADER, HDR_HEADER + 4);
  rejects(bytes, /^x\.img: not a Linux bzImage \(no HdrS signature at 0x202\)$/);
});

test('truncated images are refused with the sizes', () => {
  const bytes = makeSyntheticBzImage({ code: new Uint8Array(4096) });
  rejects(bytes.subarray(0, bytes.length - 1), /truncated: syssize says 4096 bytes of protected-mode code but the file has 4095/);
  rejects(bytes.subarray(0, 0x300), /truncated: 768 bytes, but the setup code alone is 2560 bytes/);
  rejects(bytes.subarray(0, 0x100), /too short for a setup header/);
});

test('protocols before 2.06 and zImages are refused', () => {
  const old = makeSyntheticBzImage({ code });
  new DataView(old.buffer).setUint16(HDR_VERSION, 0x0204, true);
  rejects(old, /boot protocol 2\.04 is too old \(need 2\.06 or newer\)/);
  rejects(makeSyntheticBzImage({ code, loadflags: 0 }), /zImage/);
});
