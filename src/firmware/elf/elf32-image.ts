// The parts of an ELF32 executable a kernel loader needs (System V ABI gABI "ELF
// Header", "Program Header", "Sections", "Note Section"; i386 psABI): the entry
// point, the PT_LOAD segments to place at their physical addresses (p_paddr, as
// GRUB and Xen's domain builder do), and the notes of PT_NOTE segments and SHT_NOTE
// sections. Shared by the Multiboot and PVH loaders; every offset and length read
// from the file is checked against the file before use.

import { hex } from '../../hypervisor/types.js';
import { ElfError } from './elf-error.js';

export const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const EM_386 = 3;
const PT_LOAD = 1;
const PT_NOTE = 4;
const SHT_NOTE = 7;
const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
/** More program headers than any kernel has; caps the loop on a hostile header. */
const MAX_PHDRS = 256;
/** Likewise for section headers (vmlinux has about 40). */
const MAX_SHDRS = 4096;
/** Notes read from one file at most; a kernel has a few dozen. */
const MAX_NOTES = 1024;
/** Owner names kept at most ("Xen", "GNU", "Linux" are short). */
const MAX_NOTE_NAME = 64;

export interface ElfLoadSegment {
  /** Physical load address (p_paddr). */
  paddr: number;
  vaddr: number;
  /** Bytes of the file copied to paddr. */
  data: Uint8Array;
  /** Bytes occupied in memory; the part beyond data.length is zeroed (bss). */
  memSize: number;
}

export interface ElfNote {
  /** Owner name without its NUL ("Xen", "GNU", "Linux"). */
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface Elf32Image {
  entry: number;
  segments: ElfLoadSegment[];
  /** Notes of the PT_NOTE segments, in file order. */
  notes: ElfNote[];
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
}

/**
 * Parse an ELF32 little-endian i386 executable. Throws ElfError naming `name` when
 * it is not one or is cut short; `notClass32` is appended to the wrong-class message
 * (what the caller's user should do about a 64-bit file).
 */
export function parseElf32(image: Uint8Array, name = 'kernel', notClass32 = ''): Elf32Image {
  if (!isElf(image)) throw new ElfError(`${name}: not an ELF file`);
  if (image.length < EHDR_SIZE) throw new ElfError(`${name}: ELF header cut short (${image.length} bytes)`);
  if (image[4] !== ELFCLASS32) throw new ElfError(`${name}: ELF class ${image[4]} is not ELFCLASS32${notClass32 ? ` (${notClass32})` : ''}`);
  if (image[5] !== ELFDATA2LSB) throw new ElfError(`${name}: ELF data encoding ${image[5]} is not little-endian`);
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (type !== ET_EXEC) throw new ElfError(`${name}: ELF type ${type} is not ET_EXEC`);
  if (machine !== EM_386) throw new ElfError(`${name}: ELF machine ${machine} is not EM_386`);
  const entry = view.getUint32(24, true);
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  if (phnum === 0) throw new ElfError(`${name}: ELF has no program headers`);
  if (phnum > MAX_PHDRS) throw new ElfError(`${name}: ELF has ${phnum} program headers (at most ${MAX_PHDRS})`);
  if (phentsize < PHDR_SIZE) throw new ElfError(`${name}: ELF program header size ${phentsize} is below ${PHDR_SIZE}`);
  if (phoff + phnum * phentsize > image.length) {
    throw new ElfError(`${name}: ELF program headers at ${hex(phoff)} (${phnum} x ${phentsize}) run past the end of the file (${image.length} bytes)`);
  }
  const segments: ElfLoadSegment[] = [];
  const notes: ElfNote[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const ptype = view.getUint32(at, true);
    if (ptype !== PT_LOAD && ptype !== PT_NOTE) continue;
    const offset = view.getUint32(at + 4, true);
    const vaddr = view.getUint32(at + 8, true);
    const paddr = view.getUint32(at + 12, true);
    const fileSize = view.getUint32(at + 16, true);
    const memSize = view.getUint32(at + 20, true);
    const align = view.getUint32(at + 28, true);
    if (offset + fileSize > image.length) {
      throw new ElfError(`${name}: ELF segment ${i} (file offset ${hex(offset)}, ${fileSize} bytes) runs past the end of the file (${image.length} bytes)`);
    }
    if (ptype === PT_NOTE) {
      readNotes(image.subarray(offset, offset + fileSize), align === 8 ? 8 : 4, notes, `${name}: ELF note segment ${i}`);
      continue;
    }
    if (memSize < fileSize) throw new ElfError(`${name}: ELF segment ${i} has p_memsz ${hex(memSize)} below p_filesz ${hex(fileSize)}`);
    if (memSize === 0) continue;
    segments.push({ paddr, vaddr, data: image.subarray(offset, offset + fileSize), memSize });
  }
  if (segments.length === 0) throw new ElfError(`${name}: ELF has no loadable (PT_LOAD) segment`);
  return { entry, segments, notes };
}

/**
 * The notes of the SHT_NOTE sections (a linker may emit notes without a PT_NOTE
 * segment). Call only on a file parseElf32 accepted. Throws ElfError when the
 * section headers point outside the file.
 */
export function elf32SectionNotes(image: Uint8Array, name = 'kernel'): ElfNote[] {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const shoff = view.getUint32(32, true);
  const shentsize = view.getUint16(46, true);
  const shnum = view.getUint16(48, true);
  if (shoff === 0 || shnum === 0) return [];
  if (shnum > MAX_SHDRS) throw new ElfError(`${name}: ELF has ${shnum} section headers (at most ${MAX_SHDRS})`);
  if (shentsize < SHDR_SIZE) throw new ElfError(`${name}: ELF section header size ${shentsize} is below ${SHDR_SIZE}`);
  if (shoff + shnum * shentsize > image.length) {
    throw new ElfError(`${name}: ELF section headers at ${hex(shoff)} (${shnum} x ${shentsize}) run past the end of the file (${image.length} bytes)`);
  }
  const notes: ElfNote[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    if (view.getUint32(at + 4, true) !== SHT_NOTE) continue;
    const offset = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 20, true);
    const align = view.getUint32(at + 32, true);
    if (offset + size > image.length) {
      throw new ElfError(`${name}: ELF note section ${i} (file offset ${hex(offset)}, ${size} bytes) runs past the end of the file (${image.length} bytes)`);
    }
    readNotes(image.subarray(offset, offset + size), align === 8 ? 8 : 4, notes, `${name}: ELF note section ${i}`);
  }
  return notes;
}

/** gABI "Note Section": namesz, descsz, type, then name and desc, each padded to the alignment. */
function readNotes(bytes: Uint8Array, align: number, out: ElfNote[], where: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pad = (n: number): number => Math.ceil(n / align) * align;
  let at = 0;
  while (at + 12 <= bytes.length) {
    if (out.length >= MAX_NOTES) throw new ElfError(`${where}: more than ${MAX_NOTES} notes`);
    const namesz = view.getUint32(at, true);
    const descsz = view.getUint32(at + 4, true);
    const type = view.getUint32(at + 8, true);
    const nameAt = at + 12;
    const descAt = nameAt + pad(namesz);
    if (descAt > bytes.length || descAt + descsz > bytes.length) {
      throw new ElfError(`${where}: note at ${hex(at)} (name ${namesz} bytes, desc ${descsz} bytes) runs past its end (${bytes.length} bytes)`);
    }
    out.push({ name: noteName(bytes.subarray(nameAt, nameAt + namesz)), type, desc: bytes.subarray(descAt, descAt + descsz) });
    at = descAt + pad(descsz);
  }
}

/** The owner name up to its NUL; a name longer than any real owner is cut (it matches nothing anyway). */
function noteName(bytes: Uint8Array): string {
  let name = '';
  for (let i = 0; i < bytes.length && i < MAX_NOTE_NAME && bytes[i] !== 0; i++) name += String.fromCharCode(bytes[i]);
  return name;
}
