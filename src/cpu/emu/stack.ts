// Stack accesses made by far transfers, interrupt delivery, IRET and task
// switches: pushes and pops through an SS-like segment with its limit (expand-up
// or expand-down, SDM vol. 3A §3.4.5.1) and B bit (ESP vs SP, §6.2.3).

import { ATTR_DB, ATTR_UNUSABLE, CpuException, EXC_SS, SS, type CpuState } from './state.js';

export class StackAccess {
  /** Current stack offset (uint32; 16-bit stacks wrap within 64 KiB). */
  sp: number;

  constructor(
    private readonly cpu: CpuState,
    private readonly base: number,
    private readonly limit: number,
    private readonly attr: number,
    sp: number,
    /** Accesses are made as CPL 3 (page-level user check). */
    private readonly user: boolean,
    /** Error code of the #SS raised on a limit violation. */
    private readonly errorCode: number,
  ) {
    this.sp = this.wide ? sp >>> 0 : sp & 0xffff;
  }

  /** The stack of the current SS:ESP. */
  static current(cpu: CpuState, errorCode = 0): StackAccess {
    return new StackAccess(cpu, cpu.segBase[SS], cpu.segLimit[SS], cpu.segAttr[SS], cpu.regs[4], cpu.cpl === 3, errorCode);
  }

  private get wide(): boolean {
    return (this.attr & ATTR_DB) !== 0;
  }

  /** Check that `len` bytes at offset `off` are inside the segment, else #SS(errorCode). */
  private check(off: number, len: number): void {
    if ((this.attr & ATTR_UNUSABLE) !== 0) throw new CpuException(EXC_SS, this.errorCode);
    const last = off + len - 1;
    if ((this.attr & 0x1c) === 0x14) {
      // Expand-down data segment: valid offsets are limit+1 .. 0xFFFF / 0xFFFFFFFF.
      const upper = this.wide ? 0xffffffff : 0xffff;
      if (off <= this.limit || last > upper) throw new CpuException(EXC_SS, this.errorCode);
    } else if (last > this.limit) {
      throw new CpuException(EXC_SS, this.errorCode);
    }
  }

  /** Check that `bytes` more bytes can be pushed, before pushing anything. */
  reserve(bytes: number): void {
    const mask = this.wide ? 0xffffffff : 0xffff;
    const off = (this.sp - bytes) & mask;
    if (off >>> 0 <= this.sp) this.check(off >>> 0, bytes);
    else {
      // A 16-bit stack wrapping below 0: each push is checked on its own.
      this.check(0, this.sp);
    }
  }

  push(value: number, size: number): void {
    const mask = this.wide ? 0xffffffff : 0xffff;
    const off = ((this.sp - size) & mask) >>> 0;
    this.check(off, size);
    this.cpu.mmu.writeSized((this.base + off) | 0, size, value, this.user);
    this.sp = off;
  }

  pop(size: number): number {
    this.check(this.sp, size);
    const v = this.cpu.mmu.readSized((this.base + this.sp) | 0, size, this.user);
    const mask = this.wide ? 0xffffffff : 0xffff;
    this.sp = ((this.sp + size) & mask) >>> 0;
    return v;
  }

  /** Read without popping, `depth` bytes above the current top. */
  peek(depth: number, size: number): number {
    const mask = this.wide ? 0xffffffff : 0xffff;
    const off = ((this.sp + depth) & mask) >>> 0;
    this.check(off, size);
    return this.cpu.mmu.readSized((this.base + off) | 0, size, this.user);
  }

  /** Release `bytes` without reading them (RET imm16). */
  release(bytes: number): void {
    const mask = this.wide ? 0xffffffff : 0xffff;
    this.sp = ((this.sp + bytes) & mask) >>> 0;
  }

  /** The ESP value to store: 16-bit stacks change only SP. */
  espFor(oldEsp: number): number {
    return this.wide ? this.sp | 0 : (oldEsp & ~0xffff) | this.sp;
  }
}
