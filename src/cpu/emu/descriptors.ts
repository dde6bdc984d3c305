// Segment descriptors: fetching them from the GDT/LDT, decoding base/limit/
// attributes, the accessed and busy bits, and filling a segment register's hidden
// cache (SDM vol. 3A §3.4 "Logical and Linear Addresses", §3.4.5 "Segment
// Descriptors", §3.5 "System Descriptor Types").

import { ATTR_DB, ATTR_G, ATTR_P, ATTR_S, ATTR_UNUSABLE, CpuException, LDTR, type CpuState } from './state.js';

// Descriptor type field values (S=0 system types, SDM Table 3-2).
export const SYS_TSS16_AVAIL = 1;
export const SYS_LDT = 2;
export const SYS_TSS16_BUSY = 3;
export const SYS_CALL_GATE16 = 4;
export const SYS_TASK_GATE = 5;
export const SYS_INT_GATE16 = 6;
export const SYS_TRAP_GATE16 = 7;
export const SYS_TSS32_AVAIL = 9;
export const SYS_TSS32_BUSY = 0xb;
export const SYS_CALL_GATE32 = 0xc;
export const SYS_INT_GATE32 = 0xe;
export const SYS_TRAP_GATE32 = 0xf;

// Code/data type bits (S=1).
export const TYPE_ACCESSED = 1;
export const TYPE_WRITABLE = 2; // data
export const TYPE_READABLE = 2; // code
export const TYPE_EXPAND_DOWN = 4; // data
export const TYPE_CONFORMING = 4; // code
export const TYPE_CODE = 8;

/** The two dwords of an 8-byte descriptor as read from memory. */
export class Descriptor {
  constructor(
    /** Linear address of the descriptor (for accessed/busy write-back). */
    readonly address: number,
    readonly lo: number,
    readonly hi: number,
  ) {}

  get type(): number {
    return (this.hi >>> 8) & 0xf;
  }
  /** S bit: 1 = code/data, 0 = system. */
  get isSegment(): boolean {
    return (this.hi & (1 << 12)) !== 0;
  }
  get dpl(): number {
    return (this.hi >>> 13) & 3;
  }
  get present(): boolean {
    return (this.hi & (1 << 15)) !== 0;
  }
  get isCode(): boolean {
    return this.isSegment && (this.type & TYPE_CODE) !== 0;
  }
  get isConformingCode(): boolean {
    return this.isCode && (this.type & TYPE_CONFORMING) !== 0;
  }
  get isWritableData(): boolean {
    return this.isSegment && (this.type & (TYPE_CODE | TYPE_WRITABLE)) === TYPE_WRITABLE;
  }
  /** Data, or code with R=1. */
  get isReadable(): boolean {
    return this.isSegment && ((this.type & TYPE_CODE) === 0 || (this.type & TYPE_READABLE) !== 0);
  }
  get base(): number {
    return ((this.lo >>> 16) | ((this.hi & 0xff) << 16) | (this.hi & 0xff000000)) | 0;
  }
  /** Byte-granular limit (scaled when G=1), as uint32. */
  get limit(): number {
    const raw = (this.lo & 0xffff) | (this.hi & 0xf0000);
    return (this.hi & (1 << 23)) !== 0 ? ((raw << 12) | 0xfff) >>> 0 : raw;
  }
  /** Attribute word in the VMX access-rights layout (state.ts ATTR_*). */
  get attr(): number {
    return (this.hi >>> 8) & 0xf0ff;
  }
  // Gate fields (call, interrupt, trap and task gates).
  get gateSelector(): number {
    return this.lo >>> 16;
  }
  get gateOffset(): number {
    return ((this.hi & 0xffff0000) | (this.lo & 0xffff)) | 0;
  }
  get gateParamCount(): number {
    return this.hi & 0x1f;
  }
}

/**
 * Read the descriptor named by `selector` (never null) from the GDT or LDT.
 * An index beyond the table limit raises `vector`(selector & 0xFFFC | ext).
 */
export function fetchDescriptor(cpu: CpuState, selector: number, vector: number, ext = 0): Descriptor {
  const index = selector & 0xfff8;
  let base: number;
  let limit: number;
  if ((selector & 4) !== 0) {
    if ((cpu.segAttr[LDTR] & ATTR_UNUSABLE) !== 0 || (cpu.segSel[LDTR] & 0xfffc) === 0) {
      throw new CpuException(vector, (selector & 0xfffc) | ext);
    }
    base = cpu.segBase[LDTR];
    limit = cpu.segLimit[LDTR];
  } else {
    base = cpu.gdtBase;
    limit = cpu.gdtLimit;
  }
  if (index + 7 > limit) throw new CpuException(vector, (selector & 0xfffc) | ext);
  const address = (base + index) | 0;
  return new Descriptor(address, cpu.mmu.readSys32(address), cpu.mmu.readSys32((address + 4) | 0));
}

/** Set the accessed bit in memory if clear (SDM §3.4.5.1: an implicit supervisor write). */
export function markAccessed(cpu: CpuState, d: Descriptor): void {
  if (d.isSegment && (d.type & TYPE_ACCESSED) === 0) {
    cpu.mmu.writeSys8((d.address + 5) | 0, (d.hi >>> 8) | TYPE_ACCESSED);
  }
}

/** Set or clear a TSS descriptor's busy bit (type bit 1) in memory. */
export function setTssBusy(cpu: CpuState, address: number, busy: boolean): void {
  const b = cpu.mmu.readSys8((address + 5) | 0);
  cpu.mmu.writeSys8((address + 5) | 0, busy ? b | 2 : b & ~2);
}

/** Fill segment register `seg` from a descriptor (accessed bit included). */
export function loadCache(cpu: CpuState, seg: number, selector: number, d: Descriptor): void {
  cpu.segSel[seg] = selector & 0xffff;
  cpu.segBase[seg] = d.base;
  cpu.segLimit[seg] = d.limit;
  cpu.segAttr[seg] = d.isSegment ? d.attr | TYPE_ACCESSED : d.attr;
}

/** A null selector in DS/ES/FS/GS: usable for nothing (any access => #GP(0)). */
export function loadNull(cpu: CpuState, seg: number, selector: number): void {
  cpu.segSel[seg] = selector & 0xffff;
  cpu.segBase[seg] = 0;
  cpu.segLimit[seg] = 0;
  cpu.segAttr[seg] = ATTR_UNUSABLE;
}

/** Flat 4 GiB code (type 0xB) or data (type 3) cache with the given DPL (SYSENTER/SYSEXIT). */
export function loadFlat(cpu: CpuState, seg: number, selector: number, code: boolean, dpl: number): void {
  cpu.segSel[seg] = selector & 0xffff;
  cpu.segBase[seg] = 0;
  cpu.segLimit[seg] = 0xffffffff;
  cpu.segAttr[seg] = (code ? 0xb : 3) | ATTR_S | (dpl << 5) | ATTR_P | ATTR_DB | ATTR_G;
}

/** Real-mode / V86 segment load: base = selector << 4. */
export function loadRealMode(cpu: CpuState, seg: number, selector: number, v86: boolean): void {
  cpu.segSel[seg] = selector & 0xffff;
  cpu.segBase[seg] = (selector & 0xffff) << 4;
  if (v86) {
    // V86 segments are 64 KiB, DPL 3, read/write (SDM §20.1.1).
    cpu.segLimit[seg] = 0xffff;
    cpu.segAttr[seg] = (seg === 1 ? 0xb : 3) | ATTR_S | (3 << 5) | ATTR_P;
  } else {
    // Real mode keeps limit and attributes ("big real" mode). A register left
    // unusable by a protected-mode null load becomes a plain 64 KiB data segment.
    if ((cpu.segAttr[seg] & ATTR_UNUSABLE) !== 0) {
      cpu.segLimit[seg] = 0xffff;
      cpu.segAttr[seg] = (seg === 1 ? 0xb : 3) | ATTR_S | ATTR_P;
    }
  }
}
