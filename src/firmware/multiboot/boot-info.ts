// The Multiboot information structure (Multiboot 0.6.96 §3.3) and what it points
// to: the memory map (§3.3, "mmap_*"), the module list (mods_*), command lines and
// the boot loader's name. Built as one block of bytes for a given guest address,
// so the loader writes it with one bounds-checked copy.

import type { E820Entry } from '../linux-boot/e820.js';

// §3.3 field offsets (the structure is 116 bytes up to the framebuffer colour info).
export const MBI_FLAGS = 0;
export const MBI_MEM_LOWER = 4;
export const MBI_MEM_UPPER = 8;
export const MBI_BOOT_DEVICE = 12;
export const MBI_CMDLINE = 16;
export const MBI_MODS_COUNT = 20;
export const MBI_MODS_ADDR = 24;
export const MBI_MMAP_LENGTH = 44;
export const MBI_MMAP_ADDR = 48;
export const MBI_BOOT_LOADER_NAME = 64;
export const MBI_SIZE = 116;

// §3.3 flags: which fields are valid.
export const MULTIBOOT_INFO_MEMORY = 1 << 0;
export const MULTIBOOT_INFO_BOOTDEV = 1 << 1;
export const MULTIBOOT_INFO_CMDLINE = 1 << 2;
export const MULTIBOOT_INFO_MODS = 1 << 3;
export const MULTIBOOT_INFO_MEM_MAP = 1 << 6;
export const MULTIBOOT_INFO_BOOT_LOADER_NAME = 1 << 9;

/** One module entry: mod_start, mod_end (exclusive), string, reserved (0). */
export const MODULE_ENTRY_SIZE = 16;
/** One mmap entry: size (of the rest, 20) @0, base_addr u64 @4, length u64 @12, type @20. */
export const MMAP_ENTRY_SIZE = 24;
const MMAP_ENTRY_REST = 20;

export const BOOT_LOADER_NAME = 'tsxen';

export interface BootInfoModule {
  start: number;
  /** One past the last byte (the spec's mod_end). */
  end: number;
  cmdline: Uint8Array;
}

export interface BootInfoInput {
  /** Guest address the block will be written at (4-aligned). */
  base: number;
  memLowerKiB: number;
  memUpperKiB: number;
  /** NUL-terminated. */
  cmdline: Uint8Array;
  modules: BootInfoModule[];
  e820: readonly E820Entry[];
  /** Extra bytes (already built) placed at `base + MBI_EXTRA_OFFSET`, e.g. the boot GDT. */
  extra: Uint8Array;
}

/** The info structure is followed by the caller's extra block (8-aligned, for a GDT). */
export const MBI_EXTRA_OFFSET = 120;

export interface BootInfoBlock {
  bytes: Uint8Array;
  /** Guest addresses of the pieces, for the entry state and tests. */
  infoAddr: number;
  extraAddr: number;
  mmapAddr: number;
  modsAddr: number;
  cmdlineAddr: number;
  bootLoaderNameAddr: number;
}

function asciiz(text: string): Uint8Array {
  const out = new Uint8Array(text.length + 1);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

export function buildBootInfo(input: BootInfoInput): BootInfoBlock {
  const name = asciiz(BOOT_LOADER_NAME);
  const extraAt = MBI_EXTRA_OFFSET;
  const mmapAt = align4(extraAt + input.extra.length);
  const modsAt = mmapAt + input.e820.length * MMAP_ENTRY_SIZE;
  const cmdlineAt = modsAt + input.modules.length * MODULE_ENTRY_SIZE;
  const nameAt = cmdlineAt + input.cmdline.length;
  let stringsEnd = nameAt + name.length;
  const moduleStrings: number[] = [];
  for (const m of input.modules) {
    moduleStrings.push(stringsEnd);
    stringsEnd += m.cmdline.length;
  }
  const bytes = new Uint8Array(align4(stringsEnd));
  const view = new DataView(bytes.buffer);
  const put = (at: number, v: number) => view.setUint32(at, v >>> 0, true);
  const addr = (off: number) => (input.base + off) >>> 0;

  put(MBI_FLAGS, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_BOOT_LOADER_NAME);
  put(MBI_MEM_LOWER, input.memLowerKiB);
  put(MBI_MEM_UPPER, input.memUpperKiB);
  put(MBI_CMDLINE, addr(cmdlineAt));
  put(MBI_MODS_COUNT, input.modules.length);
  put(MBI_MODS_ADDR, addr(modsAt));
  put(MBI_MMAP_LENGTH, input.e820.length * MMAP_ENTRY_SIZE);
  put(MBI_MMAP_ADDR, addr(mmapAt));
  put(MBI_BOOT_LOADER_NAME, addr(nameAt));

  bytes.set(input.extra, extraAt);
  input.e820.forEach((e, i) => {
    const at = mmapAt + i * MMAP_ENTRY_SIZE;
    put(at, MMAP_ENTRY_REST);
    view.setBigUint64(at + 4, BigInt(e.addr), true);
    view.setBigUint64(at + 12, BigInt(e.size), true);
    put(at + 20, e.type);
  });
  input.modules.forEach((m, i) => {
    const at = modsAt + i * MODULE_ENTRY_SIZE;
    put(at, m.start);
    put(at + 4, m.end);
    put(at + 8, addr(moduleStrings[i]));
    put(at + 12, 0);
    bytes.set(m.cmdline, moduleStrings[i]);
  });
  bytes.set(input.cmdline, cmdlineAt);
  bytes.set(name, nameAt);
  return {
    bytes,
    infoAddr: input.base,
    extraAddr: addr(extraAt),
    mmapAddr: addr(mmapAt),
    modsAddr: addr(modsAt),
    cmdlineAddr: addr(cmdlineAt),
    bootLoaderNameAddr: addr(nameAt),
  };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
