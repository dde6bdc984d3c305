// Copying hypercall arguments in and out of the guest (Xen's copy_{to,from}_guest
// on an XEN_GUEST_HANDLE). An HVM guest passes linear addresses: with paging on
// they go through the guest's page tables, so the caller supplies `translate`;
// without it the address is physical (paging off: SeaBIOS, hvmloader). A bad
// address is reported (the caller returns -EFAULT), never thrown, and a copy
// out is all-or-nothing: every page is checked before any byte is written.
//
// A 32-bit caller's handles are 32-bit linear addresses (0 .. 4 GiB). A 64-bit
// caller's are 64-bit: carried as a JS number in two's complement (signed64, vcpu/backend.ts),
// so the upper canonical half is negative; an area must lie inside one canonical
// half (Xen's access_ok / __addr_ok: never across the hole at 2^47).

import type { GuestWidth } from '../../abi/guest-width.js';
import type { GuestMemory } from '../memory/guest-memory.js';

const PAGE_SIZE = 4096;
const LIMIT_32 = 0x100000000;
/** 48-bit canonical addresses: [-2^47, 2^47) as signed numbers (SDM vol 1 §3.3.7.1). */
const CANONICAL_HALF = 2 ** 47;

/**
 * Linear -> guest-physical for one byte; undefined when not mapped (or not writable
 * for `write`). A 64-bit caller's upper-half addresses arrive negative (signed64).
 */
export type LinearTranslate = (linear: number, write: boolean) => number | undefined;

/** Offset of `linear` in its page, for negative (upper-half) addresses too. */
function pageOffset(linear: number): number {
  const r = linear % PAGE_SIZE;
  return r < 0 ? r + PAGE_SIZE : r;
}

export class GuestHandleAccess {
  constructor(
    private readonly memory: GuestMemory,
    private readonly translate?: LinearTranslate,
    /** The caller's address width: 4 keeps handles below 4 GiB, 8 allows canonical 64-bit ones. */
    readonly width: GuestWidth = 4,
  ) {}

  /** [linear, linear+len) is an address range this caller can name. */
  private inRange(linear: number, len: number): boolean {
    if (!Number.isInteger(linear) || !Number.isInteger(len) || len < 0) return false;
    if (this.width === 4) return linear >= 0 && linear + len <= LIMIT_32;
    if (linear >= 0) return linear < CANONICAL_HALF && linear + len <= CANONICAL_HALF;
    return linear >= -CANONICAL_HALF && linear + len <= 0;
  }

  /** The physical pieces of [linear, linear+len), or undefined when any part is not RAM. */
  private pieces(linear: number, len: number, write: boolean): Array<[number, number]> | undefined {
    if (!this.inRange(linear, len)) return undefined;
    const out: Array<[number, number]> = [];
    let at = linear;
    const end = linear + len;
    while (at < end) {
      const chunk = Math.min(end - at, PAGE_SIZE - pageOffset(at));
      // Paging off (no translate): the address is physical, and never negative.
      const phys = this.translate ? this.translate(this.width === 4 ? at >>> 0 : at, write) : at;
      if (phys === undefined || !Number.isInteger(phys) || phys < 0) return undefined;
      if (write ? !this.memory.isRam(phys, chunk) : !this.readable(phys, chunk)) return undefined;
      out.push([phys, chunk]);
      at += chunk;
    }
    return out;
  }

  /**
   * Where [linear, linear+len) lies in guest-physical RAM now, as [gpa, length]
   * pieces (one per page crossed), or undefined when any byte is not writable RAM.
   * For areas Xen keeps updating after the call (the runstate area).
   */
  physicalRam(linear: number, len: number): Array<[number, number]> | undefined {
    return this.pieces(linear, len, true);
  }

  /** Backed frames (RAM or ROM) can be read. */
  private readable(phys: number, len: number): boolean {
    if (phys + len > 0x100000000) return false;
    for (let gfn = Math.floor(phys / PAGE_SIZE), last = Math.floor((phys + len - 1) / PAGE_SIZE); gfn <= last; gfn++) {
      if (this.memory.frameOffset[gfn] < 0) return false;
    }
    return true;
  }

  /** Copy `bytes` to the guest at `linear`. False (nothing written) when any byte is not writable RAM. */
  copyTo(linear: number, bytes: Uint8Array): boolean {
    const pieces = this.pieces(linear, bytes.length, true);
    if (!pieces) return false;
    let done = 0;
    for (const [phys, len] of pieces) {
      this.memory.write(phys, bytes.subarray(done, done + len));
      done += len;
    }
    return true;
  }

  /** Read `len` bytes from the guest at `linear`, or undefined when any byte is not backed. */
  copyFrom(linear: number, len: number): Uint8Array | undefined {
    const pieces = this.pieces(linear, len, false);
    if (!pieces) return undefined;
    const out = new Uint8Array(len);
    let done = 0;
    for (const [phys, n] of pieces) {
      // Each piece lies in one frame (RAM or ROM), so one subarray of the backing store holds it.
      const at = this.memory.frameOffset[Math.floor(phys / PAGE_SIZE)] + (phys % PAGE_SIZE);
      out.set(this.memory.bytes.subarray(at, at + n), done);
      done += n;
    }
    return out;
  }
}
