// The block the PVH loader writes for the guest, one contiguous run of bytes built
// for a given guest address (start_info.h, all addresses physical and below 4 GiB):
//   hvm_start_info (version 1, 56 bytes)   <- EBX at entry
//   hvm_modlist_entry[nr_modules]          32 bytes each, module 0 = the initrd
//   hvm_memmap_table_entry[memmap_entries] 24 bytes each, the domain's E820 map
//   a flat boot GDT (32 bytes)             pvh.pandoc leaves GDTR unspecified; a real one costs nothing
//   the command line and module command lines, NUL-terminated

import {
  HSI_CMDLINE_PADDR, HSI_FLAGS, HSI_MAGIC, HSI_MEMMAP_ENTRIES, HSI_MEMMAP_PADDR, HSI_MODLIST_PADDR, HSI_NR_MODULES, HSI_RSDP_PADDR, HSI_VERSION,
  HVM_MEMMAP_ADDR, HVM_MEMMAP_ENTRY_SIZE, HVM_MEMMAP_SIZE, HVM_MEMMAP_TYPE, HVM_MODLIST_CMDLINE_PADDR, HVM_MODLIST_ENTRY_SIZE, HVM_MODLIST_PADDR,
  HVM_MODLIST_SIZE, HVM_START_INFO_SIZE, HVM_START_INFO_VERSION, XEN_HVM_START_MAGIC_VALUE,
} from '../../abi/hvm-start-info.js';
import type { E820Entry } from '../linux-boot/e820.js';

export interface StartInfoModule {
  paddr: number;
  size: number;
  /** NUL-terminated, or null for none (cmdline_paddr 0). */
  cmdline: Uint8Array | null;
}

export interface StartInfoInput {
  /** Guest-physical address the block will be written at (8-byte aligned). */
  base: number;
  /** The kernel command line, NUL-terminated. */
  cmdline: Uint8Array;
  modules: StartInfoModule[];
  memmap: readonly E820Entry[];
  /** Physical address of the ACPI RSDP, 0 for none (Linux then scans for one). */
  rsdp: number;
  /** Bytes placed after the tables, 8-byte aligned (the boot GDT). */
  extra: Uint8Array;
}

export interface StartInfoBlock {
  bytes: Uint8Array;
  startInfoAddr: number;
  modlistAddr: number;
  memmapAddr: number;
  extraAddr: number;
  cmdlineAddr: number;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Bytes the block takes for these inputs (to find room before building it). */
export function startInfoSize(input: Omit<StartInfoInput, 'base'>): number {
  return layout({ ...input, base: 0 }).size;
}

export function buildStartInfo(input: StartInfoInput): StartInfoBlock {
  const l = layout(input);
  const bytes = new Uint8Array(l.size);
  const v = new DataView(bytes.buffer);
  const at = (addr: number): number => addr - input.base;
  const u64 = (off: number, value: number): void => v.setBigUint64(off, BigInt(value), true);

  v.setUint32(HSI_MAGIC, XEN_HVM_START_MAGIC_VALUE, true);
  v.setUint32(HSI_VERSION, HVM_START_INFO_VERSION, true);
  v.setUint32(HSI_FLAGS, 0, true); // a domU: neither SIF_PRIVILEGED nor SIF_INITDOMAIN
  v.setUint32(HSI_NR_MODULES, input.modules.length, true);
  u64(HSI_MODLIST_PADDR, input.modules.length ? l.modlist : 0);
  u64(HSI_CMDLINE_PADDR, l.cmdline);
  u64(HSI_RSDP_PADDR, input.rsdp);
  u64(HSI_MEMMAP_PADDR, l.memmap);
  v.setUint32(HSI_MEMMAP_ENTRIES, input.memmap.length, true);

  input.modules.forEach((m, i) => {
    const e = at(l.modlist) + i * HVM_MODLIST_ENTRY_SIZE;
    u64(e + HVM_MODLIST_PADDR, m.paddr);
    u64(e + HVM_MODLIST_SIZE, m.size);
    u64(e + HVM_MODLIST_CMDLINE_PADDR, l.moduleCmdlines[i]);
  });
  input.memmap.forEach((m, i) => {
    const e = at(l.memmap) + i * HVM_MEMMAP_ENTRY_SIZE;
    u64(e + HVM_MEMMAP_ADDR, m.addr);
    u64(e + HVM_MEMMAP_SIZE, m.size);
    v.setUint32(e + HVM_MEMMAP_TYPE, m.type, true);
  });
  bytes.set(input.extra, at(l.extra));
  bytes.set(input.cmdline, at(l.cmdline));
  input.modules.forEach((m, i) => {
    if (m.cmdline) bytes.set(m.cmdline, at(l.moduleCmdlines[i]));
  });
  return { bytes, startInfoAddr: input.base, modlistAddr: l.modlist, memmapAddr: l.memmap, extraAddr: l.extra, cmdlineAddr: l.cmdline };
}

function layout(input: StartInfoInput): { size: number; modlist: number; memmap: number; extra: number; cmdline: number; moduleCmdlines: number[] } {
  const modlist = input.base + HVM_START_INFO_SIZE;
  const memmap = modlist + input.modules.length * HVM_MODLIST_ENTRY_SIZE;
  const extra = align8(memmap + input.memmap.length * HVM_MEMMAP_ENTRY_SIZE);
  const cmdline = extra + input.extra.length;
  let next = cmdline + input.cmdline.length;
  const moduleCmdlines = input.modules.map((m) => {
    if (!m.cmdline) return 0;
    const addr = next;
    next += m.cmdline.length;
    return addr;
  });
  return { size: next - input.base, modlist, memmap, extra, cmdline, moduleCmdlines };
}
