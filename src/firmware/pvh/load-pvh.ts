// PVH direct boot (docs/misc/pvh.pandoc, "x86/HVM direct boot ABI"): load an ELF
// kernel by p_paddr, place its modules and an hvm_start_info, and return the entry
// state: 32-bit protected mode, paging off, flat CS/DS/ES/SS, TR a 32-bit TSS with
// base 0 and limit 0x67, EFLAGS.VM = IF = TF = 0, CR0 = PE (ET reads 1), CR4 = 0,
// EBX = the start_info. There is no firmware; the hypercall page, event channels and
// xenstore come through the Xen interface as for HVM guests.
//
// Layout, all in E820 RAM and below 4 GiB (start_info.h: Xen keeps it there):
//   kernel       its PT_LOAD segments at p_paddr (checked to be RAM, disjoint)
//   modules      module 0 = the initrd, page-aligned, as high as possible above the
//                kernel and below Linux's 32-bit lowmem limit (it copies one beyond)
//   start_info   start_info, module list, memory map, boot GDT and command lines,
//                in the RAM between 1 MiB and the kernel (Linux copies all of it
//                before it allocates memory), else just after the kernel
// Nothing goes below 1 MiB, so the BIOS data area and the ISA hole stay as a PC has them.

import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { PvhSpec } from '../../hypervisor/domain-spec.js';
import type { VcpuRegisters, VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';
import { hex } from '../../hypervisor/types.js';
import { E820_MAX_ENTRIES, HIGH_MEMORY_START, e820FromMemory, type E820Entry } from '../linux-boot/e820.js';
import { LOWMEM_LIMIT } from '../linux-boot/load-linux.js';
import { bootGdtBytes, multibootEntrySpecialRegisters } from '../multiboot/entry-state.js';
import { parsePvhKernel, type PvhKernel } from './pvh-kernel.js';
import { buildStartInfo, startInfoSize } from './start-info.js';
import { placeHighest, placeLowest, type TakenRange } from './placement.js';
import { PvhError } from './pvh-error.js';
import { encodeBootCmdline } from '../boot-cmdline.js';

/** Longest command line accepted; Linux keeps COMMAND_LINE_SIZE (2048) of it, this caps a config mistake. */
export const PVH_CMDLINE_MAX = 4096;
const FOUR_GIB = 0x100000000;
/** EFLAGS bit 1 is always 1; VM, IF, TF and the rest clear (pvh.pandoc). */
const EFLAGS_RESERVED = 0x2;

export interface PvhLoadOptions {
  /** The memory map the guest is given (the one XENMEM_memory_map reports); default: the RAM as it is. */
  e820?: readonly E820Entry[];
  /** Physical address of an ACPI RSDP, 0 (the default) for none. */
  rsdp?: number;
  /** Name of the kernel in messages. */
  name?: string;
}

export interface PvhLayout {
  kernel: PvhKernel;
  modules: { start: number; size: number }[];
  startInfo: number;
  cmdline: number;
  modlist: number;
  memmap: { addr: number; entries: number };
  gdt: number;
  /** One past the last byte of the start_info block. */
  infoEnd: number;
  e820: readonly E820Entry[];
}

export interface PvhEntryState {
  regs: VcpuRegisters;
  sregs: VcpuSpecialRegisters;
  layout: PvhLayout;
}

/** Load `spec` into `memory`. Throws PvhError when the image is bad or does not fit; nothing is written then. */
export function loadPvh(memory: GuestMemory, spec: PvhSpec, opts: PvhLoadOptions = {}): PvhEntryState {
  const name = opts.name ?? 'kernel';
  const kernel = parsePvhKernel(spec.kernel, name);
  const ramMiB = `${Math.round(memory.ramBytes / (1 << 20))} MiB`;
  kernel.segments.forEach((s, i) => {
    if (!memory.isRam(s.paddr, s.memSize)) {
      throw new PvhError(`${name}: ELF segment ${i} at ${hex(s.paddr)}+${hex(s.memSize)} is outside guest RAM (${ramMiB})`);
    }
  });
  const e820 = opts.e820 ?? e820FromMemory(memory);
  if (e820.length > E820_MAX_ENTRIES) throw new PvhError(`${name}: the memory map has ${e820.length} entries (Linux reads at most ${E820_MAX_ENTRIES})`);
  const rsdp = opts.rsdp ?? 0;
  const cmdline = encodeBootCmdline(spec.cmdline, PVH_CMDLINE_MAX, `${name} command line`, PvhError);

  const taken: TakenRange[] = kernel.segments.map((s) => ({ start: s.paddr, end: s.paddr + s.memSize }));
  const ramdisk = spec.ramdisk && spec.ramdisk.length > 0 ? spec.ramdisk : undefined;
  const moduleBytes = ramdisk ? [ramdisk] : [];
  const modules = moduleBytes.map((bytes, i) => {
    const size = bytes.length;
    const start =
      placeHighest(size, { e820, taken, floor: Math.max(kernel.end, HIGH_MEMORY_START), ceiling: Math.min(LOWMEM_LIMIT, FOUR_GIB) }) ??
      placeHighest(size, { e820, taken, floor: HIGH_MEMORY_START, ceiling: FOUR_GIB });
    if (start === undefined) {
      throw new PvhError(`${name}: module ${i} (${size} bytes) does not fit in guest RAM beside the kernel at ${hex(kernel.start)}-${hex(kernel.end)} (${ramMiB})`);
    }
    taken.push({ start, end: start + size });
    return { start, size };
  });

  const gdt = bootGdtBytes();
  const infoInput = { cmdline, modules: modules.map((m) => ({ paddr: m.start, size: m.size, cmdline: null })), memmap: e820, rsdp, extra: gdt };
  const infoSize = startInfoSize(infoInput);
  const base =
    placeHighest(infoSize, { e820, taken, floor: HIGH_MEMORY_START, ceiling: kernel.start }) ??
    placeLowest(infoSize, { e820, taken, floor: Math.max(kernel.end, HIGH_MEMORY_START), ceiling: FOUR_GIB });
  if (base === undefined) throw new PvhError(`${name}: no RAM left for the start_info block (${infoSize} bytes; guest has ${ramMiB})`);
  const info = buildStartInfo({ base, ...infoInput });

  for (const s of kernel.segments) {
    memory.write(s.paddr, s.data);
    if (s.memSize > s.data.length) memory.fill(s.paddr + s.data.length, s.memSize - s.data.length, 0);
  }
  moduleBytes.forEach((bytes, i) => memory.write(modules[i].start, bytes));
  memory.write(base, info.bytes);

  const layout: PvhLayout = {
    kernel,
    modules,
    startInfo: info.startInfoAddr,
    cmdline: info.cmdlineAddr,
    modlist: info.modlistAddr,
    memmap: { addr: info.memmapAddr, entries: e820.length },
    gdt: info.extraAddr,
    infoEnd: base + info.bytes.length,
    e820,
  };
  // The Multiboot entry state is exactly pvh.pandoc's: flat CS 0x10 and data 0x18 from
  // the boot GDT, a busy 32-bit TSS in TR (base 0, limit 0x67), CR0 = PE|ET, CR4 = 0.
  return { regs: pvhEntryRegisters(kernel.entry, info.startInfoAddr), sregs: multibootEntrySpecialRegisters(info.extraAddr), layout };
}

export function pvhEntryRegisters(entry: number, startInfo: number): VcpuRegisters {
  // Only EBX is defined; the rest are zero so that every boot starts the same way.
  return { eax: 0, ebx: startInfo >>> 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: entry >>> 0, eflags: EFLAGS_RESERVED };
}
