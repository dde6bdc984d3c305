// String instructions MOVS CMPS SCAS LODS STOS INS OUTS with REP/REPE/REPNE
// (SDM vol. 2 "REP/REPE/REPZ/REPNE/REPNZ"; fact sheet §6 "Strings").
// Source DS:(E)SI (override allowed), destination ES:(E)DI; 0x67 selects SI/DI/CX.
// Registers are updated after every element so a fault mid-REP leaves them
// consistent with EIP still at the instruction. REP MOVS/STOS copy whole runs
// inside one page pair at once when both ends are RAM.

import { ECX, EDI, ES, ESI, EDX, FLAG_DF, FLAG_TF, type CpuState } from './state.js';
import { aluFlags, ALU_CMP } from './exec-alu.js';
import { SIZE_MASK } from './flags.js';
import type { Insn } from './insn.js';
import { readMem, setReg, writeMem } from './operands.js';
import { ACCESS_READ, ACCESS_WRITE } from './mmu.js';
import type { CpuSegmentedMemory } from './segmented-memory.js';
import { portIn, portOut, checkIoPermission } from './exec-io.js';
import { getZF } from './flags.js';

/** Elements one execution may process before yielding (interrupt latency); EIP stays on the instruction. */
const REP_BUDGET = 65536;

function getIndex(cpu: CpuState, r: number, asz32: boolean): number {
  return asz32 ? cpu.regs[r] : cpu.regs[r] & 0xffff;
}
function advance(cpu: CpuState, r: number, asz32: boolean, delta: number): void {
  if (asz32) cpu.regs[r] = (cpu.regs[r] + delta) | 0;
  else cpu.regs[r] = (cpu.regs[r] & ~0xffff) | ((cpu.regs[r] + delta) & 0xffff);
}
function getCount(cpu: CpuState, asz32: boolean): number {
  return asz32 ? cpu.regs[ECX] >>> 0 : cpu.regs[ECX] & 0xffff;
}
function setCount(cpu: CpuState, asz32: boolean, n: number): void {
  if (asz32) cpu.regs[ECX] = n | 0;
  else cpu.regs[ECX] = (cpu.regs[ECX] & ~0xffff) | n;
}
/**
 * Iterations a REP may run before yielding. With EFLAGS.TF set it is one: a REP
 * string instruction single-steps per iteration, trapping with EIP still on the
 * instruction (SDM vol. 3A §17.3.1.4).
 */
function repBudget(cpu: CpuState): number {
  return (cpu.flags & FLAG_TF) !== 0 ? 1 : REP_BUDGET;
}
/** Yield a partly done REP: re-execute it after interrupts get a chance. */
function yieldRep(cpu: CpuState): void {
  cpu.eip = cpu.insnEip;
  cpu.stopBlock = true;
}

/**
 * How many elements (>= 2) of a run starting at offset `off` stay inside one page
 * and do not wrap a 16-bit offset, or 0.
 */
function runLength(lin: number, off: number, sz: number, n: number, down: boolean, asz32: boolean): number {
  const inPage = lin & 0xfff;
  let k: number;
  if (!down) {
    k = Math.floor((4096 - inPage) / sz);
    if (!asz32) k = Math.min(k, Math.floor((0x10000 - off) / sz));
  } else {
    if (inPage + sz > 4096) return 0;
    k = Math.floor(inPage / sz) + 1;
    if (!asz32) k = Math.min(k, Math.floor(off / sz) + 1);
  }
  k = Math.min(k, n);
  return k >= 2 ? k : 0;
}

/** Backing-store offset of RAM at physical `p` (writable if asked), or -1. */
function ramOffset(cpu: CpuState, p: number, write: boolean): number {
  const gfn = Math.floor(p / 4096);
  const mem = cpu.memory;
  if (gfn >= mem.frameOffset.length) return -1;
  const off = mem.frameOffset[gfn];
  if (off < 0 || (write && mem.frameReadOnly[gfn])) return -1;
  return off + (p & 0xfff);
}

/** Copy a run of MOVS elements in one go; returns how many were done (0 = use the element loop). */
function bulkMovs(cpu: CpuState, i: Insn, n: number, down: boolean): number {
  const sz = i.osz;
  const si = getIndex(cpu, ESI, i.asz32);
  const di = getIndex(cpu, EDI, i.asz32);
  const srcLin = (cpu.segBase[i.seg] + si) | 0;
  const dstLin = (cpu.segBase[ES] + di) | 0;
  let k = runLength(srcLin, si, sz, n, down, i.asz32);
  if (k === 0) return 0;
  k = Math.min(k, runLength(dstLin, di, sz, n, down, i.asz32));
  if (k === 0) return 0;
  const bytes = k * sz;
  const span = (k - 1) * sz;
  const smem = cpu.smem as CpuSegmentedMemory;
  // A run reaching past a limit goes element by element, so the fault comes at the right element.
  if (!smem.fits(i.seg, down ? si - span : si, bytes, false) || !smem.fits(ES, down ? di - span : di, bytes, true)) return 0;
  const user = cpu.cpl === 3;
  const ps = cpu.mmu.translate(srcLin, ACCESS_READ, user);
  const pd = cpu.mmu.translate(dstLin, ACCESS_WRITE, user);
  const os0 = ramOffset(cpu, ps, false);
  const od0 = ramOffset(cpu, pd, true);
  if (os0 < 0 || od0 < 0) return 0;
  const os = down ? os0 - span : os0;
  const od = down ? od0 - span : od0;
  // Overlap that element order would make differ from memmove: leave it to the loop.
  if (od < os + bytes && os < od + bytes && (down ? od < os : od > os)) return 0;
  const gfn = Math.floor(pd / 4096);
  if (cpu.mmu.codePages[gfn]) cpu.mmu.onCodeWrite(down ? pd - span : pd, bytes);
  cpu.memory.bytes.copyWithin(od, os, os + bytes);
  return k;
}

/** Fill a run of STOS elements in one go; returns how many were done. */
function bulkStos(cpu: CpuState, i: Insn, n: number, down: boolean): number {
  const sz = i.osz;
  const di = getIndex(cpu, EDI, i.asz32);
  const dstLin = (cpu.segBase[ES] + di) | 0;
  const k = runLength(dstLin, di, sz, n, down, i.asz32);
  if (k === 0) return 0;
  const bytes = k * sz;
  const span = (k - 1) * sz;
  if (!(cpu.smem as CpuSegmentedMemory).fits(ES, down ? di - span : di, bytes, true)) return 0;
  const pd = cpu.mmu.translate(dstLin, ACCESS_WRITE, cpu.cpl === 3);
  const od0 = ramOffset(cpu, pd, true);
  if (od0 < 0) return 0;
  const od = down ? od0 - span : od0;
  const gfn = Math.floor(pd / 4096);
  if (cpu.mmu.codePages[gfn]) cpu.mmu.onCodeWrite(down ? pd - span : pd, bytes);
  const v = cpu.regs[0];
  const b = cpu.memory.bytes;
  if (sz === 1 || (sz === 2 && ((v ^ (v >> 8)) & 0xff) === 0) || (sz === 4 && v === (v & 0xff) * 0x01010101)) {
    b.fill(v & 0xff, od, od + bytes);
  } else {
    for (let p = od; p < od + bytes; p += sz) {
      b[p] = v;
      b[p + 1] = v >> 8;
      if (sz === 4) {
        b[p + 2] = v >> 16;
        b[p + 3] = v >> 24;
      }
    }
  }
  return k;
}

/** A4/A5 MOVS. */
export function execMovs(cpu: CpuState, i: Insn): void {
  const sz = i.osz, a32 = i.asz32;
  const down = (cpu.flags & FLAG_DF) !== 0;
  const delta = down ? -sz : sz;
  if (i.rep === 0) {
    const v = readMem(cpu, i.seg, getIndex(cpu, ESI, a32), sz);
    writeMem(cpu, ES, getIndex(cpu, EDI, a32), sz, v);
    advance(cpu, ESI, a32, delta);
    advance(cpu, EDI, a32, delta);
    return;
  }
  let n = getCount(cpu, a32);
  let budget = repBudget(cpu);
  while (n !== 0) {
    if (budget <= 0) return yieldRep(cpu);
    const k = bulkMovs(cpu, i, Math.min(n, budget), down);
    if (k > 0) {
      advance(cpu, ESI, a32, k * delta);
      advance(cpu, EDI, a32, k * delta);
      n -= k;
      budget -= k;
    } else {
      const v = readMem(cpu, i.seg, getIndex(cpu, ESI, a32), sz);
      writeMem(cpu, ES, getIndex(cpu, EDI, a32), sz, v);
      advance(cpu, ESI, a32, delta);
      advance(cpu, EDI, a32, delta);
      n--;
      budget--;
    }
    setCount(cpu, a32, n);
  }
}

/** AA/AB STOS. */
export function execStos(cpu: CpuState, i: Insn): void {
  const sz = i.osz, a32 = i.asz32;
  const down = (cpu.flags & FLAG_DF) !== 0;
  const delta = down ? -sz : sz;
  if (i.rep === 0) {
    writeMem(cpu, ES, getIndex(cpu, EDI, a32), sz, cpu.regs[0]);
    advance(cpu, EDI, a32, delta);
    return;
  }
  let n = getCount(cpu, a32);
  let budget = repBudget(cpu);
  while (n !== 0) {
    if (budget <= 0) return yieldRep(cpu);
    const k = bulkStos(cpu, i, Math.min(n, budget), down);
    if (k > 0) {
      advance(cpu, EDI, a32, k * delta);
      n -= k;
      budget -= k;
    } else {
      writeMem(cpu, ES, getIndex(cpu, EDI, a32), sz, cpu.regs[0]);
      advance(cpu, EDI, a32, delta);
      n--;
      budget--;
    }
    setCount(cpu, a32, n);
  }
}

/** AC/AD LODS (F2/F3 act as REP). */
export function execLods(cpu: CpuState, i: Insn): void {
  const sz = i.osz, a32 = i.asz32;
  const delta = cpu.flags & FLAG_DF ? -sz : sz;
  if (i.rep === 0) {
    setReg(cpu, 0, sz, readMem(cpu, i.seg, getIndex(cpu, ESI, a32), sz));
    advance(cpu, ESI, a32, delta);
    return;
  }
  let n = getCount(cpu, a32);
  let budget = repBudget(cpu);
  while (n !== 0) {
    if (budget-- <= 0) return yieldRep(cpu);
    setReg(cpu, 0, sz, readMem(cpu, i.seg, getIndex(cpu, ESI, a32), sz));
    advance(cpu, ESI, a32, delta);
    setCount(cpu, a32, --n);
  }
}

/** A6/A7 CMPS: flags of [src] - [dst]; REPE stops on mismatch, REPNE on match. */
export function execCmps(cpu: CpuState, i: Insn): void {
  const sz = i.osz, a32 = i.asz32, szc = i.szc;
  const delta = cpu.flags & FLAG_DF ? -sz : sz;
  const mask = SIZE_MASK[szc];
  let n = i.rep === 0 ? 1 : getCount(cpu, a32);
  let budget = repBudget(cpu);
  while (n !== 0) {
    if (budget-- <= 0) return yieldRep(cpu);
    const a = readMem(cpu, i.seg, getIndex(cpu, ESI, a32), sz);
    const b = readMem(cpu, ES, getIndex(cpu, EDI, a32), sz);
    advance(cpu, ESI, a32, delta);
    advance(cpu, EDI, a32, delta);
    aluFlags(cpu, ALU_CMP, szc, a, b, (a - b) & mask);
    if (i.rep === 0) return;
    setCount(cpu, a32, --n);
    if (getZF(cpu) !== (i.rep === 0xf3)) return;
  }
}

/** AE/AF SCAS: flags of acc - [dst]. */
export function execScas(cpu: CpuState, i: Insn): void {
  const sz = i.osz, a32 = i.asz32, szc = i.szc;
  const delta = cpu.flags & FLAG_DF ? -sz : sz;
  const mask = SIZE_MASK[szc];
  const acc = cpu.regs[0] & mask;
  let n = i.rep === 0 ? 1 : getCount(cpu, a32);
  let budget = repBudget(cpu);
  while (n !== 0) {
    if (budget-- <= 0) return yieldRep(cpu);
    const b = readMem(cpu, ES, getIndex(cpu, EDI, a32), sz);
    advance(cpu, EDI, a32, delta);
    aluFlags(cpu, ALU_CMP, szc, acc, b, (acc - b) & mask);
    if (i.rep === 0) return;
    setCount(cpu, a32, --n);
    if (getZF(cpu) !== (i.rep === 0xf3)) return;
  }
}

/** 6C/6D INS: port DX to ES:(E)DI. The permission check comes before any access. */
export function execIns(cpu: CpuState, i: Insn): void {
  const sz = i.osz, a32 = i.asz32;
  const delta = cpu.flags & FLAG_DF ? -sz : sz;
  const port = cpu.regs[EDX] & 0xffff;
  checkIoPermission(cpu, port, sz);
  let n = i.rep === 0 ? 1 : getCount(cpu, a32);
  let budget = repBudget(cpu);
  while (n !== 0) {
    if (budget-- <= 0) return yieldRep(cpu);
    const off = getIndex(cpu, EDI, a32);
    // Probe the destination first so a fault does not lose a port read.
    readMem(cpu, ES, off, sz);
    writeMem(cpu, ES, off, sz, portIn(cpu, port, sz));
    advance(cpu, EDI, a32, delta);
    if (i.rep === 0) return;
    setCount(cpu, a32, --n);
  }
}

/** 6E/6F OUTS: DS:(E)SI (override allowed) to port DX. */
export function execOuts(cpu: CpuState, i: Insn): void {
  const sz = i.osz, a32 = i.asz32;
  const delta = cpu.flags & FLAG_DF ? -sz : sz;
  const port = cpu.regs[EDX] & 0xffff;
  checkIoPermission(cpu, port, sz);
  let n = i.rep === 0 ? 1 : getCount(cpu, a32);
  let budget = repBudget(cpu);
  while (n !== 0) {
    if (budget-- <= 0) return yieldRep(cpu);
    portOut(cpu, port, sz, readMem(cpu, i.seg, getIndex(cpu, ESI, a32), sz));
    advance(cpu, ESI, a32, delta);
    if (i.rep === 0) return;
    setCount(cpu, a32, --n);
  }
}
