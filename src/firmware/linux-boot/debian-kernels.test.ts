// The loader against Debian 12's real i386 kernels from the guest cache
// (guests/build.sh). Expected header values: reference/x86-cpu-and-linux-boot.md
// §8.1, measured in 6.1.0-50; sizes move with the kernel version, layout does not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { parseBzImage, LOADED_HIGH } from './bzimage.js';
import { loadLinux, CMDLINE_ADDR, ZERO_PAGE_ADDR } from './load-linux.js';
import { LinuxBootError } from './linux-boot-error.js';

const guestDir = join(process.env.TSXEN_CACHE ?? join(homedir(), '.cache', 'tsxen'), 'guests', 'current');
const missing = existsSync(join(guestDir, 'vmlinuz-686')) ? undefined : `guest cache missing at ${guestDir}: run guests/build.sh`;
if (missing) console.warn(`SKIPPING Debian kernel tests: ${missing}`);

const read = (file: string): Uint8Array => new Uint8Array(readFileSync(join(guestDir, file)));
const CMDLINE = 'console=ttyS0 nokaslr cryptomgr.notests guest.test=cpu,fs guest.poweroff';

for (const flavour of ['686', '686-pae']) {
  test(`vmlinuz-${flavour}: setup header as measured`, (t) => {
    if (missing) return t.skip(missing);
    const bytes = read(`vmlinuz-${flavour}`);
    const img = parseBzImage(bytes, `vmlinuz-${flavour}`);
    assert.equal(img.version, 0x020f);
    assert.equal(img.headerEnd, 0x26c);
    assert.equal(img.loadflags & LOADED_HIGH, LOADED_HIGH);
    assert.equal(img.code32Start, 0x100000);
    assert.equal(img.initrdAddrMax, 0x7fffffff);
    assert.equal(img.kernelAlignment, 0x1000000);
    assert.equal(img.relocatable, true);
    assert.equal(img.minAlignment, 13);
    assert.equal(img.xloadflags, 0x0004);
    assert.equal(img.cmdlineSize, 0x7ff);
    assert.equal(img.prefAddress, 0x1000000);
    assert.equal(img.payloadOffset, 0x94);
    assert.ok(img.setupSects > 0 && img.protectedModeOffset === (img.setupSects + 1) * 512);
    assert.ok(img.syssize * 16 <= img.protectedMode.length && img.protectedMode.length - img.syssize * 16 < 0x1000);
    // The payload is XZ (CONFIG_KERNEL_XZ): FD '7zXZ' 00.
    assert.deepEqual([...img.protectedMode.subarray(img.payloadOffset, img.payloadOffset + 6)], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
    assert.ok(img.payloadOffset + img.payloadLength <= img.protectedMode.length);
    // init_size: 0x100C000 (686) / 0x1135000 (686-pae) in 6.1.0-50; a 16-20 MiB kernel in any 6.1.
    assert.ok(img.initSize >= 0x1000000 && img.initSize < 0x1400000, `init_size ${img.initSize.toString(16)}`);
    const release = readFileSync(join(guestDir, `release-${flavour}`), 'utf8').trim();
    assert.ok(img.kernelVersion?.startsWith(`${release} (`), `kernel_version string ${img.kernelVersion}`);
  });

  test(`vmlinuz-${flavour} + initramfs load into 256 MiB`, (t) => {
    if (missing) return t.skip(missing);
    const kernel = read(`vmlinuz-${flavour}`);
    const ramdisk = read('initramfs.cpio.gz');
    const m = new GuestMemory({ ramBytes: 256 << 20 });
    const { regs, sregs, layout } = loadLinux(m, { kernel, ramdisk, cmdline: CMDLINE }, `vmlinuz-${flavour}`);
    const img = layout.image;
    assert.equal(regs.eip, 0x100000);
    assert.equal(regs.esi, ZERO_PAGE_ADDR);
    assert.equal(sregs.cs.selector, 0x10);
    assert.deepEqual(layout.kernelRun, { start: 0x1000000, end: 0x1000000 + img.initSize });
    // Top of RAM, page-aligned: QEMU's choice too ("RAMDISK: [mem 0x0fefb000-0x0fffffff]" for its initrd).
    const initrdStart = (256 << 20) - Math.ceil(ramdisk.length / 4096) * 4096;
    assert.deepEqual(layout.initrd, { start: initrdStart, size: ramdisk.length });
    assert.deepEqual([...m.read(initrdStart, 3)], [0x1f, 0x8b, 0x08], 'gzip magic of the initramfs');
    assert.deepEqual([...m.read(0x100000, 16)], [...kernel.subarray(img.protectedModeOffset, img.protectedModeOffset + 16)]);
    assert.deepEqual([...m.read(0x100000 + img.protectedMode.length - 16, 16)], [...kernel.subarray(kernel.length - 16)]);
    const zp = new DataView(m.read(ZERO_PAGE_ADDR, 4096).buffer);
    assert.equal(zp.getUint32(0x202, true), 0x53726448, 'HdrS copied');
    assert.equal(zp.getUint8(0x1ef), 0, 'sentinel');
    assert.equal(zp.getUint8(0x210), 0xff, 'type_of_loader');
    assert.equal(zp.getUint16(0x1fa, true), 0xffff, 'vid_mode');
    assert.equal(zp.getUint32(0x228, true), CMDLINE_ADDR);
    assert.equal(zp.getUint32(0x218, true), initrdStart);
    assert.equal(zp.getUint32(0x21c, true), ramdisk.length);
    assert.equal(zp.getUint32(0x260, true), img.initSize, 'init_size copied');
    assert.equal(zp.getUint8(0x1e8), 4, 'e820 entries');
    assert.equal(zp.getUint32(0x2d0 + 3 * 20, true), 0x100000);
    assert.equal(zp.getUint32(0x2d0 + 3 * 20 + 8, true), (256 << 20) - 0x100000);
    assert.equal(new TextDecoder().decode(m.read(CMDLINE_ADDR, CMDLINE.length + 1)), `${CMDLINE}\0`);
  });

  test(`vmlinuz-${flavour} refuses memory smaller than its run address + init_size`, (t) => {
    if (missing) return t.skip(missing);
    const kernel = read(`vmlinuz-${flavour}`);
    const initSize = parseBzImage(kernel, 'k').initSize;
    const end = (0x1000000 + initSize).toString(16).padStart(8, '0');
    assert.throws(
      () => loadLinux(new GuestMemory({ ramBytes: 32 << 20 }), { kernel, cmdline: CMDLINE }, `vmlinuz-${flavour}`),
      (e: unknown) => e instanceof LinuxBootError && e.message.includes(`the kernel needs RAM up to 0x${end}`) && e.message.includes('32 MiB'),
    );
    // A truncated download is caught before anything is loaded.
    assert.throws(() => parseBzImage(kernel.subarray(0, kernel.length >> 1), 'half.img'), /half\.img: truncated: syssize says/);
  });
}
