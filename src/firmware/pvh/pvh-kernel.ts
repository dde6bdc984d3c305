// A PVH kernel image (docs/misc/pvh.pandoc): an ELF executable whose Xen
// XEN_ELFNOTE_PHYS32_ENTRY note gives the physical address entered in 32-bit flat
// protected mode. The note is looked for in PT_NOTE segments first, then in SHT_NOTE
// sections, as Xen's libelf does. Loading is by p_paddr.

import { hex } from '../../hypervisor/types.js';
import { XEN_ELFNOTE_NAME, XEN_ELFNOTE_PHYS32_ENTRY } from '../../abi/hvm-start-info.js';
import { HDRS_MAGIC, HDR_HEADER } from '../linux-boot/bzimage.js';
import { elf32SectionNotes, isElf, parseElf32, type Elf32Image, type ElfLoadSegment, type ElfNote } from '../elf/elf32-image.js';
import { ElfError } from '../elf/elf-error.js';
import { PvhError } from './pvh-error.js';

export interface PvhKernel {
  /** The PHYS32_ENTRY note's value: where the vCPU starts. */
  entry: number;
  segments: ElfLoadSegment[];
  /** Lowest and one-past-highest physical byte the kernel occupies (bss included). */
  start: number;
  end: number;
}

const FOUR_GIB = 0x100000000;

/** True for a Linux bzImage (setup header magic "HdrS", boot.rst), which has no PVH note. */
export function isBzImage(image: Uint8Array): boolean {
  if (image.length < HDR_HEADER + 4) return false;
  return new DataView(image.buffer, image.byteOffset, image.byteLength).getUint32(HDR_HEADER, true) === HDRS_MAGIC;
}

/** Read `image` as a PVH kernel. Throws PvhError naming `name`. */
export function parsePvhKernel(image: Uint8Array, name = 'kernel'): PvhKernel {
  if (isBzImage(image)) {
    throw new PvhError(
      `${name} is a bzImage, which has no PVH entry point: PVH boots the uncompressed ELF vmlinux ` +
        `(extract it from the bzImage's payload, e.g. with Linux's scripts/extract-vmlinux, and give that as kernel=)`,
    );
  }
  if (!isElf(image)) throw new PvhError(`${name}: not an ELF file (PVH boots an ELF vmlinux with the Xen PHYS32_ENTRY note)`);
  let elf: Elf32Image;
  let sectionNotes: ElfNote[] = [];
  try {
    elf = parseElf32(image, name, 'tsxen boots 32-bit PVH kernels (an i386 vmlinux)');
    if (!elf.notes.some(isPhys32Entry)) sectionNotes = elf32SectionNotes(image, name);
  } catch (e) {
    if (e instanceof ElfError) throw new PvhError(e.message);
    throw e;
  }
  const note = elf.notes.find(isPhys32Entry) ?? sectionNotes.find(isPhys32Entry);
  if (!note) {
    throw new PvhError(`${name}: ELF has no Xen PHYS32_ENTRY note (type ${XEN_ELFNOTE_PHYS32_ENTRY}): the kernel was built without PVH support (Linux: CONFIG_PVH=y)`);
  }
  const entry = noteNumber(note, name);

  let start = Infinity;
  let end = 0;
  elf.segments.forEach((s, i) => {
    if (s.paddr + s.memSize > FOUR_GIB) throw new PvhError(`${name}: ELF segment ${i} at ${hex(s.paddr)} (${hex(s.memSize)} bytes) runs past 4 GiB`);
    start = Math.min(start, s.paddr);
    end = Math.max(end, s.paddr + s.memSize);
  });
  // Sorted by address, each segment must end before the next begins.
  const order = elf.segments.map((s, i) => ({ s, i })).sort((a, b) => a.s.paddr - b.s.paddr);
  for (let k = 1; k < order.length; k++) {
    const a = order[k - 1];
    const b = order[k];
    if (a.s.paddr + a.s.memSize > b.s.paddr) {
      throw new PvhError(
        `${name}: ELF segments ${a.i} (${hex(a.s.paddr)}+${hex(a.s.memSize)}) and ${b.i} (${hex(b.s.paddr)}+${hex(b.s.memSize)}) overlap`,
      );
    }
  }
  if (!elf.segments.some((s) => entry >= s.paddr && entry < s.paddr + s.memSize)) {
    throw new PvhError(`${name}: PHYS32_ENTRY ${hex(entry)} is not inside any loaded ELF segment`);
  }
  return { entry, segments: elf.segments, start, end };
}

function isPhys32Entry(n: ElfNote): boolean {
  return n.name === XEN_ELFNOTE_NAME && n.type === XEN_ELFNOTE_PHYS32_ENTRY;
}

/** elfnote.h: a numeric note is 4 or 8 bytes little-endian; a 32-bit entry must be below 4 GiB. */
function noteNumber(note: ElfNote, name: string): number {
  const v = new DataView(note.desc.buffer, note.desc.byteOffset, note.desc.byteLength);
  if (note.desc.length === 4) return v.getUint32(0, true);
  if (note.desc.length === 8) {
    if (v.getUint32(4, true) !== 0) throw new PvhError(`${name}: PHYS32_ENTRY note value ${v.getBigUint64(0, true).toString(16)} is beyond 4 GiB`);
    return v.getUint32(0, true);
  }
  throw new PvhError(`${name}: PHYS32_ENTRY note has ${note.desc.length} bytes (expected 4 or 8)`);
}
