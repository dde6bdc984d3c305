// Linear-address memory access: paging (32-bit, 4 MiB pages, PAE), the software
// TLB, A/D bits, #PF with Intel's error codes, MMIO and ROM routing, and the
// self-modifying-code hook. (SDM vol. 3A ch. 4 "Paging".)
//
// CONTRACT (callers: the core, the system code, the FPU):
// - Addresses are linear int32. Accesses may cross page boundaries and may be
//   unaligned; each byte is translated correctly.
// - `user` accesses are those made at CPL 3; the plain methods take it from
//   cpu.cpl. The *Sys methods are implicit supervisor accesses (GDT/LDT/IDT/TSS
//   reads, interrupt stack pushes of the new privilege level), SDM §4.6.1.
// - A failed translation sets CR2 and throws CpuException(EXC_PF, errorCode).
// - A write to a physical frame with cpu code-cache entries calls
//   `onCodeWrite(physAddr, len)` BEFORE returning, so self-modifying code is seen.
// - Non-RAM physical addresses go to cpu.ops.mmioRead/mmioWrite; ROM frames read
//   from the backing store and drop writes.
// - When the p2m changes (frameOffset/frameReadOnly of a mapped frame), the
//   hypervisor must call flush(true).
// - Code frames: a frame with codePages[gfn] != 0 never gets a fast write entry.
//   Existing fast write entries of a frame are turned slow by protectCodeFrame(gfn),
//   which translate(…, ACCESS_EXEC, …) also calls itself, so a decode cache that
//   translates EIP before decoding needs nothing more.
//
// SOFTWARE TLB. Four direct-mapped Int32Arrays indexed by linear page number
// (read/write x supervisor/user; exec uses the read arrays plus a no-exec byte).
// An entry is one of
//   -1                     invalid: walk the page tables;
//   1                      valid translation that must take the slow path (MMIO,
//                          ROM writes, frames holding decoded code, RAM offsets
//                          >= 2 GiB); the frame is tlbFrame[lp];
//   off ^ (lp << 12)       fast: RAM backing offset XOR linear page, so
//                          `e ^ linear` is the byte index in memory.bytes.
// Fast entries have their low 12 bits clear, the others bit 0 set, so one test
// `((e | linear) & (size - 1)) === 0` checks "fast and aligned". A write entry
// exists only once D=1. Every filled page number is kept in a list (non-global /
// global) so flushes touch only what was filled.

import { CR0_WP, type CpuState } from './state.js';
import { PageWalk } from './page-walk.js';

/** Access kinds for translate(). */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;

const PAGES = 1 << 20;
const INVALID = -1;
const SLOW = 1;
/** Capacity of each filled-page list before a flush falls back to clearing everything. */
const LIST_CAPACITY = 1 << 15;
const TWO32 = 0x100000000;
/** Fast entries need the byte index to stay a non-negative int32. */
const FAST_OFFSET_LIMIT = 0x7fffe000;

export class Mmu {
  /** Called for CPU writes landing on a frame that holds decoded code. */
  onCodeWrite: (physAddr: number, len: number) => void = () => {};
  /** codePages[gfn] != 0: the frame holds decoded instructions; writes to it must call onCodeWrite. */
  readonly codePages = new Uint8Array(1 << 24);

  // TLB arrays (see the header comment). Public for the block compiler's inline
  // fast path (block-inline.ts), which only reads them.
  readonly readSup = new Int32Array(PAGES).fill(INVALID);
  readonly readUser = new Int32Array(PAGES).fill(INVALID);
  readonly writeSup = new Int32Array(PAGES).fill(INVALID);
  readonly writeUser = new Int32Array(PAGES).fill(INVALID);
  /** Frame number (gfn, may exceed 2^20 under PAE) of every valid entry at lp. */
  private readonly tlbFrame = new Int32Array(PAGES);
  /** 1 when the read entries at lp may not be used for instruction fetch (XD). */
  private readonly noExec = new Uint8Array(PAGES);
  /** Bit 0: lp is in the non-global list; bit 1: in the global list. */
  private readonly listed = new Uint8Array(PAGES);
  private readonly localList = new Int32Array(LIST_CAPACITY);
  private localCount = 0;
  private readonly globalList = new Int32Array(LIST_CAPACITY);
  private globalCount = 0;
  /** Per 4 MiB linear region: some entry was filled from a large page (INVLPG must drop the region). */
  private readonly largeRegion = new Uint8Array(1024);
  /** Per RAM frame (< 4 GiB): some fast write entry may point at it (protectCodeFrame must look). */
  private readonly fastWritable = new Uint8Array(PAGES);

  readonly bytes: Uint8Array;
  readonly u16: Uint16Array;
  /** RAM as int32 words: the fast path's `i32[(e ^ linear) >> 2]`. */
  readonly i32: Int32Array;
  private readonly pageWalk: PageWalk;

  constructor(private readonly cpu: CpuState) {
    const buf = cpu.memory.buffer;
    this.bytes = cpu.memory.bytes;
    this.u16 = new Uint16Array(buf, 0, buf.byteLength >>> 1);
    this.i32 = new Int32Array(buf, 0, buf.byteLength >>> 2);
    this.pageWalk = new PageWalk(cpu);
  }

  // ---- translation -----------------------------------------------------------

  /** Linear → physical for `access` (ACCESS_*), as CPL `user` (true = CPL 3). Throws #PF. */
  translate(linear: number, access: number, user: boolean): number {
    const lp = linear >>> 12;
    const e = this.entryArray(access, user)[lp];
    if (e !== INVALID && (access !== ACCESS_EXEC || this.noExec[lp] === 0)) {
      const gfn = this.tlbFrame[lp];
      // Code is about to be decoded from this frame: writes to it must leave the fast path.
      if (access === ACCESS_EXEC && gfn < PAGES && this.fastWritable[gfn] !== 0) this.protectCodeFrame(gfn);
      return gfn * 4096 + (linear & 0xfff);
    }
    const phys = this.fill(linear, access, user);
    if (access === ACCESS_EXEC) {
      const gfn = Math.floor(phys / 4096);
      if (gfn < PAGES && this.fastWritable[gfn] !== 0) this.protectCodeFrame(gfn);
    }
    return phys;
  }

  private entryArray(access: number, user: boolean): Int32Array {
    if (access === ACCESS_WRITE) return user ? this.writeUser : this.writeSup;
    return user ? this.readUser : this.readSup;
  }

  /**
   * Walk the page tables and install the result for every privilege and access
   * kind the walk allows (supervisor reads always; user when U/S=1; writes once
   * D=1 and R/W permits, CR0.WP deciding for supervisor). Returns the physical address.
   */
  private fill(linear: number, access: number, user: boolean): number {
    const w = this.pageWalk;
    w.walk(linear, access, user);
    const lp = linear >>> 12;
    const gfn = Math.floor(w.phys / 4096);
    // Keep every valid entry at lp pointing at one frame, so translate() and the fast path agree.
    if (this.tlbFrame[lp] !== gfn) this.dropPage(lp);
    this.tlbFrame[lp] = gfn;
    this.noExec[lp] = w.noExec ? 1 : 0;
    const mem = this.cpu.memory;
    const ram = w.phys < TWO32 ? mem.frameOffset[gfn] : -1;
    const fastRead = ram >= 0 && ram <= FAST_OFFSET_LIMIT;
    const readEntry = fastRead ? ram ^ (lp << 12) : SLOW;
    const fastWrite = fastRead && mem.frameReadOnly[gfn] === 0 && this.codePages[gfn] === 0;
    const writeEntry = fastWrite ? readEntry : SLOW;
    this.readSup[lp] = readEntry;
    if (w.user) this.readUser[lp] = readEntry;
    if (w.dirty) {
      const wp = (this.cpu.cr0 & CR0_WP) !== 0;
      let filled = false;
      if (w.writable || !wp) {
        this.writeSup[lp] = writeEntry;
        filled = true;
      }
      if (w.writable && w.user) {
        this.writeUser[lp] = writeEntry;
        filled = true;
      }
      if (filled && fastWrite) this.fastWritable[gfn] = 1;
    }
    if (w.large) this.largeRegion[lp >>> 10] = 1;
    this.track(lp, w.global);
    return w.phys;
  }

  private track(lp: number, global: boolean): void {
    const bit = global ? 2 : 1;
    if ((this.listed[lp] & bit) !== 0) return;
    if (global) {
      if (this.globalCount === LIST_CAPACITY) return this.flushAll(lp, bit);
      this.globalList[this.globalCount++] = lp;
    } else {
      if (this.localCount === LIST_CAPACITY) return this.flushAll(lp, bit);
      this.localList[this.localCount++] = lp;
    }
    this.listed[lp] |= bit;
  }

  /** A list overflowed: clear the whole TLB except the entry just filled at `keep`. */
  private flushAll(keep: number, bit: number): void {
    const saved = [this.readSup[keep], this.readUser[keep], this.writeSup[keep], this.writeUser[keep]];
    this.readSup.fill(INVALID);
    this.readUser.fill(INVALID);
    this.writeSup.fill(INVALID);
    this.writeUser.fill(INVALID);
    this.listed.fill(0);
    this.localCount = this.globalCount = 0;
    this.readSup[keep] = saved[0];
    this.readUser[keep] = saved[1];
    this.writeSup[keep] = saved[2];
    this.writeUser[keep] = saved[3];
    if (bit === 2) this.globalList[this.globalCount++] = keep;
    else this.localList[this.localCount++] = keep;
    this.listed[keep] = bit;
  }

  private dropPage(lp: number): void {
    this.readSup[lp] = INVALID;
    this.readUser[lp] = INVALID;
    this.writeSup[lp] = INVALID;
    this.writeUser[lp] = INVALID;
  }

  /** Drop every TLB entry (`includeGlobal`: also G=1 ones), after CR3/CR0/CR4 changes. */
  flush(includeGlobal: boolean): void {
    const local = this.localList;
    for (let i = 0; i < this.localCount; i++) {
      const lp = local[i];
      this.dropPage(lp);
      this.listed[lp] &= ~1;
    }
    this.localCount = 0;
    if (includeGlobal) {
      const global = this.globalList;
      for (let i = 0; i < this.globalCount; i++) {
        const lp = global[i];
        this.dropPage(lp);
        this.listed[lp] = 0;
      }
      this.globalCount = 0;
      this.largeRegion.fill(0);
    }
  }

  /** INVLPG: drop the entries covering `linear`, global included (and any large page around it). */
  invalidatePage(linear: number): void {
    const lp = linear >>> 12;
    const region = lp >>> 10;
    if (this.largeRegion[region] !== 0) {
      // The page may have come from a 4 MiB / 2 MiB mapping: drop the whole 4 MiB region.
      for (let p = region << 10, end = p + 1024; p < end; p++) this.dropPage(p);
      this.largeRegion[region] = 0;
    } else {
      this.dropPage(lp);
    }
  }

  /**
   * The core is about to cache decoded code from frame `gfn` (and sets
   * codePages[gfn]): turn fast write entries for that frame into slow ones so
   * every later write calls onCodeWrite.
   */
  protectCodeFrame(gfn: number): void {
    if (gfn >= PAGES || this.fastWritable[gfn] === 0) return;
    this.fastWritable[gfn] = 0;
    this.protectIn(this.localList, this.localCount, gfn);
    this.protectIn(this.globalList, this.globalCount, gfn);
  }

  private protectIn(list: Int32Array, count: number, gfn: number): void {
    for (let i = 0; i < count; i++) {
      const lp = list[i];
      if (this.tlbFrame[lp] !== gfn) continue;
      if (this.writeSup[lp] !== INVALID) this.writeSup[lp] = SLOW;
      if (this.writeUser[lp] !== INVALID) this.writeUser[lp] = SLOW;
    }
  }

  // ---- physical access -------------------------------------------------------

  private physRead(p: number, size: number): number {
    if (p < TWO32) {
      const off = this.cpu.memory.frameOffset[p >>> 12];
      if (off >= 0) {
        const i = off + (p & 0xfff);
        const b = this.bytes;
        if (size === 1) return b[i];
        if (size === 2) return b[i] | (b[i + 1] << 8);
        return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
      }
      const v = this.cpu.ops.mmioRead(p, size as 1 | 2 | 4);
      return size === 4 ? v | 0 : v & (size === 1 ? 0xff : 0xffff);
    }
    // Above 4 GiB nothing is mapped: all ones.
    return size === 4 ? -1 : size === 1 ? 0xff : 0xffff;
  }

  private physWrite(p: number, size: number, v: number): void {
    if (p >= TWO32) return;
    const mem = this.cpu.memory;
    const gfn = p >>> 12;
    const off = mem.frameOffset[gfn];
    if (off < 0) {
      this.cpu.ops.mmioWrite(p, size as 1 | 2 | 4, size === 4 ? v >>> 0 : v & (size === 1 ? 0xff : 0xffff));
      return;
    }
    if (mem.frameReadOnly[gfn] !== 0) return;
    if (this.codePages[gfn] !== 0) this.onCodeWrite(p, size);
    const i = off + (p & 0xfff);
    const b = this.bytes;
    b[i] = v;
    if (size > 1) b[i + 1] = v >>> 8;
    if (size > 2) {
      b[i + 2] = v >>> 16;
      b[i + 3] = v >>> 24;
    }
  }

  // ---- slow paths ------------------------------------------------------------

  /** Read `size` bytes at `linear`, translating each page touched. Result: uint8/uint16/int32. */
  readSized(linear: number, size: number, user: boolean, access: number = ACCESS_READ): number {
    const inPage = (linear & 0xfff) + size <= 0x1000;
    if (inPage) return this.physRead(this.translate(linear, access, user), size);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.physRead(this.translate((linear + i) | 0, access, user), 1) << (8 * i);
    return size === 4 ? v | 0 : v;
  }

  /** Write `size` bytes at `linear`; a page-crossing write checks both pages before storing anything. */
  writeSized(linear: number, size: number, v: number, user: boolean): void {
    const inPage = (linear & 0xfff) + size <= 0x1000;
    if (inPage) {
      this.physWrite(this.translate(linear, ACCESS_WRITE, user), size, v);
      return;
    }
    const split = 0x1000 - (linear & 0xfff);
    const second = (linear + split) | 0;
    const p1 = this.translate(linear, ACCESS_WRITE, user);
    const p2 = this.translate(second, ACCESS_WRITE, user);
    for (let i = 0; i < size; i++) {
      const p = i < split ? p1 + i : p2 + (i - split);
      this.physWrite(p, 1, v >>> (8 * i));
    }
  }

  // ---- the fast paths --------------------------------------------------------

  read8(linear: number): number {
    const user = this.cpu.cpl === 3;
    const e = (user ? this.readUser : this.readSup)[linear >>> 12];
    if ((e & 1) === 0) return this.bytes[e ^ linear];
    return this.readSized(linear, 1, user);
  }
  read16(linear: number): number {
    const user = this.cpu.cpl === 3;
    const e = (user ? this.readUser : this.readSup)[linear >>> 12];
    if (((e | linear) & 1) === 0) return this.u16[(e ^ linear) >> 1];
    return this.readSized(linear, 2, user);
  }
  read32(linear: number): number {
    const user = this.cpu.cpl === 3;
    const e = (user ? this.readUser : this.readSup)[linear >>> 12];
    if (((e | linear) & 3) === 0) return this.i32[(e ^ linear) >> 2];
    return this.readSized(linear, 4, user);
  }
  write8(linear: number, v: number): void {
    const user = this.cpu.cpl === 3;
    const e = (user ? this.writeUser : this.writeSup)[linear >>> 12];
    if ((e & 1) === 0) this.bytes[e ^ linear] = v;
    else this.writeSized(linear, 1, v, user);
  }
  write16(linear: number, v: number): void {
    const user = this.cpu.cpl === 3;
    const e = (user ? this.writeUser : this.writeSup)[linear >>> 12];
    if (((e | linear) & 1) === 0) this.u16[(e ^ linear) >> 1] = v;
    else this.writeSized(linear, 2, v, user);
  }
  write32(linear: number, v: number): void {
    const user = this.cpu.cpl === 3;
    const e = (user ? this.writeUser : this.writeSup)[linear >>> 12];
    if (((e | linear) & 3) === 0) this.i32[(e ^ linear) >> 2] = v;
    else this.writeSized(linear, 4, v, user);
  }
  /** Instruction fetch of one byte (exec access at the current CPL). */
  fetch8(linear: number): number {
    const user = this.cpu.cpl === 3;
    const lp = linear >>> 12;
    const e = (user ? this.readUser : this.readSup)[lp];
    if ((e & 1) === 0 && this.noExec[lp] === 0) return this.bytes[e ^ linear];
    return this.readSized(linear, 1, user, ACCESS_EXEC);
  }
  /** Implicit supervisor accesses (descriptor tables, TSS, inner-stack pushes). */
  readSys8(linear: number): number {
    const e = this.readSup[linear >>> 12];
    if ((e & 1) === 0) return this.bytes[e ^ linear];
    return this.readSized(linear, 1, false);
  }
  readSys16(linear: number): number {
    return this.readSized(linear, 2, false);
  }
  readSys32(linear: number): number {
    const e = this.readSup[linear >>> 12];
    if (((e | linear) & 3) === 0) return this.i32[(e ^ linear) >> 2];
    return this.readSized(linear, 4, false);
  }
  writeSys8(linear: number, v: number): void {
    this.writeSized(linear, 1, v, false);
  }
  writeSys16(linear: number, v: number): void {
    this.writeSized(linear, 2, v, false);
  }
  writeSys32(linear: number, v: number): void {
    this.writeSized(linear, 4, v, false);
  }
}
