// First tier of the block compiler (ARCHITECTURE.md "Performance design": basic
// blocks compiled to JavaScript functions V8 optimises). A hot block becomes one
// straight-line function that calls each instruction's handler from its own call
// site: every site is monomorphic, so V8 can inline the handlers, and the loop and
// indirect-call overhead of the interpreter disappear.
//
// Per instruction the generated code does what the interpreter loop does (set
// insnEip and savedEsp, advance EIP, run, stop if the handler asked), except for
// register-only instructions that cannot fault, read EIP or stop a block: those
// are just called, and EIP catches up before the next instruction that needs it.
// Control flow inside a block is straight-line (a taken Jcc or anything else that
// moves EIP stops the block), so EIP = block start + static offset throughout.
// Only handler references and lengths go into the source; no guest data does.

import type { Block } from './decode-cache.js';
import type { Handler, Insn } from './insn.js';
import type { CpuState } from './state.js';
import * as alu from './exec-alu.js';
import * as shift from './exec-shift.js';
import * as md from './exec-muldiv.js';
import * as bit from './exec-bit.js';
import * as data from './exec-data.js';
import * as hot from './exec-fast.js';

/** Runs the whole block; returns how many instructions completed. */
export type CompiledBlock = (cpu: CpuState) => number;

/** Executions of a block before it is compiled. */
export const COMPILE_THRESHOLD = 64;

/** Handlers that never fault, touch EIP or stop a block when their operands are registers (mod = 3 or none). */
const REGISTER_SAFE = new Set<Handler>([
  hot.execAlu32RmRegR, hot.execAlu32RegRmR, hot.execAlu32ImmR, hot.execTest32R, hot.execMov32RmRegR, hot.execMov32RegImm,
  hot.execInc32R, hot.execDec32R,
  alu.execAluRmReg, alu.execAluRegRm, alu.execAluAccImm, alu.execAluRmImm, alu.execTestRmReg, alu.execTestAccImm, alu.execTestRmImm,
  alu.execIncRm, alu.execDecRm, alu.execNot, alu.execNeg,
  shift.execShiftImm, shift.execShiftOne, shift.execShiftCl, shift.execShldImm, shift.execShldCl, shift.execShrdImm, shift.execShrdCl,
  md.execMul, md.execImul1, md.execImul2, md.execImul3,
  bit.execBsf, bit.execBsr, bit.execBswap, bit.execBtImm, bit.execBtReg,
  data.execMovRmReg, data.execMovRegRm, data.execMovRegImm, data.execMovzx, data.execMovsx, data.execXchg, data.execSetcc, data.execCmovcc,
  data.execCbw, data.execCwd, data.execLahf, data.execSahf, data.execClc, data.execStc, data.execCmc, data.execCld, data.execStd, data.execNop,
]);
/** Address computations only: never touch memory. */
const ADDRESS_ONLY = new Set<Handler>([hot.execLea32, data.execLea]);

/** Whether `i` needs none of the per-instruction bookkeeping. */
function isQuiet(i: Insn): boolean {
  if (ADDRESS_ONLY.has(i.exec)) return true;
  return REGISTER_SAFE.has(i.exec) && (i.mod === 3 || i.mod === -1);
}

let compilerAvailable = true;

/** Compile `block`, or return null where the host forbids generated code (e.g. a CSP without unsafe-eval). */
export function compileBlock(block: Block): CompiledBlock | null {
  if (!compilerAvailable) return null;
  const insns = block.insns;
  const n = insns.length;
  const mask = block.code32 ? '-1' : '0xffff';
  const names: string[] = [];
  const values: unknown[] = [];
  for (let k = 0; k < n; k++) {
    names.push(`h${k}`, `i${k}`);
    values.push(insns[k].exec, insns[k]);
  }
  let body = '"use strict";\nreturn function block(cpu) {\n  const regs = cpu.regs;\n  const e0 = cpu.eip;\n  let e;\n';
  let off = 0;
  for (let k = 0; k < n; k++) {
    const ins = insns[k];
    const len = ins.len | 0;
    if (isQuiet(ins) && k < n - 1) {
      body += `  h${k}(cpu, i${k});\n`;
    } else {
      body += `  e = (e0 + ${off}) & ${mask}; cpu.insnEip = e; cpu.savedEsp = regs[4]; cpu.eip = (e + ${len}) & ${mask}; h${k}(cpu, i${k});\n`;
      body += k < n - 1 ? `  if (cpu.stopBlock) return ${k + 1};\n` : `  return ${n};\n`;
    }
    off += len;
  }
  body += '};\n';
  try {
    const factory = new Function(...names, body) as (...args: unknown[]) => CompiledBlock;
    return factory(...values);
  } catch {
    compilerAvailable = false;
    return null;
  }
}
