// Shifts and rotates: group 2 (C0 C1 D0-D3) and SHLD/SHRD (SDM vol. 2 "SAL/SAR/SHL/SHR",
// "RCL/RCR/ROL/ROR", "SHLD", "SHRD"; undefined flags as measured on AMD, fact sheet §6).

import { FLAG_AF, FLAG_CF, FLAG_OF } from './state.js';
import { getCF, SIGN_BIT, SIZE_MASK, setSzp, updateFlags } from './flags.js';
import type { Insn } from './insn.js';
import { ea, getReg, readMem, setReg, writeMem } from './operands.js';
import type { CpuState } from './state.js';

/** Rotate/shift `d` (masked) by `count` (already & 31, non-zero); records flags, returns the result. */
function shiftValue(cpu: CpuState, kind: number, szc: number, d: number, count: number): number {
  const bits = 8 << szc;
  const mask = SIZE_MASK[szc];
  const sign = SIGN_BIT[szc];
  let res: number;
  let cf: number;
  switch (kind) {
    case 0: { // ROL: CF = low bit of the result; S Z A P unchanged
      const c = count & (bits - 1);
      res = c === 0 ? d : ((d << c) | ((d & mask) >>> (bits - c))) & mask;
      cf = res & 1;
      const of = (res & sign ? 1 : 0) ^ cf;
      updateFlags(cpu, FLAG_CF | FLAG_OF, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
      return res;
    }
    case 1: { // ROR: CF = MSB of the result, OF = two top bits differ
      const c = count & (bits - 1);
      res = c === 0 ? d : (((d & mask) >>> c) | (d << (bits - c))) & mask;
      cf = res & sign ? 1 : 0;
      const of = cf ^ (res & (sign >>> 1) ? 1 : 0);
      updateFlags(cpu, FLAG_CF | FLAG_OF, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
      return res;
    }
    case 2: { // RCL through CF, count mod (bits + 1)
      const c = bits === 32 ? count : count % (bits + 1);
      res = d & mask;
      cf = getCF(cpu) ? 1 : 0;
      for (let k = 0; k < c; k++) {
        const out = res & sign ? 1 : 0;
        res = ((res << 1) | cf) & mask;
        cf = out;
      }
      if (c === 0) return res;
      const of = (res & sign ? 1 : 0) ^ cf;
      updateFlags(cpu, FLAG_CF | FLAG_OF, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
      return res;
    }
    case 3: { // RCR through CF
      const c = bits === 32 ? count : count % (bits + 1);
      res = d & mask;
      cf = getCF(cpu) ? 1 : 0;
      for (let k = 0; k < c; k++) {
        const out = res & 1;
        res = ((res & mask) >>> 1) | (cf ? sign : 0);
        res &= mask;
        cf = out;
      }
      if (c === 0) return res;
      const of = (res & sign ? 1 : 0) ^ (res & (sign >>> 1) ? 1 : 0);
      updateFlags(cpu, FLAG_CF | FLAG_OF, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
      return res;
    }
    case 4:
    case 6: { // SHL/SAL
      if (count < bits) {
        res = (d << count) & mask;
        cf = ((d & mask) >>> (bits - count)) & 1;
      } else {
        res = 0;
        cf = count === bits ? d & 1 : 0;
      }
      const of = (res & sign ? 1 : 0) ^ cf;
      setSzp(cpu, szc, res, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0) | FLAG_AF);
      return res;
    }
    case 5: { // SHR: OF = original MSB
      const u = d & mask;
      if (count < bits) {
        res = (u >>> count) & mask;
        cf = (u >>> (count - 1)) & 1;
      } else {
        res = 0;
        cf = count === bits ? (u & sign ? 1 : 0) : 0;
      }
      setSzp(cpu, szc, res, (cf ? FLAG_CF : 0) | (u & sign ? FLAG_OF : 0) | FLAG_AF);
      return res;
    }
    default: { // SAR: OF = 0
      const sd = bits === 32 ? d | 0 : bits === 16 ? (d << 16) >> 16 : (d << 24) >> 24;
      if (count < bits) {
        res = (sd >> count) & mask;
        cf = (sd >> (count - 1)) & 1;
      } else {
        res = sd < 0 ? mask : 0;
        cf = sd < 0 ? 1 : 0;
      }
      setSzp(cpu, szc, res, (cf ? FLAG_CF : 0) | FLAG_AF);
      return res;
    }
  }
}

function shiftRm(cpu: CpuState, i: Insn, count: number): void {
  count &= 31;
  if (i.mod === 3) {
    if (count === 0) return; // masked count 0: nothing changes, flags included
    const d = getReg(cpu, i.rm, i.osz);
    setReg(cpu, i.rm, i.osz, shiftValue(cpu, i.reg, i.szc, d, count));
  } else {
    const off = ea(cpu, i);
    const d = readMem(cpu, i.seg, off, i.osz);
    if (count === 0) return;
    // Compute the flags into a scratch state only after the write succeeds.
    const saveOp = cpu.lazyOp, saveFlags = cpu.lazyFlags, saveRes = cpu.lazyResult;
    const r = shiftValue(cpu, i.reg, i.szc, d, count);
    try {
      writeMem(cpu, i.seg, off, i.osz, r);
    } catch (e) {
      cpu.lazyOp = saveOp; cpu.lazyFlags = saveFlags; cpu.lazyResult = saveRes;
      throw e;
    }
  }
}

/** C0/C1 /n ib. */
export function execShiftImm(cpu: CpuState, i: Insn): void {
  shiftRm(cpu, i, i.imm);
}
/** D0/D1 /n: count 1. */
export function execShiftOne(cpu: CpuState, i: Insn): void {
  shiftRm(cpu, i, 1);
}
/** D2/D3 /n: count CL. */
export function execShiftCl(cpu: CpuState, i: Insn): void {
  shiftRm(cpu, i, cpu.regs[1] & 0xff);
}

const P16 = 65536, P32 = 4294967296;

/** SHLD (left = true) or SHRD of r/m by `count` with bits from reg. */
function doubleShift(cpu: CpuState, i: Insn, count: number, left: boolean): void {
  count &= 31;
  const sz = i.osz;
  const memOff = i.mod === 3 ? 0 : ea(cpu, i);
  const d = i.mod === 3 ? getReg(cpu, i.rm, sz) : readMem(cpu, i.seg, memOff, sz);
  if (count === 0) return;
  const s = getReg(cpu, i.reg, sz);
  let res: number, cf: number, sign: number;
  if (sz === 4) {
    sign = 1 << 31;
    if (left) {
      res = (d << count) | (count === 0 ? 0 : s >>> (32 - count));
      cf = (d >>> (32 - count)) & 1;
    } else {
      res = (d >>> count) | (s << (32 - count));
      cf = (d >>> (count - 1)) & 1;
    }
    res |= 0;
  } else {
    // 16-bit: counts above 16 shift through a 48-bit dest:src:src (SHLD) or src:src:dest (SHRD), as AMD does.
    sign = 0x8000;
    if (left) {
      const v = d * P32 + s * P16 + s;
      res = Math.floor(v / 2 ** (32 - count)) % P16;
      cf = Math.floor(v / 2 ** (48 - count)) % 2;
    } else {
      const v = s * P32 + s * P16 + d;
      res = Math.floor(v / 2 ** count) % P16;
      cf = Math.floor(v / 2 ** (count - 1)) % 2;
    }
  }
  if (i.mod === 3) setReg(cpu, i.rm, sz, res);
  else writeMem(cpu, i.seg, memOff, sz, res);
  const of = ((res ^ d) & sign) !== 0;
  setSzp(cpu, i.szc, sz === 4 ? res : res & 0xffff, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
}

/** 0F A4 SHLD r/m, reg, imm8. */
export function execShldImm(cpu: CpuState, i: Insn): void {
  doubleShift(cpu, i, i.imm, true);
}
/** 0F A5 SHLD r/m, reg, CL. */
export function execShldCl(cpu: CpuState, i: Insn): void {
  doubleShift(cpu, i, cpu.regs[1] & 0xff, true);
}
/** 0F AC SHRD r/m, reg, imm8. */
export function execShrdImm(cpu: CpuState, i: Insn): void {
  doubleShift(cpu, i, i.imm, false);
}
/** 0F AD SHRD r/m, reg, CL. */
export function execShrdCl(cpu: CpuState, i: Insn): void {
  doubleShift(cpu, i, cpu.regs[1] & 0xff, false);
}
