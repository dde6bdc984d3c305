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
//
// STUB: this version has no paging (linear = physical); the system helper
// replaces it with the real MMU keeping these method names.

import { CpuException, EXC_PF, type CpuState } from './state.js';

/** Access kinds for translate(). */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;

export class Mmu {
  /** Called for CPU writes landing on a frame that holds decoded code. */
  onCodeWrite: (physAddr: number, len: number) => void = () => {};
  /** codePages[gfn] != 0: the frame holds decoded instructions; writes to it must call onCodeWrite. */
  readonly codePages = new Uint8Array(1 << 24);

  constructor(private readonly cpu: CpuState) {}

  /** Linear → physical for `access` (ACCESS_*), as CPL `user` (true = CPL 3). Throws #PF. */
  translate(linear: number, access: number, user: boolean): number {
    void access;
    void user;
    void EXC_PF;
    void CpuException;
    return linear >>> 0;
  }

  /** Drop every TLB entry (`includeGlobal`: also G=1 ones), after CR3/CR0/CR4 changes. */
  flush(includeGlobal: boolean): void {
    void includeGlobal;
  }
  /** INVLPG: drop the entries covering `linear`, global included. */
  invalidatePage(linear: number): void {
    void linear;
  }

  private physRead8(p: number): number {
    const off = this.cpu.memory.frameOffset[p >>> 12];
    return off >= 0 ? this.cpu.memory.bytes[off + (p & 0xfff)] : this.cpu.ops.mmioRead(p, 1);
  }
  private physWrite8(p: number, v: number): void {
    const mem = this.cpu.memory;
    const gfn = p >>> 12;
    const off = mem.frameOffset[gfn];
    if (off < 0) this.cpu.ops.mmioWrite(p, 1, v & 0xff);
    else if (!mem.frameReadOnly[gfn]) {
      if (this.codePages[gfn]) this.onCodeWrite(p, 1);
      mem.bytes[off + (p & 0xfff)] = v;
    }
  }

  read8(linear: number): number {
    return this.physRead8(this.translate(linear, ACCESS_READ, this.cpu.cpl === 3));
  }
  read16(linear: number): number {
    return this.read8(linear) | (this.read8((linear + 1) | 0) << 8);
  }
  read32(linear: number): number {
    return (this.read16(linear) | (this.read16((linear + 2) | 0) << 16)) | 0;
  }
  write8(linear: number, v: number): void {
    this.physWrite8(this.translate(linear, ACCESS_WRITE, this.cpu.cpl === 3), v);
  }
  write16(linear: number, v: number): void {
    this.write8(linear, v);
    this.write8((linear + 1) | 0, v >>> 8);
  }
  write32(linear: number, v: number): void {
    this.write16(linear, v);
    this.write16((linear + 2) | 0, v >>> 16);
  }
  /** Instruction fetch of one byte (exec access at the current CPL). */
  fetch8(linear: number): number {
    return this.physRead8(this.translate(linear, ACCESS_EXEC, this.cpu.cpl === 3));
  }
  /** Implicit supervisor accesses (descriptor tables, TSS, inner-stack pushes). */
  readSys8(linear: number): number {
    return this.physRead8(this.translate(linear, ACCESS_READ, false));
  }
  readSys32(linear: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) v |= this.readSys8((linear + i) | 0) << (8 * i);
    return v | 0;
  }
  writeSys8(linear: number, v: number): void {
    this.physWrite8(this.translate(linear, ACCESS_WRITE, false), v);
  }
  writeSys32(linear: number, v: number): void {
    for (let i = 0; i < 4; i++) this.writeSys8((linear + i) | 0, v >>> (8 * i));
  }
}
