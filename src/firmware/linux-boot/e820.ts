// The BIOS E820 memory map a PC guest sees (ACPI spec "System Address Map
// Interfaces"; Linux Documentation/x86/zero-page.rst), derived from the domain's
// GuestMemory rather than written by hand.
//
// Above 1 MiB, backed writable frames are RAM and ROM frames are reserved. Below
// 1 MiB the PC layout applies: RAM up to 0x9FC00, the last KiB under the VGA
// hole reserved (where a BIOS keeps its EBDA), nothing in the VGA/option-ROM
// window [0xA0000, 0xF0000), and the system BIOS area [0xF0000, 0x100000) reserved.

import { PAGE_SIZE, type GuestMemory } from '../../hypervisor/memory/guest-memory.js';

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
export const E820_UNUSABLE = 5;

/** The zero page has room for 128 entries (zero-page.rst: e820_table[E820_MAX_ENTRIES_ZEROPAGE]). */
export const E820_MAX_ENTRIES = 128;

/** Conventional memory ends 1 KiB below the VGA hole (the EBDA slot). */
export const LOW_RAM_END = 0x9fc00;
export const LOW_MEMORY_END = 0xa0000;
/** System BIOS area, reserved whether or not a BIOS is loaded there. */
export const BIOS_AREA_START = 0xf0000;
export const HIGH_MEMORY_START = 0x100000;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

/** One pass over the 4 GiB frame table: runs of RAM and of ROM frames, in address order. */
function frameRuns(memory: GuestMemory): E820Entry[] {
  const runs: E820Entry[] = [];
  const frames = memory.frameOffset.length;
  let runType = 0;
  let runStart = 0;
  for (let gfn = 0; gfn <= frames; gfn++) {
    const type = gfn === frames || memory.frameOffset[gfn] < 0 ? 0 : memory.frameReadOnly[gfn] ? E820_RESERVED : E820_RAM;
    if (type === runType) continue;
    if (runType !== 0) runs.push({ addr: runStart * PAGE_SIZE, size: (gfn - runStart) * PAGE_SIZE, type: runType });
    runType = type;
    runStart = gfn;
  }
  return runs;
}

/** Append [start, end) of `type`, merging with the previous entry when they touch and match. */
function push(map: E820Entry[], start: number, end: number, type: number): void {
  if (end <= start) return;
  const last = map[map.length - 1];
  if (last && last.type === type && last.addr + last.size === start) last.size += end - start;
  else map.push({ addr: start, size: end - start, type });
}

/** The guest's E820 map, sorted, non-overlapping, adjacent equal entries merged. */
export function e820FromMemory(memory: GuestMemory): E820Entry[] {
  const map: E820Entry[] = [];
  for (const run of frameRuns(memory)) {
    const start = run.addr;
    const end = run.addr + run.size;
    if (start < HIGH_MEMORY_START) {
      // Conventional memory, the EBDA kilobyte, then the BIOS area; the window
      // between them (VGA, option ROMs) is left out of the map.
      push(map, start, Math.min(end, LOW_RAM_END), run.type);
      push(map, Math.max(start, LOW_RAM_END), Math.min(end, LOW_MEMORY_END), E820_RESERVED);
      push(map, Math.max(start, BIOS_AREA_START), Math.min(end, HIGH_MEMORY_START), E820_RESERVED);
    }
    push(map, Math.max(start, HIGH_MEMORY_START), end, run.type);
  }
  return map;
}

/** Bytes of type-1 RAM in a map. */
export function e820RamBytes(map: readonly E820Entry[]): number {
  let total = 0;
  for (const e of map) if (e.type === E820_RAM) total += e.size;
  return total;
}

