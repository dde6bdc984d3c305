// JavaScript source for the hottest instruction forms (the exec-fast.ts handlers
// and near Jcc/JMP), so the block compiler can emit them inline instead of calling
// the handler: register numbers, immediates and displacements become constants.
// Each form does exactly what its handler does, in the same order (a memory write
// before the flags are recorded, so a faulting write leaves the older flags), and
// records the lazy flags exactly as flags.ts expects. The generated code has the
// locals regs, smem, cpu and the scratch ints d, s, r, a; flag writers leave the
// operands and result in d, s, r so a following Jcc can test them directly.

import type { Insn } from './insn.js';
import * as hot from './exec-fast.js';
import { execJcc, execJmpRel } from './exec-control.js';
import { LAZY_ADD, LAZY_LOGIC, LAZY_SUB } from './flags.js';

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

/** Effective address of a 32-bit-addressing memory operand, as a JavaScript int expression. */
function eaSource(i: Insn): string {
  let x = `${i.disp | 0}`;
  if (i.base >= 0) x += ` + regs[${i.base}]`;
  if (i.index >= 0) x += i.scale > 0 ? ` + (regs[${i.index}] << ${i.scale})` : ` + regs[${i.index}]`;
  return `(${x}) | 0`;
}

/** `r = d op s` and the lazy kind for ADD OR AND SUB XOR CMP (ADC/SBB: null, they read CF). */
function aluOp(op: number): { expr: string; kind: number } | null {
  switch (op) {
    case 0: return { expr: '(d + s) | 0', kind: LAZY_ADD };
    case 1: return { expr: 'd | s', kind: LAZY_LOGIC };
    case 4: return { expr: 'd & s', kind: LAZY_LOGIC };
    case 5:
    case 7: return { expr: '(d - s) | 0', kind: LAZY_SUB };
    case 6: return { expr: 'd ^ s', kind: LAZY_LOGIC };
    default: return null;
  }
}

function lazy(kind: number): string {
  return `  cpu.lazyOp = ${kind | SZ32}; cpu.lazyDst = d; cpu.lazySrc = s; cpu.lazyResult = r;\n`;
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
  if (h === hot.execAlu32RmRegR || h === hot.execAlu32RegRmR || h === hot.execAlu32ImmR) {
    const code = h === hot.execAlu32ImmR ? i.reg : (i.op >> 3) & 7;
    const a = aluOp(code);
    if (a === null) return null;
    const dst = h === hot.execAlu32RegRmR ? i.reg : i.rm;
    const src = h === hot.execAlu32RmRegR ? `regs[${i.reg}]` : h === hot.execAlu32RegRmR ? `regs[${i.rm}]` : `${i.imm | 0}`;
    const write = code === 7 ? '' : ` regs[${dst}] = r;`;
    return op(`  d = regs[${dst}]; s = ${src}; r = ${a.expr};${write}\n${lazy(a.kind)}`, false, false, a.kind);
  }
  if (h === hot.execAlu32RegRmM) {
    const a = aluOp((i.op >> 3) & 7);
    if (a === null) return null;
    const write = (i.op >> 3) === 7 ? '' : ` regs[${i.reg}] = r;`;
    return op(`  s = smem.read32(${i.seg}, ${eaSource(i)}); d = regs[${i.reg}]; r = ${a.expr};${write}\n${lazy(a.kind)}`, true, false, a.kind);
  }
  if (h === hot.execAlu32RmRegM || h === hot.execAlu32ImmM) {
    const code = h === hot.execAlu32ImmM ? i.reg : (i.op >> 3) & 7;
    const a = aluOp(code);
    if (a === null) return null;
    const src = h === hot.execAlu32ImmM ? `${i.imm | 0}` : `regs[${i.reg}]`;
    if (code === 7) {
      return op(`  a = ${eaSource(i)}; d = smem.read32(${i.seg}, a); s = ${src}; r = ${a.expr};\n${lazy(a.kind)}`, true, false, a.kind);
    }
    // Read, write, then record the flags (a faulting write keeps the older flags).
    return op(`  a = ${eaSource(i)}; d = smem.read32(${i.seg}, a); s = ${src}; r = ${a.expr}; smem.write32(${i.seg}, a, r);\n${lazy(a.kind)}`, true, true, a.kind);
  }
  return null;
}
