// Vocabulary of the differential tests: a case is a snippet (nasm, `bits 32`)
// plus the state it starts from; a group is a family of cases for one area of the
// instruction set. Cases are generated deterministically (seeded PRNG), so a
// failure names a case that reproduces.

import { DATA_ADDR, DATA_LEN } from './layout.js';
import { xorshift32 } from '../support/fuzz.js';

export const CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, DF = 1 << 10, OF = 1 << 11;
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** EFLAGS.RF: set in fault frames and signal contexts, never seen by PUSHFD; never compared. */
export const RF = 1 << 16;

export type RegName = 'eax' | 'ecx' | 'edx' | 'ebx' | 'ebp' | 'esi' | 'edi';
export const REG_ORDER = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

export interface DiffCase {
  /** Unique within its group; names the instruction and inputs. */
  name: string;
  /** nasm source; only local labels (`.x`). `DATA` is the data buffer's address. */
  asm: string;
  regs?: Partial<Record<RegName, number>>;
  /** Initial arithmetic flags and DF (EFLAGS.IF and bit 1 are always set: user mode). */
  flags?: number;
  /** Initial data buffer (zero-padded to DATA_LEN). */
  data?: ArrayLike<number>;
  /** Flags the SDM calls undefined here and the fact sheet gives no AMD value for. */
  flagMask?: number;
}

export interface DiffGroup {
  name: string;
  cases: DiffCase[];
}

/** nasm prelude shared by every group. */
export const ASM_PRELUDE = `%define DATA 0x${DATA_ADDR.toString(16)}`;

/** Distinct defaults, so a write to the wrong register shows up. */
export const DEFAULT_REGS: Record<RegName, number> = {
  eax: 0x01234567,
  ecx: 0x89abcdef,
  edx: 0xfedcba98,
  ebx: 0x76543210,
  ebp: 0x0badf00d,
  esi: 0xdeadbeef,
  edi: 0xcafebabe,
};

export function initialRegs(c: DiffCase, esp: number): number[] {
  return REG_ORDER.map((r) => (r === 'esp' ? esp : ((c.regs?.[r] ?? DEFAULT_REGS[r]) >>> 0)));
}

export function initialData(c: DiffCase): Uint8Array {
  const d = new Uint8Array(DATA_LEN);
  if (c.data) for (let i = 0; i < Math.min(DATA_LEN, c.data.length); i++) d[i] = c.data[i] & 0xff;
  return d;
}

/** xorshift32: deterministic and good enough for operand values. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = xorshift32(seed);
  }
  u32(): number {
    return this.next();
  }
  below(n: number): number {
    return this.u32() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

export type Width = 8 | 16 | 32;
export const WIDTHS: readonly Width[] = [8, 16, 32];

export function mask(w: Width): number {
  return w === 32 ? 0xffffffff : (1 << w) - 1;
}

/** Register names by width for the "a", "b", "c", "d" registers and friends. */
export const REG = {
  a: { 8: 'al', 16: 'ax', 32: 'eax' },
  b: { 8: 'bl', 16: 'bx', 32: 'ebx' },
  c: { 8: 'cl', 16: 'cx', 32: 'ecx' },
  d: { 8: 'dl', 16: 'dx', 32: 'edx' },
  si: { 8: 'dh', 16: 'si', 32: 'esi' },
} as const;

export function sizeWord(w: Width): string {
  return w === 8 ? 'byte' : w === 16 ? 'word' : 'dword';
}

/** Edge values for a width: 0, 1, 2, max signed, min signed, all ones, plus `randoms` random ones. */
export function edgeValues(w: Width, rng: Rng, randoms = 3): number[] {
  const m = mask(w);
  const top = 2 ** (w - 1);
  const vals = [0, 1, 2, top - 1, top, m, m - 1, top + 1];
  for (let i = 0; i < randoms; i++) vals.push(rng.u32() & m);
  return vals.map((v) => v >>> 0);
}

/** Place a w-bit value into the low part of a 32-bit register image whose other bits are `filler`. */
export function intoReg(filler: number, value: number, w: Width): number {
  const m = mask(w);
  return ((filler & ~m) | (value & m)) >>> 0;
}

export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

/** Flag combinations used as starting points: all clear, all set, and CF alone. */
export const START_FLAGS = [0, ARITH, CF];

export function flagsName(f: number): string {
  const names: Array<[number, string]> = [[CF, 'C'], [PF, 'P'], [AF, 'A'], [ZF, 'Z'], [SF, 'S'], [OF, 'O'], [DF, 'D']];
  const s = names.filter(([b]) => f & b).map(([, n]) => n).join('');
  return s === '' ? '-' : s;
}

/** Bytes of a little-endian value. */
export function le(value: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) out.push((value >>> (8 * i)) & 0xff);
  return out;
}
