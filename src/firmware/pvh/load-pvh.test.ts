import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { XEN_ELFNOTE_PHYS32_ENTRY, XEN_HVM_START_MAGIC_VALUE } from '../../abi/hvm-start-info.js';
import { e820FromMemory } from '../linux-boot/e820.js';
import { LOWMEM_LIMIT } from '../linux-boot/load-linux.js';
import { makeSyntheticBzImage } from '../linux-boot/synthetic-bzimage.js';
import { makeSyntheticElf, u32Desc, type SyntheticElf } from '../elf/synthetic-elf.js';
import { loadPvh } from './load-pvh.js';
import { parsePvhKernel } from './pvh-kernel.js';
import { PvhError } from './pvh-error.js';

const MiB = 1 << 20;
const ENTRY = 0x10002e0;

/** A kernel shaped like Debian's 686-pae vmlinux: text at 16 MiB, data + bss after it, the PVH note elsewhere. */
function kernelSpec(over: Partial<SyntheticElf> = {}): SyntheticElf {
  const text = new Uint8Array(0x2000).map((_, i) => (i * 13 + 7) & 0xff);
  const data = new Uint8Array(0x800).fill(0xaa);
  return {
    entry: 0x1000000,
    segments: [
      { paddr: 0x1000000, vaddr: 0xc1000000, data: text },
      { paddr: 0x1004000, vaddr: 0xc1004000, data, memSize: 0x3000 },
    ],
    notes: [
      { name: 'Xen', type: 6, desc: Uint8Array.from([0x6c, 0x69, 0x6e, 0x75, 0x78, 0]) },
      { name: 'GNU', type: 3, desc: new Uint8Array(20) },
      { name: 'Xen', type: XEN_ELFNOTE_PHYS32_ENTRY, desc: u32Desc(ENTRY) },
    ],
    ...over,
  };
}

const u64 = (m: GuestMemory, addr: number): number => m.readU32(addr) + m.readU32(addr + 4) * 0x100000000;
const cString = (m: GuestMemory, addr: number): string => {
  let s = '';
  for (let c = m.readU8(addr); c !== 0; c = m.readU8(++addr)) s += String.fromCharCode(c);
  return s;
};

test('PT_LOAD segments at p_paddr with bss zeroed; entered at PHYS32_ENTRY, not e_entry', () => {
  const m = new GuestMemory({ ramBytes: 64 * MiB });
  m.fill(0x1004800, 0x2800, 0xee); // bss must be cleared
  const spec = kernelSpec();
  const { regs, sregs, layout } = loadPvh(m, { kernel: makeSyntheticElf(spec), cmdline: 'console=ttyS0' });
  assert.deepEqual(m.read(0x1000000, 0x2000), spec.segments[0].data);
  assert.deepEqual(m.read(0x1004000, 0x800), spec.segments[1].data);
  assert.ok(m.read(0x1004800, 0x2800).every((b) => b === 0), 'bss zeroed');
  assert.equal(layout.kernel.start, 0x1000000);
  assert.equal(layout.kernel.end, 0x1007000);
  // pvh.pandoc entry state.
  assert.equal(regs.eip, ENTRY);
  assert.equal(regs.ebx, layout.startInfo);
  assert.equal(regs.eflags & ((1 << 17) | (1 << 9) | (1 << 8)), 0, 'VM, IF, TF clear');
  assert.equal(sregs.cr0 & 0x80000001, 1, 'PE set, PG clear');
  assert.equal(sregs.cr0 & ~0x11, 0, 'no writable CR0 bit but PE (ET is read-only 1)');
  assert.equal(sregs.cr4, 0);
  for (const seg of [sregs.cs, sregs.ds, sregs.es, sregs.ss]) {
    assert.deepEqual([seg.base, seg.limit, seg.db, seg.present, seg.s, seg.unusable], [0, 0xffffffff, 1, 1, 1, 0]);
  }
  assert.equal(sregs.cs.type & 0xa, 0xa, 'CS execute/read');
  assert.equal(sregs.ds.type & 0xa, 0x2, 'DS read/write data');
  assert.deepEqual([sregs.tr.base, sregs.tr.limit, sregs.tr.type, sregs.tr.present], [0, 0x67, 0xb, 1], 'TR: busy 32-bit TSS, base 0, limit 0x67');
  // The boot GDT the selectors come from is in guest memory.
  assert.equal(sregs.gdt.base, layout.gdt);
  assert.equal(u64(m, layout.gdt + sregs.cs.selector), 0x00cf9b000000ffff);
  assert.equal(u64(m, layout.gdt + sregs.ds.selector), 0x00cf93000000ffff);
});

test('hvm_start_info v1: magic, command line, the initrd as module 0 and the domain E820 as memmap', () => {
  const m = new GuestMemory({ ramBytes: 256 * MiB });
  const ramdisk = new Uint8Array(3 * MiB + 123).map((_, i) => (i * 31) & 0xff);
  const { layout } = loadPvh(m, { kernel: makeSyntheticElf(kernelSpec()), ramdisk, cmdline: 'console=ttyS0 nokaslr' });
  const si = layout.startInfo;
  assert.equal(m.readU32(si), XEN_HVM_START_MAGIC_VALUE);
  assert.equal(m.readU32(si + 4), 1, 'version');
  assert.equal(m.readU32(si + 8), 0, 'flags: an unprivileged domU');
  assert.equal(m.readU32(si + 12), 1, 'nr_modules');
  assert.equal(cString(m, u64(m, si + 24)), 'console=ttyS0 nokaslr');
  assert.equal(u64(m, si + 32), 0, 'no RSDP');
  assert.equal(m.readU32(si + 52), 0, 'reserved');
  // Module 0: page-aligned, above the kernel, below Linux's lowmem limit, the bytes intact.
  const mod = u64(m, si + 16);
  const paddr = u64(m, mod);
  assert.equal(u64(m, mod + 8), ramdisk.length);
  assert.equal(u64(m, mod + 16), 0, 'no module command line');
  assert.equal(paddr % 4096, 0);
  assert.ok(paddr >= layout.kernel.end && paddr + ramdisk.length <= Math.min(LOWMEM_LIMIT, 256 * MiB));
  assert.deepEqual(m.read(paddr, ramdisk.length), ramdisk);
  assert.deepEqual(layout.modules, [{ start: paddr, size: ramdisk.length }]);
  // Memory map = the E820 the domain reports through XENMEM_memory_map.
  const e820 = e820FromMemory(m);
  assert.equal(m.readU32(si + 48), e820.length);
  const mm = u64(m, si + 40);
  e820.forEach((e, i) => {
    assert.deepEqual([u64(m, mm + 24 * i), u64(m, mm + 24 * i + 8), m.readU32(mm + 24 * i + 16), m.readU32(mm + 24 * i + 20)], [e.addr, e.size, e.type, 0], `memmap entry ${i}`);
  });
  // The block sits in RAM between 1 MiB and the kernel, clear of both.
  assert.ok(si >= MiB && layout.infoEnd <= layout.kernel.start, `start_info at ${si.toString(16)}-${layout.infoEnd.toString(16)}`);
});

test('an explicit memory map and RSDP are passed through; no ramdisk gives no modules', () => {
  const m = new GuestMemory({ ramBytes: 64 * MiB });
  const e820 = [
    { addr: 0, size: 0x9fc00, type: 1 },
    { addr: 0x100000, size: 63 * MiB, type: 1 },
    { addr: 0xfc000000, size: 0x10000, type: 2 },
  ];
  const { layout } = loadPvh(m, { kernel: makeSyntheticElf(kernelSpec()), cmdline: '' }, { e820, rsdp: 0xfc000000 });
  const si = layout.startInfo;
  assert.equal(m.readU32(si + 12), 0);
  assert.equal(u64(m, si + 16), 0, 'modlist_paddr 0 without modules');
  assert.equal(u64(m, si + 32), 0xfc000000);
  assert.equal(m.readU32(si + 48), 3);
  assert.equal(u64(m, u64(m, si + 40) + 48), 0xfc000000);
  assert.equal(cString(m, u64(m, si + 24)), '');
});

test('a kernel at 1 MiB leaves no room below it: the start_info goes just above the kernel', () => {
  const m = new GuestMemory({ ramBytes: 32 * MiB });
  const spec = kernelSpec({ segments: [{ paddr: 0x100000, data: new Uint8Array(0x1000), memSize: 0x2000 }], notes: [{ name: 'Xen', type: 18, desc: u32Desc(0x100010) }] });
  const { regs, layout } = loadPvh(m, { kernel: makeSyntheticElf(spec), ramdisk: new Uint8Array(5000), cmdline: 'x' });
  assert.equal(regs.eip, 0x100010);
  assert.equal(layout.startInfo, 0x102000);
  assert.equal(m.readU32(layout.startInfo), XEN_HVM_START_MAGIC_VALUE);
  assert.ok(layout.modules[0].start >= layout.infoEnd || layout.modules[0].start + 5000 <= layout.startInfo);
});

test('the note is found in an SHT_NOTE section too, and as an 8-byte value', () => {
  const desc8 = new Uint8Array(8);
  new DataView(desc8.buffer).setUint32(0, ENTRY, true);
  const fromSection = parsePvhKernel(makeSyntheticElf(kernelSpec({ notes: undefined, sectionNotes: [{ name: 'Xen', type: 18, desc: u32Desc(ENTRY) }] })));
  assert.equal(fromSection.entry, ENTRY);
  assert.equal(parsePvhKernel(makeSyntheticElf(kernelSpec({ notes: [{ name: 'Xen', type: 18, desc: desc8 }] }))).entry, ENTRY);
  // Another owner's note of type 18 is not Xen's.
  assert.throws(() => parsePvhKernel(makeSyntheticElf(kernelSpec({ notes: [{ name: 'GNU', type: 18, desc: u32Desc(ENTRY) }] })), 'k'), /k: ELF has no Xen PHYS32_ENTRY note/);
});

test('bad kernels: clear errors naming the file', () => {
  const m = new GuestMemory({ ramBytes: 64 * MiB });
  const load = (kernel: Uint8Array, ramBytes?: number) => loadPvh(ramBytes ? new GuestMemory({ ramBytes }) : m, { kernel, cmdline: '' }, { name: 'vmlinux' });
  const fails = (kernel: Uint8Array, re: RegExp, ramBytes?: number) => assert.throws(() => load(kernel, ramBytes), (e: unknown) => e instanceof PvhError && re.test(e.message), String(re));
  fails(makeSyntheticBzImage({ code: Uint8Array.of(0xf4) }), /^vmlinux is a bzImage, which has no PVH entry point: PVH boots the uncompressed ELF vmlinux/);
  fails(new Uint8Array(4096), /^vmlinux: not an ELF file/);
  fails(makeSyntheticElf(kernelSpec({ notes: [{ name: 'Xen', type: 17, desc: u32Desc(0x8801) }] })), /^vmlinux: ELF has no Xen PHYS32_ENTRY note \(type 18\).*CONFIG_PVH/);
  fails(makeSyntheticElf(kernelSpec()), /^vmlinux: ELF segment 1 at 0x01004000\+0x00003000 is outside guest RAM \(16 MiB\)/, 16 * MiB + 0x4000);
  const overlap = kernelSpec();
  overlap.segments[1].paddr = 0x1001000;
  fails(makeSyntheticElf(overlap), /^vmlinux: ELF segments 0 \(0x01000000\+0x00002000\) and 1 \(0x01001000\+0x00003000\) overlap/);
  fails(makeSyntheticElf(kernelSpec({ notes: [{ name: 'Xen', type: 18, desc: u32Desc(0x2000000) }] })), /PHYS32_ENTRY 0x02000000 is not inside any loaded ELF segment/);
  fails(makeSyntheticElf(kernelSpec({ notes: [{ name: 'Xen', type: 18, desc: new Uint8Array(3) }] })), /PHYS32_ENTRY note has 3 bytes \(expected 4 or 8\)/);
  const high = new Uint8Array(8);
  high[4] = 1;
  fails(makeSyntheticElf(kernelSpec({ notes: [{ name: 'Xen', type: 18, desc: high }] })), /beyond 4 GiB/);
  const wide = makeSyntheticElf(kernelSpec());
  wide[4] = 2;
  fails(wide, /ELF class 2 is not ELFCLASS32 \(tsxen boots 32-bit PVH kernels/);
  const cut = makeSyntheticElf(kernelSpec());
  fails(cut.subarray(0, cut.length - 16), /vmlinux: ELF segment 1 .* runs past the end of the file/);
  // A note whose descsz points past its segment.
  const badNote = makeSyntheticElf(kernelSpec());
  const noteOff = new DataView(badNote.buffer).getUint32(52 + 32 * 2 + 4, true);
  new DataView(badNote.buffer).setUint32(noteOff + 4, 0x7fffffff, true);
  fails(badNote, /vmlinux: ELF note segment 2: note at 0x00000000 .* runs past its end/);
});

test('no room for the initrd or the command line: an error, and guest memory untouched', () => {
  const m = new GuestMemory({ ramBytes: 32 * MiB });
  assert.throws(
    () => loadPvh(m, { kernel: makeSyntheticElf(kernelSpec()), ramdisk: new Uint8Array(32 * MiB), cmdline: '' }, { name: 'vmlinux' }),
    /^PvhError: vmlinux: module 0 \(33554432 bytes\) does not fit in guest RAM beside the kernel at 0x01000000-0x01007000 \(32 MiB\)/,
  );
  assert.ok(m.read(0x1000000, 0x7000).every((b) => b === 0), 'the kernel was not written');
  assert.throws(() => loadPvh(m, { kernel: makeSyntheticElf(kernelSpec()), cmdline: 'a\nb' }), /command line: character 1 \(U\+000a\) is not printable ASCII/);
  assert.throws(() => loadPvh(m, { kernel: makeSyntheticElf(kernelSpec()), cmdline: 'x'.repeat(5000) }), /command line is 5000 characters, at most 4096/);
});

test('mutated ELF files give a PvhError or load; nothing else escapes (2000 mutations)', () => {
  const base = makeSyntheticElf(kernelSpec({ sectionNotes: [{ name: 'Xen', type: 5, desc: new Uint8Array(8) }] }));
  let seed = 0x2545f491;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  let loaded = 0;
  const m = new GuestMemory({ ramBytes: 32 * MiB });
  for (let n = 0; n < 2000; n++) {
    const img = base.slice();
    // Most mutations hit the headers and notes, where the parser reads lengths and offsets.
    for (let k = 1 + (rnd() % 4); k > 0; k--) img[rnd() % (rnd() % 2 ? 0x180 : img.length)] = rnd() & 0xff;
    try {
      loadPvh(m, { kernel: img, ramdisk: new Uint8Array(100), cmdline: 'c' });
      loaded++;
    } catch (e) {
      if (!(e instanceof PvhError)) throw new Error(`mutation ${n}: ${String(e)}`);
    }
  }
  assert.ok(loaded > 0, 'some mutations still load');
});

// Debian's vmlinux (guests/build.sh extracts it from the bzImage), when it is there.
const vmlinux = [join(process.env.TSXEN_CACHE ?? join(homedir(), '.cache', 'tsxen'), 'guests', 'current', 'vmlinux-686-pae'), '/tmp/vmlinux-686-pae'].find((p) => existsSync(p));
test('Debian 6.1 686-pae vmlinux: PHYS32_ENTRY 0x010002e0, loads into 256 MiB with the initramfs', { skip: vmlinux ? false : 'no vmlinux-686-pae in the guest cache (bash guests/build.sh)' }, () => {
  const k = parsePvhKernel(readFileSync(vmlinux!), 'vmlinux-686-pae');
  assert.equal(k.entry, 0x010002e0);
  assert.equal(k.start, 0x1000000);
  const m = new GuestMemory({ ramBytes: 256 * MiB });
  const { layout } = loadPvh(m, { kernel: readFileSync(vmlinux!), ramdisk: new Uint8Array(1 << 20), cmdline: 'console=ttyS0' });
  assert.ok(layout.infoEnd <= layout.kernel.start && layout.modules[0].start >= layout.kernel.end);
});
if (!vmlinux) console.error('\n*** SKIPPED: no vmlinux-686-pae in the guest cache or /tmp ***\n');
