// The zero page ("boot_params", Linux Documentation/x86/zero-page.rst and
// boot.rst): 4 KiB the 32-bit entry finds at ESI. A loader zeroes it, copies the
// image's setup header into it and fills in what the kernel cannot know: where
// the command line and initrd are, the memory map, and who loaded it.

import {
  HDR_CMD_LINE_PTR,
  HDR_LOADFLAGS,
  HDR_RAMDISK_IMAGE,
  HDR_RAMDISK_SIZE,
  HDR_SETUP_SECTS,
  HDR_TYPE_OF_LOADER,
  HDR_VID_MODE,
  CAN_USE_HEAP,
  type BzImage,
} from './bzimage.js';
import { E820_MAX_ENTRIES, type E820Entry } from './e820.js';
import { LinuxBootError } from './linux-boot-error.js';

export const ZERO_PAGE_SIZE = 4096;

// zero-page.rst offsets.
export const ZP_E820_ENTRIES = 0x1e8;
/** Must be 0: a non-zero sentinel tells the kernel the loader did not clear the page (bootparam_utils.h). */
export const ZP_SENTINEL = 0x1ef;
export const ZP_E820_TABLE = 0x2d0;
export const E820_ENTRY_SIZE = 20;

/** type_of_loader 0xFF: "undefined" loader (boot.rst, no assigned id). */
export const LOADER_UNDEFINED = 0xff;
/** vid_mode 0xFFFF: "normal" text mode, i.e. do not ask for a video mode. */
export const VID_MODE_NORMAL = 0xffff;

export interface ZeroPageInputs {
  cmdLinePtr: number;
  /** 0/0 when there is no initrd. */
  ramdiskImage: number;
  ramdiskSize: number;
  e820: readonly E820Entry[];
}

/** Build the zero page for `image`. screen_info stays zero: no VGA console, output via console=ttyS0. */
export function buildZeroPage(image: BzImage, inputs: ZeroPageInputs): Uint8Array {
  if (inputs.e820.length > E820_MAX_ENTRIES) {
    throw new LinuxBootError(`${image.name}: the memory map has ${inputs.e820.length} entries; the zero page holds ${E820_MAX_ENTRIES}`);
  }
  const page = new Uint8Array(ZERO_PAGE_SIZE);
  const view = new DataView(page.buffer);
  // The setup header occupies the same offsets in the file and in the zero page.
  page.set(image.bytes.subarray(HDR_SETUP_SECTS, image.headerEnd), HDR_SETUP_SECTS);
  page[ZP_SENTINEL] = 0;
  view.setUint16(HDR_VID_MODE, VID_MODE_NORMAL, true);
  page[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
  // CAN_USE_HEAP only concerns the 16-bit setup code we skip; other flags stay as the image has them.
  page[HDR_LOADFLAGS] = image.loadflags & ~CAN_USE_HEAP;
  view.setUint32(HDR_CMD_LINE_PTR, inputs.cmdLinePtr, true);
  view.setUint32(HDR_RAMDISK_IMAGE, inputs.ramdiskImage, true);
  view.setUint32(HDR_RAMDISK_SIZE, inputs.ramdiskSize, true);
  // Linux ignores a table with fewer than 2 entries (falls back to alt_mem_k).
  page[ZP_E820_ENTRIES] = inputs.e820.length;
  inputs.e820.forEach((e, i) => {
    const off = ZP_E820_TABLE + i * E820_ENTRY_SIZE;
    setU64(view, off, e.addr);
    setU64(view, off + 8, e.size);
    view.setUint32(off + 16, e.type, true);
  });
  return page;
}

function setU64(view: DataView, off: number, value: number): void {
  view.setUint32(off, value % 0x100000000, true);
  view.setUint32(off + 4, Math.floor(value / 0x100000000), true);
}
