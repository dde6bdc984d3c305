import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { loadLinux, BOOT_GDT_ADDR, CMDLINE_ADDR, ZERO_PAGE_ADDR, LOWMEM_LIMIT } from './load-linux.js';
import { LinuxBootError } from './linux-boot-error.js';
import { makeSyntheticBzImage } from './synthetic-bzimage.js';

const code = Uint8Array.from([0xb0, 0x41, 0xe6, 0xe9, 0xf4]); // mov al,'A'; out 0xe9,al; hlt

function tiny(overrides: Parameters<typeof makeSyntheticBzImage>[0] = { code }): Uint8Array {
  return makeSyntheticBzImage(overrides);
}

test('the kernel, command line, GDT, zero page and initrd land where the layout says', () => {
  const m = new GuestMemory({ ramBytes: 64 << 20 });
  const ramdisk = new Uint8Array(0x1801).fill(0x5a);
  const { regs, layout } = loadLinux(m, { kernel: tiny(), ramdisk, cmdline: 'console=ttyS0 nokaslr' }, 'tiny.img');
  assert.deepEqual([...m.read(0x100000, code.length)], [...code]);
  assert.equal(new TextDecoder().decode(m.read(CMDLINE_ADDR, 21)), 'console=ttyS0 nokaslr');
  assert.equal(m.readU8(CMDLINE_ADDR + 21), 0, 'NUL-terminated');
  // Boot GDT: null, unused, flat code at 0x10, flat data at 0x18.
  assert.equal(m.readU32(BOOT_GDT_ADDR), 0);
  assert.equal(m.readU32(BOOT_GDT_ADDR + 0x10), 0x0000ffff);
  assert.equal(m.readU32(BOOT_GDT_ADDR + 0x14), 0x00cf9a00);
  assert.equal(m.readU32(BOOT_GDT_ADDR + 0x18), 0x0000ffff);
  assert.equal(m.readU32(BOOT_GDT_ADDR + 0x1c), 0x00cf9200);
  // initrd: page-aligned, ending as close to the top of RAM as alignment allows.
  assert.deepEqual(layout.initrd, { start: (64 << 20) - 0x2000, size: 0x1801 });
  assert.equal(m.readU8((64 << 20) - 0x2000), 0x5a);
  assert.equal(m.readU8((64 << 20) - 0x2000 + 0x1800), 0x5a);
  // Zero page points at all of it.
  assert.equal(m.readU32(ZERO_PAGE_ADDR + 0x228), CMDLINE_ADDR);
  assert.equal(m.readU32(ZERO_PAGE_ADDR + 0x218), (64 << 20) - 0x2000);
  assert.equal(m.readU32(ZERO_PAGE_ADDR + 0x21c), 0x1801);
  assert.equal(m.readU8(ZERO_PAGE_ADDR + 0x1e8), 4, 'e820 entries');
  assert.equal(m.readU32(ZERO_PAGE_ADDR + 0x2d0 + 3 * 20 + 8), (64 << 20) - 0x100000, 'last e820 RAM size');
  assert.equal(regs.esi, ZERO_PAGE_ADDR);
  // Synthetic kernel: relocatable, alignment 2 MiB, pref 2 MiB, init_size 1 MiB.
  assert.deepEqual(layout.kernelRun, { start: 0x200000, end: 0x300000 });
});

test('the entry state is the 32-bit boot protocol: flat segments, PE only, ESI = zero page', () => {
  const m = new GuestMemory({ ramBytes: 16 << 20 });
  const { regs, sregs } = loadLinux(m, { kernel: tiny(), cmdline: '' });
  assert.deepEqual(regs, { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: ZERO_PAGE_ADDR, edi: 0, esp: 0, ebp: 0, eip: 0x100000, eflags: 2 });
  assert.equal(sregs.cs.selector, 0x10);
  assert.equal(sregs.cs.type, 0xb);
  for (const s of [sregs.cs, sregs.ds, sregs.es, sregs.ss, sregs.fs, sregs.gs]) {
    assert.deepEqual({ base: s.base, limit: s.limit, s: s.s, dpl: s.dpl, p: s.present, db: s.db, g: s.g, u: s.unusable }, { base: 0, limit: 0xffffffff, s: 1, dpl: 0, p: 1, db: 1, g: 1, u: 0 });
  }
  for (const s of [sregs.ds, sregs.es, sregs.ss, sregs.fs, sregs.gs]) assert.deepEqual([s.selector, s.type], [0x18, 3]);
  assert.deepEqual(sregs.gdt, { base: BOOT_GDT_ADDR, limit: 31 });
  assert.deepEqual(sregs.idt, { base: 0, limit: 0 });
  assert.deepEqual([sregs.tr.type, sregs.tr.limit, sregs.tr.present, sregs.tr.s, sregs.tr.unusable], [0xb, 0x67, 1, 0, 0]);
  assert.equal(sregs.ldt.unusable, 1);
  assert.equal(sregs.cr0, 0x11);
  assert.deepEqual([sregs.cr3, sregs.cr4, sregs.efer], [0, 0, 0]);
  assert.equal(m.readU8(CMDLINE_ADDR), 0, 'empty command line is just the NUL');
  assert.equal(m.readU32(ZERO_PAGE_ADDR + 0x218), 0, 'no initrd');
});

test('a fixed-address kernel runs at pref_address; a relocatable one rounds its load address up', () => {
  const fixed = loadLinux(new GuestMemory({ ramBytes: 32 << 20 }), { kernel: tiny({ code, relocatable: false, prefAddress: 0x400000, initSize: 0x10000 }), cmdline: '' });
  assert.deepEqual(fixed.layout.kernelRun, { start: 0x400000, end: 0x410000 });
  const aligned = loadLinux(new GuestMemory({ ramBytes: 32 << 20 }), { kernel: tiny({ code, kernelAlignment: 0x1000000, prefAddress: 0x100000 }), cmdline: '' });
  assert.equal(aligned.layout.kernelRun.start, 0x1000000);
});

test('the initrd stays below initrd_addr_max, below lowmem, and clear of the kernel', () => {
  const capped = loadLinux(new GuestMemory({ ramBytes: 64 << 20 }), { kernel: tiny({ code, initrdAddrMax: 0x1ffffff }), ramdisk: new Uint8Array(0x1000), cmdline: '' });
  assert.deepEqual(capped.layout.initrd, { start: 0x1fff000, size: 0x1000 });
  const big = loadLinux(new GuestMemory({ ramBytes: 1024 << 20 }), { kernel: tiny(), ramdisk: new Uint8Array(0x3000), cmdline: '' });
  assert.equal(big.layout.initrd?.start, LOWMEM_LIMIT - 0x3000);
  // Exactly the space between the kernel's end (3 MiB) and the end of 8 MiB RAM fits...
  const exact = loadLinux(new GuestMemory({ ramBytes: 8 << 20 }), { kernel: tiny(), ramdisk: new Uint8Array(5 << 20), cmdline: '' });
  assert.equal(exact.layout.initrd?.start, 0x300000);
  // ...one byte more does not.
  assert.throws(
    () => loadLinux(new GuestMemory({ ramBytes: 8 << 20 }), { kernel: tiny(), ramdisk: new Uint8Array((5 << 20) + 1), cmdline: '' }, 'tiny.img'),
    (e: unknown) => e instanceof LinuxBootError && /^tiny\.img: not enough memory: .*RAM up to 0x00300000 and the initrd 5242881 bytes.*8 MiB/.test(e.message),
  );
});

test('errors: command line too long, initrd above its limit, kernel larger than RAM', () => {
  const m = () => new GuestMemory({ ramBytes: 16 << 20 });
  assert.throws(() => loadLinux(m(), { kernel: tiny({ code, cmdlineSize: 8 }), cmdline: 'console=ttyS0' }, 'k'), /: k: command line too long: 13 characters, the kernel accepts 8$/);
  assert.throws(() => loadLinux(m(), { kernel: tiny(), cmdline: 'caf\u00e9' }, 'k'), /character 3 \(U\+00e9\) is not printable ASCII/);
  assert.throws(
    () => loadLinux(m(), { kernel: tiny({ code, initrdAddrMax: 0x400fff }), ramdisk: new Uint8Array(0x200000), cmdline: '' }, 'k'),
    /k: initrd too big: 2097152 bytes, but only 1052672 fit between the kernel's end 0x00300000 and the initrd limit 0x00401000/,
  );
  assert.throws(
    () => loadLinux(new GuestMemory({ ramBytes: 2 << 20 }), { kernel: tiny(), cmdline: '' }, 'k'),
    /k: not enough memory: the kernel needs RAM up to 0x00300000 .*init_size 0x00100000 at 0x00200000\), the guest has 2 MiB/,
  );
  // Nothing was written when the load was refused.
  const untouched = m();
  assert.throws(() => loadLinux(untouched, { kernel: tiny({ code, cmdlineSize: 1 }), cmdline: 'ab' }), LinuxBootError);
  assert.ok(untouched.bytes.every((b) => b === 0));
});
