// System and descriptor instructions: MOV Sreg, LDS/LES/LFS/LGS/LSS, ARPL,
// LAR/LSL/VERR/VERW, SLDT/STR/LLDT/LTR, SGDT/SIDT/LGDT/LIDT, SMSW/LMSW, CLTS,
// MOV CR/DR, INVLPG, INVD/WBINVD, RDMSR/WRMSR, RDTSC, RDPMC, CPUID,
// SYSENTER/SYSEXIT, VMCALL, x87 escapes, WAIT, FXSAVE/FXRSTOR, CLI/STI
// (SDM vol. 2; vol. 3A ch. 2, 5; fact sheet §6 "CR/DR moves", "Privilege").
// Descriptor and privileged work goes through the system contract
// (segmentation.ts, system.ts); the simple checks are done here.

import {
  CpuException, CR0_EM, CR0_PE, CR0_TS, CR4_DE, CR4_OSFXSR, CR4_PCE, CR4_TSD, CS, EAX, EBX, ECX, EDX, EXC_GP, EXC_NM, EXC_UD, FLAG_IF,
  FLAG_IOPL, FLAG_VM, FLAG_ZF, LDTR, SS, TR, type CpuState,
} from './state.js';
import { updateFlags } from './flags.js';
import type { Insn } from './insn.js';
import { ea, getReg, readMem, readRmSized, requireCpl0, setReg, writeRmSized } from './operands.js';
import { lar, lldt, loadSegment, lsl, ltr, verifySegment } from './segmentation.js';
import { cpuidLookup, readCr, readDr, readMsr, readTsc, sysenter, sysexit, writeCr, writeDr, writeMsr } from './system.js';
import { recordEvent, EV_EXIT } from './diagnostics.js';

/** Instructions that do not exist in real-address and V86 mode (SDM vol. 2 "Real-Address Mode Exceptions"). */
function requireProtectedMode(cpu: CpuState): void {
  if (!cpu.protectedMode) throw new CpuException(EXC_UD);
}

/** 8C MOV r/m, Sreg: registers get the zero-extended selector, memory 16 bits. */
export function execMovRmSreg(cpu: CpuState, i: Insn): void {
  if (i.reg > 5) throw new CpuException(EXC_UD);
  const sel = cpu.segSel[i.reg];
  if (i.mod === 3) setReg(cpu, i.rm, i.osz, sel);
  else cpu.smem.write16(i.seg, ea(cpu, i), sel);
}
/** 8E MOV Sreg, r/m (CS => #UD; SS starts an interrupt shadow). */
export function execMovSregRm(cpu: CpuState, i: Insn): void {
  if (i.reg > 5 || i.reg === CS) throw new CpuException(EXC_UD);
  const sel = readRmSized(cpu, i, 2);
  loadSegment(cpu, i.reg, sel);
  if (i.reg === SS) cpu.interruptShadow = 1;
  cpu.stopBlock = true;
}

/** C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS: reg, m16:16/32. */
export function execLoadFarPointer(cpu: CpuState, i: Insn): void {
  if (i.mod === 3) throw new CpuException(EXC_UD);
  const seg = i.op === 0xc4 ? 0 : i.op === 0xc5 ? 3 : i.op === 0x1b2 ? 2 : i.op === 0x1b4 ? 4 : 5;
  const off = ea(cpu, i);
  const v = readMem(cpu, i.seg, off, i.osz);
  const sel = cpu.smem.read16(i.seg, i.asz32 ? (off + i.osz) | 0 : (off + i.osz) & 0xffff);
  loadSegment(cpu, seg, sel);
  setReg(cpu, i.reg, i.osz, v);
}

/** 63 ARPL r/m16, r16. */
export function execArpl(cpu: CpuState, i: Insn): void {
  requireProtectedMode(cpu);
  const d = readRmSized(cpu, i, 2);
  const s = getReg(cpu, i.reg, 2);
  if ((d & 3) < (s & 3)) {
    writeRmSized(cpu, i, 2, (d & ~3) | (s & 3));
    updateFlags(cpu, FLAG_ZF, FLAG_ZF);
  } else {
    updateFlags(cpu, FLAG_ZF, 0);
  }
}

/** 0F 02 LAR, 0F 03 LSL. */
export function execLarLsl(cpu: CpuState, i: Insn): void {
  requireProtectedMode(cpu);
  const sel = readRmSized(cpu, i, 2);
  const v = i.op === 0x102 ? lar(cpu, sel) : lsl(cpu, sel);
  if (v === -1) {
    updateFlags(cpu, FLAG_ZF, 0);
    return;
  }
  setReg(cpu, i.reg, i.osz, v);
  updateFlags(cpu, FLAG_ZF, FLAG_ZF);
}

/** 0F 00 group 6: /0 SLDT /1 STR /2 LLDT /3 LTR /4 VERR /5 VERW. */
export function execGroup6(cpu: CpuState, i: Insn): void {
  requireProtectedMode(cpu);
  switch (i.reg) {
    case 0:
    case 1: {
      const sel = cpu.segSel[i.reg === 0 ? LDTR : TR];
      if (i.mod === 3) setReg(cpu, i.rm, i.osz, sel);
      else cpu.smem.write16(i.seg, ea(cpu, i), sel);
      return;
    }
    case 2:
      requireCpl0(cpu);
      lldt(cpu, readRmSized(cpu, i, 2));
      return;
    case 3:
      requireCpl0(cpu);
      ltr(cpu, readRmSized(cpu, i, 2));
      return;
    default:
      updateFlags(cpu, FLAG_ZF, verifySegment(cpu, readRmSized(cpu, i, 2), i.reg === 5) ? FLAG_ZF : 0);
  }
}

/** 0F 01 /0 SGDT, /1 SIDT (memory; 32-bit base always stored). */
export function execSgdtSidt(cpu: CpuState, i: Insn): void {
  const off = ea(cpu, i);
  const idt = i.reg === 1;
  const next = i.asz32 ? (off + 2) | 0 : (off + 2) & 0xffff;
  cpu.smem.write16(i.seg, off, idt ? cpu.idtLimit : cpu.gdtLimit);
  cpu.smem.write32(i.seg, next, idt ? cpu.idtBase : cpu.gdtBase);
}
/** 0F 01 /2 LGDT, /3 LIDT: 16-bit operand size loads a 24-bit base. */
export function execLgdtLidt(cpu: CpuState, i: Insn): void {
  requireCpl0(cpu);
  const off = ea(cpu, i);
  const limit = cpu.smem.read16(i.seg, off);
  let base = cpu.smem.read32(i.seg, i.asz32 ? (off + 2) | 0 : (off + 2) & 0xffff);
  if (i.osz === 2) base &= 0xffffff;
  if (i.reg === 2) {
    cpu.gdtBase = base;
    cpu.gdtLimit = limit;
  } else {
    cpu.idtBase = base;
    cpu.idtLimit = limit;
  }
}
/** 0F 01 /4 SMSW: registers get CR0 (operand size), memory 16 bits. */
export function execSmsw(cpu: CpuState, i: Insn): void {
  const cr0 = readCr0(cpu);
  if (i.mod === 3) setReg(cpu, i.rm, i.osz, cr0);
  else cpu.smem.write16(i.seg, ea(cpu, i), cr0);
}
/** 0F 01 /6 LMSW: PE MP EM TS only; cannot clear PE. */
export function execLmsw(cpu: CpuState, i: Insn): void {
  requireCpl0(cpu);
  const v = readRmSized(cpu, i, 2);
  const cr0 = cpu.cr0;
  writeCr(cpu, 0, (cr0 & ~0xe) | (v & 0xf) | (cr0 & CR0_PE));
  cpu.stopBlock = true;
}
/** 0F 01 /7 INVLPG m. */
export function execInvlpg(cpu: CpuState, i: Insn): void {
  requireCpl0(cpu);
  cpu.mmu.invalidatePage((cpu.segBase[i.seg] + ea(cpu, i)) | 0);
  cpu.stopBlock = true;
}
/** 0F 01 C1 VMCALL / D9 VMMCALL at CPL 0: a Xen hypercall exit (EIP past the instruction). */
export function execVmcall(cpu: CpuState, _i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuException(EXC_UD);
  recordEvent(cpu, EV_EXIT, 2, cpu.regs[EAX], 0);
  cpu.pendingExit = { kind: 'hypercall' };
  cpu.stopBlock = true;
}

function readCr0(cpu: CpuState): number {
  return cpu.cr0;
}

/** 0F 06 CLTS. */
export function execClts(cpu: CpuState, _i: Insn): void {
  requireCpl0(cpu);
  writeCr(cpu, 0, cpu.cr0 & ~CR0_TS);
}
/** 0F 08 INVD, 0F 09 WBINVD: caches are not modelled. */
export function execInvd(cpu: CpuState, _i: Insn): void {
  requireCpl0(cpu);
}

function checkCrNumber(n: number): void {
  if (n !== 0 && n !== 2 && n !== 3 && n !== 4) throw new CpuException(EXC_UD);
}
/** 0F 20 MOV r32, CRn (ModRM mod ignored: always a register). */
export function execMovFromCr(cpu: CpuState, i: Insn): void {
  checkCrNumber(i.reg);
  requireCpl0(cpu);
  cpu.regs[i.rm] = readCr(cpu, i.reg);
}
/** 0F 22 MOV CRn, r32: may change paging and mode, so the block ends. */
export function execMovToCr(cpu: CpuState, i: Insn): void {
  checkCrNumber(i.reg);
  requireCpl0(cpu);
  writeCr(cpu, i.reg, cpu.regs[i.rm]);
  cpu.stopBlock = true;
}
function drNumber(cpu: CpuState, n: number): number {
  if (n === 4 || n === 5) {
    if (cpu.cr4 & CR4_DE) throw new CpuException(EXC_UD);
    return n + 2;
  }
  return n;
}
/** 0F 21 MOV r32, DRn. */
export function execMovFromDr(cpu: CpuState, i: Insn): void {
  requireCpl0(cpu);
  cpu.regs[i.rm] = readDr(cpu, drNumber(cpu, i.reg));
}
/** 0F 23 MOV DRn, r32. */
export function execMovToDr(cpu: CpuState, i: Insn): void {
  requireCpl0(cpu);
  writeDr(cpu, drNumber(cpu, i.reg), cpu.regs[i.rm]);
  cpu.stopBlock = true;
}

/** 0F 32 RDMSR: an MSR system.ts does not own becomes an `msr` exit with EIP on the instruction. */
export function execRdmsr(cpu: CpuState, i: Insn): void {
  requireCpl0(cpu);
  const index = cpu.regs[ECX] >>> 0;
  const v = readMsr(cpu, index);
  if (v === undefined) {
    cpu.eip = cpu.insnEip;
    cpu.exitInsnLen = i.len;
    recordEvent(cpu, EV_EXIT, 1, index, 0);
    cpu.pendingExit = { kind: 'msr', write: false, index, value: 0n };
    cpu.stopBlock = true;
    return;
  }
  cpu.regs[EAX] = Number(v & 0xffffffffn) | 0;
  cpu.regs[EDX] = Number((v >> 32n) & 0xffffffffn) | 0;
}
/** 0F 30 WRMSR. */
export function execWrmsr(cpu: CpuState, i: Insn): void {
  requireCpl0(cpu);
  const index = cpu.regs[ECX] >>> 0;
  const value = (BigInt(cpu.regs[EDX] >>> 0) << 32n) | BigInt(cpu.regs[EAX] >>> 0);
  if (!writeMsr(cpu, index, value)) {
    cpu.eip = cpu.insnEip;
    cpu.exitInsnLen = i.len;
    recordEvent(cpu, EV_EXIT, 1, index, 1);
    cpu.pendingExit = { kind: 'msr', write: true, index, value };
  }
  // WRMSR may change SYSENTER state, EFER, PAT...: end the block either way.
  cpu.stopBlock = true;
}
/** 0F 31 RDTSC: #GP(0) if CR4.TSD and CPL > 0. */
export function execRdtsc(cpu: CpuState, _i: Insn): void {
  if (cpu.cr4 & CR4_TSD && cpu.cpl !== 0 && cpu.protectedMode) throw new CpuException(EXC_GP, 0);
  const t = readTsc(cpu);
  cpu.regs[EAX] = Number(t & 0xffffffffn) | 0;
  cpu.regs[EDX] = Number((t >> 32n) & 0xffffffffn) | 0;
}
/** 0F 33 RDPMC: #GP(0) at CPL > 0 without CR4.PCE; no counters are modelled (reads 0). */
export function execRdpmc(cpu: CpuState, _i: Insn): void {
  if (cpu.cpl !== 0 && (cpu.cr4 & CR4_PCE) === 0) throw new CpuException(EXC_GP, 0);
  if ((cpu.regs[ECX] >>> 0) > 1) throw new CpuException(EXC_GP, 0);
  cpu.regs[EAX] = 0;
  cpu.regs[EDX] = 0;
}
/** 0F A2 CPUID from the policy table. */
export function execCpuid(cpu: CpuState, _i: Insn): void {
  const r = cpuidLookup(cpu, cpu.regs[EAX] >>> 0, cpu.regs[ECX] >>> 0);
  cpu.regs[EAX] = r[0];
  cpu.regs[EBX] = r[1];
  cpu.regs[ECX] = r[2];
  cpu.regs[EDX] = r[3];
}
/** 0F 34 SYSENTER, 0F 35 SYSEXIT. */
export function execSysenter(cpu: CpuState, _i: Insn): void {
  sysenter(cpu);
}
export function execSysexit(cpu: CpuState, _i: Insn): void {
  sysexit(cpu);
}

/** FA CLI / FB STI: CPL > IOPL (or V86 with IOPL < 3) => #GP(0). STI that sets IF shadows one instruction. */
export function execCli(cpu: CpuState, _i: Insn): void {
  if (cpu.cr0 & CR0_PE && cpu.cpl > (cpu.flags & FLAG_IOPL) >> 12) throw new CpuException(EXC_GP, 0);
  cpu.flags &= ~FLAG_IF;
}
export function execSti(cpu: CpuState, _i: Insn): void {
  if (cpu.cr0 & CR0_PE && cpu.cpl > (cpu.flags & FLAG_IOPL) >> 12) throw new CpuException(EXC_GP, 0);
  if ((cpu.flags & FLAG_IF) === 0) {
    cpu.flags |= FLAG_IF;
    cpu.interruptShadow = 1;
  }
  cpu.stopBlock = true;
}

/** D8-DF x87 escapes: the FPU does the #NM checks and the operation. */
export function execFpu(cpu: CpuState, i: Insn): void {
  const modrm = (i.mod << 6) | (i.reg << 3) | i.rm;
  cpu.fpu.execute(i.op, modrm, i.seg, i.mod === 3 ? 0 : ea(cpu, i), i.osz === 4);
}
/**
 * 0F 77 EMMS: mark every x87/MMX register empty. CPUID advertises no MMX, yet
 * EMMS is executed: Linux's FXSAVE_LEAK workaround for AMD family >= 6 issues
 * "fnclex; emms; fild" on every FPU restore (arch/x86/kernel/fpu/core.c), and no
 * K7 lacked MMX. Only EMMS is accepted; every other MMX opcode stays #UD.
 * CR0.EM => #UD, CR0.TS => #NM (SDM vol. 2 EMMS).
 */
export function execEmms(cpu: CpuState, _i: Insn): void {
  if (cpu.cr0 & CR0_EM) throw new CpuException(EXC_UD);
  if (cpu.cr0 & CR0_TS) throw new CpuException(EXC_NM);
  cpu.fpu.tagWord = 0xffff;
}
/** 9B WAIT/FWAIT. */
export function execWait(cpu: CpuState, _i: Insn): void {
  cpu.fpu.fwait();
}
/**
 * 0F AE group 15. /0 FXSAVE, /1 FXRSTOR need CR4.OSFXSR (else #UD); /7 with memory
 * is CLFLUSH (no-op, caches not modelled). LDMXCSR/STMXCSR, XSAVE* and the fences
 * (LFENCE/MFENCE/SFENCE, register forms) are #UD: no SSE/SSE2 is advertised.
 */
export function execGroup15(cpu: CpuState, i: Insn): void {
  if (i.mod === 3) throw new CpuException(EXC_UD);
  switch (i.reg) {
    case 0:
    case 1: {
      if ((cpu.cr4 & CR4_OSFXSR) === 0) throw new CpuException(EXC_UD);
      if (cpu.cr0 & (CR0_EM | CR0_TS)) throw new CpuException(7); // #NM
      const off = ea(cpu, i);
      if (i.reg === 0) cpu.fpu.fxsave(i.seg, off);
      else cpu.fpu.fxrstor(i.seg, off);
      return;
    }
    case 7:
      // CLFLUSH: touch the byte so segment/page faults still happen (SDM: like a read).
      cpu.smem.read8(i.seg, ea(cpu, i));
      return;
    default:
      throw new CpuException(EXC_UD);
  }
}

/** EFLAGS.VM helper for the V86-only rules. */
export function inV86(cpu: CpuState): boolean {
  return (cpu.flags & FLAG_VM) !== 0;
}
