// JavaScript source for the hottest instruction forms (the exec-fast.ts handlers
// and near Jcc/JMP), so the block compiler can emit them inline instead of calling
// the handler: register numbers, immediates and displacements become constants.
// Each form does exactly what its handler does, in the same order (a memory write
// before the flags are recorded, so a faulting write leaves the older flags), and
// records the lazy flags exactly as flags.ts expects. The generated code has the
// locals regs, smem, cpu and the scratch ints d, s, r, a, c; flag writers leave the
// operands and result in d, s, r (and the carry-in of ADC/SBB, or the kept CF of
// INC/DEC, in c) so a following Jcc or ADC can test them directly. CARRY_IN in a
// form's source stands for the current CF as a boolean expression (the compiler
// fills it in from the previous flag writer).

import type { Insn } from './insn.js';
import * as hot from './exec-fast.js';
import { execJcc, execJmpRel } from './exec-control.js';
import { LAZY_ADC, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_LOGIC, LAZY_SBB, LAZY_SUB } from './flags.js';

export interface InlineForm {
  readonly kind: 'op' | 'jcc' | 'jmp';
  /** Statements (for kind 'op'). */
  readonly source: string;
  /** Can fault (memory access): needs insnEip/savedEsp/EIP set first. */
  readonly faults: boolean;
  /** Writes memory (which may be the running block's code: check stopBlock after). */
  readonly stores: boolean;
  /** LAZY_* kind it records (its d, s, r locals stay valid), or -1 when it leaves the flags alone. */
  readonly flags: number;
}

const SZ32 = 2;
/** Placeholder for the current CF (a boolean JavaScript expression). */
export const CARRY_IN = '@CF@';

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

function op(source: string, faults: boolean, stores: boolean, flags: number): InlineForm {
  return { kind: 'op', source, faults, stores, flags };
}

/** The inline form of `i`, or null when the block compiler must call its handler. */
export function inlineForm(i: Insn): InlineForm | null {
  const h = i.exec;
  if (h === execJcc) return { kind: 'jcc', source: '', faults: true, stores: false, flags: -1 };
  if (h === execJmpRel) return { kind: 'jmp', source: '', faults: true, stores: false, flags: -1 };
  if (h === hot.execMov32RmRegR) return op(`  regs[${i.rm}] = regs[${i.reg}];\n`, false, false, -1);
  if (h === hot.execMov32RegImm) return op(`  regs[${i.rm}] = ${i.imm | 0};\n`, false, false, -1);
  if (h === hot.execLea32) return op(`  regs[${i.reg}] = ${eaSource(i)};\n`, false, false, -1);
  if (h === hot.execMov32RegRmM) return op(`  regs[${i.reg}] = smem.read32(${i.seg}, ${eaSource(i)});\n`, true, false, -1);
  if (h === hot.execMov32RmRegM) return op(`  smem.write32(${i.seg}, ${eaSource(i)}, regs[${i.reg}]);\n`, true, true, -1);
  if (h === hot.execMov32RmImmM) return op(`  smem.write32(${i.seg}, ${eaSource(i)}, ${i.imm | 0});\n`, true, true, -1);
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
    return op(`  ${carryIn(a.kind)}s = smem.read32(${i.seg}, ${eaSource(i)}); d = regs[${i.reg}]; r = ${a.expr};${write}\n${lazy(a.kind)}`, true, false, a.kind);
  }
  if (h === hot.execAlu32RmRegM || h === hot.execAlu32ImmM) {
    const code = h === hot.execAlu32ImmM ? i.reg : (i.op >> 3) & 7;
    const a = aluOp(code);
    const src = h === hot.execAlu32ImmM ? `${i.imm | 0}` : `regs[${i.reg}]`;
    if (code === 7) {
      return op(`  a = ${eaSource(i)}; d = smem.read32(${i.seg}, a); s = ${src}; r = ${a.expr};\n${lazy(a.kind)}`, true, false, a.kind);
    }
    // Read, write, then record the flags (a faulting write keeps the older flags).
    return op(`  ${carryIn(a.kind)}a = ${eaSource(i)}; d = smem.read32(${i.seg}, a); s = ${src}; r = ${a.expr}; smem.write32(${i.seg}, a, r);\n${lazy(a.kind)}`, true, true, a.kind);
  }
  return null;
}
