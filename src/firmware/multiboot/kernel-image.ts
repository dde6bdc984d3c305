// What to put where for a Multiboot kernel: the a.out kludge's address fields
// (Multiboot §3.1.3) when the header sets flags bit 16 — they win even for an ELF
// file — or else the ELF program headers.

import { hex } from '../../hypervisor/types.js';
import type { MultibootHeader } from './header.js';
import { isElf, parseElf32, type Elf32Image } from '../elf/elf32-image.js';
import { ElfError } from '../elf/elf-error.js';
import { MultibootError } from './multiboot-error.js';

export interface KernelLoadSegment {
  /** Physical load address. */
  addr: number;
  data: Uint8Array;
  /** Bytes occupied from addr; the tail beyond data.length is zeroed. */
  memSize: number;
}

export interface KernelLoadPlan {
  format: 'elf' | 'aout-kludge';
  segments: KernelLoadSegment[];
  /** Physical entry point. */
  entry: number;
  /** Lowest and one-past-highest byte the kernel occupies (bss included). */
  start: number;
  end: number;
}

export function planKernelLoad(image: Uint8Array, header: MultibootHeader, name = 'kernel'): KernelLoadPlan {
  const segments = header.address ? aoutKludgeSegments(image, header, name) : undefined;
  if (segments) return finish('aout-kludge', segments.segments, segments.entry, name);
  if (!isElf(image)) {
    throw new MultibootError(`${name}: not an ELF file and the Multiboot header has no address fields (flags bit 16 clear), so there is no way to load it`);
  }
  const elf = readElf(image, name);
  // GRUB's rule: an entry inside a segment's virtual range is moved by that segment's paddr - vaddr.
  let entry = elf.entry;
  for (const s of elf.segments) {
    if (elf.entry >= s.vaddr && elf.entry < s.vaddr + s.memSize) {
      entry = (s.paddr + (elf.entry - s.vaddr)) >>> 0;
      break;
    }
  }
  return finish(
    'elf',
    elf.segments.map((s) => ({ addr: s.paddr, data: s.data, memSize: s.memSize })),
    entry,
    name,
  );
}

/** The shared ELF reader, its errors reported as this loader's. */
function readElf(image: Uint8Array, name: string): Elf32Image {
  try {
    return parseElf32(image, name, 'a 64-bit kernel needs the a.out kludge or a 32-bit build');
  } catch (e) {
    if (e instanceof ElfError) throw new MultibootError(e.message);
    throw e;
  }
}

function aoutKludgeSegments(image: Uint8Array, header: MultibootHeader, name: string): { segments: KernelLoadSegment[]; entry: number } {
  const a = header.address!;
  if (a.loadAddr > a.headerAddr) {
    throw new MultibootError(`${name}: Multiboot load_addr ${hex(a.loadAddr)} is above header_addr ${hex(a.headerAddr)}`);
  }
  const fileStart = header.offset - (a.headerAddr - a.loadAddr);
  if (fileStart < 0) {
    throw new MultibootError(
      `${name}: Multiboot header_addr ${hex(a.headerAddr)} - load_addr ${hex(a.loadAddr)} is more than the header's file offset ${hex(header.offset)}`,
    );
  }
  let loadSize: number;
  if (a.loadEndAddr === 0) {
    loadSize = image.length - fileStart;
  } else {
    if (a.loadEndAddr < a.loadAddr) throw new MultibootError(`${name}: Multiboot load_end_addr ${hex(a.loadEndAddr)} is below load_addr ${hex(a.loadAddr)}`);
    loadSize = a.loadEndAddr - a.loadAddr;
    if (fileStart + loadSize > image.length) {
      throw new MultibootError(
        `${name}: Multiboot load_end_addr ${hex(a.loadEndAddr)} asks for ${loadSize} bytes from file offset ${hex(fileStart)}, but the file has ${image.length} bytes`,
      );
    }
  }
  let memSize = loadSize;
  if (a.bssEndAddr !== 0) {
    if (a.bssEndAddr < a.loadAddr + loadSize) {
      throw new MultibootError(`${name}: Multiboot bss_end_addr ${hex(a.bssEndAddr)} is below the end of the loaded image ${hex(a.loadAddr + loadSize)}`);
    }
    memSize = a.bssEndAddr - a.loadAddr;
  }
  if (memSize === 0) throw new MultibootError(`${name}: Multiboot address fields load nothing`);
  return { segments: [{ addr: a.loadAddr, data: image.subarray(fileStart, fileStart + loadSize), memSize }], entry: a.entryAddr };
}

function finish(format: KernelLoadPlan['format'], segments: KernelLoadSegment[], entry: number, name: string): KernelLoadPlan {
  let start = Infinity;
  let end = 0;
  for (const s of segments) {
    if (s.addr + s.memSize > 0x100000000) throw new MultibootError(`${name}: segment at ${hex(s.addr)} (${s.memSize} bytes) runs past 4 GiB`);
    start = Math.min(start, s.addr);
    end = Math.max(end, s.addr + s.memSize);
  }
  return { format, segments, entry: entry >>> 0, start, end };
}
