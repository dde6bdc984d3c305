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
import { execJcc } from './exec-control.js';
import { getCF, testCondition, updateFlags, LAZY_ADC, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_LOGIC, LAZY_SBB, LAZY_SUB, LAZY_SZP } from './flags.js';
import { ATTR_UNUSABLE, CpuException, EXC_GP } from './state.js';
import { CARRY_IN, CONDITION, FLAGS_UNTRACKED, HANDLER, inlineForm, SEG_STACK32, type InlineForm } from './block-inline.js';
import { CpuSegmentedMemory } from './segmented-memory.js';

/**
 * Runs the block; returns how many instructions of its last pass completed. A self
 * loop (a branch back to the block's start) repeats inside the call, at most about
 * `budget` instructions, and adds the earlier passes to cpu.instructions itself.
 * A block compiled with a ChainState may go on into its linked successor's compiled
 * function (`depth` counts those nested calls; the run loop passes 0): it then adds
 * its own instructions to cpu.instructions, returns the successor's count and leaves
 * the block that ran last in chain.chainTail.
 */
export type CompiledBlock = (cpu: CpuState, budget: number, depth: number) => number;

/** What chaining needs from the decode cache (decode-cache.ts). */
export interface ChainState {
  /** Links are valid only within the epoch they were made in. */
  epoch: number;
  /** Frame of the executing block (writes to it stop the block). */
  currentGfn: number;
  /** The block whose compiled function ran last. */
  chainTail: Block | null;
}

/** Most compiled blocks one run-loop dispatch goes through (bounds the JS stack and how late requestExit() is seen). */
export const CHAIN_DEPTH = 16;

/**
 * Executions of a block before it is compiled. A fresh generated function runs in
 * V8's bytecode interpreter (then baseline code) until V8 finds it hot, slower than
 * the interpreter loop's already-optimised handlers. Lukewarm code (the kernel's
 * setup after decompression: ~25k blocks run a few thousand times each) ran at
 * 6-9 MIPS with 64, 10-18 with 1024, 11-20 with 8192, 18-24 with 32768 and 14-24
 * compiling nothing new; hot loops (xz, bignum) run millions of times and do not
 * notice the later start (quick boot's xz phase ~125 MIPS with all of them).
 */
export const COMPILE_THRESHOLD = 32768;

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

/** Thrown by a taken inline Jcc whose target is beyond the CS limit (SDM vol. 2 Jcc: #GP(0)). */
function gpFault(): CpuException {
  return new CpuException(EXC_GP, 0);
}

/**
 * Most iterations a block that branches back to its own start runs inside one
 * call; bounds how late a requestExit() (invisible to the compiled code) is seen.
 */
export const SELF_LOOP_LIMIT = 4096;

/**
 * Compile `block`, or return null where the host forbids generated code (e.g. a CSP
 * without unsafe-eval). With `chain`, the block's exits continue into linked compiled
 * successors.
 */
export function compileBlock(block: Block, chain: ChainState | null = null): CompiledBlock | null {
  if (!compilerAvailable) return null;
  const insns = block.insns;
  const n = insns.length;
  const mask = block.code32 ? '| 0' : '& 0xffff';
  const names: string[] = ['tc', 'gp', 'cf', 'uf', 'SM', 'B', 'C'];
  const values: unknown[] = [testCondition, gpFault, getCF, updateFlags, CpuSegmentedMemory, block, chain];
  const forms: Array<InlineForm | null> = [];
  let memSegs = 0;
  for (let k = 0; k < n; k++) {
    names.push(`h${k}`, `i${k}`);
    values.push(insns[k].exec, insns[k]);
    const form = inlineForm(insns[k]);
    forms.push(form);
    if (form !== null) memSegs |= form.segs;
  }
  const guard = memSegs !== 0 ? flatGuard(memSegs) : '';
  // A near Jcc/JMP back to the block's own start, preceded only by instructions that
  // cannot change mode, interrupt state or the lookup state, loops inside the function
  // (the run loop would just follow the block's link to itself).
  const loopsBack: boolean[] = [];
  let safePrefix = block.code32;
  let selfLoop = false;
  let offset = 0;
  for (let k = 0; k < n; k++) {
    const ins = insns[k];
    const form = forms[k];
    offset += ins.len | 0;
    const back = safePrefix && form !== null && (form.kind === 'jcc' || (form.kind === 'jmp' && k === n - 1)) && ins.osz === 4 && ((offset + ins.imm) | 0) === 0;
    loopsBack.push(back);
    if (back) selfLoop = true;
    if (!(form !== null || isQuiet(ins) || LOOP_SAFE.has(ins.exec))) safePrefix = false;
  }
  let body = '"use strict";\nreturn function block(cpu, budget, depth) {\n  const regs = cpu.regs;\n  const smem = cpu.smem;\n  let e0 = cpu.eip;\n  let e, d = 0, s = 0, r = 0, a = 0, c = 0, v = 0, p = 0;\n';
  if (memSegs !== 0) {
    body += '  const mmu = cpu.mmu, segBase = cpu.segBase, segLimit = cpu.segLimit, segAttr = cpu.segAttr, m32 = mmu.i32, m16 = mmu.u16, m8 = mmu.bytes;\n';
    body += '  let fm = false, tr = mmu.readSup, tw = mmu.writeSup, x = 0, l = 0';
    for (let seg = 0; seg < 6; seg++) if (memSegs & (1 << seg)) body += `, b${seg} = 0`;
    body += ';\n' + guard;
  }
  const chains = chain !== null && block.cached;
  /** Source that follows the link from this block to EIP when nothing stands in the way; `k` instructions ran in this pass. */
  const follow = (k: number): string => {
    if (!chains) return '';
    const rest = selfLoop ? `budget - done - ${k}` : `budget - ${k}`;
    return `  if (depth < ${CHAIN_DEPTH} && ${rest} > 0 && cpu.pendingExit === null && cpu.interruptShadow === 0 && (cpu.flags & 0x100) === 0 && !(cpu.intrLine && (cpu.flags & 0x200) !== 0)) {\n` +
      `    e = cpu.eip; const nb = B.link1Eip === e && B.link1Epoch === C.epoch ? B.link1 : B.link2Eip === e && B.link2Epoch === C.epoch ? B.link2 : null;\n` +
      `    if (nb !== null && nb.valid && nb.compiled !== null) { q = -1; cpu.instructions += ${k}; C.currentGfn = nb.gfn; C.chainTail = nb; return nb.compiled(cpu, ${rest}, depth + 1); }\n  }\n`;
  };
  // Start and end offsets of each instruction, for the catch.
  const starts = new Int32Array(n), ends = new Int32Array(n);
  for (let k = 0, o = 0; k < n; k++) {
    starts[k] = o;
    o += insns[k].len | 0;
    ends[k] = o;
  }
  names.push('QS', 'QE');
  values.push(starts, ends);
  body += '  let q = -1;\n  try {\n';
  if (selfLoop) body += '  let done = 0;\n  const cap = budget < ' + SELF_LOOP_LIMIT + ' ? budget : ' + SELF_LOOP_LIMIT + ';\n  for (;;) {\n';
  const ret = (k: number) => `return ${k}`;
  let off = 0;
  // The lazy-flag kind set by the newest inline flag writer whose d/s/r locals are still current, or -1.
  let flagKind = -1;
  for (let k = 0; k < n; k++) {
    const ins = insns[k];
    const len = ins.len | 0;
    const form = forms[k];
    const at = `((e0 + ${off}) ${mask})`;
    const next = `((e0 + ${off + len}) ${mask})`;
    if (form !== null && form.kind === 'jcc') {
      const cond = conditionSource(ins.op & 0xf, flagKind);
      const target = ins.osz === 4 ? `(${next} + ${ins.imm | 0}) | 0` : `(${next} + ${ins.imm | 0}) & 0xffff`;
      body += `  if (${cond}) {\n    cpu.insnEip = ${at}; cpu.savedEsp = regs[4];\n    const t = ${target};\n    if ((t >>> 0) > cpu.segLimit[1]) { cpu.eip = ${next}; q = -1; throw gp(); }\n    cpu.eip = t;\n`;
      if (loopsBack[k]) {
        body += `    if (done + ${k + 1} >= cap || cpu.pendingExit !== null || (cpu.intrLine && (cpu.flags & 0x200) !== 0)) { cpu.stopBlock = true; return ${k + 1}; }\n    cpu.instructions += ${k + 1}; done += ${k + 1};\n    e0 = t;\n    continue;\n  }\n`;
      } else {
        body += `${follow(k + 1)}    cpu.stopBlock = true;\n    ${ret(k + 1)};\n  }\n`;
      }
      if (k === n - 1) body += `  cpu.eip = ${next};\n${block.chainable ? follow(n) : ''}  ${ret(n)};\n`;
    } else if (form !== null && form.kind === 'jmp' && k === n - 1) {
      // Only as a self loop (other JMPs are not inline forms unless selfLoop).
      body += `  cpu.insnEip = ${at}; cpu.savedEsp = regs[4];\n  e = (${next} + ${ins.imm | 0}) ${ins.osz === 4 ? '| 0' : '& 0xffff'};\n  if ((e >>> 0) > cpu.segLimit[1]) { cpu.eip = ${next}; q = -1; throw gp(); }\n  cpu.eip = e;\n`;
      if (loopsBack[k]) {
        body += `  if (done + ${k + 1} >= cap || cpu.pendingExit !== null || (cpu.intrLine && (cpu.flags & 0x200) !== 0)) return ${k + 1};\n  cpu.instructions += ${k + 1}; done += ${k + 1};\n  e0 = e;\n  continue;\n`;
      } else {
        body += `${block.chainable ? follow(n) : ''}  ${ret(n)};\n`;
      }
    } else if (form !== null && form.kind === 'op') {
      // The catch below turns q into insnEip, EIP and savedEsp (inline forms move ESP only after their access succeeded).
      if (form.faults) body += `  q = ${k};\n`;
      body += form.source
        .split(CARRY_IN).join(flagSources(flagKind)?.cf ?? 'cf(cpu)')
        .split(CONDITION).join(`(${conditionSource(ins.op & 0xf, flagKind)})`)
        .split(HANDLER).join(`h${k}(cpu, i${k})`);
      if (form.flags >= 0) flagKind = form.flags;
      else if (form.flags === FLAGS_UNTRACKED) flagKind = -1;
      if (form.stores && k < n - 1) body += `  if (cpu.stopBlock) { cpu.eip = ${next}; ${ret(k + 1)}; }\n`;
      if (k === n - 1) body += `  cpu.eip = ${next};\n  if (!cpu.stopBlock) {\n${block.chainable ? follow(n) : ''}  }\n  ${ret(n)};\n`;
    } else {
      flagKind = -1;
      if (isQuiet(ins) && k < n - 1) {
        body += `  h${k}(cpu, i${k});\n`;
      } else {
        body += `  q = -1; cpu.insnEip = ${at}; cpu.savedEsp = regs[4]; cpu.eip = ${next}; h${k}(cpu, i${k});\n`;
        body += k < n - 1 ? `  if (cpu.stopBlock) ${ret(k + 1)};\n` : `  if (!cpu.stopBlock) {\n${block.chainable ? follow(n) : ''}  }\n  ${ret(n)};\n`;
        // The handler may have loaded a segment register or changed CPL: re-check the fast path.
        if (memSegs !== 0 && k < n - 1 && !SEGMENT_SAFE.has(ins.exec)) body += guard;
      }
    }
    off += len;
  }
  if (selfLoop) body += '  }\n';
  body += `  } catch (x) {\n    if (q >= 0) { cpu.insnEip = (e0 + QS[q]) ${mask}; cpu.eip = (e0 + QE[q]) ${mask}; cpu.savedEsp = regs[4]; }\n    throw x;\n  }\n};\n`;
  try {
    const factory = new Function(...names, body) as (...args: unknown[]) => CompiledBlock;
    return factory(...values);
  } catch {
    compilerAvailable = false;
    return null;
  }
}

/** Handlers that may run inside a self loop: no mode, interrupt-state or lookup-state changes. */
const LOOP_SAFE = new Set<Handler>([hot.execPush32R, hot.execPop32R, execJcc]);

/** Handlers that never load a segment register or change CPL (whatever their operands). */
const SEGMENT_SAFE = new Set<Handler>([...REGISTER_SAFE, ...ADDRESS_ONLY, ...LOOP_SAFE, ...Object.values(hot)]);

// Segment attribute bits that rule the fast path out: unusable, code, expand-down (segmented-memory.ts).
const NOT_FLAT_DATA = ATTR_UNUSABLE | 8 | 4;

/**
 * Statements setting the inline memory fast path's state (block-inline.ts): fm says
 * every segment in `segs` is a usable, writable (or real-mode), expand-up data
 * segment with a 4 GiB limit, so no access can fail its limit or type check (SDM
 * vol. 3A §5.3-5.5) and linear = base + offset; tr/tw are the TLB arrays of the CPL.
 */
function flatGuard(segs: number): string {
  let cond = 'smem instanceof SM';
  if (segs & SEG_STACK32) cond += ' && cpu.stack32';
  let bases = '';
  for (let seg = 0; seg < 6; seg++) {
    if ((segs & (1 << seg)) === 0) continue;
    cond += ` && (segAttr[${seg}] & ${NOT_FLAT_DATA}) === 0 && segLimit[${seg}] === 4294967295 && ((segAttr[${seg}] & 2) !== 0 || !cpu.protectedMode)`;
    bases += ` b${seg} = segBase[${seg}];`;
  }
  return `  fm = ${cond};${bases}\n  if (cpu.cpl === 3) { tr = mmu.readUser; tw = mmu.writeUser; } else { tr = mmu.readSup; tw = mmu.writeSup; }\n`;
}

/** CF ZF SF OF of the newest inline flag writer of kind `kind`, from its locals d, s, r, c (SDM vol. 1 appendix A). */
function flagSources(kind: number): { cf: string; of: string } | null {
  const addOf = '(((d ^ r) & (s ^ r)) < 0)';
  const subOf = '(((d ^ s) & (d ^ r)) < 0)';
  switch (kind) {
    case LAZY_ADD: return { cf: '((r >>> 0) < (d >>> 0))', of: addOf };
    case LAZY_ADC: return { cf: '(c !== 0 ? (r >>> 0) <= (d >>> 0) : (r >>> 0) < (d >>> 0))', of: addOf };
    case LAZY_SUB: return { cf: '((d >>> 0) < (s >>> 0))', of: subOf };
    case LAZY_SBB: return { cf: '(c !== 0 ? (d >>> 0) <= (s >>> 0) : (d >>> 0) < (s >>> 0))', of: subOf };
    case LAZY_LOGIC: return { cf: 'false', of: 'false' };
    case LAZY_INC: return { cf: '(c !== 0)', of: addOf };
    case LAZY_DEC: return { cf: '(c !== 0)', of: subOf };
    default: return null;
  }
}

/**
 * JavaScript for condition `cc` (SDM vol. 1 appendix B). When the newest flag writer
 * is an inline form of this block, the test reads its locals directly; otherwise it
 * asks flags.ts (the lazy state is always recorded). PF always goes to flags.ts.
 */
function conditionSource(cc: number, kind: number): string {
  const neg = (cc & 1) !== 0;
  const base = cc >> 1;
  let c: string | null = null;
  if (kind === LAZY_SUB) {
    // CMP/SUB: the unsigned and signed comparisons of d and s.
    c = [`((d ^ s) & (d ^ r)) < 0`, `(d >>> 0) < (s >>> 0)`, `r === 0`, `(d >>> 0) <= (s >>> 0)`, `r < 0`, null, `d < s`, `d <= s`][base];
  } else if (kind === LAZY_SZP) {
    // Shifts: only ZF and SF come from the result local.
    c = [null, null, `r === 0`, null, `r < 0`, null, null, null][base];
  } else if (kind === LAZY_LOGIC) {
    c = [`false`, `false`, `r === 0`, `r === 0`, `r < 0`, null, `r < 0`, `r <= 0`][base];
  } else {
    const f = flagSources(kind);
    if (f !== null) c = [f.of, f.cf, `r === 0`, `(${f.cf} || r === 0)`, `r < 0`, null, `((r < 0) !== ${f.of})`, `(r === 0 || (r < 0) !== ${f.of})`][base];
  }
  if (c === null) return `tc(cpu, ${cc})`;
  return neg ? `!(${c})` : c;
}
