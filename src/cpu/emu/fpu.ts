// x87 FPU (SDM vol. 1 ch. 8; vol. 2 D8-DF), FNSAVE/FRSTOR/FNSTENV/FLDENV and
// FXSAVE/FXRSTOR images (vol. 2 FXSAVE Table 3-53).
//
// CONTRACT (called by the core's decoder):
// - execute(opcode 0xD8..0xDF, modrm, seg, offset): offset is the effective
//   offset within segment `seg` for memory forms (modrm < 0xC0), ignored for
//   register forms. Memory goes through cpu.smem. CR0.EM/TS checks (#NM) are
//   done here. operand32 selects the 14/28- and 94/108-byte environment layouts.
// - fwait(): WAIT/FWAIT (#NM if CR0.MP && CR0.TS; pending unmasked exception → #MF
//   when CR0.NE, else IRQ 13 semantics through `onFerr`).
// - fxsave/fxrstor(seg, offset): 0F AE /0 and /1.
//
// This file holds the state, the entry points, control instructions, exception
// signalling, the stack and the opcode dispatch. The operations live beside it:
// fpu-arith.ts (arithmetic, compares), fpu-memory.ts (loads/stores of every
// format), fpu-functions.ts (stack and one-operand instructions, transcendentals),
// fpu-images.ts (FNSAVE/FXSAVE layouts). Registers are 80-bit patterns plus
// doubles (fpu-float80.ts, which documents the precision limits); rounding
// control and the PE/C1 flags come from fpu-rounding.ts. Memory operands are read
// completely before any FPU state changes, and stores write memory before the
// stack pops, so a #PF/#GP leaves the FPU as it was.
//
// Verified bit for bit against the host CPU (fpu-host-vectors.c). Known limits:
// - arithmetic has double precision and range; at FCW.PC = extended each result
//   remembers how the 80-bit result would differ (Float80Slots.dir), so PE, C1,
//   FCOM and later stores/overflows behave like the hardware, but the value used
//   by further arithmetic is the double; 80-bit-only operands are rounded to
//   nearest first (loads and stores of them are exact);
// - transcendentals use JS Math (≤ a few ulps of double), C1 is 0 for them;
// - FPREM/FPREM1 always finish in one step (C2 = 0) with the right Q2..Q0;
// - unmasked OE/UE store the rounded result without the 2^±24576 bias;
// - where the SDM and the host (AMD) differ, the host wins: no DE on FST/FIST of
//   a denormal; x/0 gives ZE alone for a denormal dividend; FPTAN/FSINCOS of a
//   NaN/∞ give it in both results; compares write "unordered" even when an
//   unmasked IE suppresses the pop. FXSAVE stores FOP/FIP/FDP as Intel does
//   (AMD stores 0 there without a pending exception).

import { CpuException, CR0_EM, CR0_MP, CR0_NE, CR0_TS, CS, EAX, EXC_GP, EXC_MF, EXC_NM, EXC_UD, type CpuState } from './state.js';
import { CLASS_NORMAL, CLASS_ZERO, Float80Slots } from './fpu-float80.js';
import { loadFxImage, loadSaveImage, readEnvironment, applyEnvironment, storeFxImage, storeSaveImage, writeEnvironment } from './fpu-images.js';
import {
  EXC_MASK, FCW_INIT, MXCSR_MASK, FSW_B, FSW_C0, FSW_C1, FSW_C2, FSW_C3, FSW_CC, FSW_ES, FSW_IE, FSW_SF, FSW_TOP, MXCSR_INIT, OP_COM, OP_COMP, TMP,
} from './fpu-registers.js';
import { arith, arithOrCompare, compareEflags, compareInto } from './fpu-arith.js';
import { fbld, fbstp, fldMemory, loadFloat32, loadFloat64, loadFloat80, loadInt, storeFloat, storeInt } from './fpu-memory.js';
import {
  f2xm1, fcmov, fpatan, fprem, fptan, frndint, fscale, fsinCos, fsincos, fsqrt, fstReg, ftst, fxam, fxch, fxtract, fyl2x,
  loadConstant, unaryPattern,
} from './fpu-functions.js';

export { FCW_INIT, MXCSR_INIT, MXCSR_MASK } from './fpu-registers.js';

/** Serialisable x87/MXCSR/XMM state (FPU part of a vCPU save record). */
export interface FpuState {
  version: 1;
  fcw: number;
  /** Including TOP. */
  fsw: number;
  /** Per physical register: 1 = tagged empty. */
  empty: number[];
  /** Per physical register: [sign/exponent, significand 63:32, 31:0, extended-rounding side]. */
  regs: Array<[number, number, number, number]>;
  fip: number;
  fcs: number;
  fop: number;
  fdp: number;
  fds: number;
  mxcsr: number;
  xmm: number[];
}

export class Fpu {
  /** Control word (FCW). */
  fcw = 0x0040;
  /** Status word without TOP (bits 13:11 live in `top`). */
  fsw = 0;
  top = 0;
  /** empty[p] = 1 when physical register p is tagged empty. */
  readonly empty = new Uint8Array(8);
  /** Physical registers 0..7 and scratch slots. */
  readonly r = new Float80Slots(11);
  // Last non-control instruction and data pointers (SDM vol. 1 §8.1.8-8.1.9).
  fip = 0;
  fcs = 0;
  fop = 0;
  fdp = 0;
  fds = 0;
  mxcsr = MXCSR_INIT;
  /** XMM0-7 as opaque bytes (FXSAVE/FXRSTOR only; no SSE is advertised). */
  readonly xmm = new Uint8Array(128);
  /**
   * FERR# for CR0.NE = 0 (PC-style IRQ 13): called once when a waiting
   * instruction finds an unmasked exception pending; the platform raises IRQ 13.
   */
  onFerr: (() => void) | null = null;
  private ferrSignalled = false;
  /** The memory operand just read was a float32/64 denormal (for DE). */
  memDenormal = false;
  /** The memory operand was an m80 (FLD m80 loads SNaNs without IE). */
  memRaw80 = false;

  constructor(readonly cpu: CpuState) {
    this.reset();
  }

  /** Power-on / RESET state (FCW 0x0040, FSW 0, FTW 0x5555: all registers +0, valid). */
  reset(): void {
    this.fcw = 0x0040;
    this.fsw = 0;
    this.top = 0;
    this.empty.fill(0);
    for (let p = 0; p < 8; p++) this.r.setRaw(p, 0, 0, 0);
    this.fip = this.fcs = this.fop = this.fdp = this.fds = 0;
    this.mxcsr = MXCSR_INIT;
    this.xmm.fill(0);
    this.ferrSignalled = false;
  }

  /** FNINIT (SDM vol. 2 FINIT): registers keep their contents. */
  init(): void {
    this.fcw = FCW_INIT;
    this.fsw = 0;
    this.top = 0;
    this.empty.fill(1);
    this.fip = this.fcs = this.fop = this.fdp = this.fds = 0;
    this.ferrSignalled = false;
  }

  // ---- save/restore (domain save, migration) ----------------------------------------

  /** Everything architectural plus the modelled extended-rounding sides, as plain data. */
  saveState(): FpuState {
    const r = this.r;
    const regs: FpuState['regs'] = [];
    for (let p = 0; p < 8; p++) regs.push([r.se[p], r.hi[p], r.lo[p], r.dir[p]]);
    return {
      version: 1, fcw: this.fcw, fsw: this.statusWord, empty: Array.from(this.empty), regs,
      fip: this.fip, fcs: this.fcs, fop: this.fop, fdp: this.fdp, fds: this.fds, mxcsr: this.mxcsr, xmm: Array.from(this.xmm),
    };
  }

  /** Load a saved state; malformed input is rejected before anything changes. */
  restoreState(s: FpuState): void {
    const ok = s.version === 1 && s.regs.length === 8 && s.empty.length === 8 && s.xmm.length === 128 &&
      s.regs.every((x) => x.length === 4 && x.every(Number.isInteger));
    if (!ok) throw new RangeError('x87 state record is malformed');
    this.fcw = (s.fcw & 0x1f7f) | 0x40;
    this.statusWord = s.fsw & 0xffff;
    for (let p = 0; p < 8; p++) {
      const [se, hi, lo, dir] = s.regs[p];
      this.r.setRaw(p, se & 0xffff, hi | 0, lo | 0);
      this.r.dir[p] = Math.sign(dir);
      this.empty[p] = s.empty[p] ? 1 : 0;
    }
    this.fip = s.fip | 0;
    this.fcs = s.fcs & 0xffff;
    this.fop = s.fop & 0x7ff;
    this.fdp = s.fdp | 0;
    this.fds = s.fds & 0xffff;
    this.mxcsr = s.mxcsr & MXCSR_MASK;
    this.xmm.set(s.xmm.map((b) => b & 0xff));
    this.updateSummary();
  }

  // ---- status word, tags ------------------------------------------------------

  get statusWord(): number {
    return (this.fsw & ~FSW_TOP) | (this.top << 11);
  }
  set statusWord(v: number) {
    this.fsw = v & 0xffff & ~FSW_TOP;
    this.top = (v >> 11) & 7;
    this.updateSummary();
  }

  /** Tag of physical register p: 0 valid, 1 zero, 2 special, 3 empty (SDM vol. 1 §8.1.7). */
  tagOf(p: number): number {
    if (this.empty[p]) return 3;
    const c = this.r.classify(p);
    return c === CLASS_ZERO ? 1 : c === CLASS_NORMAL ? 0 : 2;
  }
  get tagWord(): number {
    let t = 0;
    for (let p = 0; p < 8; p++) t |= this.tagOf(p) << (2 * p);
    return t;
  }
  /** Only "empty" is taken from a loaded tag word; the rest follows the contents. */
  set tagWord(v: number) {
    for (let p = 0; p < 8; p++) this.empty[p] = ((v >> (2 * p)) & 3) === 3 ? 1 : 0;
  }
  /** FXSAVE's abridged tag: bit p = 1 when register p is not empty. */
  get abridgedTag(): number {
    let t = 0;
    for (let p = 0; p < 8; p++) if (!this.empty[p]) t |= 1 << p;
    return t;
  }
  set abridgedTag(v: number) {
    for (let p = 0; p < 8; p++) this.empty[p] = (v >> p) & 1 ? 0 : 1;
  }

  /** ES and B summarise unmasked pending exceptions (SDM vol. 1 §8.1.3.1). */
  updateSummary(): void {
    if (this.fsw & ~this.fcw & EXC_MASK) this.fsw |= FSW_ES | FSW_B;
    else {
      this.fsw &= ~(FSW_ES | FSW_B);
      this.ferrSignalled = false;
    }
  }

  /** Physical index of ST(i). */
  st(i: number): number {
    return (this.top + i) & 7;
  }

  // ---- instruction entry points --------------------------------------------------

  execute(opcode: number, modrm: number, seg: number, offset: number, operand32: boolean): void {
    const cpu = this.cpu;
    // SDM vol. 3A §2.5 Table 2-2: EM or TS ⇒ #NM for every x87 instruction.
    if (cpu.cr0 & (CR0_EM | CR0_TS)) throw new CpuException(EXC_NM);
    const reg = (modrm >> 3) & 7;
    const low = opcode & 7;
    if (modrm < 0xc0) {
      if (this.memoryControl(low, reg, seg, offset, operand32)) return;
      this.checkPending();
      this.memoryForm(low, reg, seg, offset);
      this.fdp = offset | 0;
      this.fds = cpu.segSel[seg] & 0xffff;
    } else {
      if (this.registerControl(low, modrm)) return;
      this.checkPending();
      this.registerForm(low, reg, modrm & 7, modrm);
    }
    this.fip = cpu.insnEip | 0;
    this.fcs = cpu.segSel[CS] & 0xffff;
    this.fop = ((low << 8) | modrm) & 0x7ff;
  }

  /** WAIT/FWAIT (SDM vol. 2 WAIT; vol. 3A Table 2-2). */
  fwait(): void {
    if ((this.cpu.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) throw new CpuException(EXC_NM);
    this.checkPending();
  }

  /** FXSAVE m512 (0F AE /0): no re-init, pointers kept, 16-byte alignment. */
  fxsave(seg: number, offset: number): void {
    this.checkFxAccess(seg, offset);
    storeFxImage(this, this.cpu, seg, offset);
  }

  /** FXRSTOR m512 (0F AE /1): reserved MXCSR bits ⇒ #GP(0) before anything changes. */
  fxrstor(seg: number, offset: number): void {
    this.checkFxAccess(seg, offset);
    loadFxImage(this, this.cpu, seg, offset);
    this.updateSummary();
  }

  private checkFxAccess(seg: number, offset: number): void {
    if (this.cpu.cr0 & (CR0_EM | CR0_TS)) throw new CpuException(EXC_NM);
    if (((this.cpu.segBase[seg] + offset) & 15) !== 0) throw new CpuException(EXC_GP, 0);
  }

  /**
   * A waiting instruction with an unmasked exception pending: #MF when CR0.NE,
   * else FERR# (IRQ 13 through the platform) and the instruction proceeds.
   */
  checkPending(): void {
    if ((this.fsw & FSW_ES) === 0) return;
    if (this.cpu.cr0 & CR0_NE) throw new CpuException(EXC_MF);
    if (!this.ferrSignalled) {
      this.ferrSignalled = true;
      this.onFerr?.();
    }
  }

  // ---- control instructions (do not update FIP/FOP/FDP) ------------------------

  private memoryControl(low: number, reg: number, seg: number, off: number, op32: boolean): boolean {
    const m = this.cpu.smem;
    if (low === 1) {
      switch (reg) {
        case 4: { // FLDENV
          this.checkPending();
          const env = readEnvironment(this.cpu, seg, off, op32);
          applyEnvironment(this, env);
          return true;
        }
        case 5: { // FLDCW
          this.checkPending();
          const cw = m.read16(seg, off);
          this.fcw = cw & 0x1f7f | 0x40;
          this.updateSummary();
          return true;
        }
        case 6: // FNSTENV, then mask all exceptions
          writeEnvironment(this, this.cpu, seg, off, op32);
          this.fcw |= EXC_MASK;
          this.updateSummary();
          return true;
        case 7: // FNSTCW
          m.write16(seg, off, this.fcw);
          return true;
      }
    } else if (low === 5) {
      switch (reg) {
        case 4: // FRSTOR
          this.checkPending();
          loadSaveImage(this, this.cpu, seg, off, op32);
          this.updateSummary();
          return true;
        case 6: // FNSAVE, then FNINIT
          storeSaveImage(this, this.cpu, seg, off, op32);
          this.init();
          return true;
        case 7: // FNSTSW m16
          m.write16(seg, off, this.statusWord);
          return true;
      }
    }
    return false;
  }

  private registerControl(low: number, modrm: number): boolean {
    if (low === 3) {
      switch (modrm) {
        case 0xe0: case 0xe1: case 0xe4: return true; // FNENI, FNDISI, FNSETPM: no-ops since the 387
        case 0xe2: // FNCLEX
          this.fsw &= ~(EXC_MASK | FSW_SF | FSW_ES | FSW_B);
          this.ferrSignalled = false;
          return true;
        case 0xe3:
          this.init();
          return true;
      }
    } else if (low === 7 && modrm === 0xe0) { // FNSTSW AX
      const regs = this.cpu.regs;
      regs[EAX] = (regs[EAX] & ~0xffff) | this.statusWord;
      return true;
    }
    return false;
  }

  // ---- exceptions ------------------------------------------------------------------

  /** Set exception flags; true when one of them is unmasked (the result must then be suppressed for IE/DE/ZE). */
  signal(bits: number): boolean {
    this.fsw |= bits;
    if (bits & ~this.fcw & EXC_MASK) {
      this.fsw |= FSW_ES | FSW_B;
      return true;
    }
    return false;
  }

  setCC(c3: number, c2: number, c1: number, c0: number): void {
    this.fsw = (this.fsw & ~FSW_CC) | (c0 ? FSW_C0 : 0) | (c1 ? FSW_C1 : 0) | (c2 ? FSW_C2 : 0) | (c3 ? FSW_C3 : 0);
  }
  setC1(on: boolean): void {
    if (on) this.fsw |= FSW_C1;
    else this.fsw &= ~FSW_C1;
  }

  /** Stack overflow/underflow: IE + SF, C1 = overflow (SDM vol. 1 §8.5.1.1). True when unmasked. */
  stackFault(overflow: boolean): boolean {
    this.setC1(overflow);
    return this.signal(FSW_IE | FSW_SF);
  }

  setIndefinite(slot: number): void {
    this.r.setRaw(slot, 0xffff, 0xc0000000 | 0, 0);
  }

  /** An invalid operation with a masked response of the QNaN indefinite in TMP. False when unmasked. */
  invalid(): boolean {
    if (this.signal(FSW_IE)) return false;
    this.setIndefinite(TMP);
    return true;
  }

  get rc(): number {
    return (this.fcw >> 10) & 3;
  }

  // ---- stack -----------------------------------------------------------------------

  /** Push the value in `slot` (overflow: masked ⇒ indefinite pushed). */
  push(slot: number): void {
    const p = (this.top - 1) & 7;
    if (!this.empty[p]) {
      if (this.stackFault(true)) return;
      this.top = p;
      this.setIndefinite(p);
      return;
    }
    this.top = p;
    this.r.copy(p, slot);
    this.empty[p] = 0;
  }

  pop(): void {
    this.empty[this.top] = 1;
    this.top = (this.top + 1) & 7;
  }

  /** True when ST(7) is in use, i.e. a push would overflow. */
  wouldOverflow(): boolean {
    return this.empty[(this.top - 1) & 7] === 0;
  }

  // ---- memory forms -----------------------------------------------------------------

  private memoryForm(low: number, reg: number, seg: number, off: number): void {
    this.memRaw80 = false;
    switch (low) {
      case 0: loadFloat32(this, seg, off); arithOrCompare(this, reg); return;
      case 2: loadInt(this, seg, off, 4); arithOrCompare(this, reg); return;
      case 4: loadFloat64(this, seg, off); arithOrCompare(this, reg); return;
      case 6: loadInt(this, seg, off, 2); arithOrCompare(this, reg); return;
      case 1:
        switch (reg) {
          case 0: loadFloat32(this, seg, off); fldMemory(this); return;
          case 2: storeFloat(this, seg, off, 4, false); return;
          case 3: storeFloat(this, seg, off, 4, true); return;
        }
        break;
      case 3:
        switch (reg) {
          case 0: loadInt(this, seg, off, 4); fldMemory(this); return;
          case 2: storeInt(this, seg, off, 4, false); return;
          case 3: storeInt(this, seg, off, 4, true); return;
          case 5: loadFloat80(this, seg, off); fldMemory(this); return;
          case 7: storeFloat(this, seg, off, 10, true); return;
        }
        break; // /1 FISTTP is SSE3: not advertised ⇒ #UD
      case 5:
        switch (reg) {
          case 0: loadFloat64(this, seg, off); fldMemory(this); return;
          case 2: storeFloat(this, seg, off, 8, false); return;
          case 3: storeFloat(this, seg, off, 8, true); return;
        }
        break;
      case 7:
        switch (reg) {
          case 0: loadInt(this, seg, off, 2); fldMemory(this); return;
          case 2: storeInt(this, seg, off, 2, false); return;
          case 3: storeInt(this, seg, off, 2, true); return;
          case 4: fbld(this, seg, off); return;
          case 5: loadInt(this, seg, off, 8); fldMemory(this); return;
          case 6: fbstp(this, seg, off); return;
          case 7: storeInt(this, seg, off, 8, true); return;
        }
        break;
    }
    throw new CpuException(EXC_UD);
  }

  // ---- register forms ----------------------------------------------------------------

  private registerForm(low: number, reg: number, i: number, modrm: number): void {
    const pi = this.st(i);
    const p0 = this.st(0);
    switch (low) {
      case 0: // D8: ST(0) ← ST(0) op ST(i)
        if (reg === OP_COM || reg === OP_COMP) compareInto(this, p0, pi, false, reg === OP_COMP ? 1 : 0);
        else arith(this, reg, p0, pi, p0);
        return;
      case 4: // DC: ST(i) ← ST(i) op ST(0); SUB/SUBR and DIV/DIVR swap meaning
        if (reg === OP_COM || reg === OP_COMP) compareInto(this, p0, pi, false, reg === OP_COMP ? 1 : 0); // FCOM2/FCOMP3 aliases
        else arith(this, reg ^ (reg >= 4 ? 1 : 0), pi, p0, pi);
        return;
      case 6: // DE: the popping forms
        if (reg === OP_COM) { compareInto(this, p0, pi, false, 1); return; } // FCOMP5 alias
        if (reg === OP_COMP) {
          if (modrm !== 0xd9) break;
          compareInto(this, p0, this.st(1), false, 2); // FCOMPP
          return;
        }
        if (arith(this, reg ^ (reg >= 4 ? 1 : 0), pi, p0, pi)) this.pop();
        return;
      case 1: this.registerD9(reg, i, modrm); return;
      case 2:
        if (reg < 4) { fcmov(this, reg, false, i); return; }
        if (modrm === 0xe9) { compareInto(this, p0, this.st(1), true, 2); return; } // FUCOMPP
        break;
      case 3:
        if (reg < 4) { fcmov(this, reg, true, i); return; }
        if (reg === 5) { compareEflags(this, i, true, false); return; } // FUCOMI
        if (reg === 6) { compareEflags(this, i, false, false); return; } // FCOMI
        break;
      case 5:
        switch (reg) {
          case 0: this.empty[pi] = 1; return; // FFREE
          case 1: fxch(this, i); return; // FXCH4 alias
          case 2: fstReg(this, i, false); return;
          case 3: fstReg(this, i, true); return;
          case 4: compareInto(this, p0, pi, true, 0); return; // FUCOM
          case 5: compareInto(this, p0, pi, true, 1); return; // FUCOMP
        }
        break;
      case 7:
        switch (reg) {
          case 0: this.empty[pi] = 1; this.pop(); return; // FFREEP
          case 1: fxch(this, i); return; // FXCH7 alias
          case 2: case 3: fstReg(this, i, true); return; // FSTP8/FSTP9 aliases
          case 5: compareEflags(this, i, true, true); return; // FUCOMIP
          case 6: compareEflags(this, i, false, true); return; // FCOMIP
        }
        break;
    }
    throw new CpuException(EXC_UD);
  }

  private registerD9(reg: number, i: number, modrm: number): void {
    switch (reg) {
      case 0: { // FLD ST(i): verbatim copy, no SNaN check
        const pi = this.st(i);
        if (this.empty[pi]) {
          if (this.wouldOverflow()) { this.push(pi); return; }
          if (this.stackFault(false)) return;
          this.setIndefinite(TMP);
        } else {
          this.r.copy(TMP, pi);
          this.setC1(false);
        }
        this.push(TMP);
        return;
      }
      case 1: fxch(this, i); return;
      case 2: if (modrm === 0xd0) return; break; // FNOP
      case 3: fstReg(this, i, true); return; // FSTP1 alias
      case 4:
        switch (modrm) {
          case 0xe0: unaryPattern(this, true); return; // FCHS
          case 0xe1: unaryPattern(this, false); return; // FABS
          case 0xe4: ftst(this); return;
          case 0xe5: fxam(this); return;
        }
        break;
      case 5:
        if (modrm === 0xef) break;
        loadConstant(this, modrm - 0xe8);
        return;
      case 6:
        switch (modrm) {
          case 0xf0: f2xm1(this); return;
          case 0xf1: fyl2x(this, false); return;
          case 0xf2: fptan(this); return;
          case 0xf3: fpatan(this); return;
          case 0xf4: fxtract(this); return;
          case 0xf5: fprem(this, true); return;
          case 0xf6: this.top = (this.top - 1) & 7; this.setC1(false); return; // FDECSTP
          case 0xf7: this.top = (this.top + 1) & 7; this.setC1(false); return; // FINCSTP
        }
        break;
      case 7:
        switch (modrm) {
          case 0xf8: fprem(this, false); return;
          case 0xf9: fyl2x(this, true); return;
          case 0xfa: fsqrt(this); return;
          case 0xfb: fsincos(this); return;
          case 0xfc: frndint(this); return;
          case 0xfd: fscale(this); return;
          case 0xfe: fsinCos(this, true); return;
          case 0xff: fsinCos(this, false); return;
        }
        break;
    }
    throw new CpuException(EXC_UD);
  }
}
