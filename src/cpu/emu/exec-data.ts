// Data movement and flag instructions: MOV (all forms), MOVZX/MOVSX, LEA, XCHG,
// XADD, CMPXCHG, CMPXCHG8B, CBW/CWDE/CWD/CDQ, SETcc, CMOVcc, XLAT, LAHF/SAHF,
// CLC/STC/CMC/CLD/STD, NOPs (SDM vol. 2).

import { CpuException, EAX, EBX, ECX, EDX, EXC_UD, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_PF, FLAG_SF, FLAG_ZF } from './state.js';
import { arithFlags, getCF, LAZY_ADD, LAZY_SUB, setArithFlags, setLazy, SIZE_MASK, testCondition, updateFlags } from './flags.js';
import type { Insn } from './insn.js';
import { ea, getReg, readMem, readRm, readRmSized, setReg, writeMem, writeRm } from './operands.js';
import type { CpuState } from './state.js';

/** 88/89 MOV r/m, reg. */
export function execMovRmReg(cpu: CpuState, i: Insn): void {
  writeRm(cpu, i, getReg(cpu, i.reg, i.osz));
}
/** 8A/8B MOV reg, r/m; A0/A1 MOV acc, moffs (decoded as reg 0 + memory operand). */
export function execMovRegRm(cpu: CpuState, i: Insn): void {
  setReg(cpu, i.reg, i.osz, readRm(cpu, i));
}
/** C6/C7 /0 MOV r/m, imm; A2/A3 MOV moffs, acc use execMovRmReg with reg 0. */
export function execMovRmImm(cpu: CpuState, i: Insn): void {
  writeRm(cpu, i, i.imm);
}
/** B0-BF MOV reg, imm (register in rm). */
export function execMovRegImm(cpu: CpuState, i: Insn): void {
  setReg(cpu, i.rm, i.osz, i.imm);
}

/** 0F B6/B7 MOVZX, 0F BE/BF MOVSX: source size from the opcode. */
export function execMovzx(cpu: CpuState, i: Insn): void {
  const srcSize = i.op & 1 ? 2 : 1;
  setReg(cpu, i.reg, i.osz, readRmSized(cpu, i, srcSize));
}
export function execMovsx(cpu: CpuState, i: Insn): void {
  const srcSize = i.op & 1 ? 2 : 1;
  const v = readRmSized(cpu, i, srcSize);
  setReg(cpu, i.reg, i.osz, srcSize === 1 ? (v << 24) >> 24 : (v << 16) >> 16);
}

/** 8D LEA reg, m (the address, truncated to the operand size). */
export function execLea(cpu: CpuState, i: Insn): void {
  if (i.mod === 3) throw new CpuException(EXC_UD);
  setReg(cpu, i.reg, i.osz, ea(cpu, i));
}

/** 86/87 XCHG r/m, reg; 91-97 XCHG eAX, reg (rm = reg, reg = 0). */
export function execXchg(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const a = getReg(cpu, i.reg, sz);
  if (i.mod === 3) {
    setReg(cpu, i.reg, sz, getReg(cpu, i.rm, sz));
    setReg(cpu, i.rm, sz, a);
  } else {
    const off = ea(cpu, i);
    const m = readMem(cpu, i.seg, off, sz);
    writeMem(cpu, i.seg, off, sz, a);
    setReg(cpu, i.reg, sz, m);
  }
}

/** 0F C0/C1 XADD r/m, reg: tmp = dst + src; src = dst; dst = tmp; ADD flags. */
export function execXadd(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const mask = SIZE_MASK[i.szc];
  const src = getReg(cpu, i.reg, sz);
  if (i.mod === 3) {
    const d = getReg(cpu, i.rm, sz);
    const r = (d + src) & mask;
    setReg(cpu, i.reg, sz, d);
    setReg(cpu, i.rm, sz, r);
    setLazy(cpu, LAZY_ADD | i.szc, d, src, r);
  } else {
    const off = ea(cpu, i);
    const d = readMem(cpu, i.seg, off, sz);
    const r = (d + src) & mask;
    writeMem(cpu, i.seg, off, sz, r);
    setReg(cpu, i.reg, sz, d);
    setLazy(cpu, LAZY_ADD | i.szc, d, src, r);
  }
}

/** 0F B0/B1 CMPXCHG r/m, reg: flags of CMP acc, dst; a miss writes dst back unchanged. */
export function execCmpxchg(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const acc = getReg(cpu, EAX, sz);
  const src = getReg(cpu, i.reg, sz);
  const mask = SIZE_MASK[i.szc];
  let d: number;
  if (i.mod === 3) {
    d = getReg(cpu, i.rm, sz);
    if (d === acc) setReg(cpu, i.rm, sz, src);
    else setReg(cpu, EAX, sz, d);
  } else {
    const off = ea(cpu, i);
    d = readMem(cpu, i.seg, off, sz);
    writeMem(cpu, i.seg, off, sz, d === acc ? src : d);
    if (d !== acc) setReg(cpu, EAX, sz, d);
  }
  setLazy(cpu, LAZY_SUB | i.szc, acc, d, (acc - d) & mask);
}

/** 0F C7 /1 CMPXCHG8B m64 (mod 3 is #UD, checked by the decoder): only ZF changes. */
export function execCmpxchg8b(cpu: CpuState, i: Insn): void {
  const off = ea(cpu, i);
  const off4 = i.asz32 ? (off + 4) | 0 : (off + 4) & 0xffff;
  const lo = cpu.smem.read32(i.seg, off);
  const hi = cpu.smem.read32(i.seg, off4);
  const regs = cpu.regs;
  if (lo === regs[EAX] && hi === regs[EDX]) {
    cpu.smem.write32(i.seg, off, regs[EBX]);
    cpu.smem.write32(i.seg, off4, regs[ECX]);
    updateFlags(cpu, FLAG_ZF, FLAG_ZF);
  } else {
    cpu.smem.write32(i.seg, off, lo);
    cpu.smem.write32(i.seg, off4, hi);
    regs[EAX] = lo;
    regs[EDX] = hi;
    updateFlags(cpu, FLAG_ZF, 0);
  }
}

/** 98 CBW / CWDE. */
export function execCbw(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  if (i.osz === 4) regs[EAX] = (regs[EAX] << 16) >> 16;
  else setReg(cpu, EAX, 2, (regs[EAX] << 24) >> 24);
}
/** 99 CWD / CDQ. */
export function execCwd(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  if (i.osz === 4) regs[EDX] = regs[EAX] >> 31;
  else setReg(cpu, EDX, 2, (regs[EAX] << 16) >> 31);
}

/** 0F 90-9F SETcc r/m8. */
export function execSetcc(cpu: CpuState, i: Insn): void {
  const v = testCondition(cpu, i.op & 0xf) ? 1 : 0;
  if (i.mod === 3) setReg(cpu, i.rm, 1, v);
  else cpu.smem.write8(i.seg, ea(cpu, i), v);
}

/** 0F 40-4F CMOVcc reg, r/m: the source is read (and may fault) even when false. */
export function execCmovcc(cpu: CpuState, i: Insn): void {
  const v = readRm(cpu, i);
  if (testCondition(cpu, i.op & 0xf)) setReg(cpu, i.reg, i.osz, v);
}

/** D7 XLAT: AL = [seg:(E)BX + AL]. */
export function execXlat(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const off = i.asz32 ? (regs[EBX] + (regs[EAX] & 0xff)) | 0 : (regs[EBX] + (regs[EAX] & 0xff)) & 0xffff;
  setReg(cpu, EAX, 1, cpu.smem.read8(i.seg, off));
}

/** 9F LAHF: AH = SF ZF 0 AF 0 PF 1 CF. */
export function execLahf(cpu: CpuState, _i: Insn): void {
  setReg(cpu, 4, 1, (arithFlags(cpu) & (FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF)) | 2);
}
/** 9E SAHF: SF ZF AF PF CF from AH (OF kept). */
export function execSahf(cpu: CpuState, _i: Insn): void {
  const ah = (cpu.regs[EAX] >> 8) & 0xff;
  const m = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;
  setArithFlags(cpu, (arithFlags(cpu) & ~m) | (ah & m));
}

/** F8 CLC, F9 STC, F5 CMC. */
export function execClc(cpu: CpuState, _i: Insn): void {
  updateFlags(cpu, FLAG_CF, 0);
}
export function execStc(cpu: CpuState, _i: Insn): void {
  updateFlags(cpu, FLAG_CF, FLAG_CF);
}
export function execCmc(cpu: CpuState, _i: Insn): void {
  updateFlags(cpu, FLAG_CF, getCF(cpu) ? 0 : FLAG_CF);
}
/** FC CLD, FD STD. */
export function execCld(cpu: CpuState, _i: Insn): void {
  cpu.flags &= ~FLAG_DF;
}
export function execStd(cpu: CpuState, _i: Insn): void {
  cpu.flags |= FLAG_DF;
}

/** 90 NOP, F3 90 PAUSE, 0F 18-1F hint NOPs (NOPL). */
export function execNop(_cpu: CpuState, _i: Insn): void {}
