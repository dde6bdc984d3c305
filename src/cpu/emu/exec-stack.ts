// Stack instructions: PUSH/POP (registers, immediates, r/m, segment registers),
// PUSHA/POPA, PUSHF/POPF with the IOPL/IF/VM rules, ENTER/LEAVE (SDM vol. 2;
// fact sheet §4 "IRET ... POPF").

import { CpuException, EBP, ESP, EXC_GP, FLAG_AC, FLAG_ID, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_RF, FLAG_VM, FLAG_TF, FLAG_DF, ARITH_FLAGS, SS, CR0_PE } from './state.js';
import { readEflags, writeEflags } from './flags.js';
import type { Insn } from './insn.js';
import { adjustSp, ea, getReg, peek, pop, push, setReg, stackOffset, writeMem } from './operands.js';
import { loadSegment } from './segmentation.js';
import type { CpuState } from './state.js';

/** 50+r PUSH reg (register in rm). PUSH ESP pushes the value before the decrement. */
export function execPushReg(cpu: CpuState, i: Insn): void {
  push(cpu, i.osz, getReg(cpu, i.rm, i.osz));
}
/** 58+r POP reg. */
export function execPopReg(cpu: CpuState, i: Insn): void {
  const v = pop(cpu, i.osz);
  setReg(cpu, i.rm, i.osz, v);
}
/** 68/6A PUSH imm. */
export function execPushImm(cpu: CpuState, i: Insn): void {
  push(cpu, i.osz, i.imm);
}
/** FF /6 PUSH r/m. */
export function execPushRm(cpu: CpuState, i: Insn): void {
  const v = i.mod === 3 ? getReg(cpu, i.rm, i.osz) : i.osz === 4 ? cpu.smem.read32(i.seg, ea(cpu, i)) : cpu.smem.read16(i.seg, ea(cpu, i));
  push(cpu, i.osz, v);
}
/** 8F /0 POP r/m: an ESP-based address is computed after the increment (SDM vol. 2 POP). */
export function execPopRm(cpu: CpuState, i: Insn): void {
  const v = peek(cpu, i.osz, 0);
  adjustSp(cpu, i.osz);
  if (i.mod === 3) setReg(cpu, i.rm, i.osz, v);
  else writeMem(cpu, i.seg, ea(cpu, i), i.osz, v);
}

/** Segment register number of PUSH/POP Sreg opcodes. */
function sregOf(op: number): number {
  switch (op) {
    case 0x06: case 0x07: return 0;
    case 0x0e: return 1;
    case 0x16: case 0x17: return 2;
    case 0x1e: case 0x1f: return 3;
    case 0x1a0: case 0x1a1: return 4;
    default: return 5;
  }
}
/** 06 0E 16 1E 0F A0 0F A8 PUSH Sreg: with a 32-bit operand only the low word is written (P6+). */
export function execPushSreg(cpu: CpuState, i: Insn): void {
  const sel = cpu.segSel[sregOf(i.op)];
  const off = stackOffset(cpu, -i.osz);
  cpu.smem.write16(SS, off, sel);
  adjustSp(cpu, -i.osz);
}
/** 07 17 1F 0F A1 0F A9 POP Sreg (POP SS starts an interrupt shadow). */
export function execPopSreg(cpu: CpuState, i: Insn): void {
  const seg = sregOf(i.op);
  const sel = peek(cpu, i.osz, 0) & 0xffff;
  loadSegment(cpu, seg, sel);
  adjustSp(cpu, i.osz);
  if (seg === SS) cpu.interruptShadow = 1;
  cpu.stopBlock = true;
}

/** 60 PUSHA/PUSHAD: all eight written before ESP moves, so a fault leaves ESP intact. */
export function execPusha(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const sp = getReg(cpu, ESP, sz);
  for (let r = 0; r < 8; r++) {
    const v = r === ESP ? sp : getReg(cpu, r, sz);
    const off = stackOffset(cpu, -(r + 1) * sz);
    if (sz === 4) cpu.smem.write32(SS, off, v);
    else cpu.smem.write16(SS, off, v);
  }
  adjustSp(cpu, -8 * sz);
}
/** 61 POPA/POPAD (the saved ESP is skipped). */
export function execPopa(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const vals = popaScratch;
  for (let r = 0; r < 8; r++) vals[7 - r] = peek(cpu, sz, r * sz);
  for (let r = 0; r < 8; r++) if (r !== ESP) setReg(cpu, r, sz, vals[r]);
  adjustSp(cpu, 8 * sz);
}
const popaScratch = new Int32Array(8);

function iopl(cpu: CpuState): number {
  return (cpu.flags & FLAG_IOPL) >> 12;
}

/** 9C PUSHF/PUSHFD: #GP(0) in V86 with IOPL < 3; VM and RF read as 0 in the image. */
export function execPushf(cpu: CpuState, i: Insn): void {
  if (cpu.flags & FLAG_VM && iopl(cpu) < 3) throw new CpuException(EXC_GP, 0);
  const v = readEflags(cpu) & ~(FLAG_VM | FLAG_RF);
  push(cpu, i.osz, i.osz === 4 ? v : v & 0xffff);
}

/**
 * 9D POPF/POPFD: IOPL changes only at CPL 0, IF only if CPL <= IOPL, never VM;
 * V86 with IOPL < 3 => #GP(0) (fact sheet §4). Ends the block: IF/TF may change.
 */
export function execPopf(cpu: CpuState, i: Insn): void {
  const vm = (cpu.flags & FLAG_VM) !== 0;
  if (vm && iopl(cpu) < 3) throw new CpuException(EXC_GP, 0);
  const v = peek(cpu, i.osz, 0);
  let changeable = ARITH_FLAGS | FLAG_TF | FLAG_DF | FLAG_NT;
  if (i.osz === 4) changeable |= FLAG_AC | FLAG_ID | FLAG_RF;
  const pm = (cpu.cr0 & CR0_PE) !== 0;
  if (!pm || (!vm && cpu.cpl === 0)) changeable |= FLAG_IOPL;
  if (!pm || cpu.cpl <= iopl(cpu)) changeable |= FLAG_IF;
  const old = readEflags(cpu);
  writeEflags(cpu, (old & ~changeable) | (v & changeable));
  adjustSp(cpu, i.osz);
  cpu.stopBlock = true;
}

/** C8 iw ib ENTER: frame of imm16 bytes, nesting level imm8 & 31. */
export function execEnter(cpu: CpuState, i: Insn): void {
  const sz = i.osz;
  const size = i.imm & 0xffff;
  const level = i.imm2 & 31;
  const regs = cpu.regs;
  let sp = stackOffset(cpu, 0);
  const wrap = (x: number) => (cpu.stack32 ? x | 0 : x & 0xffff);
  const write = (off: number, v: number) => (sz === 4 ? cpu.smem.write32(SS, off, v) : cpu.smem.write16(SS, off, v));
  sp = wrap(sp - sz);
  write(sp, getReg(cpu, EBP, sz));
  const frameTemp = sp;
  if (level > 0) {
    let bp = cpu.stack32 ? regs[EBP] : regs[EBP] & 0xffff;
    for (let k = 1; k < level; k++) {
      bp = wrap(bp - sz);
      const v = sz === 4 ? cpu.smem.read32(SS, bp) : cpu.smem.read16(SS, bp);
      sp = wrap(sp - sz);
      write(sp, v);
    }
    sp = wrap(sp - sz);
    write(sp, frameTemp);
  }
  sp = wrap(sp - size);
  // Probe the lowest byte of the new frame like hardware does (#SS if outside SS).
  if (size > 0) cpu.smem.read8(SS, sp);
  setReg(cpu, EBP, sz, frameTemp);
  if (cpu.stack32) regs[ESP] = sp;
  else regs[ESP] = (regs[ESP] & ~0xffff) | sp;
}

/** C9 LEAVE: ESP = EBP (stack width), then POP EBP. */
export function execLeave(cpu: CpuState, i: Insn): void {
  const regs = cpu.regs;
  const bp = cpu.stack32 ? regs[EBP] : regs[EBP] & 0xffff;
  const v = i.osz === 4 ? cpu.smem.read32(SS, bp) : cpu.smem.read16(SS, bp);
  if (cpu.stack32) regs[ESP] = (bp + i.osz) | 0;
  else regs[ESP] = (regs[ESP] & ~0xffff) | ((bp + i.osz) & 0xffff);
  setReg(cpu, EBP, i.osz, v);
}
