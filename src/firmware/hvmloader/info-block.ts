// The "XenHVMSeaBIOS" information block at 0x1000 through which SeaBIOS on Xen
// finds hvmloader's tables and memory map (reference/pc-platform-and-firmware.md
// §1 "Info block"; the same packed struct in hvmloader's and SeaBIOS's xen.c).

import { TableBytes } from './table-bytes.js';

export const INFO_BLOCK_ADDRESS = 0x1000;
export const INFO_BLOCK_LENGTH = 32;
export const INFO_BLOCK_SIGNATURE = 'XenHVMSeaBIOS';
/** hvmloader lists at most SMBIOS, MP, $PIR and RSDP. */
export const INFO_MAX_TABLES = 4;

export interface InfoBlockFields {
  /** Address of u32[tablesCount] table pointers. */
  tables: number;
  tablesCount: number;
  /** Address of e820Count 20-byte entries. */
  e820: number;
  e820Count: number;
}

export function buildInfoBlock(f: InfoBlockFields): Uint8Array {
  const t = new TableBytes(INFO_BLOCK_LENGTH);
  // 13 characters plus the NUL: SeaBIOS compares 14 bytes.
  t.ascii(0, INFO_BLOCK_SIGNATURE, 14).u8(14, INFO_BLOCK_LENGTH);
  t.u32(16, f.tables).u32(20, f.tablesCount).u32(24, f.e820).u32(28, f.e820Count);
  t.checksum(15);
  return t.bytes;
}
