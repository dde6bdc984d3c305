// The Multiboot (v0.6.96) header: a 32-bit aligned block in the first 8192 bytes
// of the image (§3.1.1): magic, flags, checksum (the three sum to zero mod 2^32),
// then the a.out-kludge address fields (§3.1.3, valid when flags bit 16 is set)
// and the graphics fields (§3.1.4, valid when bit 2 is set).

import { hex } from '../../hypervisor/types.js';
import { MultibootError } from './multiboot-error.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
/** Where the header must lie: entirely within the first 8192 bytes, 32-bit aligned (§3.1.1). */
export const MULTIBOOT_SEARCH_BYTES = 8192;
export const MULTIBOOT_HEADER_ALIGN = 4;

// §3.1.2 flags. Bits 0-15 are requirements: a loader that does not know one must refuse.
export const MULTIBOOT_PAGE_ALIGN = 1 << 0;
export const MULTIBOOT_MEMORY_INFO = 1 << 1;
export const MULTIBOOT_VIDEO_MODE = 1 << 2;
export const MULTIBOOT_AOUT_KLUDGE = 1 << 16;
/** Required bits tsxen satisfies: it always page-aligns modules and always passes memory information. */
const SUPPORTED_REQUIRED = MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO;

/** §3.1.3 address fields, physical addresses. */
export interface MultibootAddressFields {
  headerAddr: number;
  loadAddr: number;
  /** 0 = the text and data run to the end of the image file. */
  loadEndAddr: number;
  /** 0 = no bss. */
  bssEndAddr: number;
  entryAddr: number;
}

export interface MultibootHeader {
  /** Byte offset of the magic in the image. */
  offset: number;
  flags: number;
  /** Present when flags bit 16 is set. */
  address: MultibootAddressFields | undefined;
}

function u32(image: Uint8Array, at: number): number {
  return (image[at] | (image[at + 1] << 8) | (image[at + 2] << 16) | (image[at + 3] << 24)) >>> 0;
}

/** Offset of the first aligned magic in the search window whose checksum holds, or of the first magic at all (for the error). */
function locate(image: Uint8Array): { offset: number; valid: boolean } | undefined {
  const end = Math.min(image.length, MULTIBOOT_SEARCH_BYTES) - 12;
  let firstMagic: number | undefined;
  for (let at = 0; at <= end; at += MULTIBOOT_HEADER_ALIGN) {
    if (u32(image, at) !== MULTIBOOT_HEADER_MAGIC) continue;
    if (((u32(image, at) + u32(image, at + 4) + u32(image, at + 8)) >>> 0) === 0) return { offset: at, valid: true };
    firstMagic ??= at;
  }
  return firstMagic === undefined ? undefined : { offset: firstMagic, valid: false };
}

/** Find and check the header. Throws MultibootError naming `name` when there is none or it asks for something unsupported. */
export function parseMultibootHeader(image: Uint8Array, name = 'kernel'): MultibootHeader {
  const found = locate(image);
  if (!found) {
    throw new MultibootError(`${name}: no Multiboot header (magic ${hex(MULTIBOOT_HEADER_MAGIC)}) in the first ${MULTIBOOT_SEARCH_BYTES} bytes`);
  }
  const { offset } = found;
  const flags = u32(image, offset + 4);
  if (!found.valid) {
    const checksum = u32(image, offset + 8);
    throw new MultibootError(
      `${name}: Multiboot header at offset ${hex(offset)} has a bad checksum: magic + flags ${hex(flags)} + checksum ${hex(checksum)} = ${hex(MULTIBOOT_HEADER_MAGIC + flags + checksum)}, not 0`,
    );
  }
  const unsupported = flags & 0xffff & ~SUPPORTED_REQUIRED;
  if (unsupported & MULTIBOOT_VIDEO_MODE) {
    throw new MultibootError(`${name}: the Multiboot header requires a video mode (flags bit 2), which tsxen does not set up`);
  }
  if (unsupported) {
    throw new MultibootError(`${name}: the Multiboot header requires unknown features (flags ${hex(flags)}, required bits ${hex(unsupported, 4)} unsupported)`);
  }
  let address: MultibootAddressFields | undefined;
  if (flags & MULTIBOOT_AOUT_KLUDGE) {
    if (offset + 32 > image.length) throw new MultibootError(`${name}: Multiboot header at ${hex(offset)} sets flags bit 16 but the image ends before its address fields`);
    address = {
      headerAddr: u32(image, offset + 12),
      loadAddr: u32(image, offset + 16),
      loadEndAddr: u32(image, offset + 20),
      bssEndAddr: u32(image, offset + 24),
      entryAddr: u32(image, offset + 28),
    };
  }
  return { offset, flags, address };
}
