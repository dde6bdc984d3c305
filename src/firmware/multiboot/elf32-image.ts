// The parts of an ELF32 executable a Multiboot loader needs (System V ABI gABI
// "ELF Header", "Program Header"; i386 psABI): the entry point and the PT_LOAD
// segments, loaded at their physical addresses (p_paddr) as GRUB does.

import { hex } from '../../hypervisor/types.js';
import { MultibootError } from './multiboot-error.js';

const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const EM_386 = 3;
const PT_LOAD = 1;
const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
/** More program headers than any kernel has; caps the loop on a hostile header. */
const MAX_PHDRS = 256;

export interface ElfLoadSegment {
  /** Physical load address (p_paddr). */
  paddr: number;
  vaddr: number;
  /** Bytes of the file copied to paddr. */
  data: Uint8Array;
  /** Bytes occupied in memory; the part beyond data.length is zeroed (bss). */
  memSize: number;
}

export interface Elf32Image {
  entry: number;
  segments: ElfLoadSegment[];
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
}

/** Parse an ELF32 little-endian i386 executable. Throws MultibootError with `name` when it is not one or is cut short. */
export function parseElf32(image: Uint8Array, name = 'kernel'): Elf32Image {
  if (!isElf(image)) throw new MultibootError(`${name}: not an ELF file`);
  if (image.length < EHDR_SIZE) throw new MultibootError(`${name}: ELF header cut short (${image.length} bytes)`);
  if (image[4] !== ELFCLASS32) throw new MultibootError(`${name}: ELF class ${image[4]} is not ELFCLASS32 (a 64-bit kernel needs the a.out kludge or a 32-bit build)`);
  if (image[5] !== ELFDATA2LSB) throw new MultibootError(`${name}: ELF data encoding ${image[5]} is not little-endian`);
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (type !== ET_EXEC) throw new MultibootError(`${name}: ELF type ${type} is not ET_EXEC`);
  if (machine !== EM_386) throw new MultibootError(`${name}: ELF machine ${machine} is not EM_386`);
  const entry = view.getUint32(24, true);
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  if (phnum === 0) throw new MultibootError(`${name}: ELF has no program headers`);
  if (phnum > MAX_PHDRS) throw new MultibootError(`${name}: ELF has ${phnum} program headers (at most ${MAX_PHDRS})`);
  if (phentsize < PHDR_SIZE) throw new MultibootError(`${name}: ELF program header size ${phentsize} is below ${PHDR_SIZE}`);
  if (phoff + phnum * phentsize > image.length) {
    throw new MultibootError(`${name}: ELF program headers at ${hex(phoff)} (${phnum} x ${phentsize}) run past the end of the file (${image.length} bytes)`);
  }
  const segments: ElfLoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const offset = view.getUint32(at + 4, true);
    const vaddr = view.getUint32(at + 8, true);
    const paddr = view.getUint32(at + 12, true);
    const fileSize = view.getUint32(at + 16, true);
    const memSize = view.getUint32(at + 20, true);
    if (offset + fileSize > image.length) {
      throw new MultibootError(`${name}: ELF segment ${i} (file offset ${hex(offset)}, ${fileSize} bytes) runs past the end of the file (${image.length} bytes)`);
    }
    if (memSize < fileSize) throw new MultibootError(`${name}: ELF segment ${i} has p_memsz ${hex(memSize)} below p_filesz ${hex(fileSize)}`);
    if (memSize === 0) continue;
    segments.push({ paddr, vaddr, data: image.subarray(offset, offset + fileSize), memSize });
  }
  if (segments.length === 0) throw new MultibootError(`${name}: ELF has no loadable (PT_LOAD) segment`);
  return { entry, segments };
}
