// THE opcode table: one-byte and 0F two-byte maps for an i686 without MMX/SSE
// (SDM vol. 2 appendix A "Opcode Map"). The decoder reads only this table; every
// entry says its mnemonic, handler, ModRM/immediate format and flags. A missing
// entry is an undefined opcode (#UD). Groups (ModRM.reg selects the operation)
// are sub-tables of eight.

import type { Handler } from './insn.js';
import * as alu from './exec-alu.js';
import * as shift from './exec-shift.js';
import * as md from './exec-muldiv.js';
import * as bcd from './exec-bcd.js';
import * as bit from './exec-bit.js';
import * as data from './exec-data.js';
import * as stack from './exec-stack.js';
import * as ctl from './exec-control.js';
import * as io from './exec-io.js';
import * as str from './exec-string.js';
import * as sys from './exec-system.js';
import * as hot from './exec-fast.js';

// Immediate formats.
export const IMM_NONE = 0;
/** imm8, zero-extended. */
export const IMM_B = 1;
/** imm8, sign-extended (83 /n, 6A, 6B, rel8). */
export const IMM_BS = 2;
/** imm16 (RET n, ENTER size). */
export const IMM_W = 3;
/** imm16 or imm32 by operand size, sign-extended (incl. rel16/32). */
export const IMM_Z = 4;
/** moffs: a 16/32-bit address by address size (A0-A3). */
export const IMM_MOFFS = 5;
/** ptr16:16/32 (EA, 9A): imm = offset, imm2 = selector. */
export const IMM_PTR = 6;
/** imm16 then imm8 (ENTER): imm, imm2. */
export const IMM_WB = 7;

// Entry flags.
/** Has a ModRM byte. */
export const F_MODRM = 1;
/** 8-bit operands. */
export const F_BYTE = 2;
/** LOCK allowed (with a memory destination). */
export const F_LOCK = 4;
/** Ends the decoded block (control transfer or state the block depends on). */
export const F_END = 8;
/** Memory operand required: mod = 3 is #UD. */
export const F_MEM = 16;
/** ModRM always names registers, whatever mod says (MOV CR/DR). */
export const F_REGFORM = 32;
/** Operand size is 32 regardless of 0x66 (MOV CR/DR). */
export const F_OSZ32 = 64;
/** Register number in the low three opcode bits (decoded into rm with mod = 3). */
export const F_REGOP = 128;
/** Near branch: operand size decides the target width. */
export const F_BRANCH = 256;
/**
 * Ends its block but changes nothing a block lookup depends on (CS, CPL, mode,
 * translations), so the next block may still be chained (POPF, STI, data-segment
 * and descriptor-table loads, HLT, MOV DR).
 */
export const F_CHAINS = 512;

export interface OpcodeEntry {
  readonly name: string;
  readonly exec: Handler;
  readonly flags: number;
  readonly imm: number;
  /** ModRM.reg-indexed sub-table; null entries are #UD. */
  readonly group: ReadonlyArray<OpcodeEntry | null> | null;
  /** Specialised handler for 32-bit operands with a register operand (exec-fast.ts), or null. */
  readonly reg32: Handler | null;
  /** Specialised handler for 32-bit operands with a 32-bit-addressed memory operand, or null. */
  readonly mem32: Handler | null;
}

function op(name: string, exec: Handler, flags = 0, imm = IMM_NONE): OpcodeEntry {
  return { name, exec, flags, imm, group: null, reg32: null, mem32: null };
}
/** The same entry with specialised 32-bit handlers. */
function fast(e: OpcodeEntry, reg32: Handler | null, mem32: Handler | null): OpcodeEntry {
  return { ...e, reg32, mem32 };
}
function grp(name: string, flags: number, entries: ReadonlyArray<OpcodeEntry | null>): OpcodeEntry {
  return { name, exec: bit.execUd, flags: flags | F_MODRM, imm: IMM_NONE, group: entries, reg32: null, mem32: null };
}

/** One-byte map. */
export const ONE_BYTE: Array<OpcodeEntry | null> = new Array(256).fill(null);
/** Two-byte map (after 0F). */
export const TWO_BYTE: Array<OpcodeEntry | null> = new Array(256).fill(null);

const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
for (let k = 0; k < 8; k++) {
  const b = k << 3;
  const lock = k === 7 ? 0 : F_LOCK;
  ONE_BYTE[b] = op(ALU_NAMES[k], alu.execAluRmReg, F_MODRM | F_BYTE | lock);
  ONE_BYTE[b + 1] = fast(op(ALU_NAMES[k], alu.execAluRmReg, F_MODRM | lock), hot.execAlu32RmRegR, hot.execAlu32RmRegM);
  ONE_BYTE[b + 2] = op(ALU_NAMES[k], alu.execAluRegRm, F_MODRM | F_BYTE);
  ONE_BYTE[b + 3] = fast(op(ALU_NAMES[k], alu.execAluRegRm, F_MODRM), hot.execAlu32RegRmR, hot.execAlu32RegRmM);
  ONE_BYTE[b + 4] = op(ALU_NAMES[k], alu.execAluAccImm, F_BYTE, IMM_B);
  ONE_BYTE[b + 5] = op(ALU_NAMES[k], alu.execAluAccImm, 0, IMM_Z);
}
ONE_BYTE[0x06] = op('push es', stack.execPushSreg);
ONE_BYTE[0x07] = op('pop es', stack.execPopSreg, F_END | F_CHAINS);
ONE_BYTE[0x0e] = op('push cs', stack.execPushSreg);
ONE_BYTE[0x16] = op('push ss', stack.execPushSreg);
ONE_BYTE[0x17] = op('pop ss', stack.execPopSreg, F_END | F_CHAINS);
ONE_BYTE[0x1e] = op('push ds', stack.execPushSreg);
ONE_BYTE[0x1f] = op('pop ds', stack.execPopSreg, F_END | F_CHAINS);
ONE_BYTE[0x27] = op('daa', bcd.execDaa);
ONE_BYTE[0x2f] = op('das', bcd.execDas);
ONE_BYTE[0x37] = op('aaa', bcd.execAaa);
ONE_BYTE[0x3f] = op('aas', bcd.execAas);
for (let r = 0; r < 8; r++) {
  ONE_BYTE[0x40 + r] = fast(op('inc', alu.execIncReg, F_REGOP), hot.execInc32R, null);
  ONE_BYTE[0x48 + r] = fast(op('dec', alu.execDecReg, F_REGOP), hot.execDec32R, null);
  ONE_BYTE[0x50 + r] = fast(op('push', stack.execPushReg, F_REGOP), hot.execPush32R, null);
  ONE_BYTE[0x58 + r] = fast(op('pop', stack.execPopReg, F_REGOP), hot.execPop32R, null);
  ONE_BYTE[0xb0 + r] = op('mov', data.execMovRegImm, F_REGOP | F_BYTE, IMM_B);
  ONE_BYTE[0xb8 + r] = fast(op('mov', data.execMovRegImm, F_REGOP, IMM_Z), hot.execMov32RegImm, null);
  if (r > 0) ONE_BYTE[0x90 + r] = op('xchg', data.execXchg, F_REGOP);
}
ONE_BYTE[0x60] = op('pusha', stack.execPusha);
ONE_BYTE[0x61] = op('popa', stack.execPopa);
ONE_BYTE[0x62] = op('bound', ctl.execBound, F_MODRM | F_MEM);
ONE_BYTE[0x63] = op('arpl', sys.execArpl, F_MODRM);
ONE_BYTE[0x68] = op('push', stack.execPushImm, 0, IMM_Z);
ONE_BYTE[0x69] = op('imul', md.execImul3, F_MODRM, IMM_Z);
ONE_BYTE[0x6a] = op('push', stack.execPushImm, 0, IMM_BS);
ONE_BYTE[0x6b] = op('imul', md.execImul3, F_MODRM, IMM_BS);
ONE_BYTE[0x6c] = op('insb', str.execIns, F_BYTE);
ONE_BYTE[0x6d] = op('ins', str.execIns);
ONE_BYTE[0x6e] = op('outsb', str.execOuts, F_BYTE);
ONE_BYTE[0x6f] = op('outs', str.execOuts);
for (let cc = 0; cc < 16; cc++) {
  // Jcc does not end its block: a taken branch leaves it early (execJcc sets stopBlock),
  // so straight-line code across not-taken branches runs as one block.
  ONE_BYTE[0x70 + cc] = op('jcc', ctl.execJcc, F_BRANCH, IMM_BS);
  TWO_BYTE[0x80 + cc] = op('jcc', ctl.execJcc, F_BRANCH, IMM_Z);
  TWO_BYTE[0x90 + cc] = op('setcc', data.execSetcc, F_MODRM | F_BYTE);
  TWO_BYTE[0x40 + cc] = op('cmovcc', data.execCmovcc, F_MODRM);
}
const group1 = (imm: number, byte: number) =>
  ALU_NAMES.map((n, k) => {
    const e = op(n, alu.execAluRmImm, F_MODRM | byte | (k === 7 ? 0 : F_LOCK), imm);
    return byte ? e : fast(e, hot.execAlu32ImmR, hot.execAlu32ImmM);
  });
ONE_BYTE[0x80] = grp('grp1', F_BYTE, group1(IMM_B, F_BYTE));
ONE_BYTE[0x81] = grp('grp1', 0, group1(IMM_Z, 0));
ONE_BYTE[0x82] = ONE_BYTE[0x80]; // alias of 80 in 32-bit mode
ONE_BYTE[0x83] = grp('grp1', 0, group1(IMM_BS, 0));
ONE_BYTE[0x84] = op('test', alu.execTestRmReg, F_MODRM | F_BYTE);
ONE_BYTE[0x85] = fast(op('test', alu.execTestRmReg, F_MODRM), hot.execTest32R, null);
ONE_BYTE[0x86] = op('xchg', data.execXchg, F_MODRM | F_BYTE | F_LOCK);
ONE_BYTE[0x87] = op('xchg', data.execXchg, F_MODRM | F_LOCK);
ONE_BYTE[0x88] = op('mov', data.execMovRmReg, F_MODRM | F_BYTE);
ONE_BYTE[0x89] = fast(op('mov', data.execMovRmReg, F_MODRM), hot.execMov32RmRegR, hot.execMov32RmRegM);
ONE_BYTE[0x8a] = op('mov', data.execMovRegRm, F_MODRM | F_BYTE);
ONE_BYTE[0x8b] = fast(op('mov', data.execMovRegRm, F_MODRM), null, hot.execMov32RegRmM);
ONE_BYTE[0x8c] = op('mov sreg', sys.execMovRmSreg, F_MODRM);
ONE_BYTE[0x8d] = fast(op('lea', data.execLea, F_MODRM | F_MEM), null, hot.execLea32);
ONE_BYTE[0x8e] = op('mov sreg', sys.execMovSregRm, F_MODRM | F_END | F_CHAINS);
ONE_BYTE[0x8f] = grp('grp1a', 0, [op('pop', stack.execPopRm, F_MODRM), null, null, null, null, null, null, null]);
ONE_BYTE[0x90] = op('nop', data.execNop);
ONE_BYTE[0x98] = op('cbw', data.execCbw);
ONE_BYTE[0x99] = op('cwd', data.execCwd);
ONE_BYTE[0x9a] = op('call far', ctl.execCallFar, F_END, IMM_PTR);
ONE_BYTE[0x9b] = op('wait', sys.execWait);
ONE_BYTE[0x9c] = op('pushf', stack.execPushf);
ONE_BYTE[0x9d] = op('popf', stack.execPopf, F_END | F_CHAINS);
ONE_BYTE[0x9e] = op('sahf', data.execSahf);
ONE_BYTE[0x9f] = op('lahf', data.execLahf);
ONE_BYTE[0xa0] = op('mov', data.execMovRegRm, F_BYTE, IMM_MOFFS);
ONE_BYTE[0xa1] = op('mov', data.execMovRegRm, 0, IMM_MOFFS);
ONE_BYTE[0xa2] = op('mov', data.execMovRmReg, F_BYTE, IMM_MOFFS);
ONE_BYTE[0xa3] = op('mov', data.execMovRmReg, 0, IMM_MOFFS);
ONE_BYTE[0xa4] = op('movsb', str.execMovs, F_BYTE);
ONE_BYTE[0xa5] = op('movs', str.execMovs);
ONE_BYTE[0xa6] = op('cmpsb', str.execCmps, F_BYTE);
ONE_BYTE[0xa7] = op('cmps', str.execCmps);
ONE_BYTE[0xa8] = op('test', alu.execTestAccImm, F_BYTE, IMM_B);
ONE_BYTE[0xa9] = op('test', alu.execTestAccImm, 0, IMM_Z);
ONE_BYTE[0xaa] = op('stosb', str.execStos, F_BYTE);
ONE_BYTE[0xab] = op('stos', str.execStos);
ONE_BYTE[0xac] = op('lodsb', str.execLods, F_BYTE);
ONE_BYTE[0xad] = op('lods', str.execLods);
ONE_BYTE[0xae] = op('scasb', str.execScas, F_BYTE);
ONE_BYTE[0xaf] = op('scas', str.execScas);
const SHIFT_NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
const group2 = (exec: Handler, byte: number, imm: number) => SHIFT_NAMES.map((n) => op(n, exec, F_MODRM | byte, imm));
ONE_BYTE[0xc0] = grp('grp2', F_BYTE, group2(shift.execShiftImm, F_BYTE, IMM_B));
ONE_BYTE[0xc1] = grp('grp2', 0, group2(shift.execShiftImm, 0, IMM_B));
ONE_BYTE[0xc2] = op('ret', ctl.execRet, F_END | F_BRANCH, IMM_W);
ONE_BYTE[0xc3] = op('ret', ctl.execRet, F_END | F_BRANCH);
ONE_BYTE[0xc4] = op('les', sys.execLoadFarPointer, F_MODRM | F_MEM);
ONE_BYTE[0xc5] = op('lds', sys.execLoadFarPointer, F_MODRM | F_MEM);
ONE_BYTE[0xc6] = grp('grp11', F_BYTE, [op('mov', data.execMovRmImm, F_MODRM | F_BYTE, IMM_B), null, null, null, null, null, null, null]);
ONE_BYTE[0xc7] = grp('grp11', 0, [fast(op('mov', data.execMovRmImm, F_MODRM, IMM_Z), null, hot.execMov32RmImmM), null, null, null, null, null, null, null]);
ONE_BYTE[0xc8] = op('enter', stack.execEnter, 0, IMM_WB);
ONE_BYTE[0xc9] = op('leave', stack.execLeave);
ONE_BYTE[0xca] = op('retf', ctl.execRetFar, F_END, IMM_W);
ONE_BYTE[0xcb] = op('retf', ctl.execRetFar, F_END);
ONE_BYTE[0xcc] = op('int3', ctl.execInt3, F_END);
ONE_BYTE[0xcd] = op('int', ctl.execInt, F_END, IMM_B);
ONE_BYTE[0xce] = op('into', ctl.execInto, F_END);
ONE_BYTE[0xcf] = op('iret', ctl.execIret, F_END);
ONE_BYTE[0xd0] = grp('grp2', F_BYTE, group2(shift.execShiftOne, F_BYTE, IMM_NONE));
ONE_BYTE[0xd1] = grp('grp2', 0, group2(shift.execShiftOne, 0, IMM_NONE));
ONE_BYTE[0xd2] = grp('grp2', F_BYTE, group2(shift.execShiftCl, F_BYTE, IMM_NONE));
ONE_BYTE[0xd3] = grp('grp2', 0, group2(shift.execShiftCl, 0, IMM_NONE));
ONE_BYTE[0xd4] = op('aam', bcd.execAam, 0, IMM_B);
ONE_BYTE[0xd5] = op('aad', bcd.execAad, 0, IMM_B);
// D6 SALC: left undefined (#UD), acceptable per the project's CPU model.
ONE_BYTE[0xd7] = op('xlat', data.execXlat);
for (let k = 0; k < 8; k++) ONE_BYTE[0xd8 + k] = op('x87', sys.execFpu, F_MODRM);
ONE_BYTE[0xe0] = op('loopne', ctl.execLoop, F_END | F_BRANCH, IMM_BS);
ONE_BYTE[0xe1] = op('loope', ctl.execLoop, F_END | F_BRANCH, IMM_BS);
ONE_BYTE[0xe2] = op('loop', ctl.execLoop, F_END | F_BRANCH, IMM_BS);
ONE_BYTE[0xe3] = op('jcxz', ctl.execJcxz, F_END | F_BRANCH, IMM_BS);
ONE_BYTE[0xe4] = op('in', io.execInImm, F_BYTE, IMM_B);
ONE_BYTE[0xe5] = op('in', io.execInImm, 0, IMM_B);
ONE_BYTE[0xe6] = op('out', io.execOutImm, F_BYTE, IMM_B);
ONE_BYTE[0xe7] = op('out', io.execOutImm, 0, IMM_B);
ONE_BYTE[0xe8] = op('call', ctl.execCallRel, F_END | F_BRANCH, IMM_Z);
ONE_BYTE[0xe9] = op('jmp', ctl.execJmpRel, F_END | F_BRANCH, IMM_Z);
ONE_BYTE[0xea] = op('jmp far', ctl.execJmpFar, F_END, IMM_PTR);
ONE_BYTE[0xeb] = op('jmp', ctl.execJmpRel, F_END | F_BRANCH, IMM_BS);
ONE_BYTE[0xec] = op('in', io.execInDx, F_BYTE);
ONE_BYTE[0xed] = op('in', io.execInDx);
ONE_BYTE[0xee] = op('out', io.execOutDx, F_BYTE);
ONE_BYTE[0xef] = op('out', io.execOutDx);
ONE_BYTE[0xf1] = op('int1', ctl.execInt1, F_END);
ONE_BYTE[0xf4] = op('hlt', ctl.execHlt, F_END | F_CHAINS);
ONE_BYTE[0xf5] = op('cmc', data.execCmc);
const group3 = (byte: number, imm: number) => [
  op('test', alu.execTestRmImm, F_MODRM | byte, imm),
  op('test', alu.execTestRmImm, F_MODRM | byte, imm),
  op('not', alu.execNot, F_MODRM | byte | F_LOCK),
  op('neg', alu.execNeg, F_MODRM | byte | F_LOCK),
  op('mul', md.execMul, F_MODRM | byte),
  op('imul', md.execImul1, F_MODRM | byte),
  op('div', md.execDiv, F_MODRM | byte),
  op('idiv', md.execIdiv, F_MODRM | byte),
];
ONE_BYTE[0xf6] = grp('grp3', F_BYTE, group3(F_BYTE, IMM_B));
ONE_BYTE[0xf7] = grp('grp3', 0, group3(0, IMM_Z));
ONE_BYTE[0xf8] = op('clc', data.execClc);
ONE_BYTE[0xf9] = op('stc', data.execStc);
ONE_BYTE[0xfa] = op('cli', sys.execCli);
ONE_BYTE[0xfb] = op('sti', sys.execSti, F_END | F_CHAINS);
ONE_BYTE[0xfc] = op('cld', data.execCld);
ONE_BYTE[0xfd] = op('std', data.execStd);
ONE_BYTE[0xfe] = grp('grp4', F_BYTE, [
  op('inc', alu.execIncRm, F_MODRM | F_BYTE | F_LOCK),
  op('dec', alu.execDecRm, F_MODRM | F_BYTE | F_LOCK),
  null, null, null, null, null, null,
]);
ONE_BYTE[0xff] = grp('grp5', 0, [
  fast(op('inc', alu.execIncRm, F_MODRM | F_LOCK), hot.execInc32R, null),
  fast(op('dec', alu.execDecRm, F_MODRM | F_LOCK), hot.execDec32R, null),
  op('call', ctl.execCallRm, F_MODRM | F_END | F_BRANCH),
  op('call far', ctl.execCallFarRm, F_MODRM | F_END | F_MEM),
  op('jmp', ctl.execJmpRm, F_MODRM | F_END | F_BRANCH),
  op('jmp far', ctl.execJmpFarRm, F_MODRM | F_END | F_MEM),
  op('push', stack.execPushRm, F_MODRM),
  null,
]);

// ---- two-byte map ----
TWO_BYTE[0x00] = grp('grp6', 0, [
  op('sldt', sys.execGroup6, F_MODRM),
  op('str', sys.execGroup6, F_MODRM),
  op('lldt', sys.execGroup6, F_MODRM | F_END | F_CHAINS),
  op('ltr', sys.execGroup6, F_MODRM | F_END | F_CHAINS),
  op('verr', sys.execGroup6, F_MODRM),
  op('verw', sys.execGroup6, F_MODRM),
  null, null,
]);
/** Group 7 memory forms; register forms are in GROUP7_REG. */
TWO_BYTE[0x01] = grp('grp7', 0, [
  op('sgdt', sys.execSgdtSidt, F_MODRM | F_MEM),
  op('sidt', sys.execSgdtSidt, F_MODRM | F_MEM),
  op('lgdt', sys.execLgdtLidt, F_MODRM | F_MEM | F_END | F_CHAINS),
  op('lidt', sys.execLgdtLidt, F_MODRM | F_MEM | F_END | F_CHAINS),
  op('smsw', sys.execSmsw, F_MODRM),
  null,
  op('lmsw', sys.execLmsw, F_MODRM | F_END),
  op('invlpg', sys.execInvlpg, F_MODRM | F_MEM | F_END),
]);
/** 0F 01 with mod = 3, by the whole ModRM byte (SDM vol. 2 Table A-6). */
export const GROUP7_REG = new Map<number, OpcodeEntry>([
  [0xc1, op('vmcall', sys.execVmcall, F_MODRM | F_END)],
  [0xd9, op('vmmcall', sys.execVmcall, F_MODRM | F_END)],
]);
TWO_BYTE[0x02] = op('lar', sys.execLarLsl, F_MODRM);
TWO_BYTE[0x03] = op('lsl', sys.execLarLsl, F_MODRM);
TWO_BYTE[0x06] = op('clts', sys.execClts, F_END);
TWO_BYTE[0x08] = op('invd', sys.execInvd);
TWO_BYTE[0x09] = op('wbinvd', sys.execInvd);
TWO_BYTE[0x0b] = op('ud2', bit.execUd);
// 0F 18-1F: prefetch hints and the hint-NOP space (NOPL 0F 1F /0), harmless NOPs.
for (let b = 0x18; b <= 0x1f; b++) TWO_BYTE[b] = op('nop', data.execNop, F_MODRM);
TWO_BYTE[0x20] = op('mov from cr', sys.execMovFromCr, F_MODRM | F_REGFORM | F_OSZ32);
TWO_BYTE[0x21] = op('mov from dr', sys.execMovFromDr, F_MODRM | F_REGFORM | F_OSZ32);
TWO_BYTE[0x22] = op('mov to cr', sys.execMovToCr, F_MODRM | F_REGFORM | F_OSZ32 | F_END);
TWO_BYTE[0x23] = op('mov to dr', sys.execMovToDr, F_MODRM | F_REGFORM | F_OSZ32 | F_END | F_CHAINS);
TWO_BYTE[0x30] = op('wrmsr', sys.execWrmsr, F_END);
TWO_BYTE[0x31] = op('rdtsc', sys.execRdtsc);
TWO_BYTE[0x32] = op('rdmsr', sys.execRdmsr, F_END);
TWO_BYTE[0x33] = op('rdpmc', sys.execRdpmc);
TWO_BYTE[0x34] = op('sysenter', sys.execSysenter, F_END);
TWO_BYTE[0x35] = op('sysexit', sys.execSysexit, F_END);
TWO_BYTE[0x77] = op('emms', sys.execEmms);
TWO_BYTE[0xa0] = op('push fs', stack.execPushSreg);
TWO_BYTE[0xa1] = op('pop fs', stack.execPopSreg, F_END | F_CHAINS);
TWO_BYTE[0xa2] = op('cpuid', sys.execCpuid);
TWO_BYTE[0xa3] = op('bt', bit.execBtReg, F_MODRM);
TWO_BYTE[0xa4] = op('shld', shift.execShldImm, F_MODRM, IMM_B);
TWO_BYTE[0xa5] = op('shld', shift.execShldCl, F_MODRM);
TWO_BYTE[0xa8] = op('push gs', stack.execPushSreg);
TWO_BYTE[0xa9] = op('pop gs', stack.execPopSreg, F_END | F_CHAINS);
TWO_BYTE[0xab] = op('bts', bit.execBtReg, F_MODRM | F_LOCK);
TWO_BYTE[0xac] = op('shrd', shift.execShrdImm, F_MODRM, IMM_B);
TWO_BYTE[0xad] = op('shrd', shift.execShrdCl, F_MODRM);
TWO_BYTE[0xae] = op('grp15', sys.execGroup15, F_MODRM);
TWO_BYTE[0xaf] = op('imul', md.execImul2, F_MODRM);
TWO_BYTE[0xb0] = op('cmpxchg', data.execCmpxchg, F_MODRM | F_BYTE | F_LOCK);
TWO_BYTE[0xb1] = op('cmpxchg', data.execCmpxchg, F_MODRM | F_LOCK);
TWO_BYTE[0xb2] = op('lss', sys.execLoadFarPointer, F_MODRM | F_MEM | F_END | F_CHAINS);
TWO_BYTE[0xb3] = op('btr', bit.execBtReg, F_MODRM | F_LOCK);
TWO_BYTE[0xb4] = op('lfs', sys.execLoadFarPointer, F_MODRM | F_MEM);
TWO_BYTE[0xb5] = op('lgs', sys.execLoadFarPointer, F_MODRM | F_MEM);
TWO_BYTE[0xb6] = op('movzx', data.execMovzx, F_MODRM);
TWO_BYTE[0xb7] = op('movzx', data.execMovzx, F_MODRM);
TWO_BYTE[0xb9] = op('ud1', bit.execUd, F_MODRM);
TWO_BYTE[0xba] = grp('grp8', 0, [
  null, null, null, null,
  op('bt', bit.execBtImm, F_MODRM, IMM_B),
  op('bts', bit.execBtImm, F_MODRM | F_LOCK, IMM_B),
  op('btr', bit.execBtImm, F_MODRM | F_LOCK, IMM_B),
  op('btc', bit.execBtImm, F_MODRM | F_LOCK, IMM_B),
]);
TWO_BYTE[0xbb] = op('btc', bit.execBtReg, F_MODRM | F_LOCK);
TWO_BYTE[0xbc] = op('bsf', bit.execBsf, F_MODRM);
TWO_BYTE[0xbd] = op('bsr', bit.execBsr, F_MODRM);
TWO_BYTE[0xbe] = op('movsx', data.execMovsx, F_MODRM);
TWO_BYTE[0xbf] = op('movsx', data.execMovsx, F_MODRM);
TWO_BYTE[0xc0] = op('xadd', data.execXadd, F_MODRM | F_BYTE | F_LOCK);
TWO_BYTE[0xc1] = op('xadd', data.execXadd, F_MODRM | F_LOCK);
TWO_BYTE[0xc7] = grp('grp9', 0, [null, op('cmpxchg8b', data.execCmpxchg8b, F_MODRM | F_MEM | F_LOCK), null, null, null, null, null, null]);
for (let r = 0; r < 8; r++) TWO_BYTE[0xc8 + r] = op('bswap', bit.execBswap, F_REGOP);
TWO_BYTE[0xff] = op('ud0', bit.execUd, F_MODRM);
