// Parse a Linux bzImage's setup header (Linux Documentation/x86/boot.rst, "The
// real-mode kernel header"; field offsets are file offsets and equal the zero-page
// offsets). Only what a 32-bit direct-entry loader needs, validated up front so
// the loader never reads past the file.

import { hex } from '../../hypervisor/types.js';
import { LinuxBootError } from './linux-boot-error.js';

// Header offsets (boot.rst §"The real-mode kernel header").
export const HDR_SETUP_SECTS = 0x1f1;
export const HDR_SYSSIZE = 0x1f4;
export const HDR_VID_MODE = 0x1fa;
export const HDR_BOOT_FLAG = 0x1fe;
export const HDR_JUMP = 0x200;
export const HDR_HEADER = 0x202;
export const HDR_VERSION = 0x206;
export const HDR_KERNEL_VERSION = 0x20e;
export const HDR_TYPE_OF_LOADER = 0x210;
export const HDR_LOADFLAGS = 0x211;
export const HDR_CODE32_START = 0x214;
export const HDR_RAMDISK_IMAGE = 0x218;
export const HDR_RAMDISK_SIZE = 0x21c;
export const HDR_CMD_LINE_PTR = 0x228;
export const HDR_INITRD_ADDR_MAX = 0x22c;
export const HDR_KERNEL_ALIGNMENT = 0x230;
export const HDR_RELOCATABLE = 0x234;
export const HDR_MIN_ALIGNMENT = 0x235;
export const HDR_XLOADFLAGS = 0x236;
export const HDR_CMDLINE_SIZE = 0x238;
export const HDR_PAYLOAD_OFFSET = 0x248;
export const HDR_PAYLOAD_LENGTH = 0x24c;
export const HDR_PREF_ADDRESS = 0x258;
export const HDR_INIT_SIZE = 0x260;

export const BOOT_FLAG = 0xaa55;
/** "HdrS" read as a little-endian u32. */
export const HDRS_MAGIC = 0x53726448;
/** cmdline_size and a usable initrd_addr_max arrived with 2.06 (boot.rst). */
export const MIN_PROTOCOL = 0x0206;
/** pref_address and init_size arrived with 2.10. */
const PROTOCOL_INIT_SIZE = 0x020a;
/** payload_offset/length arrived with 2.08. */
const PROTOCOL_PAYLOAD = 0x0208;

// loadflags bits (boot.rst "loadflags").
export const LOADED_HIGH = 1 << 0;
export const KASLR_FLAG = 1 << 1;
export const QUIET_FLAG = 1 << 5;
export const CAN_USE_HEAP = 1 << 7;

export interface BzImage {
  /** File name, for error messages. */
  name: string;
  /** The whole file. */
  bytes: Uint8Array;
  /** setup_sects as stored (0 means 4). */
  setupSects: number;
  /** File offset of the protected-mode code: (setup_sects + 1) * 512. */
  protectedModeOffset: number;
  /** The protected-mode part (the file's tail), loaded at 0x100000. */
  protectedMode: Uint8Array;
  /** syssize: protected-mode size in 16-byte paragraphs. */
  syssize: number;
  /** End of the setup header: 0x202 + the jump's displacement byte. */
  headerEnd: number;
  /** Boot protocol version, e.g. 0x020F. */
  version: number;
  loadflags: number;
  code32Start: number;
  /** Highest address the initrd may occupy (inclusive). */
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  minAlignment: number;
  xloadflags: number;
  /** Longest command line the kernel accepts, without the NUL. */
  cmdlineSize: number;
  /** Offset of the compressed payload from the protected-mode start (0 before 2.08). */
  payloadOffset: number;
  payloadLength: number;
  /** Preferred (default) decompression address (0 before 2.10). */
  prefAddress: number;
  /** Bytes the kernel needs from its run address while decompressing and booting (0 before 2.10). */
  initSize: number;
  /** The version string the header points at, e.g. "6.1.0-50-686 (debian-kernel@...) #1 SMP ...". */
  kernelVersion: string | undefined;
}

function u16(b: Uint8Array, off: number): number {
  return b[off] | (b[off + 1] << 8);
}
function u32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

/** Validate a bzImage and return its header fields. Throws LinuxBootError naming the file and the problem. */
export function parseBzImage(bytes: Uint8Array, name: string): BzImage {
  const fail = (why: string): never => {
    throw new LinuxBootError(`${name}: ${why}`);
  };
  if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    fail('not a Linux bzImage (an ELF file: an uncompressed vmlinux? direct boot needs the bzImage)');
  }
  if (bytes.length < HDR_VERSION + 2) fail(`not a Linux bzImage (${bytes.length} bytes, too short for a setup header)`);
  const bootFlag = u16(bytes, HDR_BOOT_FLAG);
  if (bootFlag !== BOOT_FLAG) fail(`not a Linux bzImage (boot_flag at 0x1FE is ${hex(bootFlag, 4)}, expected 0xaa55)`);
  if (u32(bytes, HDR_HEADER) !== HDRS_MAGIC) fail('not a Linux bzImage (no HdrS signature at 0x202)');
  const version = u16(bytes, HDR_VERSION);
  if (version < MIN_PROTOCOL) {
    fail(`boot protocol ${protocolName(version)} is too old (need ${protocolName(MIN_PROTOCOL)} or newer)`);
  }
  // The header is variable-length: it ends where the 2-byte short jump at 0x200 lands.
  if (bytes[HDR_JUMP] !== 0xeb) fail(`no short jump (EB xx) at 0x200 before the setup header (found ${hex(bytes[HDR_JUMP], 2)})`);
  const headerEnd = HDR_HEADER + bytes[HDR_JUMP + 1];
  // 2.06 defines fields up to cmdline_size (0x23C); newer ones must cover what they define.
  const needEnd = version >= PROTOCOL_INIT_SIZE ? HDR_INIT_SIZE + 4 : version >= PROTOCOL_PAYLOAD ? HDR_PAYLOAD_LENGTH + 4 : HDR_CMDLINE_SIZE + 4;
  if (headerEnd < needEnd) {
    fail(`setup header ends at ${hex(headerEnd, 3)} but protocol ${protocolName(version)} defines fields up to ${hex(needEnd, 3)}`);
  }
  const setupSects = bytes[HDR_SETUP_SECTS];
  const protectedModeOffset = ((setupSects === 0 ? 4 : setupSects) + 1) * 512;
  if (bytes.length < Math.max(protectedModeOffset, headerEnd)) {
    fail(`truncated: ${bytes.length} bytes, but the setup code alone is ${protectedModeOffset} bytes (setup_sects ${setupSects})`);
  }
  const loadflags = bytes[HDR_LOADFLAGS];
  if ((loadflags & LOADED_HIGH) === 0) fail('is a zImage (loadflags.LOADED_HIGH clear: loads at 0x10000); only bzImages are supported');
  const syssize = u32(bytes, HDR_SYSSIZE);
  const tail = bytes.length - protectedModeOffset;
  if (syssize * 16 > tail) {
    fail(`truncated: syssize says ${syssize * 16} bytes of protected-mode code but the file has ${tail} after the ${protectedModeOffset}-byte setup`);
  }
  const cmdlineSize = u32(bytes, HDR_CMDLINE_SIZE);
  const newer = version >= PROTOCOL_INIT_SIZE;
  const payload = version >= PROTOCOL_PAYLOAD;
  return {
    name,
    bytes,
    setupSects,
    protectedModeOffset,
    protectedMode: bytes.subarray(protectedModeOffset),
    syssize,
    headerEnd,
    version,
    loadflags,
    code32Start: u32(bytes, HDR_CODE32_START),
    initrdAddrMax: u32(bytes, HDR_INITRD_ADDR_MAX),
    kernelAlignment: u32(bytes, HDR_KERNEL_ALIGNMENT),
    relocatable: bytes[HDR_RELOCATABLE] !== 0,
    minAlignment: bytes[HDR_MIN_ALIGNMENT],
    xloadflags: u16(bytes, HDR_XLOADFLAGS),
    cmdlineSize,
    payloadOffset: payload ? u32(bytes, HDR_PAYLOAD_OFFSET) : 0,
    payloadLength: payload ? u32(bytes, HDR_PAYLOAD_LENGTH) : 0,
    // A 32-bit loader can only use a pref_address below 4 GiB; the high half is kept for the error.
    prefAddress: newer ? u32(bytes, HDR_PREF_ADDRESS) + u32(bytes, HDR_PREF_ADDRESS + 4) * 0x100000000 : 0,
    initSize: newer ? u32(bytes, HDR_INIT_SIZE) : 0,
    kernelVersion: readKernelVersion(bytes, protectedModeOffset),
  };
}

/** "2.15" for 0x020F. */
export function protocolName(version: number): string {
  return `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
}

/** kernel_version (0x20E) points, from 0x200, at a NUL-terminated string inside the setup code; absent when 0 or bad. */
function readKernelVersion(bytes: Uint8Array, setupEnd: number): string | undefined {
  const ptr = u16(bytes, HDR_KERNEL_VERSION);
  if (ptr === 0) return undefined;
  const start = HDR_JUMP + ptr;
  if (start >= setupEnd) return undefined;
  let end = start;
  while (end < setupEnd && end - start < 256 && bytes[end] !== 0) end++;
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c < 0x20 || c > 0x7e) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}
