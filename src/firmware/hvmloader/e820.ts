// The memory map hvmloader hands SeaBIOS (reference/pc-platform-and-firmware.md
// §2.4): SeaBIOS adds each entry on Xen and later adds its own EBDA and high-zone
// reservations; the OS sees the result through INT 15h E820.

import { E820_NVS, E820_RAM, E820_RESERVED, type E820Entry } from '../linux-boot/e820.js';

export interface E820Layout {
  /** Where the system BIOS image starts (it ends at 1 MiB). */
  biosBase: number;
  /** End of RAM above 1 MiB that the OS may use (≤ the PCI hole). */
  lowRamEnd: number;
  /** The reserved table area (ACPI tables, SMBIOS structures): typed NVS, as Xen. */
  tables: { start: number; end: number };
  /** Start of the reserved platform range up to 4 GiB (IOAPIC, HPET, LAPIC), 0xFC000000. */
  platformStart: number;
}

const ONE_MIB = 0x100000;
const FOUR_GIB = 0x100000000;

/** The hvmloader E820: sorted, non-overlapping. */
export function buildE820(l: E820Layout): E820Entry[] {
  const map: E820Entry[] = [
    { addr: 0, size: 0xa0000, type: E820_RAM },
    { addr: l.biosBase, size: ONE_MIB - l.biosBase, type: E820_RESERVED },
    { addr: ONE_MIB, size: l.lowRamEnd - ONE_MIB, type: E820_RAM },
  ];
  if (l.tables.start >= l.platformStart) {
    // Xen's layout: the table area opens the platform range.
    map.push({ addr: l.tables.start, size: l.tables.end - l.tables.start, type: E820_NVS });
    map.push({ addr: l.tables.end, size: FOUR_GIB - l.tables.end, type: E820_RESERVED });
  } else {
    map.push({ addr: l.tables.start, size: l.tables.end - l.tables.start, type: E820_NVS });
    map.push({ addr: l.platformStart, size: FOUR_GIB - l.platformStart, type: E820_RESERVED });
  }
  return map.filter((e) => e.size > 0);
}

/** Write the map as SeaBIOS's info block expects it: 20-byte {u64 start, u64 size, u32 type}. */
export function encodeE820(map: readonly E820Entry[]): Uint8Array {
  const out = new Uint8Array(20 * map.length);
  const view = new DataView(out.buffer);
  map.forEach((e, i) => {
    view.setUint32(20 * i, e.addr >>> 0, true);
    view.setUint32(20 * i + 4, Math.floor(e.addr / FOUR_GIB), true);
    view.setUint32(20 * i + 8, e.size >>> 0, true);
    view.setUint32(20 * i + 12, Math.floor(e.size / FOUR_GIB), true);
    view.setUint32(20 * i + 16, e.type, true);
  });
  return out;
}
