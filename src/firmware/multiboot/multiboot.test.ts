import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { e820FromMemory } from '../linux-boot/e820.js';
import { MULTIBOOT_HEADER_MAGIC, parseMultibootHeader } from './header.js';
import { loadMultiboot } from './load-multiboot.js';
import { MultibootError } from './multiboot-error.js';
import { MBI_SIZE } from './boot-info.js';

const MiB = 1 << 20;

function put32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);
}

/** A Multiboot header (12 bytes, or 32 with the address fields) with a correct checksum unless told otherwise. */
function header(flags: number, address?: number[], checksumDelta = 0): Uint8Array {
  const h = new Uint8Array(address ? 32 : 12);
  put32(h, 0, MULTIBOOT_HEADER_MAGIC);
  put32(h, 4, flags);
  put32(h, 8, -(MULTIBOOT_HEADER_MAGIC + flags) + checksumDelta);
  address?.forEach((v, i) => put32(h, 12 + 4 * i, v));
  return h;
}

/** An a.out-kludge image: header at file offset 0x10 loaded at 0x100010, text from file offset 0. */
function aoutImage(opts: { size?: number; loadEnd?: number; bssEnd?: number; entry?: number; load?: number } = {}): Uint8Array {
  const size = opts.size ?? 0x1800;
  const load = opts.load ?? 0x100000;
  const img = new Uint8Array(size);
  for (let i = 0; i < size; i++) img[i] = (i * 7 + 3) & 0xff;
  img.set(header(0x10003, [load + 0x10, load, opts.loadEnd ?? 0, opts.bssEnd ?? 0, opts.entry ?? load + 0x40]), 0x10);
  return img;
}

/** A small ELF32 i386 executable with the given PT_LOAD segments (file data follows the headers). */
function elfImage(entry: number, segs: { vaddr: number; paddr: number; data: Uint8Array; memSize: number }[], mbFlags = 0x3): Uint8Array {
  const phoff = 52;
  let dataAt = phoff + 32 * segs.length;
  const mb = header(mbFlags);
  const mbAt = (dataAt + 3) & ~3;
  dataAt = mbAt + mb.length;
  const offsets = segs.map((s) => {
    const at = dataAt;
    dataAt += s.data.length;
    return at;
  });
  const img = new Uint8Array(dataAt);
  img.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  const v = new DataView(img.buffer);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 3, true); // EM_386
  v.setUint32(20, 1, true);
  v.setUint32(24, entry, true);
  v.setUint32(28, phoff, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, segs.length, true);
  segs.forEach((s, i) => {
    const p = phoff + 32 * i;
    v.setUint32(p, 1, true);
    v.setUint32(p + 4, offsets[i], true);
    v.setUint32(p + 8, s.vaddr, true);
    v.setUint32(p + 12, s.paddr, true);
    v.setUint32(p + 16, s.data.length, true);
    v.setUint32(p + 20, s.memSize, true);
    img.set(s.data, offsets[i]);
  });
  img.set(mb, mbAt);
  return img;
}

function cstring(m: GuestMemory, addr: number): string {
  let s = '';
  for (let a = addr; ; a++) {
    const c = m.readU8(a);
    if (c === 0) return s;
    s += String.fromCharCode(c);
  }
}

test('header: found 32-bit aligned within 8 KiB, flags and address fields read', () => {
  const img = new Uint8Array(0x3000);
  img.set(header(0x10003, [1, 2, 3, 4, 5]), 0x1ff0);
  const h = parseMultibootHeader(img);
  assert.equal(h.offset, 0x1ff0);
  assert.equal(h.flags, 0x10003);
  assert.deepEqual(h.address, { headerAddr: 1, loadAddr: 2, loadEndAddr: 3, bssEndAddr: 4, entryAddr: 5 });
  const noAddr = new Uint8Array(64);
  noAddr.set(header(0x20000), 8); // bit 17: optional, unknown -> ignored
  assert.equal(parseMultibootHeader(noAddr).address, undefined);
});

test('header: none, unaligned, beyond 8 KiB, bad checksum, required video or unknown bits are errors', () => {
  assert.throws(() => parseMultibootHeader(new Uint8Array(9000), 'k.elf'), /k\.elf: no Multiboot header/);
  const unaligned = new Uint8Array(64);
  unaligned.set(header(0), 6);
  assert.throws(() => parseMultibootHeader(unaligned), /no Multiboot header/);
  const late = new Uint8Array(0x4000);
  late.set(header(0), 0x2000);
  assert.throws(() => parseMultibootHeader(late), /no Multiboot header/);
  const bad = new Uint8Array(64);
  bad.set(header(3, undefined, 1), 4);
  assert.throws(() => parseMultibootHeader(bad), /offset 0x00000004 has a bad checksum/);
  const video = new Uint8Array(64);
  video.set(header(0x4), 0);
  assert.throws(() => parseMultibootHeader(video), /requires a video mode \(flags bit 2\)/);
  const unknown = new Uint8Array(64);
  unknown.set(header(0x8), 0);
  assert.throws(() => parseMultibootHeader(unknown), (e: unknown) => e instanceof MultibootError && /required bits 0x0008 unsupported/.test(e.message));
});

test('a.out kludge: text/data from the header-relative file offset, bss zeroed, entry from the header', () => {
  const m = new GuestMemory({ ramBytes: 16 * MiB });
  m.fill(0x100000, 0x4000, 0xee);
  const img = aoutImage({ bssEnd: 0x102800 });
  const { regs, sregs, layout } = loadMultiboot(m, { kernel: img, cmdline: '', modules: [] });
  assert.equal(layout.kernel.format, 'aout-kludge');
  assert.deepEqual([...m.read(0x100000, img.length)], [...img]);
  assert.ok(m.read(0x100000 + img.length, 0x2800 - img.length).every((b) => b === 0), 'bss zeroed');
  assert.equal(m.readU8(0x102800), 0xee, 'nothing past bss_end_addr');
  assert.equal(layout.info.infoAddr, 0x103000, 'the information follows on the next page');
  assert.equal(regs.eip, 0x100040);
  assert.equal(regs.eax, 0x2badb002);
  assert.equal(regs.ebx, layout.info.infoAddr);
  assert.equal(regs.eflags & 0x200, 0, 'IF = 0');
  assert.equal(sregs.cr0 & 0x80000001, 1, 'PE = 1, PG = 0');
  for (const s of [sregs.cs, sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss]) {
    assert.deepEqual([s.base, s.limit, s.db, s.present, s.dpl], [0, 0xffffffff, 1, 1, 0]);
  }
  assert.equal(sregs.cs.type & 0xa, 0xa, 'CS execute/read');
  assert.equal(sregs.ds.type & 0xa, 0x2, 'DS read/write data');
  // The GDT the selectors name is really there.
  const gdt = m.read(sregs.gdt.base, 32);
  const dv = new DataView(gdt.buffer);
  assert.equal(dv.getBigUint64(sregs.cs.selector, true), 0x00cf9b000000ffffn);
  assert.equal(dv.getBigUint64(sregs.ds.selector, true), 0x00cf93000000ffffn);
});

test('a.out kludge: load_end_addr limits the copy; inconsistent fields are clear errors', () => {
  const m = new GuestMemory({ ramBytes: 16 * MiB });
  m.fill(0x100000, 0x2000, 0xee);
  const img = aoutImage({ loadEnd: 0x100800 });
  loadMultiboot(m, { kernel: img, cmdline: '', modules: [] });
  assert.deepEqual([...m.read(0x100000, 0x800)], [...img.subarray(0, 0x800)]);
  assert.equal(m.readU8(0x100800), 0xee);
  const spec = (kernel: Uint8Array) => ({ kernel, cmdline: '', modules: [] });
  assert.throws(() => loadMultiboot(m, spec(aoutImage({ loadEnd: 0x102000 }))), /asks for 8192 bytes from file offset 0x00000000, but the file has 6144 bytes/);
  assert.throws(() => loadMultiboot(m, spec(aoutImage({ bssEnd: 0x100100 }))), /bss_end_addr 0x00100100 is below the end of the loaded image/);
  const hiLoad = aoutImage();
  hiLoad.set(header(0x10003, [0x100010, 0x100020, 0, 0, 0x100040]), 0x10);
  assert.throws(() => loadMultiboot(m, spec(hiLoad)), /load_addr 0x00100020 is above header_addr 0x00100010/);
  const far = aoutImage();
  far.set(header(0x10003, [0x100010, 0xf0000, 0, 0, 0x100040]), 0x10);
  assert.throws(() => loadMultiboot(m, spec(far)), /more than the header's file offset/);
  assert.throws(() => loadMultiboot(m, spec(aoutImage({ load: 0x1f00000 }))), /a\.out image at 0x01f00000\+0x00001800 is outside guest RAM \(16 MiB\)/);
  const plain = new Uint8Array(64);
  plain.set(header(0x3), 0);
  assert.throws(() => loadMultiboot(m, spec(plain)), /not an ELF file and the Multiboot header has no address fields/);
});

test('ELF: PT_LOAD segments at p_paddr, bss zeroed, a virtual entry moved to its physical address', () => {
  const m = new GuestMemory({ ramBytes: 16 * MiB });
  m.fill(0x200000, 0x10000, 0xee);
  const text = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const data = Uint8Array.from({ length: 40 }, (_, i) => 0x80 | i);
  const img = elfImage(0xc0200010, [
    { vaddr: 0xc0200000, paddr: 0x200000, data: text, memSize: 300 },
    { vaddr: 0xc0204000, paddr: 0x204000, data, memSize: 0x1000 },
  ]);
  const { regs, layout } = loadMultiboot(m, { kernel: img, cmdline: '', modules: [] });
  assert.equal(layout.kernel.format, 'elf');
  assert.equal(regs.eip, 0x200010);
  assert.deepEqual([...m.read(0x200000, 300)], [...text]);
  assert.equal(m.readU8(0x200000 + 300), 0xee, 'the gap between segments is left alone');
  assert.deepEqual([...m.read(0x204000, 40)], [...data]);
  assert.ok(m.read(0x204000 + 40, 0x1000 - 40).every((b) => b === 0), 'bss zeroed');
  assert.equal(layout.kernel.end, 0x205000);
});

test('ELF errors: segment outside RAM, truncated segment, 64-bit', () => {
  const m = new GuestMemory({ ramBytes: 8 * MiB });
  const seg = (paddr: number) => [{ vaddr: paddr, paddr, data: new Uint8Array(16), memSize: 0x100000 }];
  assert.throws(() => loadMultiboot(m, { kernel: elfImage(0x780000, seg(0x780000)), cmdline: '', modules: [] }, 'big.elf'), /big\.elf: ELF segment 0 at 0x00780000\+0x00100000 is outside guest RAM \(8 MiB\)/);
  const cut = elfImage(0x100000, seg(0x100000));
  assert.throws(() => loadMultiboot(m, { kernel: cut.subarray(0, cut.length - 4), cmdline: '', modules: [] }), /runs past the end of the file/);
  const wide = elfImage(0x100000, seg(0x100000));
  wide[4] = 2;
  assert.throws(() => loadMultiboot(m, { kernel: wide, cmdline: '', modules: [] }), /not ELFCLASS32/);
});

test('info structure: flags, memory sizes, command line, loader name and an mmap equal to the E820 map', () => {
  const m = new GuestMemory({ ramBytes: 32 * MiB });
  const { layout } = loadMultiboot(m, { kernel: aoutImage(), cmdline: 'console=ttyS0 quiet', modules: [] });
  const info = layout.info.infoAddr;
  assert.equal(info % 4096, 0);
  assert.ok(info >= layout.kernel.end);
  assert.equal(m.readU32(info), (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
  assert.equal(m.readU32(info + 4), 639, 'mem_lower: 0x9FC00 bytes of conventional memory');
  assert.equal(m.readU32(info + 8), 31 * 1024, 'mem_upper: RAM from 1 MiB');
  assert.equal(cstring(m, m.readU32(info + 16)), 'console=ttyS0 quiet');
  assert.equal(m.readU32(info + 20), 0, 'no modules');
  assert.equal(cstring(m, m.readU32(info + 64)), 'tsxen');
  const e820 = e820FromMemory(m);
  assert.equal(m.readU32(info + 44), e820.length * 24);
  const mmap = m.readU32(info + 48);
  e820.forEach((e, i) => {
    const at = mmap + i * 24;
    assert.equal(m.readU32(at), 20, 'size of the rest of the entry');
    assert.equal(m.readU32(at + 4) + m.readU32(at + 8) * 2 ** 32, e.addr);
    assert.equal(m.readU32(at + 12) + m.readU32(at + 16) * 2 ** 32, e.size);
    assert.equal(m.readU32(at + 20), e.type);
  });
  assert.deepEqual(
    e820.map((e) => [e.addr, e.type]),
    [
      [0, 1],
      [0x9fc00, 2],
      [0xf0000, 2],
      [0x100000, 1],
    ],
  );
  assert.ok(mmap >= info + MBI_SIZE, 'mmap does not overlap the structure');
});

test('modules: page-aligned after the kernel, in order, with their command lines; mod_end exclusive', () => {
  const m = new GuestMemory({ ramBytes: 32 * MiB });
  const a = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) & 0xff);
  const b = Uint8Array.from({ length: 3 }, (_, i) => 0xa0 + i);
  const { layout } = loadMultiboot(m, {
    kernel: aoutImage({ bssEnd: 0x105123 }),
    cmdline: '',
    modules: [
      { bytes: a, cmdline: 'initrd.img root=/dev/ram0' },
      { bytes: b, cmdline: '' },
    ],
  });
  const info = layout.info.infoAddr;
  assert.equal(m.readU32(info + 20), 2);
  const mods = m.readU32(info + 24);
  const [s0, e0, c0, r0] = [0, 4, 8, 12].map((o) => m.readU32(mods + o));
  const [s1, e1, c1] = [16, 20, 24].map((o) => m.readU32(mods + o));
  assert.equal(s0, 0x106000, 'first page after the bss end');
  assert.equal(e0, s0 + 5000);
  assert.equal(s1, 0x108000, 'next page after module 0');
  assert.equal(e1, s1 + 3);
  assert.equal(r0, 0);
  assert.deepEqual([...m.read(s0, a.length)], [...a]);
  assert.deepEqual([...m.read(s1, 3)], [...b]);
  assert.equal(cstring(m, c0), 'initrd.img root=/dev/ram0');
  assert.equal(cstring(m, c1), '');
  assert.equal(info, 0x109000, 'info after the last module');
  assert.deepEqual(
    layout.modules.map((x) => [x.start, x.end]),
    [
      [s0, e0],
      [s1, e1],
    ],
  );
});

test('a module that does not fit or a bad command line is an error and nothing is written', () => {
  const m = new GuestMemory({ ramBytes: 4 * MiB });
  const before = m.read(0x100000, 0x1000);
  assert.throws(
    () => loadMultiboot(m, { kernel: aoutImage(), cmdline: '', modules: [{ bytes: new Uint8Array(4 * MiB), cmdline: 'big' }] }, 'k'),
    /k: module 0 \(4194304 bytes\) does not fit in guest RAM at 0x00102000 \(4 MiB\)/,
  );
  assert.deepEqual(m.read(0x100000, 0x1000), before);
  assert.throws(() => loadMultiboot(m, { kernel: aoutImage(), cmdline: 'caf\u00e9', modules: [] }), /character 3 \(U\+00e9\) is not printable ASCII/);
});
