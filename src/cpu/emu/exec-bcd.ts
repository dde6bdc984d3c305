// Decimal adjust instructions DAA DAS AAA AAS AAM AAD (SDM vol. 2; undefined flags
// as measured on AMD, fact sheet §6 "BCD").

import { CpuException, EXC_DE, FLAG_AF, FLAG_CF, FLAG_OF } from './state.js';
import { arithFlags, getAF, getCF, LAZY_ADD, LAZY_SUB, setArithFlags, setLazy, setSzp } from './flags.js';
import type { Insn } from './insn.js';
import { setReg } from './operands.js';
import type { CpuState } from './state.js';

/**
 * 27 DAA / 2F DAS. CF and AF per the SDM; OF as AMD computes it: the overflow of
 * the whole correction (0, 6, 0x60 or 0x66) applied as one ADD/SUB (fact sheet §6).
 */
function decimalAdjust(cpu: CpuState, add: boolean): void {
  const oldAl = cpu.regs[0] & 0xff;
  const oldCf = getCF(cpu);
  let corr = 0;
  let cf = false;
  let af = false;
  if ((oldAl & 0xf) > 9 || getAF(cpu)) {
    corr = 6;
    af = true;
    cf = oldCf || (add ? oldAl + 6 > 0xff : oldAl < 6);
  }
  if (oldAl > 0x99 || oldCf) {
    corr |= 0x60;
    cf = true;
  }
  const al = (add ? oldAl + corr : oldAl - corr) & 0xff;
  const of = add ? ((oldAl ^ al) & (corr ^ al) & 0x80) !== 0 : ((oldAl ^ corr) & (oldAl ^ al) & 0x80) !== 0;
  setReg(cpu, 0, 1, al);
  setSzp(cpu, 0, al, (cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0) | (of ? FLAG_OF : 0));
}
export function execDaa(cpu: CpuState, _i: Insn): void {
  decimalAdjust(cpu, true);
}
export function execDas(cpu: CpuState, _i: Insn): void {
  decimalAdjust(cpu, false);
}

/**
 * 37 AAA / 3F AAS as AMD does them: AX +/- 0x106 as one 16-bit ADD/SUB when
 * adjusting (so AAS borrows from AL into AH), then AL &= 0x0F; O S Z P from
 * that 16-bit operation (by 0 when not adjusting), CF = AF = adjust.
 */
function asciiAdjust(cpu: CpuState, add: boolean): void {
  const adjust = (cpu.regs[0] & 0xf) > 9 || getAF(cpu);
  const ax = cpu.regs[0] & 0xffff;
  const delta = adjust ? 0x106 : 0;
  const res = (add ? ax + delta : ax - delta) & 0xffff;
  setReg(cpu, 0, 2, res & 0xff0f);
  setLazy(cpu, (add ? LAZY_ADD : LAZY_SUB) | 1, ax, delta, res);
  const f = arithFlags(cpu) & ~(FLAG_CF | FLAG_AF);
  setArithFlags(cpu, f | (adjust ? FLAG_CF | FLAG_AF : 0));
}
export function execAaa(cpu: CpuState, _i: Insn): void {
  asciiAdjust(cpu, true);
}
export function execAas(cpu: CpuState, _i: Insn): void {
  asciiAdjust(cpu, false);
}

/** D4 ib AAM: #DE on base 0; O A C = 0 (AMD). */
export function execAam(cpu: CpuState, i: Insn): void {
  const base = i.imm & 0xff;
  if (base === 0) throw new CpuException(EXC_DE);
  const al = cpu.regs[0] & 0xff;
  const r = al % base;
  setReg(cpu, 0, 2, (Math.floor(al / base) << 8) | r);
  setSzp(cpu, 0, r, 0);
}

/** D5 ib AAD: O A C as for the final ADD (AMD). */
export function execAad(cpu: CpuState, i: Insn): void {
  const al = cpu.regs[0] & 0xff;
  const ah = (cpu.regs[0] >> 8) & 0xff;
  const prod = (ah * (i.imm & 0xff)) & 0xff;
  const r = (al + prod) & 0xff;
  setReg(cpu, 0, 2, r);
  setLazy(cpu, LAZY_ADD | 0, al, prod, r);
}
