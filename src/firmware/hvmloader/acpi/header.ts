// The 36-byte header every ACPI system description table starts with (ACPI 6.x
// §5.2.6), and the 12-byte Generic Address Structure (§5.2.3.2).

import { TableBytes } from '../table-bytes.js';

export const ACPI_HEADER_LENGTH = 36;
/** Xen's hvmloader identifies itself this way (tools/libacpi); guests only print it. */
export const ACPI_OEM_ID = 'Xen';
export const ACPI_OEM_TABLE_ID = 'HVM';
export const ACPI_OEM_REVISION = 0;
export const ACPI_CREATOR_ID = 'HVML';
export const ACPI_CREATOR_REVISION = 0;

/** A table of `length` bytes with its header filled in except the checksum. */
export function acpiTable(signature: string, revision: number, length: number): TableBytes {
  const t = new TableBytes(length);
  t.ascii(0, signature, 4)
    .u32(4, length)
    .u8(8, revision)
    .ascii(10, ACPI_OEM_ID.padEnd(6, ' '), 6)
    .ascii(16, ACPI_OEM_TABLE_ID.padEnd(8, ' '), 8)
    .u32(24, ACPI_OEM_REVISION)
    .ascii(28, ACPI_CREATOR_ID, 4)
    .u32(32, ACPI_CREATOR_REVISION);
  return t;
}

/** Checksum byte (offset 9) so the whole table sums to 0; returns the bytes. */
export function sealTable(t: TableBytes): Uint8Array {
  t.checksum(9);
  return t.bytes;
}

/** Address space ids of a Generic Address Structure. */
export const GAS_MEMORY = 0;
export const GAS_IO = 1;

/** Write a GAS at `offset`: space, bit width, bit offset 0, access size, address. */
export function gas(t: TableBytes, offset: number, space: number, bitWidth: number, accessSize: number, address: number): void {
  t.u8(offset, space).u8(offset + 1, bitWidth).u8(offset + 2, 0).u8(offset + 3, accessSize).u64(offset + 4, address);
}
