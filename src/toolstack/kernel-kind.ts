// Which boot protocol a `kernel=` file speaks. A Linux bzImage has "HdrS" at 0x202
// (Linux boot protocol, Documentation/arch/x86/boot.rst); a Multiboot v1 kernel has a
// header in its first 8192 bytes, 4-byte aligned: magic 0x1BADB002, flags, and a
// checksum making the three sum to zero mod 2^32 (Multiboot Specification 0.6.96 §3.1.1).
// And whether a bzImage is an x86-64 kernel, which the software CPU cannot run.

import { HDR_VERSION, HDR_XLOADFLAGS } from '../firmware/linux-boot/bzimage.js';

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

// ---- x86-64 kernels ---------------------------------------------------------------
// boot.rst "xloadflags" (protocol 2.12+): bit 0 XLF_KERNEL_64 says the kernel has the
// 64-bit entry point at 0x200, which only an x86-64 kernel has. Such a kernel also
// starts at its 32-bit entry, but its decompressor switches to long mode at once
// (EFER.LME, CR4.PAE, CR0.PG): a CPU without long mode cannot run past that.

/** xloadflags arrived with boot protocol 2.12. */
export const PROTOCOL_XLOADFLAGS = 0x020c;
export const XLF_KERNEL_64 = 1 << 0;

/**
 * What a bzImage's setup header says about its width: 'x86-64' (XLF_KERNEL_64 set),
 * 'x86-32' (protocol 2.12+ with the bit clear), or 'unknown' (not a bzImage, too
 * short, or older than 2.12, where the header does not say). Never throws.
 */
export type BzImageArch = 'x86-64' | 'x86-32' | 'unknown';

export function bzImageArch(bytes: Uint8Array): BzImageArch {
  if (!hasLinuxHeader(bytes) || bytes.length < HDR_XLOADFLAGS + 2) return 'unknown';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(HDR_VERSION, true) < PROTOCOL_XLOADFLAGS) return 'unknown';
  return view.getUint16(HDR_XLOADFLAGS, true) & XLF_KERNEL_64 ? 'x86-64' : 'x86-32';
}

/** A direct-boot x86-64 kernel on the software CPU, which has no long mode. `tsxen create` prints it and exits 1. */
export class LongModeKernelError extends Error {
  constructor(readonly kernel: string) {
    super(
      `kernel ${kernel} is an x86-64 kernel (xloadflags XLF_KERNEL_64); the software CPU (cpu_backend="emu") ` +
        'runs 32-bit guests only — use cpu_backend="kvm" on a host with VT-x/AMD-V, or a 686 kernel',
    );
    this.name = 'LongModeKernelError';
  }
}

/**
 * Refuse, before any vCPU runs, a bzImage the chosen backend cannot run: an x86-64
 * kernel on emu would otherwise hang or fault silently in its decompressor. KVM runs
 * both widths. Firmware (CD/disk) boots load their kernel later and are not checked.
 * `linux` is the DomainSpec's bzImage boot (absent for other boots).
 */
export function refuseLongModeKernel(backend: 'kvm' | 'emu', kernelPath: string | undefined, linux: { kernel: Uint8Array } | undefined): void {
  if (backend !== 'emu' || !linux) return;
  if (bzImageArch(linux.kernel) === 'x86-64') throw new LongModeKernelError(kernelPath ?? 'kernel=');
}
