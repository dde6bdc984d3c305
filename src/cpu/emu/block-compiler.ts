// First tier of the block compiler (ARCHITECTURE.md "Performance design": basic
// blocks compiled to JavaScript functions V8 optimises). A hot block becomes one
// straight-line function that calls each instruction's handler from its own call
// site: every site is monomorphic, so V8 can inline the handlers, and the loop and
// indirect-call overhead of the interpreter disappear. The generated code does
// exactly what the interpreter loop does per instruction (insnEip, savedEsp, EIP
// advance, stopBlock check), so faults and self-modifying code behave the same.
// Only handler references and lengths go into the source; no guest data does.

import type { Block } from './decode-cache.js';
import type { CpuState } from './state.js';

/** Runs the whole block; returns how many instructions completed. */
export type CompiledBlock = (cpu: CpuState) => number;

/** Executions of a block before it is compiled. */
export const COMPILE_THRESHOLD = 64;

let compilerAvailable = true;

/** Compile `block`, or return null where the host forbids generated code (e.g. a CSP without unsafe-eval). */
export function compileBlock(block: Block): CompiledBlock | null {
  if (!compilerAvailable) return null;
  const insns = block.insns;
  const n = insns.length;
  const mask = block.code32 ? '-1' : '0xffff';
  const names: string[] = [];
  const values: unknown[] = [];
  let body = '"use strict";\n';
  for (let k = 0; k < n; k++) {
    names.push(`h${k}`, `i${k}`);
    values.push(insns[k].exec, insns[k]);
  }
  body += 'return function block(cpu) {\n  const regs = cpu.regs;\n  let e;\n';
  for (let k = 0; k < n; k++) {
    const len = insns[k].len | 0;
    body += `  e = cpu.eip; cpu.insnEip = e; cpu.savedEsp = regs[4]; cpu.eip = (e + ${len}) & ${mask}; h${k}(cpu, i${k});\n`;
    body += k < n - 1 ? `  if (cpu.stopBlock) return ${k + 1};\n` : `  return ${n};\n`;
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
