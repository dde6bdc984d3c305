// xl.cfg keys of firmware boot, disks, Multiboot and isa-debug-exit: every spelling of
// xl-disk-configuration(5) tsxen takes, and the exact message of each bad one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from './config-file.js';
import type { DomainConfig } from './domain-config.js';
import { buildDomainSpec } from './domain-builder.js';
import { findMultibootHeader, kernelKind, MULTIBOOT_MAGIC } from './kernel-kind.js';
import { fakeBzImage, makeGuestDir, type GuestDir } from './testing/guest-files.js';

const HOST_MIB = 8192;

/** A guest directory with disk images, a Multiboot kernel and a fake SeaBIOS install. */
function firmwareDir(): GuestDir & { seabios: string } {
  const g = makeGuestDir();
  writeFileSync(join(g.dir, 'disk.img'), new Uint8Array(1024 * 1024 + 512));
  writeFileSync(join(g.dir, 'odd.img'), new Uint8Array(1000));
  writeFileSync(join(g.dir, 'image.iso'), new Uint8Array(4096));
  writeFileSync(join(g.dir, 'short.img'), new Uint8Array(100));
  writeFileSync(join(g.dir, 'ro.img'), new Uint8Array(512));
  chmodSync(join(g.dir, 'ro.img'), 0o444);
  mkdirSync(join(g.dir, 'dir.img'));
  writeFileSync(join(g.dir, 'mb.elf'), multibootKernel(96));
  writeFileSync(join(g.dir, 'mod1.bin'), new Uint8Array([1, 2, 3]));
  writeFileSync(join(g.dir, 'bios64k.bin'), new Uint8Array(64 * 1024).fill(0xaa));
  writeFileSync(join(g.dir, 'bios100k.bin'), new Uint8Array(100 * 1024));
  const seabios = join(g.dir, 'seabios');
  mkdirSync(seabios);
  writeFileSync(join(seabios, 'bios-256k.bin'), new Uint8Array(256 * 1024).fill(0x5b));
  writeFileSync(join(seabios, 'vgabios-stdvga.bin'), new Uint8Array(0x9000).fill(0x56));
  return Object.assign(g, { seabios });
}

function multibootKernel(headerAt: number, checksumDelta = 0): Uint8Array {
  const bytes = new Uint8Array(16384);
  const v = new DataView(bytes.buffer);
  const flags = 0x00000003;
  v.setUint32(headerAt, MULTIBOOT_MAGIC, true);
  v.setUint32(headerAt + 4, flags, true);
  v.setUint32(headerAt + 8, (-(MULTIBOOT_MAGIC + flags) + checksumDelta) >>> 0, true);
  return bytes;
}

function load(g: GuestDir & { seabios: string }, text: string, seabiosDir = g.seabios): DomainConfig {
  return loadConfigFile(g.cfg('fw.cfg', `name = "fw"\n${text}\n`), { hostMemoryMiB: HOST_MIB, warn: () => {}, seabiosDir });
}

test('every disk spelling of xl-disk-configuration(5) gives the same drive', () => {
  const g = firmwareDir();
  try {
    const disk = { vdev: 'hda', devtype: 'disk', path: join(g.dir, 'disk.img'), readOnly: false, format: 'raw' };
    for (const spec of ['disk.img,,hda', 'disk.img,raw,hda,rw', 'format=raw, vdev=hda, access=rw, target=disk.img', 'raw:disk.img,hda,w', ' disk.img , raw , hda', `vdev=hda,${g.dir}/disk.img`]) {
      assert.deepEqual(load(g, `disk = [ '${spec}' ]`).disks, [disk], spec);
    }
    const cd = { vdev: 'hdc', devtype: 'cdrom', path: join(g.dir, 'image.iso'), readOnly: true, format: 'raw' };
    for (const spec of ['image.iso,,hdc,cdrom', 'image.iso,,hdc,,cdrom', 'image.iso,raw,hdc,devtype=cdrom', 'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=image.iso', 'raw:image.iso,hdc:cdrom,ro', 'image.iso,raw,hdc:cdrom']) {
      assert.deepEqual(load(g, `disk = [ '${spec}' ]`).disks, [cd], spec);
    }
    const empty = { vdev: 'hdc', devtype: 'cdrom', path: null, readOnly: true, format: 'raw' };
    for (const spec of [',,hdc:cdrom,r', ',hdc:cdrom,r', 'vdev=hdc,devtype=cdrom,target=', 'vdev=hdc,cdrom']) {
      assert.deepEqual(load(g, `disk = [ '${spec}' ]`).disks, [empty], spec);
    }
    // A read-only disk; a single string is a one-entry list; target= keeps commas.
    writeFileSync(join(g.dir, 'a,b.img'), new Uint8Array(512));
    assert.deepEqual(load(g, `disk = 'ro.img,raw,hdb,ro'`).disks, [{ ...disk, vdev: 'hdb', path: join(g.dir, 'ro.img'), readOnly: true }]);
    assert.deepEqual(load(g, `disk = [ 'vdev=hdd,target=a,b.img' ]`).disks[0].path, join(g.dir, 'a,b.img'));
    const four = load(g, `disk = [ 'disk.img,,hda', 'ro.img,,hdb,r', 'image.iso,,hdc,cdrom', ',,hdd:cdrom' ]`);
    assert.deepEqual(four.disks.map((d) => `${d.vdev}:${d.devtype}:${d.readOnly}`), ['hda:disk:false', 'hdb:disk:true', 'hdc:cdrom:true', 'hdd:cdrom:true']);
    assert.deepEqual(buildDomainSpec(four).disks, four.disks);
  } finally {
    g.remove();
  }
});

test('bad disks: one message naming file, line, key and value', () => {
  const g = firmwareDir();
  try {
    const p = join(g.dir, 'fw.cfg');
    const bad: Array<[string, string]> = [
      ['disk.img,qcow2,hda', '"disk.img,qcow2,hda": format "qcow2" is not supported (only raw)'],
      ['disk.img,raw,xvda', '"disk.img,raw,xvda": vdev "xvda" is not supported (tsxen has IDE drives hda, hdb, hdc, hdd only)'],
      ['disk.img,raw,hde', '"disk.img,raw,hde": vdev "hde" is not supported (tsxen has IDE drives hda, hdb, hdc, hdd only)'],
      ['disk.img', '"disk.img": no vdev (the drive the guest sees, hda-hdd)'],
      ['disk.img,raw,hda,rx', '"disk.img,raw,hda,rx": access must be ro, r, rw or w, got "rx"'],
      ['image.iso,raw,hdc,rw,cdrom', '"image.iso,raw,hdc,rw,cdrom": a CD-ROM drive is read-only (access=ro)'],
      ['image.iso,raw,hdc,devtype=floppy', '"image.iso,raw,hdc,devtype=floppy": devtype must be "cdrom", got "floppy"'],
      [',raw,hda', '",raw,hda": no target (the image file); only a CD-ROM drive may be empty'],
      ['nope.img,raw,hda', `"nope.img,raw,hda": cannot open ${g.dir}/nope.img: no such file`],
      ['short.img,raw,hda', `"short.img,raw,hda": ${g.dir}/short.img is 100 bytes, too short for a disk (at least 512)`],
      ['ro.img,raw,hdc,ro,cdrom', `"ro.img,raw,hdc,ro,cdrom": ${g.dir}/ro.img is 512 bytes, too short for a CD-ROM (at least 2048)`],
      ['dir.img,raw,hda', `"dir.img,raw,hda": ${g.dir}/dir.img is a directory, not an image file`],
      ['odd.img,raw,hda', `"odd.img,raw,hda": ${g.dir}/odd.img is 1000 bytes, not a whole number of 512-byte sectors`],
      ['disk.img,raw,hdc,cdrom', `"disk.img,raw,hdc,cdrom": ${g.dir}/disk.img is 1049088 bytes, not a whole number of 2048-byte sectors`],
      ['disk.img,raw,hda,rw,x,y', '"disk.img,raw,hda,rw,x,y": too many positional parameters (TARGET,FORMAT,VDEV,ACCESS), got 6'],
      ['disk.img,raw,hda,vdev=hdb', '"disk.img,raw,hda,vdev=hdb": vdev is given twice'],
      ['disk.img,raw,hda,backendtype=qdisk', '"disk.img,raw,hda,backendtype=qdisk": unknown parameter "backendtype" (tsxen knows format, vdev, access, devtype, target)'],
    ];
    if (process.getuid?.() !== 0) bad.push(['ro.img,raw,hda', `"ro.img,raw,hda": ${g.dir}/ro.img is not writable (use access=ro for a read-only disk)`]);
    for (const [spec, message] of bad) {
      assert.throws(() => load(g, `memory = 64\ndisk = [ '${spec}' ]`), { message: `${p}:3: disk: ${message}` }, spec);
    }
    assert.throws(() => load(g, `disk = [ 'disk.img,,hda', 'ro.img,,hda,ro' ]`), { message: `${p}:2: disk: "ro.img,,hda,ro": vdev hda is listed twice` });
    assert.throws(() => load(g, `disk = [ 3 ]`), { message: `${p}:2: disk: expected strings like "disk.img,raw,hda,rw"` });
  } finally {
    g.remove();
  }
});

test('firmware boot: SeaBIOS and the VGA BIOS from the seabios directory, boot order, acpi/apic, vga', () => {
  const g = firmwareDir();
  try {
    const c = load(g, `disk = [ 'disk.img,,hda' ]`);
    assert.equal(c.boot, 'firmware');
    assert.equal(c.vga, 'stdvga');
    assert.equal(c.videoramMiB, 16);
    assert.deepEqual(c.firmware, { bios: join(g.seabios, 'bios-256k.bin'), override: false, vgaBios: join(g.seabios, 'vgabios-stdvga.bin'), bootOrder: 'cd', acpi: true, apic: true });
    const spec = buildDomainSpec(c);
    assert.equal(spec.linux, undefined);
    assert.equal(spec.firmware!.bios.length, 256 * 1024);
    assert.equal(spec.firmware!.bios[0], 0x5b);
    assert.equal(spec.firmware!.vgaBios![0], 0x56);
    assert.equal(spec.vga, 'stdvga');
    const d = load(g, `boot = "dnc"\nvga = "none"\nacpi = 0\napic = 1\nfirmware = "seabios"\nvideoram = 32`);
    assert.deepEqual(d.firmware, { bios: join(g.seabios, 'bios-256k.bin'), override: false, vgaBios: null, bootOrder: 'dnc', acpi: false, apic: true });
    assert.equal(d.videoramMiB, 32);
    assert.equal(buildDomainSpec(d).firmware!.vgaBios, null);
    // bios_path_override: the file as is, no hvmloader.
    const o = load(g, `bios_path_override = "bios64k.bin"`);
    assert.deepEqual(o.firmware, { bios: join(g.dir, 'bios64k.bin'), override: true, vgaBios: join(g.seabios, 'vgabios-stdvga.bin'), bootOrder: 'cd', acpi: true, apic: true });
    assert.equal(buildDomainSpec(o).firmware!.bios.length, 65536);
    // A kernel means no firmware, and no VGA unless asked for.
    const k = load(g, `kernel = "vmlinuz"\ndisk = 'disk.img,,hda'`);
    assert.equal(k.boot, 'linux');
    assert.equal(k.firmware, undefined);
    assert.equal(k.vga, 'none');
    assert.equal(buildDomainSpec(k).linux!.kernel.length, fakeBzImage().length);
  } finally {
    g.remove();
  }
});

test('firmware keys: each bad value is one clear message', () => {
  const g = firmwareDir();
  try {
    const p = join(g.dir, 'fw.cfg');
    const bad: Array<[string, string]> = [
      ['boot = "cx"', 'boot: expected the letters c (hard disk), d (CD-ROM) and n (network), got "cx"'],
      ['boot = ""', 'boot: expected the letters c (hard disk), d (CD-ROM) and n (network), got ""'],
      ['boot = "cdc"', 'boot: "cdc" names a device twice'],
      ['vga = "cirrus"', 'vga: "cirrus" is not supported yet (use "stdvga" or "none")'],
      ['vga = "vesa"', 'vga: expected "stdvga" or "none", got "vesa"'],
      ['videoram = 4', 'videoram: 4 MiB is less than stdvga needs (at least 16)'],
      ['acpi = 2', 'acpi: expected 0 or 1, got 2'],
      ['firmware = "uefi"', 'firmware: "uefi" is not supported yet (use "seabios")'],
      ['firmware = "coreboot"', 'firmware: expected "seabios" (or "bios"), got "coreboot"'],
      ['bios_path_override = "bios100k.bin"', `bios_path_override: ${g.dir}/bios100k.bin is 102400 bytes; a BIOS image must be 64, 128 or 256 KiB (65536, 131072 or 262144 bytes)`],
      ['bios_path_override = "nope.bin"', `bios_path_override: cannot read ${g.dir}/nope.bin: no such file`],
      ['bios_path_override = "seabios"', `bios_path_override: ${g.dir}/seabios is not a regular file`],
    ];
    for (const [text, message] of bad) assert.throws(() => load(g, `memory = 64\n${text}`), { message: `${p}:3: ${message}` }, text);
    assert.throws(() => load(g, 'kernel = "vmlinuz"\nbios_path_override = "bios64k.bin"'), {
      message: `${p}:3: bios_path_override: is for firmware boot only (remove kernel= to boot the BIOS)`,
    });
    // Missing SeaBIOS files name the file and the package.
    const none = join(g.dir, 'no-seabios');
    assert.throws(() => load(g, '', none), { message: `${p}: firmware: ${none}/bios-256k.bin is missing: firmware boot needs SeaBIOS (apt-get install seabios)` });
    mkdirSync(none);
    writeFileSync(join(none, 'bios-256k.bin'), new Uint8Array(256 * 1024));
    assert.throws(() => load(g, '', none), { message: `${p}: vga: ${none}/vgabios-stdvga.bin is missing: firmware boot needs SeaBIOS (apt-get install seabios)` });
    assert.equal(load(g, 'vga = "none"', none).firmware!.vgaBios, null);
  } finally {
    g.remove();
  }
});

test('multiboot: detected by a valid header in the first 8 KiB without "HdrS"; modules and cmdline', () => {
  assert.equal(findMultibootHeader(multibootKernel(96)), 96);
  assert.equal(findMultibootHeader(multibootKernel(8180)), 8180);
  assert.equal(findMultibootHeader(multibootKernel(8192)), -1, 'beyond the first 8 KiB');
  assert.equal(findMultibootHeader(multibootKernel(98)), -1, 'not 4-byte aligned');
  assert.equal(findMultibootHeader(multibootKernel(96, 1)), -1, 'bad checksum');
  assert.equal(kernelKind(multibootKernel(96)), 'multiboot');
  // A bzImage that also carries a Multiboot header is still Linux.
  const both = fakeBzImage().slice();
  both.set(multibootKernel(0x400).subarray(0x400, 0x40c), 0x400);
  assert.equal(findMultibootHeader(both), 0x400);
  assert.equal(kernelKind(both), 'linux');
  assert.equal(kernelKind(fakeBzImage()), 'linux');

  const g = firmwareDir();
  try {
    const c = load(g, 'kernel = "mb.elf"\ncmdline = "mb -v"\nmodules = [ "mod1.bin arg1 arg2", "mod1.bin" ]\nisa_debug_exit = "iobase=0xf4,iosize=0x04"');
    assert.equal(c.boot, 'multiboot');
    assert.deepEqual(c.modules, [{ path: join(g.dir, 'mod1.bin'), cmdline: 'mod1.bin arg1 arg2' }, { path: join(g.dir, 'mod1.bin'), cmdline: 'mod1.bin' }]);
    assert.deepEqual(c.debugExit, { iobase: 0xf4, size: 4 });
    const spec = buildDomainSpec(c);
    assert.equal(spec.linux, undefined);
    assert.equal(spec.firmware, undefined);
    assert.equal(spec.multiboot!.cmdline, 'mb -v');
    assert.equal(spec.multiboot!.kernel.length, 16384);
    assert.deepEqual(spec.multiboot!.modules.map((m) => [Array.from(m.bytes), m.cmdline]), [[[1, 2, 3], 'mod1.bin arg1 arg2'], [[1, 2, 3], 'mod1.bin']]);
    assert.deepEqual(spec.debugExit, { iobase: 0xf4, size: 4 });
    const p = join(g.dir, 'fw.cfg');
    assert.throws(() => load(g, 'kernel = "vmlinuz"\nmodules = [ "mod1.bin" ]'), { message: `${p}:3: modules: modules are for a Multiboot kernel (kernel= is not one)` });
    assert.throws(() => load(g, 'kernel = "mb.elf"\nmodules = [ "nope.bin x" ]'), { message: `${p}:3: modules: cannot read ${g.dir}/nope.bin: no such file` });
    assert.throws(() => load(g, 'kernel = "mb.elf"\nramdisk = "initrd.img"'), { message: `${p}:3: ramdisk: a Multiboot kernel takes modules = [ ... ], not a ramdisk` });
    assert.throws(() => load(g, 'kernel = "not-a-kernel"'), { message: `${p}:2: kernel: ${g.dir}/not-a-kernel: not a Linux bzImage (boot_flag at 0x1FE is 0x0000, expected 0xaa55)` });
  } finally {
    g.remove();
  }
});

test('isa_debug_exit: QEMU-style properties, defaults, no overlap with COM or debugcon ports', () => {
  const g = firmwareDir();
  try {
    const p = join(g.dir, 'fw.cfg');
    assert.deepEqual(load(g, 'isa_debug_exit = ""').debugExit, { iobase: 0xf4, size: 4 });
    assert.deepEqual(load(g, 'isa_debug_exit = "iobase=0x501,iosize=2"').debugExit, { iobase: 0x501, size: 2 });
    assert.equal(load(g, '').debugExit, undefined);
    const bad: Array<[string, string]> = [
      ['isa_debug_exit = "iosize=3"', 'isa_debug_exit: "iosize=3": iosize must be 1, 2 or 4, got 3'],
      ['isa_debug_exit = "port=0xf4"', 'isa_debug_exit: "port=0xf4": unknown part "port=0xf4" (expected iobase=N, iosize=N)'],
      ['isa_debug_exit = "iobase=0xfffe"', 'isa_debug_exit: "iobase=0xfffe": iobase must be 0..0xfffc, got 0xfffe'],
      ['isa_debug_exit = "iobase=0x3fc"', 'isa_debug_exit: "iobase=0x3fc": ports 0x3fc-0x3ff overlap COM1'],
      ['debugcon = "port=0xf6"\nisa_debug_exit = ""', 'isa_debug_exit: "": ports 0xf4-0xf7 overlap debugcon port 0xf6'],
    ];
    for (const [text, message] of bad) assert.throws(() => load(g, `memory = 64\n${text}`), { message: `${p}:${text.includes('\n') ? 4 : 3}: ${message}` }, text);
  } finally {
    g.remove();
  }
});
