// Finding room in guest RAM for what the PVH loader places besides the kernel: a
// page-aligned range inside one E820 RAM entry, within [floor, ceiling), clear of
// every range already taken. Pure arithmetic over the map; nothing is written.

import { PAGE_SIZE } from '../../hypervisor/memory/guest-memory.js';
import { E820_RAM, type E820Entry } from '../linux-boot/e820.js';

export interface TakenRange {
  start: number;
  end: number;
}

interface Window {
  e820: readonly E820Entry[];
  taken: readonly TakenRange[];
  floor: number;
  ceiling: number;
}

const overlapping = (taken: readonly TakenRange[], start: number, end: number): TakenRange[] => taken.filter((t) => t.start < end && start < t.end);

/** The highest page-aligned start for `size` bytes, or undefined when nothing fits. */
export function placeHighest(size: number, w: Window): number | undefined {
  for (let i = w.e820.length - 1; i >= 0; i--) {
    const e = w.e820[i];
    if (e.type !== E820_RAM) continue;
    const low = Math.max(e.addr, w.floor);
    let top = Math.min(e.addr + e.size, w.ceiling);
    for (;;) {
      const start = Math.floor((top - size) / PAGE_SIZE) * PAGE_SIZE;
      if (start < low) break;
      const hits = overlapping(w.taken, start, start + Math.max(size, 1));
      if (hits.length === 0) return start;
      top = Math.min(...hits.map((t) => t.start));
    }
  }
  return undefined;
}

/** The lowest page-aligned start for `size` bytes, or undefined when nothing fits. */
export function placeLowest(size: number, w: Window): number | undefined {
  for (const e of w.e820) {
    if (e.type !== E820_RAM) continue;
    const high = Math.min(e.addr + e.size, w.ceiling);
    let start = Math.ceil(Math.max(e.addr, w.floor) / PAGE_SIZE) * PAGE_SIZE;
    while (start + size <= high) {
      const hits = overlapping(w.taken, start, start + Math.max(size, 1));
      if (hits.length === 0) return start;
      start = Math.ceil(Math.max(...hits.map((t) => t.end)) / PAGE_SIZE) * PAGE_SIZE;
    }
  }
  return undefined;
}
