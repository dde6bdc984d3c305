// Decimal adjust instructions DAA DAS AAA AAS AAM AAD (SDM vol. 2; undefined flags
// as measured on AMD, fact sheet §6 "BCD").

import { CpuException, EXC_DE, FLAG_AF, FLAG_CF, FLAG_OF } from './state.js';
import { getAF, getCF, LAZY_ADD, setLazy, setSzp } from './flags.js';
import type { Insn } from './insn.js';
import { setReg } from './operands.js';
import type { CpuState } from './state.js';

/** 27 DAA. OF as for the additions performed (AMD). */
export function execDaa(cpu: CpuState, _i: Insn): void {
  const oldAl = cpu.regs[0] & 0xff;
  const oldCf = getCF(cpu);
  let al = oldAl;
  let af = false, cf = false, of = false;
  if ((al & 0xf) > 9 || getAF(cpu)) {
    const r = (al + 6) & 0xff;
    of = ((al ^ r) & (6 ^ r) & 0x80) !== 0;
    al = r;
    af = true;
    cf = oldCf || oldAl + 6 > 0xff;
  }
  if (oldAl > 0x99 || oldCf) {
    const r = (al + 0x60) & 0xff;
    of = ((al ^ r) & (0x60 ^ r) & 0x80) !== 0;
    al = r;
    cf = true;
  }
  setReg(cpu, 0, 1, al);
  setSzp(cpu, 0, al, (cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0) | (of ? FLAG_OF : 0));
}

/** 2F DAS. OF as for the subtractions performed (AMD). */
export function execDas(cpu: CpuState, _i: Insn): void {
  const oldAl = cpu.regs[0] & 0xff;
  const oldCf = getCF(cpu);
  let al = oldAl;
  let af = false, cf = false, of = false;
  if ((al & 0xf) > 9 || getAF(cpu)) {
    const r = (al - 6) & 0xff;
    of = ((al ^ 6) & (al ^ r) & 0x80) !== 0;
    al = r;
    af = true;
    cf = oldCf || oldAl < 6;
  }
  if (oldAl > 0x99 || oldCf) {
    const r = (al - 0x60) & 0xff;
    of = ((al ^ 0x60) & (al ^ r) & 0x80) !== 0;
    al = r;
    cf = true;
  }
  setReg(cpu, 0, 1, al);
  setSzp(cpu, 0, al, (cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0) | (of ? FLAG_OF : 0));
}

/** 37 AAA / 3F AAS: O S Z P from the unmasked intermediate AL (AMD). */
function asciiAdjust(cpu: CpuState, add: boolean): void {
  const regs = cpu.regs;
  const al = regs[0] & 0xff;
  const adjust = (al & 0xf) > 9 || getAF(cpu);
  let ax = regs[0] & 0xffff;
  let inter = al;
  if (adjust) {
    if (add) {
      inter = (al + 6) & 0xff;
      ax = (ax + 0x106) & 0xffff;
    } else {
      inter = (al - 6) & 0xff;
      ax = (((ax >> 8) - 1) << 8 | ((al - 6) & 0xff)) & 0xffff;
    }
  }
  setReg(cpu, 0, 2, ax & 0xff0f);
  // S Z P from the intermediate, OF of its add/sub, CF = AF = adjust.
  const flagsNow = adjust ? FLAG_AF | FLAG_CF : 0;
  const of = adjust && (add ? ((al ^ inter) & (6 ^ inter) & 0x80) !== 0 : ((al ^ 6) & (al ^ inter) & 0x80) !== 0);
  setSzp(cpu, 0, inter, flagsNow | (of ? FLAG_OF : 0));
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
