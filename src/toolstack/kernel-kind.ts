// Which boot protocol a `kernel=` file speaks. A Linux bzImage has "HdrS" at 0x202
// (Linux boot protocol, Documentation/arch/x86/boot.rst); a Multiboot v1 kernel has a
// header in its first 8192 bytes, 4-byte aligned: magic 0x1BADB002, flags, and a
// checksum making the three sum to zero mod 2^32 (Multiboot Specification 0.6.96 §3.1.1).

export const MULTIBOOT_MAGIC = 0x1badb002;
const MULTIBOOT_SEARCH_BYTES = 8192;
const HDRS_OFFSET = 0x202;
const HDRS = 0x53726448; // "HdrS" read little-endian

export type KernelKind = 'linux' | 'multiboot';

/** Offset of a valid Multiboot v1 header, or -1. */
export function findMultibootHeader(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = Math.min(bytes.length, MULTIBOOT_SEARCH_BYTES) - 12;
  for (let off = 0; off <= end; off += 4) {
    if (view.getUint32(off, true) !== MULTIBOOT_MAGIC) continue;
    const flags = view.getUint32(off + 4, true);
    const checksum = view.getUint32(off + 8, true);
    if (((MULTIBOOT_MAGIC + flags + checksum) >>> 0) === 0) return off;
  }
  return -1;
}

export function hasLinuxHeader(bytes: Uint8Array): boolean {
  if (bytes.length < HDRS_OFFSET + 4) return false;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(HDRS_OFFSET, true) === HDRS;
}

/** Multiboot when the header is there and the Linux one is not; otherwise Linux (checked by its parser). */
export function kernelKind(bytes: Uint8Array): KernelKind {
  return !hasLinuxHeader(bytes) && findMultibootHeader(bytes) >= 0 ? 'multiboot' : 'linux';
}
