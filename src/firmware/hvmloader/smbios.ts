// SMBIOS 2.4 tables (DMTF DSP0134; reference/pc-platform-and-firmware.md §4
// "SMBIOS"): the 31-byte "_SM_" entry point and types 0, 1, 3, 4 (per vCPU), 16,
// 17, 19, 32 and 127. SeaBIOS copies only the entry point into its F-segment, so
// the structure table must live in memory the OS keeps (the reserved table area).

import { TableBytes } from './table-bytes.js';

export const SMBIOS_EP_LENGTH = 0x1f;

export interface SmbiosConfig {
  vcpus: number;
  ramBytes: number;
  cpuSignature: number;
  cpuFeatures: number;
  /** 16 bytes; the system UUID (type 1). */
  uuid?: Uint8Array;
}

interface Structure {
  type: number;
  formatted: TableBytes;
  strings: string[];
}

/** A structure's formatted area with type/length/handle filled in (handle set later). */
function structure(type: number, length: number, strings: string[] = []): Structure {
  const formatted = new TableBytes(length);
  formatted.u8(0, type).u8(1, length);
  return { type, formatted, strings };
}

function encode(s: Structure, handle: number): Uint8Array {
  s.formatted.u16(2, handle);
  const text: number[] = [];
  for (const str of s.strings) {
    for (const c of str) text.push(c.charCodeAt(0) & 0x7f || 0x3f);
    text.push(0);
  }
  // The string set ends with an extra NUL; no strings at all is two NULs.
  if (s.strings.length === 0) text.push(0);
  text.push(0);
  const out = new Uint8Array(s.formatted.length + text.length);
  out.set(s.formatted.bytes, 0);
  out.set(text, s.formatted.length);
  return out;
}

/** Build the structure table; returns its bytes, the structure count and the largest structure. */
export function buildSmbiosStructures(cfg: SmbiosConfig): { table: Uint8Array; count: number; maxSize: number } {
  const list: Structure[] = [];
  const ramKiB = Math.floor(cfg.ramBytes / 1024);
  const ramMiB = Math.floor(cfg.ramBytes / (1 << 20));

  // Type 0, BIOS information (0x18 bytes).
  const bios = structure(0, 0x18, ['Xen', 'tsxen', '01/01/2026']);
  bios.formatted.u8(4, 1).u8(5, 2).u16(6, 0xe800).u8(8, 3).u8(9, 0);
  // Characteristics: bit 7 PCI; extension byte 1 bit 0 ACPI; byte 2 bit 4 "this is a VM".
  bios.formatted.u32(0x0a, 1 << 7).u32(0x0e, 0).u8(0x12, 0x01).u8(0x13, 0x10);
  bios.formatted.u8(0x14, 1).u8(0x15, 0).u8(0x16, 0xff).u8(0x17, 0xff);
  list.push(bios);

  // Type 1, system information (0x1B): wake-up type 6 = power switch.
  const system = structure(1, 0x1b, ['Xen', 'HVM domU', 'tsxen', '0']);
  system.formatted.u8(4, 1).u8(5, 2).u8(6, 3).u8(7, 4);
  if (cfg.uuid && cfg.uuid.length === 16) system.formatted.set(8, cfg.uuid);
  system.formatted.u8(0x18, 6).u8(0x19, 0).u8(0x1a, 0);
  list.push(system);

  // Type 3, chassis (0x0D): type 1 "other", states 3 = safe, security 2 = unknown.
  const chassis = structure(3, 0x0d, ['Xen']);
  chassis.formatted.u8(4, 1).u8(5, 0x01).u8(6, 0).u8(7, 0).u8(8, 0).u8(9, 3).u8(0x0a, 3).u8(0x0b, 3).u8(0x0c, 2);
  list.push(chassis);

  // Type 4, one processor per vCPU (0x23, SMBIOS 2.3 layout).
  for (let cpu = 0; cpu < cfg.vcpus; cpu++) {
    const p = structure(4, 0x23, [`CPU ${cpu}`, 'Xen']);
    p.formatted.u8(4, 1).u8(5, 3).u8(6, 0x01).u8(7, 2);
    p.formatted.u32(8, cfg.cpuSignature).u32(12, cfg.cpuFeatures);
    p.formatted.u8(0x10, 0).u8(0x11, 0).u16(0x12, 0).u16(0x14, 3000).u16(0x16, 3000);
    // Status: socket populated, CPU enabled. Upgrade 1 = other. No cache structures.
    p.formatted.u8(0x18, 0x41).u8(0x19, 0x01).u16(0x1a, 0xffff).u16(0x1c, 0xffff).u16(0x1e, 0xffff);
    list.push(p);
  }

  // Type 16, physical memory array (0x0F): system memory, no ECC.
  const array = structure(16, 0x0f);
  array.formatted.u8(4, 0x01).u8(5, 0x03).u8(6, 0x03).u32(7, Math.max(ramKiB, 1)).u16(0x0b, 0xfffe).u16(0x0d, 1);
  list.push(array);
  const arrayIndex = list.length - 1;

  // Type 17, memory device (0x1B): one DIMM holding all RAM, size in MiB.
  const dimm = structure(17, 0x1b, ['DIMM 0']);
  dimm.formatted.u16(6, 0xfffe).u16(8, 64).u16(0x0a, 64).u16(0x0c, Math.min(ramMiB, 0x7ffe));
  dimm.formatted.u8(0x0e, 0x09).u8(0x0f, 0).u8(0x10, 1).u8(0x11, 0).u8(0x12, 0x07).u16(0x13, 0);
  list.push(dimm);

  // Type 19, memory array mapped address (0x0F): [0, RAM) in KiB, inclusive end.
  const mapped = structure(19, 0x0f);
  mapped.formatted.u32(4, 0).u32(8, Math.max(ramKiB, 1) - 1).u8(0x0e, 1);
  list.push(mapped);

  // Type 32, system boot information (0x0B): status 0 = no errors.
  list.push(structure(32, 0x0b));
  list.push(structure(127, 4));

  // Handles are positions; type 17 and 19 point at the type 16 array.
  const arrayHandle = arrayIndex;
  dimm.formatted.u16(4, arrayHandle);
  mapped.formatted.u16(0x0c, arrayHandle);
  const encoded = list.map((s, i) => encode(s, i));
  const table = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
  let at = 0;
  let maxSize = 0;
  for (const e of encoded) {
    table.set(e, at);
    at += e.length;
    maxSize = Math.max(maxSize, e.length);
  }
  return { table, count: encoded.length, maxSize };
}

/** The SMBIOS 2.4 entry point for a structure table at `tableAddress`. */
export function buildSmbiosEntryPoint(tableAddress: number, tableLength: number, count: number, maxSize: number): Uint8Array {
  const t = new TableBytes(SMBIOS_EP_LENGTH);
  t.ascii(0, '_SM_').u8(5, SMBIOS_EP_LENGTH).u8(6, 2).u8(7, 4).u16(8, maxSize).u8(0x0a, 0);
  t.ascii(0x10, '_DMI_').u16(0x16, tableLength).u32(0x18, tableAddress).u16(0x1c, count).u8(0x1e, 0x24);
  // Intermediate checksum covers 0x10-0x1E, then the whole entry point sums to 0.
  t.checksum(0x15, 0x10, SMBIOS_EP_LENGTH);
  t.checksum(4, 0, SMBIOS_EP_LENGTH);
  return t.bytes;
}
