// xl.cfg type = "pvh": an ELF kernel with Xen's PHYS32_ENTRY note, the initrd, the
// command line; the Xen interface always, no platform PCI device, no emulated disks
// or graphics. Each mistake is one message naming file, line and key.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from './config-file.js';
import { makeGuestDir, type GuestDir } from './testing/guest-files.js';
import { makeSyntheticElf, u32Desc } from '../firmware/elf/synthetic-elf.js';

function pvhDir(): GuestDir {
  const g = makeGuestDir();
  const seg = [{ paddr: 0x1000000, data: new Uint8Array(64) }];
  writeFileSync(join(g.dir, 'vmlinux'), makeSyntheticElf({ entry: 0x1000000, segments: seg, notes: [{ name: 'Xen', type: 18, desc: u32Desc(0x1000010) }] }));
  writeFileSync(join(g.dir, 'plain.elf'), makeSyntheticElf({ entry: 0x1000000, segments: seg, notes: [{ name: 'Xen', type: 17, desc: u32Desc(1) }] }));
  return g;
}

const load = (g: GuestDir, text: string, warn: (w: string) => void = () => {}) => loadConfigFile(g.cfg('guest.cfg', text), { hostMemoryMiB: 4096, warn });

test('type = "pvh" with an ELF vmlinux: PVH boot, the Xen interface on, no platform PCI device, UART kept', () => {
  const g = pvhDir();
  try {
    const warnings: string[] = [];
    const c = load(g, 'type = "pvh"\nname = "p"\nmemory = 256\nkernel = "vmlinux"\nramdisk = "initrd.img"\nextra = "console=ttyS0"\n', (w) => warnings.push(w));
    assert.deepEqual(warnings, []);
    assert.equal(c.type, 'pvh');
    assert.equal(c.boot, 'pvh');
    assert.equal(c.kernel, join(g.dir, 'vmlinux'));
    assert.equal(c.ramdisk, join(g.dir, 'initrd.img'));
    assert.equal(c.cmdline, 'console=ttyS0');
    assert.equal(c.xenInterface, true);
    assert.equal(c.xenPlatformPci, false);
    assert.equal(c.vga, 'none');
    assert.equal(c.firmware, undefined);
    assert.deepEqual(c.disks, []);
    assert.deepEqual(c.serials, [{ kind: 'pty' }]);
    // cmdline= wins over extra= as for HVM; xen_platform_pci = 0 and xen_interface = 1 are accepted.
    const d = load(g, 'type = "pvh"\nname = "p"\nkernel = "vmlinux"\ncmdline = "quiet"\nxen_platform_pci = 0\nxen_interface = 1\nvga = "none"\n');
    assert.equal(d.cmdline, 'quiet');
    // An hvm guest keeps its type and its defaults.
    const h = load(g, 'name = "h"\nkernel = "vmlinuz"\n');
    assert.deepEqual([h.type, h.boot, h.xenPlatformPci, h.xenInterface], ['hvm', 'linux', true, undefined]);
  } finally {
    g.remove();
  }
});

test('bad PVH configs: one message each with file, line and key', () => {
  const g = pvhDir();
  try {
    const cases: Array<[string, string]> = [
      ['type = "pvh"\nname = "p"\n', 'guest.cfg:1: type: a PVH guest boots an ELF kernel: kernel = "vmlinux" is missing (PVH has no firmware)'],
      ['type = "pvh"\nname = "p"\nkernel = "vmlinuz"\n', `guest.cfg:3: kernel: ${g.dir}/vmlinuz is a bzImage, which has no PVH entry point: PVH boots the uncompressed ELF vmlinux (extract it from the bzImage's payload, e.g. with Linux's scripts/extract-vmlinux, and give that as kernel=)`],
      ['type = "pvh"\nname = "p"\nkernel = "not-a-kernel"\n', `guest.cfg:3: kernel: ${g.dir}/not-a-kernel: not an ELF file (PVH boots an ELF vmlinux with the Xen PHYS32_ENTRY note)`],
      ['type = "pvh"\nname = "p"\nkernel = "plain.elf"\n', `guest.cfg:3: kernel: ${g.dir}/plain.elf: ELF has no Xen PHYS32_ENTRY note (type 18): the kernel was built without PVH support (Linux: CONFIG_PVH=y)`],
      ['type = "pvh"\nname = "p"\nkernel = "vmlinux"\nxen_platform_pci = 1\n', 'guest.cfg:4: xen_platform_pci: a PVH guest has no PCI bus (remove it or set 0)'],
      ['type = "pvh"\nname = "p"\nkernel = "vmlinux"\nxen_interface = 0\n', 'guest.cfg:4: xen_interface: a PVH guest needs the Xen interface (its memory map, hypercalls and event channels come from it)'],
      ['type = "pvh"\nname = "p"\nkernel = "vmlinux"\ndisk = [ "initrd.img,raw,hda,w" ]\n', 'guest.cfg:4: disk: a PVH guest has no emulated IDE controller (PV block devices come later; use type = "hvm")'],
      ['type = "pvh"\nname = "p"\nkernel = "vmlinux"\nvga = "stdvga"\n', 'guest.cfg:4: vga: a PVH guest has no emulated graphics card (use "none")'],
      ['type = "pvh"\nname = "p"\nkernel = "vmlinux"\nmodules = [ "initrd.img" ]\n', 'guest.cfg:4: modules: modules are for a Multiboot kernel (kernel= is not one)'],
      ['type = "pvhx"\nname = "p"\nkernel = "vmlinux"\n', 'guest.cfg:1: type: expected "hvm" or "pvh", got "pvhx"'],
    ];
    for (const [text, message] of cases) {
      const p = g.cfg('guest.cfg');
      assert.throws(() => load(g, text), { message: message.replace('guest.cfg', p) }, text);
    }
  } finally {
    g.remove();
  }
});
