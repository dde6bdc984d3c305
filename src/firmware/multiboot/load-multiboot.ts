// Multiboot v1 direct boot (QEMU's -kernel for Multiboot images): load the kernel
// (ELF or a.out kludge), its modules and the information structure into guest RAM
// and return the entry state of Multiboot 0.6.96 §3.2.
//
// Layout, all in RAM the kernel was not loaded over:
//   kernel       where its ELF p_paddr / a.out load_addr say (checked to be RAM)
//   modules      each page-aligned (§3.1.2 bit 0, always honoured), in order,
//                from the first page after both the kernel's end and 1 MiB
//   boot info    the page after the last module: the info structure, the boot
//                GDT, the memory map, the module list, then the strings
// Nothing goes below 1 MiB, so the BIOS data area, the EBDA and the VGA window
// stay as a PC has them.

import { PAGE_SIZE, alignUp, type GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { MultibootSpec } from '../../hypervisor/domain-spec.js';
import type { VcpuRegisters, VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';
import { hex } from '../../hypervisor/types.js';
import { E820_RAM, HIGH_MEMORY_START, e820FromMemory, type E820Entry } from '../linux-boot/e820.js';
import { parseMultibootHeader, type MultibootHeader } from './header.js';
import { planKernelLoad, type KernelLoadPlan } from './kernel-image.js';
import { buildBootInfo, type BootInfoBlock } from './boot-info.js';
import { bootGdtBytes, multibootEntryRegisters, multibootEntrySpecialRegisters } from './entry-state.js';
import { MultibootError } from './multiboot-error.js';
import { encodeBootCmdline } from '../boot-cmdline.js';

/** Conventional memory reported in mem_lower is at most 640 KiB (§3.3). */
const MEM_LOWER_MAX_KIB = 640;
/** Longest command line accepted (kernel or module); Multiboot has no limit, this caps a config mistake. */
export const MULTIBOOT_CMDLINE_MAX = 4096;

export interface MultibootLayout {
  header: MultibootHeader;
  kernel: KernelLoadPlan;
  modules: { start: number; end: number; cmdlineAddr: number }[];
  info: BootInfoBlock;
  e820: E820Entry[];
  memLowerKiB: number;
  memUpperKiB: number;
}

export interface MultibootEntryState {
  regs: VcpuRegisters;
  sregs: VcpuSpecialRegisters;
  layout: MultibootLayout;
}

/** Load `spec` into `memory`. Throws MultibootError (naming `name`) when the image is bad or does not fit; nothing is written then. */
export function loadMultiboot(memory: GuestMemory, spec: MultibootSpec, name = 'kernel'): MultibootEntryState {
  const header = parseMultibootHeader(spec.kernel, name);
  const kernel = planKernelLoad(spec.kernel, header, name);
  const ramMiB = `${Math.round(memory.ramBytes / (1 << 20))} MiB`;
  kernel.segments.forEach((s, i) => {
    if (!memory.isRam(s.addr, s.memSize)) {
      throw new MultibootError(`${name}: ${kernel.format === 'elf' ? `ELF segment ${i}` : 'a.out image'} at ${hex(s.addr)}+${hex(s.memSize)} is outside guest RAM (${ramMiB})`);
    }
  });
  if (!memory.isRam(kernel.entry, 1)) throw new MultibootError(`${name}: entry point ${hex(kernel.entry)} is outside guest RAM (${ramMiB})`);

  const cmdline = encodeBootCmdline(spec.cmdline, MULTIBOOT_CMDLINE_MAX, `${name} command line`, MultibootError);
  let next = alignUp(Math.max(kernel.end, HIGH_MEMORY_START), PAGE_SIZE);
  const modules = spec.modules.map((m, i) => {
    const start = next;
    const end = start + m.bytes.length;
    if (!memory.isRam(start, Math.max(1, m.bytes.length))) {
      throw new MultibootError(`${name}: module ${i} (${m.bytes.length} bytes) does not fit in guest RAM at ${hex(start)} (${ramMiB})`);
    }
    next = alignUp(Math.max(end, start + 1), PAGE_SIZE);
    return { start, end, cmdline: encodeBootCmdline(m.cmdline, MULTIBOOT_CMDLINE_MAX, `${name} module ${i} command line`, MultibootError) };
  });

  const e820 = e820FromMemory(memory);
  const memLowerKiB = Math.min(MEM_LOWER_MAX_KIB, Math.floor(ramRunFrom(e820, 0) / 1024));
  const memUpperKiB = Math.floor(ramRunFrom(e820, HIGH_MEMORY_START) / 1024);
  const info = buildBootInfo({ base: next, memLowerKiB, memUpperKiB, cmdline, modules, e820, extra: bootGdtBytes() });
  if (!memory.isRam(next, info.bytes.length)) {
    throw new MultibootError(`${name}: no RAM left for the Multiboot information (${info.bytes.length} bytes at ${hex(next)}; guest has ${ramMiB})`);
  }

  for (const s of kernel.segments) {
    memory.write(s.addr, s.data);
    if (s.memSize > s.data.length) memory.fill(s.addr + s.data.length, s.memSize - s.data.length, 0);
  }
  spec.modules.forEach((m, i) => memory.write(modules[i].start, m.bytes));
  memory.write(next, info.bytes);

  const layout: MultibootLayout = {
    header,
    kernel,
    modules: modules.map((m, i) => ({ start: m.start, end: m.end, cmdlineAddr: moduleCmdlineAddr(memory, info, i) })),
    info,
    e820,
    memLowerKiB,
    memUpperKiB,
  };
  return { regs: multibootEntryRegisters(kernel.entry, info.infoAddr), sregs: multibootEntrySpecialRegisters(info.extraAddr), layout };
}

/** Bytes of RAM in the E820 entry that starts exactly at `addr` (mem_lower: at 0, mem_upper: at 1 MiB, up to the first hole). */
function ramRunFrom(e820: readonly E820Entry[], addr: number): number {
  const e = e820.find((x) => x.type === E820_RAM && x.addr === addr);
  return e ? e.size : 0;
}

function moduleCmdlineAddr(memory: GuestMemory, info: BootInfoBlock, i: number): number {
  return memory.readU32(info.modsAddr + i * 16 + 8);
}
