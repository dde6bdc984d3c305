// JavaScript source for the hottest instruction forms (the exec-fast.ts handlers
// and near Jcc/JMP), so the block compiler can emit them inline instead of calling
// the handler: register numbers, immediates and displacements become constants.
// Each form does exactly what its handler does, in the same order (a memory write
// before the flags are recorded, so a faulting write leaves the older flags), and
// records the lazy flags exactly as flags.ts expects. The generated code has the
// locals regs, smem, cpu and the scratch ints d, s, r, a, c, v (and the double p); flag writers leave the
// operands and result in d, s, r (and the carry-in of ADC/SBB, or the kept CF of
// INC/DEC, in c) so a following Jcc or ADC can test them directly. CARRY_IN in a
// form's source stands for the current CF as a boolean expression (the compiler
// fills it in from the previous flag writer).
//
// Memory operands take the software-TLB fast path inline (mmu.ts header: a fast
// entry XOR the linear address is the RAM index) when the block's guard `fm` says
// every segment the block uses is a usable, writable, expand-up 4 GiB data segment
// (no limit check can fail: SDM vol. 3A §5.3) and, for PUSH/POP, SS is 32-bit. The
// compiler sets fm, the bases b<seg>, the TLB arrays tr/tw of the current CPL and
// m32 (RAM as int32); anything else (unaligned, slow or missing TLB entry, MMIO,
// code frames, other segments) takes the SegmentedMemory call or the handler.

import type { Insn } from './insn.js';
import * as hot from './exec-fast.js';
import { execJcc, execJmpRel } from './exec-control.js';
import { execCmovcc, execMovsx, execMovzx, execSetcc } from './exec-data.js';
import { execAluAccImm, execTestAccImm, execTestRmImm, execTestRmReg } from './exec-alu.js';
import { execImul2, execImul3 } from './exec-muldiv.js';
import { execShiftCl, execShiftImm, execShiftOne } from './exec-shift.js';
import { LAZY_ADC, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_LOGIC, LAZY_SBB, LAZY_SUB, LAZY_SZP } from './flags.js';

export interface InlineForm {
  readonly kind: 'op' | 'jcc' | 'jmp';
  /** Statements (for kind 'op'). */
  readonly source: string;
  /** Can fault (memory access): needs insnEip/savedEsp/EIP set first. */
  readonly faults: boolean;
  /** Writes memory (which may be the running block's code: check stopBlock after). */
  readonly stores: boolean;
  /**
   * LAZY_* kind it records (its d, s, r locals stay valid; LAZY_SZP: only r), -1 when
   * it leaves the flags alone, FLAGS_UNTRACKED when it writes them only to cpu state.
   */
  readonly flags: number;
  /** Bit per segment register the form accesses through the inline fast path (bit SEG_STACK32: needs a 32-bit SS). */
  readonly segs: number;
}

const SZ32 = 2;
/** Placeholder for the current CF (a boolean JavaScript expression). */
export const CARRY_IN = '@CF@';
/** Placeholder for a call of the instruction's own handler (the slow path of PUSH/POP). */
export const HANDLER = '@H@';
/** Placeholder for the instruction's condition (SETcc, CMOVcc) as a boolean expression. */
export const CONDITION = '@CC@';
/** InlineForm.flags: writes the flags, but only into the cpu's lazy-flag state. */
export const FLAGS_UNTRACKED = -2;
/** updateFlags() is `uf` in generated code; CF | OF and AF as EFLAGS bits. */
const CF_OF = 0x801, AF = 0x10, OF = 0x800;
/** InlineForm.segs bit: the form relies on SS being a 32-bit stack (B = 1). */
export const SEG_STACK32 = 1 << 8;
const SS = 2;

/** Int32 at offset `off` (a local) of `seg`: inline TLB hit, else the SegmentedMemory call. */
function load32(seg: number, off: string): string {
  return `(fm && (((x = tr[(l = (b${seg} + ${off}) | 0) >>> 12]) | l) & 3) === 0 ? m32[(x ^ l) >> 2] : smem.read32(${seg}, ${off}))`;
}

/** Byte (zero-extended) at offset `off` (a local) of `seg`. */
function load8(seg: number, off: string): string {
  return `(fm && ((x = tr[(l = (b${seg} + ${off}) | 0) >>> 12]) & 1) === 0 ? m8[x ^ l] : smem.read8(${seg}, ${off}))`;
}

/** Word (zero-extended) at offset `off` (a local) of `seg`. */
function load16(seg: number, off: string): string {
  return `(fm && (((x = tr[(l = (b${seg} + ${off}) | 0) >>> 12]) | l) & 1) === 0 ? m16[(x ^ l) >> 1] : smem.read16(${seg}, ${off}))`;
}

/** An 8-bit register operand (AL..BL, AH..BH) as a zero-extended expression. */
function reg8(n: number): string {
  return n < 4 ? `(regs[${n}] & 0xff)` : `((regs[${n - 4}] >> 8) & 0xff)`;
}

/** Store `v` (a local or constant) at offset `off` (a local) of `seg`. */
function store32(seg: number, off: string, v: string): string {
  return `if (fm && (((x = tw[(l = (b${seg} + ${off}) | 0) >>> 12]) | l) & 3) === 0) m32[(x ^ l) >> 2] = ${v}; else smem.write32(${seg}, ${off}, ${v});`;
}

/** Effective address of a 32-bit-addressing memory operand, as a JavaScript int expression. */
function eaSource(i: Insn): string {
  let x = `${i.disp | 0}`;
  if (i.base >= 0) x += ` + regs[${i.base}]`;
  if (i.index >= 0) x += i.scale > 0 ? ` + (regs[${i.index}] << ${i.scale})` : ` + regs[${i.index}]`;
  return `(${x}) | 0`;
}

/** `r = d op s` and the lazy kind for the eight ALU operations (ADC/SBB use c, set by carryIn()). */
function aluOp(op: number): { expr: string; kind: number } {
  switch (op) {
    case 0: return { expr: '(d + s) | 0', kind: LAZY_ADD };
    case 1: return { expr: 'd | s', kind: LAZY_LOGIC };
    case 2: return { expr: '(d + s + c) | 0', kind: LAZY_ADC };
    case 3: return { expr: '(d - s - c) | 0', kind: LAZY_SBB };
    case 4: return { expr: 'd & s', kind: LAZY_LOGIC };
    case 5:
    case 7: return { expr: '(d - s) | 0', kind: LAZY_SUB };
    default: return { expr: 'd ^ s', kind: LAZY_LOGIC };
  }
}

/** ADC/SBB read CF before anything else changes d, s, r. */
function carryIn(kind: number): string {
  return kind === LAZY_ADC || kind === LAZY_SBB ? `c = ${CARRY_IN} ? 1 : 0; ` : '';
}

/** ADC/SBB/INC/DEC keep the carry (in or kept) in lazyFlags as FLAG_CF (bit 0). */
function lazy(kind: number): string {
  const keep = kind === LAZY_ADC || kind === LAZY_SBB || kind === LAZY_INC || kind === LAZY_DEC ? 'cpu.lazyFlags = c; ' : '';
  return `  ${keep}cpu.lazyOp = ${kind | SZ32}; cpu.lazyDst = d; cpu.lazySrc = s; cpu.lazyResult = r;\n`;
}

function op(source: string, faults: boolean, stores: boolean, flags: number, segs = 0): InlineForm {
  return { kind: 'op', source, faults, stores, flags, segs };
}

/** The inline form of `i`, or null when the block compiler must call its handler. */
export function inlineForm(i: Insn): InlineForm | null {
  const h = i.exec;
  if (h === execJcc) return { kind: 'jcc', source: '', faults: true, stores: false, flags: -1, segs: 0 };
  if (h === execJmpRel) return { kind: 'jmp', source: '', faults: true, stores: false, flags: -1, segs: 0 };
  const seg = 1 << i.seg;
  if (h === hot.execMov32RmRegR) return op(`  regs[${i.rm}] = regs[${i.reg}];\n`, false, false, -1);
  if (h === hot.execMov32RegImm) return op(`  regs[${i.rm}] = ${i.imm | 0};\n`, false, false, -1);
  if (h === hot.execLea32) return op(`  regs[${i.reg}] = ${eaSource(i)};\n`, false, false, -1);
  if (h === hot.execMov32RegRmM) return op(`  a = ${eaSource(i)}; regs[${i.reg}] = ${load32(i.seg, 'a')};\n`, true, false, -1, seg);
  if (h === hot.execMov32RmRegM) return op(`  a = ${eaSource(i)}; ${store32(i.seg, 'a', `regs[${i.reg}]`)}\n`, true, true, -1, seg);
  if (h === hot.execMov32RmImmM) return op(`  a = ${eaSource(i)}; ${store32(i.seg, 'a', `${i.imm | 0}`)}\n`, true, true, -1, seg);
  if (h === hot.execPush32R) {
    // ESP moves only after the store succeeded; PUSH ESP stores the old value.
    return op(`  a = (regs[4] - 4) | 0;\n  if (fm && (((x = tw[(l = (b${SS} + a) | 0) >>> 12]) | l) & 3) === 0) { m32[(x ^ l) >> 2] = regs[${i.rm}]; regs[4] = a; } else ${HANDLER};\n`, true, true, -1, (1 << SS) | SEG_STACK32);
  }
  if (h === hot.execPop32R) {
    // POP ESP: the loaded value wins over the increment.
    return op(`  if (fm && (((x = tr[(l = (b${SS} + regs[4]) | 0) >>> 12]) | l) & 3) === 0) { v = m32[(x ^ l) >> 2]; regs[4] = (regs[4] + 4) | 0; regs[${i.rm}] = v; } else ${HANDLER};\n`, true, false, -1, (1 << SS) | SEG_STACK32);
  }
  if (h === hot.execTest32R) {
    return op(`  r = regs[${i.rm}] & regs[${i.reg}]; d = r; s = 0;\n${lazy(LAZY_LOGIC)}`, false, false, LAZY_LOGIC);
  }
  if (h === hot.execInc32R || h === hot.execDec32R) {
    const kind = h === hot.execInc32R ? LAZY_INC : LAZY_DEC;
    const expr = h === hot.execInc32R ? '(d + 1) | 0' : '(d - 1) | 0';
    return op(`  c = ${CARRY_IN} ? 1 : 0; d = regs[${i.rm}]; s = 1; r = ${expr}; regs[${i.rm}] = r;\n${lazy(kind)}`, false, false, kind);
  }
  if (h === hot.execAlu32RmRegR || h === hot.execAlu32RegRmR || h === hot.execAlu32ImmR) {
    const code = h === hot.execAlu32ImmR ? i.reg : (i.op >> 3) & 7;
    const a = aluOp(code);
    const dst = h === hot.execAlu32RegRmR ? i.reg : i.rm;
    const src = h === hot.execAlu32RmRegR ? `regs[${i.reg}]` : h === hot.execAlu32RegRmR ? `regs[${i.rm}]` : `${i.imm | 0}`;
    const write = code === 7 ? '' : ` regs[${dst}] = r;`;
    return op(`  ${carryIn(a.kind)}d = regs[${dst}]; s = ${src}; r = ${a.expr};${write}\n${lazy(a.kind)}`, false, false, a.kind);
  }
  if (h === hot.execAlu32RegRmM) {
    const code = (i.op >> 3) & 7;
    const a = aluOp(code);
    const write = code === 7 ? '' : ` regs[${i.reg}] = r;`;
    return op(`  ${carryIn(a.kind)}a = ${eaSource(i)}; s = ${load32(i.seg, 'a')}; d = regs[${i.reg}]; r = ${a.expr};${write}\n${lazy(a.kind)}`, true, false, a.kind, seg);
  }
  if (h === hot.execAlu32RmRegM || h === hot.execAlu32ImmM) {
    const code = h === hot.execAlu32ImmM ? i.reg : (i.op >> 3) & 7;
    const a = aluOp(code);
    const src = h === hot.execAlu32ImmM ? `${i.imm | 0}` : `regs[${i.reg}]`;
    if (code === 7) {
      return op(`  a = ${eaSource(i)}; d = ${load32(i.seg, 'a')}; s = ${src}; r = ${a.expr};\n${lazy(a.kind)}`, true, false, a.kind, seg);
    }
    // Read, write, then record the flags (a faulting write keeps the older flags).
    return op(`  ${carryIn(a.kind)}a = ${eaSource(i)}; d = ${load32(i.seg, 'a')}; s = ${src}; r = ${a.expr}; ${store32(i.seg, 'a', 'r')}\n${lazy(a.kind)}`, true, true, a.kind, seg);
  }
  return extraForm(i);
}

/** MOVZX/MOVSX, SETcc, CMOVcc, IMUL and the shifts (32-bit operands, 32-bit addressing). */
function extraForm(i: Insn): InlineForm | null {
  const h = i.exec;
  const mem = i.mod !== 3;
  if (mem && !i.asz32) return null;
  const seg = mem ? 1 << i.seg : 0;
  if (h === execAluAccImm && i.osz === 4) {
    const code = (i.op >> 3) & 7;
    const a = aluOp(code);
    const write = code === 7 ? '' : ' regs[0] = r;';
    return op(`  ${carryIn(a.kind)}d = regs[0]; s = ${i.imm | 0}; r = ${a.expr};${write}\n${lazy(a.kind)}`, false, false, a.kind);
  }
  // TEST records the tested operand (or the result, for the accumulator form) as lazyDst (exec-alu.ts).
  if (h === execTestAccImm && i.osz === 4) return op(`  r = regs[0] & ${i.imm | 0}; d = r; s = 0;\n${lazy(LAZY_LOGIC)}`, false, false, LAZY_LOGIC);
  if ((h === execTestRmImm || h === execTestRmReg) && i.osz === 4) {
    const other = h === execTestRmImm ? `${i.imm | 0}` : `regs[${i.reg}]`;
    const operand = mem ? load32(i.seg, 'a') : `regs[${i.rm}]`;
    return op(`  ${mem ? `a = ${eaSource(i)}; ` : ''}d = ${operand}; s = 0; r = d & ${other};\n${lazy(LAZY_LOGIC)}`, mem, false, LAZY_LOGIC, seg);
  }
  if ((h === execMovzx || h === execMovsx) && i.osz === 4) {
    const word = (i.op & 1) !== 0;
    let v: string;
    if (mem) v = word ? load16(i.seg, 'a') : load8(i.seg, 'a');
    else v = word ? `(regs[${i.rm}] & 0xffff)` : reg8(i.rm);
    if (h === execMovsx) v = word ? `((${v} << 16) >> 16)` : `((${v} << 24) >> 24)`;
    return op(`  ${mem ? `a = ${eaSource(i)}; ` : ''}regs[${i.reg}] = ${v};\n`, mem, false, -1, seg);
  }
  if (h === execSetcc && !mem) {
    const set = i.rm < 4 ? `regs[${i.rm}] = (regs[${i.rm}] & ~0xff) | (${CONDITION} ? 1 : 0);` : `regs[${i.rm - 4}] = (regs[${i.rm - 4}] & ~0xff00) | (${CONDITION} ? 0x100 : 0);`;
    return op(`  ${set}\n`, false, false, -1);
  }
  if (h === execCmovcc && i.osz === 4) {
    // The source is read (and may fault) even when the condition is false.
    if (!mem) return op(`  if (${CONDITION}) regs[${i.reg}] = regs[${i.rm}];\n`, false, false, -1);
    return op(`  a = ${eaSource(i)}; v = ${load32(i.seg, 'a')}; if (${CONDITION}) regs[${i.reg}] = v;\n`, true, false, -1, seg);
  }
  if ((h === execImul2 || h === execImul3) && i.osz === 4) {
    // The int32 product is exact iff the double product equals it (a wrong double is out of int32 range).
    const src = mem ? load32(i.seg, 'a') : `regs[${i.rm}]`;
    const other = h === execImul2 ? `regs[${i.reg}]` : `${i.imm | 0}`;
    return op(`  ${mem ? `a = ${eaSource(i)}; ` : ''}v = ${src}; s = ${other}; p = s * v; v = Math.imul(s, v);\n  uf(cpu, ${CF_OF}, p !== v ? ${CF_OF} : 0); regs[${i.reg}] = v;\n`, mem, false, FLAGS_UNTRACKED, seg);
  }
  if ((h === execShiftImm || h === execShiftOne || h === execShiftCl) && i.osz === 4 && !mem && i.reg >= 4) {
    return shiftForm(i, h === execShiftCl ? -1 : h === execShiftOne ? 1 : i.imm & 31);
  }
  return null;
}

/**
 * SHL/SAL/SHR/SAR of a 32-bit register by `count` (0-31), or by CL when count is -1
 * (exec-shift.ts: C O A into lazyFlags, S Z P from the result; count 0 changes nothing).
 */
function shiftForm(i: Insn, count: number): InlineForm | null {
  const kind = i.reg;
  const dst = `regs[${i.rm}]`;
  const body = (n: string, nm1: string) => {
    if (kind === 5) {
      return `d = ${dst}; r = d >>> ${n} | 0; cpu.lazyFlags = ((d >>> ${nm1}) & 1) | (d < 0 ? ${OF} : 0) | ${AF};`;
    }
    if (kind === 7) return `d = ${dst}; r = d >> ${n}; cpu.lazyFlags = ((d >> ${nm1}) & 1) | ${AF};`;
    // SHL/SAL: CF = last bit out, OF = MSB of the result XOR CF.
    return `d = ${dst}; r = d << ${n}; c = (d >>> (32 - ${n})) & 1; cpu.lazyFlags = c | (((r >>> 31) ^ c) !== 0 ? ${OF} : 0) | ${AF};`;
  };
  const record = `${dst} = r; cpu.lazyOp = ${LAZY_SZP | SZ32}; cpu.lazyResult = r;`;
  if (count === 0) return op('', false, false, -1);
  if (count > 0) return op(`  ${body(`${count}`, `${count - 1}`)} ${record}\n`, false, false, LAZY_SZP);
  // By CL: a masked count of 0 changes nothing, so afterwards the flags are only known to cpu state.
  return op(`  v = regs[1] & 31;\n  if (v !== 0) { ${body('v', '(v - 1)')} ${record} }\n`, false, false, FLAGS_UNTRACKED);
}
