// EFLAGS with lazily computed arithmetic flags (SDM vol. 1 §3.4.3, appendix A).
//
// An arithmetic instruction records what it did (cpu.lazyOp = kind | size code,
// operands and the result, all masked to the operand size); CF PF AF ZF SF OF are
// computed only when something reads them. cpu.lazyFlags holds the flags that the
// recorded kind does not compute itself (CF for INC/DEC, the carry-in for ADC/SBB,
// CF/OF/AF for SZP) or, for LAZY_NONE, all six.

import { ARITH_FLAGS, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FLAG_VM, type CpuState } from './state.js';

// Kinds (lazyOp >> 2); the low two bits are the size code 0 = 8, 1 = 16, 2 = 32 bits.
export const LAZY_NONE = 0;
export const LAZY_ADD = 1 << 2;
export const LAZY_SUB = 2 << 2;
export const LAZY_LOGIC = 3 << 2;
export const LAZY_INC = 4 << 2;
export const LAZY_DEC = 5 << 2;
/** S Z P from the result; C O A taken from lazyFlags (shifts, rotates through SZP...). */
export const LAZY_SZP = 6 << 2;
export const LAZY_ADC = 7 << 2;
export const LAZY_SBB = 8 << 2;

/** Operand masks and sign bits by size code. */
export const SIZE_MASK = [0xff, 0xffff, -1];
export const SIGN_BIT = [0x80, 0x8000, 1 << 31];

/** PARITY[b] = FLAG_PF when byte b has an even number of set bits. */
const PARITY = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let n = 0;
  for (let k = 0; k < 8; k++) n += (b >> k) & 1;
  PARITY[b] = n & 1 ? 0 : FLAG_PF;
}

/** Record an arithmetic result. `op` = LAZY_* | size code; values already masked. */
export function setLazy(cpu: CpuState, op: number, dst: number, src: number, res: number): void {
  cpu.lazyOp = op;
  cpu.lazyDst = dst;
  cpu.lazySrc = src;
  cpu.lazyResult = res;
}

export function getCF(cpu: CpuState): boolean {
  const op = cpu.lazyOp;
  switch (op >> 2) {
    case 1: // ADD
      return cpu.lazyResult >>> 0 < cpu.lazyDst >>> 0;
    case 2: // SUB
      return cpu.lazyDst >>> 0 < cpu.lazySrc >>> 0;
    case 3:
      return false;
    case 7: // ADC
      return cpu.lazyFlags & FLAG_CF ? cpu.lazyResult >>> 0 <= cpu.lazyDst >>> 0 : cpu.lazyResult >>> 0 < cpu.lazyDst >>> 0;
    case 8: // SBB
      return cpu.lazyFlags & FLAG_CF ? cpu.lazyDst >>> 0 <= cpu.lazySrc >>> 0 : cpu.lazyDst >>> 0 < cpu.lazySrc >>> 0;
    default: // NONE, INC, DEC, SZP
      return (cpu.lazyFlags & FLAG_CF) !== 0;
  }
}

export function getZF(cpu: CpuState): boolean {
  return cpu.lazyOp === LAZY_NONE ? (cpu.lazyFlags & FLAG_ZF) !== 0 : cpu.lazyResult === 0;
}

export function getSF(cpu: CpuState): boolean {
  const op = cpu.lazyOp;
  return op === LAZY_NONE ? (cpu.lazyFlags & FLAG_SF) !== 0 : (cpu.lazyResult & SIGN_BIT[op & 3]) !== 0;
}

export function getPF(cpu: CpuState): boolean {
  return cpu.lazyOp === LAZY_NONE ? (cpu.lazyFlags & FLAG_PF) !== 0 : PARITY[cpu.lazyResult & 0xff] !== 0;
}

export function getOF(cpu: CpuState): boolean {
  const op = cpu.lazyOp;
  const sign = SIGN_BIT[op & 3];
  switch (op >> 2) {
    case 1:
    case 4:
    case 7: // ADD, INC, ADC: operands of equal sign give a result of the other sign
      return ((cpu.lazyDst ^ cpu.lazyResult) & (cpu.lazySrc ^ cpu.lazyResult) & sign) !== 0;
    case 2:
    case 5:
    case 8: // SUB, DEC, SBB
      return ((cpu.lazyDst ^ cpu.lazySrc) & (cpu.lazyDst ^ cpu.lazyResult) & sign) !== 0;
    case 3:
      return false;
    default:
      return (cpu.lazyFlags & FLAG_OF) !== 0;
  }
}

export function getAF(cpu: CpuState): boolean {
  switch (cpu.lazyOp >> 2) {
    case 1: case 2: case 4: case 5: case 7: case 8:
      return ((cpu.lazyDst ^ cpu.lazySrc ^ cpu.lazyResult) & 0x10) !== 0;
    case 3:
      return false; // AMD: AND/OR/XOR clear AF (fact sheet §6)
    default:
      return (cpu.lazyFlags & FLAG_AF) !== 0;
  }
}

/** The six arithmetic flags as EFLAGS bits. */
export function arithFlags(cpu: CpuState): number {
  if (cpu.lazyOp === LAZY_NONE) return cpu.lazyFlags & ARITH_FLAGS;
  return (
    (getCF(cpu) ? FLAG_CF : 0) |
    (getPF(cpu) ? FLAG_PF : 0) |
    (getAF(cpu) ? FLAG_AF : 0) |
    (getZF(cpu) ? FLAG_ZF : 0) |
    (getSF(cpu) ? FLAG_SF : 0) |
    (getOF(cpu) ? FLAG_OF : 0)
  );
}

/** Replace the arithmetic flags with `value & ARITH_FLAGS` (no longer lazy). */
export function setArithFlags(cpu: CpuState, value: number): void {
  cpu.lazyFlags = value & ARITH_FLAGS;
  cpu.lazyOp = LAZY_NONE;
}

/** Set or clear some arithmetic flags, keeping the others. */
export function updateFlags(cpu: CpuState, clear: number, set: number): void {
  setArithFlags(cpu, (arithFlags(cpu) & ~clear) | set);
}

export function setCF(cpu: CpuState, on: boolean): void {
  updateFlags(cpu, FLAG_CF, on ? FLAG_CF : 0);
}

/**
 * Record a result whose S Z P come from `res` and whose C O A are given
 * (shifts, BCD, MUL...). `res` must already be masked to the size.
 */
export function setSzp(cpu: CpuState, sizeCode: number, res: number, cfOfAf: number): void {
  cpu.lazyFlags = cfOfAf & (FLAG_CF | FLAG_OF | FLAG_AF);
  cpu.lazyOp = LAZY_SZP | sizeCode;
  cpu.lazyResult = res;
}

/** INC/DEC: keep CF (captured now), compute the rest from the operands. */
export function setIncDec(cpu: CpuState, kind: number, sizeCode: number, dst: number, res: number): void {
  const cf = getCF(cpu) ? FLAG_CF : 0;
  cpu.lazyFlags = cf;
  cpu.lazyOp = kind | sizeCode;
  cpu.lazyDst = dst;
  cpu.lazySrc = 1;
  cpu.lazyResult = res;
}

/** Condition codes 0..15 of Jcc/SETcc/CMOVcc (SDM vol. 1 appendix B). */
export function testCondition(cpu: CpuState, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(cpu); break;
    case 1: r = getCF(cpu); break;
    case 2: r = getZF(cpu); break;
    case 3: r = getCF(cpu) || getZF(cpu); break;
    case 4: r = getSF(cpu); break;
    case 5: r = getPF(cpu); break;
    case 6: r = getSF(cpu) !== getOF(cpu); break;
    default: r = getZF(cpu) || getSF(cpu) !== getOF(cpu); break;
  }
  return (cc & 1) === 0 ? r : !r;
}

/** The full EFLAGS value (bit 1 set), materialising pending arithmetic flags. */
export function readEflags(cpu: CpuState): number {
  return (cpu.flags & ~ARITH_FLAGS) | arithFlags(cpu) | 2;
}

/**
 * Store all of EFLAGS verbatim (no privilege rules: POPF/IRET callers apply the
 * IOPL/IF/VM rules first). Calls cpu.modeChanged() if VM changed.
 */
export function writeEflags(cpu: CpuState, value: number): void {
  const vmChanged = ((cpu.flags ^ value) & FLAG_VM) !== 0;
  cpu.flags = (value & 0x3f7fd5 & ~ARITH_FLAGS) | 2; // reserved bits 3, 5, 15, 22-31 read 0
  cpu.lazyOp = LAZY_NONE;
  cpu.lazyFlags = value & ARITH_FLAGS;
  if (vmChanged) cpu.modeChanged();
}
