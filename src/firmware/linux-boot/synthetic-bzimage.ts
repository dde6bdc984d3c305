// A minimal bzImage around any 32-bit code: a real setup header (boot.rst) with
// no 16-bit setup code behind it. Tests use it to exercise the loader without a
// Debian kernel, and CPU tests can boot tiny protected-mode programs through the
// same path a real kernel takes.

import {
  BOOT_FLAG,
  HDRS_MAGIC,
  HDR_BOOT_FLAG,
  HDR_CMDLINE_SIZE,
  HDR_CODE32_START,
  HDR_HEADER,
  HDR_INITRD_ADDR_MAX,
  HDR_INIT_SIZE,
  HDR_JUMP,
  HDR_KERNEL_ALIGNMENT,
  HDR_LOADFLAGS,
  HDR_MIN_ALIGNMENT,
  HDR_PAYLOAD_LENGTH,
  HDR_PAYLOAD_OFFSET,
  HDR_PREF_ADDRESS,
  HDR_RELOCATABLE,
  HDR_SETUP_SECTS,
  HDR_SYSSIZE,
  HDR_VERSION,
  LOADED_HIGH,
} from './bzimage.js';

export interface SyntheticBzImageOptions {
  /** The 32-bit code, entered at code32_start = 0x100000. */
  code: Uint8Array;
  /** Defaults mirror Debian 6.1's i386 kernels, scaled down. */
  version?: number;
  setupSects?: number;
  loadflags?: number;
  relocatable?: boolean;
  kernelAlignment?: number;
  prefAddress?: number;
  initSize?: number;
  initrdAddrMax?: number;
  cmdlineSize?: number;
}

export function makeSyntheticBzImage(o: SyntheticBzImageOptions): Uint8Array {
  const setupSects = o.setupSects ?? 4;
  const pmOffset = ((setupSects === 0 ? 4 : setupSects) + 1) * 512;
  // syssize counts 16-byte paragraphs; pad the code to a whole one.
  const pmLength = Math.ceil(o.code.length / 16) * 16;
  const image = new Uint8Array(pmOffset + pmLength);
  const view = new DataView(image.buffer);
  image[HDR_SETUP_SECTS] = setupSects;
  view.setUint32(HDR_SYSSIZE, pmLength / 16, true);
  view.setUint16(HDR_BOOT_FLAG, BOOT_FLAG, true);
  // Short jump over the header to 0x202 + 0x6A = 0x26C, as in Linux 6.1.
  image[HDR_JUMP] = 0xeb;
  image[HDR_JUMP + 1] = 0x6a;
  view.setUint32(HDR_HEADER, HDRS_MAGIC, true);
  view.setUint16(HDR_VERSION, o.version ?? 0x020f, true);
  image[HDR_LOADFLAGS] = o.loadflags ?? LOADED_HIGH;
  view.setUint32(HDR_CODE32_START, 0x100000, true);
  view.setUint32(HDR_INITRD_ADDR_MAX, o.initrdAddrMax ?? 0x7fffffff, true);
  view.setUint32(HDR_KERNEL_ALIGNMENT, o.kernelAlignment ?? 0x200000, true);
  image[HDR_RELOCATABLE] = (o.relocatable ?? true) ? 1 : 0;
  image[HDR_MIN_ALIGNMENT] = 13;
  view.setUint32(HDR_CMDLINE_SIZE, o.cmdlineSize ?? 0x7ff, true);
  view.setUint32(HDR_PAYLOAD_OFFSET, 0, true);
  view.setUint32(HDR_PAYLOAD_LENGTH, o.code.length, true);
  view.setUint32(HDR_PREF_ADDRESS, o.prefAddress ?? 0x200000, true);
  view.setUint32(HDR_INIT_SIZE, o.initSize ?? 0x100000, true);
  image.set(o.code, pmOffset);
  return image;
}
