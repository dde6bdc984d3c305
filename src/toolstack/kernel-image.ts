// Is a file a Linux bzImage? A stand-in until src/firmware/linux-boot's parseBzImage
// lands: it checks only the setup header signature. Linux boot protocol
// (Documentation/arch/x86/boot.rst): the header magic "HdrS" (0x53726448) sits at
// offset 0x202 of the image, and 0xAA55 at 0x1FE.

const HEADER_MAGIC_OFFSET = 0x202;
const HEADER_MAGIC = 0x53726448; // "HdrS", little-endian

/** Why `bytes` is not a bzImage, or null when it looks like one. */
export function bzImageProblem(bytes: Uint8Array): string | null {
  if (bytes.length < HEADER_MAGIC_OFFSET + 4) return `not a bzImage (only ${bytes.length} bytes)`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(HEADER_MAGIC_OFFSET, true) !== HEADER_MAGIC) return 'not a bzImage (no "HdrS" signature at 0x202)';
  return null;
}
