// Guest-physical memory of one domain.
//
// RAM lives in one SharedArrayBuffer so that the domain's worker, dom0's backends
// and (on kvm) the mmap'd KVM memory slot all see the same bytes with no copies.
// The 4 GiB physical space is described per 4 KiB frame: a frame is either backed
// by bytes of that buffer (RAM, or ROM appended after RAM) or it is MMIO, which the
// CPU backends send to the IoBus through VmOps.
//
// Every access from outside the CPU (loaders, devices doing DMA, PV backends) goes
// through the bounds-checked methods here; a bad guest address is a GuestMemoryError
// naming the address, never an out-of-range typed-array write.

import { hex, type Gpa } from '../types.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const FRAMES_4G = 1 << 20;

/** Legacy VGA window: MMIO on every PC, never RAM (E820 reserves it). */
export const VGA_HOLE_START = 0xa0000;
export const VGA_HOLE_END = 0xc0000;
/** Start of the PCI/firmware MMIO hole below 4 GiB (hvmloader's default). */
export const MMIO_HOLE_START = 0xf0000000;

export class GuestMemoryError extends Error {
  constructor(
    message: string,
    readonly address: number,
  ) {
    super(message);
    this.name = 'GuestMemoryError';
  }
}

export interface GuestMemoryLayout {
  /** RAM size in bytes; a multiple of 4 KiB. */
  ramBytes: number;
  /** Extra backing bytes reserved after RAM for ROM images (BIOS, option ROMs). */
  romBytes?: number;
}

export class GuestMemory {
  /** The shared backing store: RAM first, then ROM space. */
  readonly buffer: SharedArrayBuffer;
  /** Byte view of the whole backing store; CPU fast paths index it directly. */
  readonly bytes: Uint8Array;
  readonly ramBytes: number;
  /**
   * frameOffset[gfn] = byte offset of that frame in `bytes`, or -1 when the frame is
   * MMIO (or unbacked: reads all ones, writes dropped, via the bus).
   */
  readonly frameOffset: Int32Array;
  /** frameReadOnly[gfn] = 1 for ROM frames: CPU writes are dropped, DMA is refused. */
  readonly frameReadOnly: Uint8Array;
  private romUsed = 0;
  private readonly writeListeners: Array<(firstGfn: number, lastGfn: number) => void> = [];
  private readonly remapListeners: Array<(firstGfn: number, lastGfn: number) => void> = [];

  constructor(layout: GuestMemoryLayout, existing?: SharedArrayBuffer) {
    const { ramBytes } = layout;
    const romBytes = layout.romBytes ?? 0;
    if (!Number.isInteger(ramBytes) || ramBytes <= 0 || ramBytes % PAGE_SIZE !== 0) {
      throw new RangeError(`guest RAM size ${ramBytes} is not a positive multiple of 4 KiB`);
    }
    if (ramBytes > MMIO_HOLE_START) {
      throw new RangeError(`guest RAM of ${ramBytes >>> 20} MiB does not fit below the MMIO hole at ${hex(MMIO_HOLE_START)}`);
    }
    this.ramBytes = ramBytes;
    const total = ramBytes + romBytes;
    if (existing) {
      if (existing.byteLength !== total) throw new RangeError(`shared RAM buffer has ${existing.byteLength} bytes, expected ${total}`);
      this.buffer = existing;
    } else {
      this.buffer = new SharedArrayBuffer(total);
    }
    this.bytes = new Uint8Array(this.buffer);
    this.frameOffset = new Int32Array(FRAMES_4G).fill(-1);
    this.frameReadOnly = new Uint8Array(FRAMES_4G);
    for (let gfn = 0; gfn < ramBytes >>> PAGE_SHIFT; gfn++) this.frameOffset[gfn] = gfn << PAGE_SHIFT;
    for (let gfn = VGA_HOLE_START >>> PAGE_SHIFT; gfn < VGA_HOLE_END >>> PAGE_SHIFT; gfn++) this.frameOffset[gfn] = -1;
  }

  /**
   * Reserve `size` bytes (rounded up to pages) of backing store beyond RAM for a ROM
   * image or device memory (VRAM); returns its offset in `bytes`. Zero-filled.
   */
  allocateBacking(size: number): number {
    const bytes = alignUp(size, PAGE_SIZE);
    const offset = this.ramBytes + this.romUsed;
    if (!(bytes > 0) || offset + bytes > this.bytes.length) {
      throw new RangeError(`no backing store left for ${size} bytes (${this.bytes.length - offset} free)`);
    }
    this.romUsed += bytes;
    return offset;
  }

  /** Copy a ROM image into fresh backing store; returns its offset (map it with mapRom). */
  loadRom(image: Uint8Array): number {
    const offset = this.allocateBacking(image.length);
    this.bytes.set(image, offset);
    return offset;
  }

  /** Map `size` bytes of backing store at `offset` read-only at guest address `base`. */
  mapRom(base: Gpa | number, offset: number, size: number): void {
    this.mapBacking(base, offset, size, true);
  }

  /**
   * Map backing store (not RAM) at guest-physical `base`: a ROM, or a RAM-like PCI BAR
   * such as VRAM, which the CPU then reaches at RAM speed. RAM frames win over a
   * mapping placed on top of them (the memory controller decodes RAM first), so
   * those frames are left alone — unless `overRam` (a BIOS ROM aliased below 1 MiB
   * hides the RAM under it, as the chipset's PAM registers do at reset).
   */
  mapBacking(base: Gpa | number, offset: number, size: number, readOnly: boolean, overRam = false): void {
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || offset % PAGE_SIZE !== 0 || size <= 0) {
      throw new RangeError(`backing mapping at ${hex(base)}+${hex(size)} is not page aligned`);
    }
    if (base + size > 0x100000000 || offset < this.ramBytes || offset + size > this.bytes.length) {
      throw new RangeError(`backing mapping at ${hex(base)}+${hex(size)} (store offset ${hex(offset)}) is out of range`);
    }
    const first = base >>> PAGE_SHIFT;
    const count = size >>> PAGE_SHIFT;
    for (let i = 0; i < count; i++) {
      const gfn = first + i;
      if (!overRam && this.isRamFrame(gfn)) continue;
      this.frameOffset[gfn] = offset + (i << PAGE_SHIFT);
      this.frameReadOnly[gfn] = readOnly ? 1 : 0;
    }
    this.notifyRemap(first, first + count - 1);
  }

  /** Undo mapBacking over [base, base+size): those frames become MMIO (bus) again; RAM is untouched. */
  unmapBacking(base: Gpa | number, size: number): void {
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size <= 0 || base + size > 0x100000000) {
      throw new RangeError(`backing unmapping at ${hex(base)}+${hex(size)} is not page aligned`);
    }
    const first = base >>> PAGE_SHIFT;
    const count = size >>> PAGE_SHIFT;
    for (let gfn = first; gfn < first + count; gfn++) {
      if (this.isRamFrame(gfn)) continue;
      this.frameOffset[gfn] = -1;
      this.frameReadOnly[gfn] = 0;
    }
    this.notifyRemap(first, first + count - 1);
  }

  /** Register a callback told when frames change what backs them: CPU TLBs and decode caches must drop them. */
  onRemap(listener: (firstGfn: number, lastGfn: number) => void): void {
    this.remapListeners.push(listener);
  }

  private isRamFrame(gfn: number): boolean {
    const off = this.frameOffset[gfn];
    return off >= 0 && off < this.ramBytes && off === gfn * PAGE_SIZE;
  }

  private notifyRemap(first: number, last: number): void {
    for (const l of this.remapListeners) l(first, last);
  }

  /** True when [addr, addr+len) is entirely backed, writable RAM. */
  isRam(addr: number, len = 1): boolean {
    if (!(addr >= 0) || len < 0 || addr + len > 0x100000000) return false;
    for (let gfn = addr >>> PAGE_SHIFT, last = (addr + len - 1) >>> PAGE_SHIFT; gfn <= last; gfn++) {
      if (this.frameOffset[gfn] < 0 || this.frameReadOnly[gfn]) return false;
    }
    return true;
  }

  /** Register a callback told about writes from outside the CPU (DMA, loaders): decode caches drop those frames. */
  onWrite(listener: (firstGfn: number, lastGfn: number) => void): void {
    this.writeListeners.push(listener);
  }

  /** Offset in `bytes` of [addr, addr+len), which must lie in RAM contiguous in the backing store. */
  private ramOffset(addr: number, len: number, forWrite: boolean): number {
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > 0x100000000) {
      throw new GuestMemoryError(`guest address range ${hex(addr)}+${len} is outside the physical address space`, addr);
    }
    if (len === 0) return 0;
    const first = addr >>> PAGE_SHIFT;
    const base = this.frameOffset[first];
    const last = (addr + len - 1) >>> PAGE_SHIFT;
    for (let gfn = first; gfn <= last; gfn++) {
      const off = this.frameOffset[gfn];
      if (off < 0 || off !== base + ((gfn - first) << PAGE_SHIFT)) {
        throw new GuestMemoryError(`guest address ${hex(gfn << PAGE_SHIFT)} is not RAM`, gfn << PAGE_SHIFT);
      }
      if (forWrite && this.frameReadOnly[gfn]) {
        throw new GuestMemoryError(`guest address ${hex(gfn << PAGE_SHIFT)} is read-only`, gfn << PAGE_SHIFT);
      }
    }
    return base + (addr & (PAGE_SIZE - 1));
  }

  /** A live view of guest RAM for DMA (no copy). Bounds-checked. */
  view(addr: Gpa | number, len: number, forWrite = false): Uint8Array {
    const off = this.ramOffset(addr, len, forWrite);
    if (forWrite) this.notifyWrite(addr, len);
    return this.bytes.subarray(off, off + len);
  }

  read(addr: Gpa | number, len: number): Uint8Array {
    return this.view(addr, len).slice();
  }

  write(addr: Gpa | number, data: Uint8Array): void {
    const off = this.ramOffset(addr, data.length, true);
    this.bytes.set(data, off);
    this.notifyWrite(addr, data.length);
  }

  fill(addr: Gpa | number, len: number, value = 0): void {
    const off = this.ramOffset(addr, len, true);
    this.bytes.fill(value, off, off + len);
    this.notifyWrite(addr, len);
  }

  readU8(addr: Gpa | number): number {
    return this.bytes[this.ramOffset(addr, 1, false)];
  }
  readU16(addr: Gpa | number): number {
    const o = this.ramOffset(addr, 2, false);
    return this.bytes[o] | (this.bytes[o + 1] << 8);
  }
  readU32(addr: Gpa | number): number {
    const o = this.ramOffset(addr, 4, false);
    const b = this.bytes;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }
  writeU8(addr: Gpa | number, v: number): void {
    this.bytes[this.ramOffset(addr, 1, true)] = v;
    this.notifyWrite(addr, 1);
  }
  writeU16(addr: Gpa | number, v: number): void {
    const o = this.ramOffset(addr, 2, true);
    this.bytes[o] = v;
    this.bytes[o + 1] = v >>> 8;
    this.notifyWrite(addr, 2);
  }
  writeU32(addr: Gpa | number, v: number): void {
    const o = this.ramOffset(addr, 4, true);
    const b = this.bytes;
    b[o] = v;
    b[o + 1] = v >>> 8;
    b[o + 2] = v >>> 16;
    b[o + 3] = v >>> 24;
    this.notifyWrite(addr, 4);
  }

  private notifyWrite(addr: number, len: number): void {
    if (len === 0 || this.writeListeners.length === 0) return;
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + len - 1) >>> PAGE_SHIFT;
    for (const l of this.writeListeners) l(first, last);
  }
}

export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}
