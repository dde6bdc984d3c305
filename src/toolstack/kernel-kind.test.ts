// bzImageArch and refuseLongModeKernel on synthetic setup headers (boot.rst: "HdrS"
// at 0x202, version at 0x206, xloadflags at 0x236 from protocol 2.12).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bzImageArch, kernelKind, LongModeKernelError, PROTOCOL_XLOADFLAGS, refuseLongModeKernel, XLF_KERNEL_64 } from './kernel-kind.js';

/** A file of `size` bytes with a setup header of `version` and `xloadflags`. */
function header(version: number, xloadflags: number, size = 0x1000): Uint8Array {
  const bytes = new Uint8Array(0x1000);
  const v = new DataView(bytes.buffer);
  v.setUint32(0x202, 0x53726448, true); // "HdrS"
  v.setUint16(0x206, version, true);
  v.setUint16(0x236, xloadflags, true);
  return bytes.slice(0, size);
}

test('XLF_KERNEL_64 in a 2.12+ header is an x86-64 kernel; clear is 32-bit', () => {
  assert.equal(PROTOCOL_XLOADFLAGS, 0x020c);
  assert.equal(bzImageArch(header(0x020c, XLF_KERNEL_64)), 'x86-64');
  // Debian's amd64 6.1 kernel: protocol 2.15, xloadflags 0x7f; its 686 kernels: 0x04.
  assert.equal(bzImageArch(header(0x020f, 0x7f)), 'x86-64');
  assert.equal(bzImageArch(header(0x020f, 0x04)), 'x86-32');
  // Every other bit set, bit 0 clear: still 32-bit.
  assert.equal(bzImageArch(header(0x020f, 0xfffe)), 'x86-32');
  assert.equal(bzImageArch(header(0x020c, 0)), 'x86-32');
  // Both widths are still Linux kernels to the boot-protocol detection.
  assert.equal(kernelKind(header(0x020f, 0x7f)), 'linux');
});

test('before protocol 2.12 xloadflags is not a field: the width is unknown, whatever the bytes say', () => {
  assert.equal(bzImageArch(header(0x020b, XLF_KERNEL_64)), 'unknown');
  assert.equal(bzImageArch(header(0x0206, 0x7f)), 'unknown');
  assert.equal(bzImageArch(header(0x0100, 0x7f)), 'unknown');
});

test('no header, short or odd input is unknown and never throws', () => {
  assert.equal(bzImageArch(new Uint8Array(0)), 'unknown');
  assert.equal(bzImageArch(new Uint8Array(0x1000)), 'unknown'); // no "HdrS"
  const noMagic = header(0x020f, 0x7f);
  noMagic[0x202] = 0;
  assert.equal(bzImageArch(noMagic), 'unknown');
  // Cut inside the header: before the magic ends, before version, inside xloadflags.
  for (const size of [0x203, 0x205, 0x206, 0x237]) assert.equal(bzImageArch(header(0x020f, 0x7f, size)), 'unknown', `size ${size}`);
  assert.equal(bzImageArch(header(0x020f, 0x7f, 0x238)), 'x86-64');
  // A view into a larger buffer reads its own bytes, not the buffer's start.
  const big = new Uint8Array(0x3000);
  big.set(header(0x020f, 0x7f), 0x800);
  assert.equal(bzImageArch(big.subarray(0x800)), 'x86-64');
  assert.equal(bzImageArch(big.subarray(0x801)), 'unknown');
  // Random files of random lengths, some with the magic planted.
  let seed = 12345;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
  for (let i = 0; i < 500; i++) {
    const bytes = new Uint8Array(rand() % 0x300);
    for (let j = 0; j < bytes.length; j++) bytes[j] = rand() & 0xff;
    if (i % 2 && bytes.length >= 0x206) bytes.set([0x48, 0x64, 0x72, 0x53], 0x202);
    assert.match(bzImageArch(bytes), /^(x86-64|x86-32|unknown)$/);
  }
});

test('refuseLongModeKernel: an x86-64 bzImage on emu is a LongModeKernelError naming the file; kvm and 32-bit kernels pass', () => {
  const k64 = { kernel: header(0x020f, 0x7f) };
  const k32 = { kernel: header(0x020f, 0x04) };
  assert.throws(
    () => refuseLongModeKernel('emu', '/guests/vmlinuz-amd64', k64),
    (e: unknown) =>
      e instanceof LongModeKernelError &&
      e.kernel === '/guests/vmlinuz-amd64' &&
      e.message ===
        'kernel /guests/vmlinuz-amd64 is an x86-64 kernel (xloadflags XLF_KERNEL_64); the software CPU (cpu_backend="emu") runs 32-bit guests only — use cpu_backend="kvm" on a host with VT-x/AMD-V, or a 686 kernel',
  );
  assert.doesNotThrow(() => refuseLongModeKernel('kvm', '/guests/vmlinuz-amd64', k64));
  assert.doesNotThrow(() => refuseLongModeKernel('emu', '/guests/vmlinuz-686', k32));
  assert.doesNotThrow(() => refuseLongModeKernel('emu', '/guests/old', { kernel: header(0x020b, 0x7f) }));
  // Firmware, Multiboot and PVH boots have no bzImage in the spec: nothing to check.
  assert.doesNotThrow(() => refuseLongModeKernel('emu', undefined, undefined));
});
