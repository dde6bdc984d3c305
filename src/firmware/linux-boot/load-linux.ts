// Direct Linux boot through the 32-bit entry point (Linux Documentation/x86/
// boot.rst, "32-bit boot protocol"): place the kernel, initrd, command line, zero
// page and a boot GDT in guest RAM and return the vCPU state the kernel expects at
// code32_start. The 16-bit setup code in the image is never run.
//
// Low-memory layout (all in conventional RAM, which Linux leaves alone until it
// has copied what it needs; it reserves the first 64 KiB itself afterwards):
//   0x00500  boot GDT, 4 entries (just above the BIOS data area at 0x400-0x4FF;
//            the decompressor loads its own GDT within its first instructions)
//   0x07000  zero page, 4 KiB (head_32.S copies it into the kernel before use)
//   0x20000  command line, up to cmdline_size + NUL (copied likewise)
// High memory: the protected-mode code at 0x100000; the kernel decompresses to
// its run address (0x1000000 for Debian's relocatable kernels with nokaslr) and
// needs init_size bytes there; the initrd goes page-aligned at the top of RAM.

import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { LinuxBootSpec } from '../../hypervisor/domain-spec.js';
import type { SegmentRegister, VcpuRegisters, VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';
import { hex } from '../../hypervisor/types.js';
import { parseBzImage, type BzImage } from './bzimage.js';
import { E820_RAM, e820FromMemory, type E820Entry } from './e820.js';
import { buildZeroPage } from './zero-page.js';
import { LinuxBootError } from './linux-boot-error.js';

export const BOOT_GDT_ADDR = 0x500;
export const ZERO_PAGE_ADDR = 0x7000;
export const CMDLINE_ADDR = 0x20000;
/** The command-line area runs up to the EBDA kilobyte below 640 KiB. */
const CMDLINE_AREA_END = 0x9fc00;
/** bzImages load their protected-mode part here (boot.rst "Loading the rest of the kernel"). */
export const KERNEL_LOAD_ADDR = 0x100000;
/**
 * Highest initrd end we use: the kernel's direct-mapped low memory with the 3G/1G
 * split is about 896 MiB less the vmalloc reserve; an initrd above it is copied.
 */
export const LOWMEM_LIMIT = 0x37fff000;

/** __BOOT_CS and __BOOT_DS (boot.rst: the 32-bit protocol's required selectors). */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;
/** Flat 4 GiB descriptors, G=1 D=1 P=1 DPL 0: execute/read code and read/write data. */
export const BOOT_CODE_DESCRIPTOR = 0x00cf9a000000ffffn;
export const BOOT_DATA_DESCRIPTOR = 0x00cf92000000ffffn;

const PAGE = 4096;
const CR0_PE = 1 << 0;
/** ET reads 1 on every processor since the 486 (SDM vol. 3A §2.5). */
const CR0_ET = 1 << 4;
/** IA32_APIC_BASE after reset on the bootstrap processor: 0xFEE00000 | enable | BSP. */
const APIC_BASE_BSP_RESET = 0xfee00900;

/** Where things went, for logs and tests. */
export interface LinuxBootLayout {
  image: BzImage;
  kernelLoad: { start: number; end: number };
  /** [run address, run address + init_size): what the decompressed kernel occupies. */
  kernelRun: { start: number; end: number };
  initrd: { start: number; size: number } | undefined;
  cmdline: { start: number; length: number };
  zeroPage: number;
  gdt: { base: number; limit: number };
  e820: E820Entry[];
}

export interface LinuxEntryState {
  regs: VcpuRegisters;
  sregs: VcpuSpecialRegisters;
  layout: LinuxBootLayout;
}

/** Load `spec` into `memory` and return the entry state. Throws LinuxBootError when it cannot fit or is invalid. */
export function loadLinux(memory: GuestMemory, spec: LinuxBootSpec, name = 'kernel'): LinuxEntryState {
  const image = parseBzImage(spec.kernel, name);
  const cmdline = encodeCmdline(image, spec.cmdline);
  const e820 = e820FromMemory(memory);
  const ramMiB = `${(memory.ramBytes / (1 << 20)).toFixed(0)} MiB`;

  const kernelLoad = { start: KERNEL_LOAD_ADDR, end: KERNEL_LOAD_ADDR + image.protectedMode.length };
  const kernelRun = runRange(image);
  const kernelEnd = Math.max(kernelLoad.end, kernelRun.end);
  if (!memory.isRam(KERNEL_LOAD_ADDR, kernelEnd - KERNEL_LOAD_ADDR)) {
    throw new LinuxBootError(
      `${name}: not enough memory: the kernel needs RAM up to ${hex(kernelEnd)} (${image.protectedMode.length} bytes at ${hex(kernelLoad.start)}, ` +
        `then init_size ${hex(image.initSize)} at ${hex(kernelRun.start)}), the guest has ${ramMiB}`,
    );
  }
  if (CMDLINE_ADDR + cmdline.length > CMDLINE_AREA_END) {
    throw new LinuxBootError(`${name}: command line of ${cmdline.length - 1} bytes does not fit below ${hex(CMDLINE_AREA_END)}`);
  }
  const initrd = spec.ramdisk && spec.ramdisk.length > 0 ? placeInitrd(image, spec.ramdisk.length, kernelEnd, e820, ramMiB) : undefined;

  const gdt = bootGdt();
  memory.write(BOOT_GDT_ADDR, gdt);
  memory.write(CMDLINE_ADDR, cmdline);
  memory.write(KERNEL_LOAD_ADDR, image.protectedMode);
  if (initrd && spec.ramdisk) memory.write(initrd.start, spec.ramdisk);
  const zeroPage = buildZeroPage(image, {
    cmdLinePtr: CMDLINE_ADDR,
    ramdiskImage: initrd?.start ?? 0,
    ramdiskSize: initrd?.size ?? 0,
    e820,
  });
  memory.write(ZERO_PAGE_ADDR, zeroPage);

  const layout: LinuxBootLayout = {
    image,
    kernelLoad,
    kernelRun,
    initrd,
    cmdline: { start: CMDLINE_ADDR, length: cmdline.length - 1 },
    zeroPage: ZERO_PAGE_ADDR,
    gdt: { base: BOOT_GDT_ADDR, limit: gdt.length - 1 },
    e820,
  };
  return { regs: entryRegisters(image), sregs: entrySpecialRegisters(layout.gdt), layout };
}

/**
 * Where the decompressor puts the kernel (compressed/head_32.S): a relocatable
 * kernel runs at its load address rounded up to kernel_alignment, but never below
 * its compiled address (pref_address); a fixed one at pref_address. With nokaslr
 * nothing moves it further.
 */
function runRange(image: BzImage): { start: number; end: number } {
  let start = image.prefAddress || KERNEL_LOAD_ADDR;
  if (image.relocatable) {
    const align = image.kernelAlignment > 0 ? image.kernelAlignment : 1;
    start = Math.max(Math.ceil(KERNEL_LOAD_ADDR / align) * align, image.prefAddress);
  }
  if (start + image.initSize > 0x100000000) {
    throw new LinuxBootError(`${image.name}: runs at ${hex(start)} with init_size ${hex(image.initSize)}, beyond 4 GiB`);
  }
  return { start, end: start + Math.max(image.initSize, image.protectedMode.length) };
}

/** The initrd: page-aligned, as high as possible in one RAM entry, below the kernel's limit and lowmem, above the kernel. */
function placeInitrd(image: BzImage, size: number, kernelEnd: number, e820: readonly E820Entry[], ramMiB: string): { start: number; size: number } {
  const ceiling = Math.min(image.initrdAddrMax + 1, LOWMEM_LIMIT);
  const floor = Math.ceil(kernelEnd / PAGE) * PAGE;
  if (floor + size > ceiling) {
    throw new LinuxBootError(
      `${image.name}: initrd too big: ${size} bytes, but only ${Math.max(0, ceiling - floor)} fit between the kernel's end ${hex(floor)} and the initrd limit ${hex(ceiling)}`,
    );
  }
  for (let i = e820.length - 1; i >= 0; i--) {
    const e = e820[i];
    if (e.type !== E820_RAM) continue;
    const top = Math.min(e.addr + e.size, ceiling);
    const start = Math.floor((top - size) / PAGE) * PAGE;
    if (start >= Math.max(e.addr, floor)) return { start, size };
  }
  throw new LinuxBootError(
    `${image.name}: not enough memory: the kernel needs RAM up to ${hex(kernelEnd)} and the initrd ${size} bytes above it; the guest has ${ramMiB}`,
  );
}

/** The command line as NUL-terminated ASCII, at most cmdline_size characters. */
function encodeCmdline(image: BzImage, cmdline: string): Uint8Array {
  if (cmdline.length > image.cmdlineSize) {
    throw new LinuxBootError(`${image.name}: command line too long: ${cmdline.length} characters, the kernel accepts ${image.cmdlineSize}`);
  }
  const bytes = new Uint8Array(cmdline.length + 1);
  for (let i = 0; i < cmdline.length; i++) {
    const c = cmdline.charCodeAt(i);
    if (c === 0 || c > 0x7e) {
      throw new LinuxBootError(`${image.name}: command line character ${i} (U+${c.toString(16).padStart(4, '0')}) is not printable ASCII`);
    }
    bytes[i] = c;
  }
  return bytes;
}

/** Null, unused, __BOOT_CS, __BOOT_DS (the layout the decompressor itself uses). */
function bootGdt(): Uint8Array {
  const gdt = new Uint8Array(32);
  const view = new DataView(gdt.buffer);
  view.setBigUint64(BOOT_CS, BOOT_CODE_DESCRIPTOR, true);
  view.setBigUint64(BOOT_DS, BOOT_DATA_DESCRIPTOR, true);
  return gdt;
}

function entryRegisters(image: BzImage): VcpuRegisters {
  // boot.rst: %esi holds the zero page; %ebp, %edi and %ebx must be zero.
  return { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: ZERO_PAGE_ADDR, edi: 0, esp: 0, ebp: 0, eip: image.code32Start, eflags: 0x2 };
}

/**
 * A flat segment as loaded from the boot GDT. The cached type has the accessed
 * bit set, as the CPU sets it on load and as VT-x requires of usable segments
 * (SDM vol. 3C §26.3.1.2).
 */
function flatSegment(selector: number, type: number): SegmentRegister {
  return { selector, base: 0, limit: 0xffffffff, type, s: 1, dpl: 0, present: 1, db: 1, g: 1, avl: 0, l: 0, unusable: 0 };
}

function entrySpecialRegisters(gdt: { base: number; limit: number }): VcpuSpecialRegisters {
  const data = (): SegmentRegister => flatSegment(BOOT_DS, 0x3);
  return {
    cs: flatSegment(BOOT_CS, 0xb),
    ds: data(),
    es: data(),
    fs: data(),
    gs: data(),
    ss: data(),
    // No task has run, but VM entry needs a usable busy 32-bit TSS in TR (SDM vol. 3C §26.3.1.2).
    tr: { selector: 0, base: 0, limit: 0x67, type: 0xb, s: 0, dpl: 0, present: 1, db: 0, g: 0, avl: 0, l: 0, unusable: 0 },
    ldt: { selector: 0, base: 0, limit: 0, type: 0x2, s: 0, dpl: 0, present: 0, db: 0, g: 0, avl: 0, l: 0, unusable: 1 },
    gdt: { base: gdt.base, limit: gdt.limit },
    idt: { base: 0, limit: 0 },
    cr0: CR0_PE | CR0_ET,
    cr2: 0,
    cr3: 0,
    cr4: 0,
    efer: 0,
    apicBase: APIC_BASE_BSP_RESET,
  };
}
