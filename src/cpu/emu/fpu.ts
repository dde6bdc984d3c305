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
// Registers are 80-bit patterns plus doubles (fpu-float80.ts, which documents the
// precision limits); rounding control and the PE/C1 flags come from
// fpu-rounding.ts; the memory images from fpu-images.ts. Memory operands are read
// completely before any FPU state changes, and stores write memory before the
// stack pops, so a #PF/#GP leaves the FPU as it was.
//
// Verified bit for bit against the host CPU (fpu-host-vectors.c). Known limits:
// - arithmetic has double precision and range: FCW.PC = extended behaves like
//   PC = double; 80-bit-only operands are rounded to nearest first;
// - transcendentals use JS Math (≤ a few ulps of double), C1 is 0 for them;
// - FPREM/FPREM1 always finish in one step (C2 = 0) with the right Q2..Q0;
// - unmasked OE/UE store the rounded result without the 2^±24576 bias;
// - where the SDM and the host differ, the host wins (no DE on FST/FIST of a
//   denormal; x/0 gives ZE alone for a denormal dividend; FPTAN/FSINCOS of a
//   NaN/∞ give it in both results).

import { CpuException, CR0_EM, CR0_MP, CR0_NE, CR0_TS, CS, EAX, EXC_GP, EXC_MF, EXC_NM, EXC_UD, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, type CpuState } from './state.js';
import { readEflags, writeEflags } from './flags.js';
import {
  CLASS_DENORMAL, CLASS_INF, CLASS_NORMAL, CLASS_QNAN, CLASS_SNAN, CLASS_UNSUPPORTED, CLASS_ZERO, EXP_BIAS, EXP_MAX,
  FORMAT_DOUBLE, FORMAT_SINGLE, Float80Slots, bitsToDouble, bitsToFloat32, doubleBits, exactRounding, float32Bits,
  float80ToBigInt, isExactDouble, roundFloat80,
} from './fpu-float80.js';
import { RC_CHOP, RC_DOWN, RC_NEAREST, RC_UP, lastRounding, nextDown, nextUp, roundToFloat32, roundToInteger, roundedAdd, roundedDiv, roundedMul, roundedSqrt } from './fpu-rounding.js';
import { loadFxImage, loadSaveImage, readEnvironment, applyEnvironment, storeFxImage, storeSaveImage, writeEnvironment } from './fpu-images.js';

// FSW bits (SDM vol. 1 §8.1.3).
export const FSW_IE = 0x0001, FSW_DE = 0x0002, FSW_ZE = 0x0004, FSW_OE = 0x0008, FSW_UE = 0x0010, FSW_PE = 0x0020;
export const FSW_SF = 0x0040, FSW_ES = 0x0080, FSW_C0 = 0x0100, FSW_C1 = 0x0200, FSW_C2 = 0x0400, FSW_C3 = 0x4000, FSW_B = 0x8000;
const FSW_TOP = 0x3800;
const FSW_CC = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;
const EXC_MASK = 0x3f;

/** FNINIT's control word (SDM vol. 1 Table 8-8); RESET uses 0x0040. */
export const FCW_INIT = 0x037f;
export const MXCSR_INIT = 0x1f80;
/** MXCSR bits FXRSTOR accepts (no DAZ on this model): others ⇒ #GP(0). */
export const MXCSR_MASK = 0xffbf;

/** Scratch for double → two words when storing m64. */
const storeWords = new Int32Array(2);

// Scratch slots after the eight physical registers.
const MEM = 8, TMP = 9, TMP2 = 10;

// Operation codes shared by D8/DC/DA/DE (the ModRM reg field).
const OP_ADD = 0, OP_MUL = 1, OP_COM = 2, OP_COMP = 3, OP_SUB = 4, OP_SUBR = 5, OP_DIV = 6, OP_DIVR = 7;

/** 80-bit constants (sign/exp, significand high, low) rounded to nearest, and which way that rounding went. */
const CONSTANTS: ReadonlyArray<readonly [number, number, number, number]> = [
  // [se, hi, lo, nearest rounded up? 1 : (rounded down? -1 : exact 0)] — measured on the host, SDM FLDxx
  [0x3fff, 0x80000000 | 0, 0x00000000, 0], // 1
  [0x4000, 0xd49a784b | 0, 0xcd1b8afe | 0, -1], // log2(10)
  [0x3fff, 0xb8aa3b29 | 0, 0x5c17f0bc | 0, 1], // log2(e)
  [0x4000, 0xc90fdaa2 | 0, 0x2168c235 | 0, 1], // pi
  [0x3ffd, 0x9a209a84 | 0, 0xfbcff799 | 0, 1], // log10(2)
  [0x3ffe, 0xb17217f7 | 0, 0xd1cf79ac | 0, 1], // ln(2)
];

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
  private memDenormal = false;
  /** The memory operand was an m80 (FLD m80 loads SNaNs without IE). */
  private memRaw80 = false;

  constructor(private readonly cpu: CpuState) {
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
  private checkPending(): void {
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
  private signal(bits: number): boolean {
    this.fsw |= bits;
    if (bits & ~this.fcw & EXC_MASK) {
      this.fsw |= FSW_ES | FSW_B;
      return true;
    }
    return false;
  }

  private setCC(c3: number, c2: number, c1: number, c0: number): void {
    this.fsw = (this.fsw & ~FSW_CC) | (c0 ? FSW_C0 : 0) | (c1 ? FSW_C1 : 0) | (c2 ? FSW_C2 : 0) | (c3 ? FSW_C3 : 0);
  }
  private setC1(on: boolean): void {
    if (on) this.fsw |= FSW_C1;
    else this.fsw &= ~FSW_C1;
  }

  /** Stack overflow/underflow: IE + SF, C1 = overflow (SDM vol. 1 §8.5.1.1). True when unmasked. */
  private stackFault(overflow: boolean): boolean {
    this.setC1(overflow);
    return this.signal(FSW_IE | FSW_SF);
  }

  private setIndefinite(slot: number): void {
    this.r.setRaw(slot, 0xffff, 0xc0000000 | 0, 0);
  }

  /** An invalid operation with a masked response of the QNaN indefinite in TMP. False when unmasked. */
  private invalid(): boolean {
    if (this.signal(FSW_IE)) return false;
    this.setIndefinite(TMP);
    return true;
  }

  private get rc(): number {
    return (this.fcw >> 10) & 3;
  }

  // ---- stack -----------------------------------------------------------------------

  /** Push the value in `slot` (overflow: masked ⇒ indefinite pushed). */
  private push(slot: number): void {
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

  private pop(): void {
    this.empty[this.top] = 1;
    this.top = (this.top + 1) & 7;
  }

  /** True when ST(7) is in use, i.e. a push would overflow. */
  private wouldOverflow(): boolean {
    return this.empty[(this.top - 1) & 7] === 0;
  }

  /** Write TMP into ST(i) and mark it valid. */
  private writeSt(i: number, slot: number): void {
    const p = this.st(i);
    this.r.copy(p, slot);
    this.empty[p] = 0;
  }

  // ---- memory operands ------------------------------------------------------------

  private loadFloat32(seg: number, off: number): void {
    const bits = this.cpu.smem.read32(seg, off);
    const exp = (bits >>> 23) & 0xff;
    const frac = bits & 0x7fffff;
    this.memDenormal = exp === 0 && frac !== 0;
    if (exp === 0xff && frac !== 0) {
      // NaN: keep quiet/signalling and the payload (float32 → 80-bit places frac at bits 62:40).
      this.r.setRaw(MEM, ((bits >>> 16) & 0x8000) | EXP_MAX, 0x80000000 | (frac << 8), 0);
    } else {
      this.r.setDouble(MEM, bitsToFloat32(bits));
    }
  }

  private loadFloat64(seg: number, off: number): void {
    const lo = this.cpu.smem.read32(seg, off);
    const hi = this.cpu.smem.read32(seg, off + 4);
    const exp = (hi >>> 20) & 0x7ff;
    const fracHi = hi & 0xfffff;
    this.memDenormal = exp === 0 && (fracHi | lo) !== 0;
    if (exp === 0x7ff && (fracHi | lo) !== 0) {
      this.r.setRaw(MEM, ((hi >>> 16) & 0x8000) | EXP_MAX, 0x80000000 | (fracHi << 11) | (lo >>> 21), lo << 11);
    } else {
      this.r.setDouble(MEM, bitsToDouble(hi, lo));
    }
  }

  private loadFloat80(seg: number, off: number): void {
    const m = this.cpu.smem;
    const lo = m.read32(seg, off);
    const hi = m.read32(seg, off + 4);
    const se = m.read16(seg, off + 8);
    this.memDenormal = false;
    this.memRaw80 = true;
    this.r.setRaw(MEM, se, hi, lo);
  }

  private loadInt(seg: number, off: number, size: number): void {
    const m = this.cpu.smem;
    this.memDenormal = false;
    if (size === 2) this.r.setDouble(MEM, (m.read16(seg, off) << 16) >> 16);
    else if (size === 4) this.r.setDouble(MEM, m.read32(seg, off) | 0);
    else {
      const lo = m.read32(seg, off);
      const hi = m.read32(seg, off + 4);
      this.r.setInt64(MEM, hi | 0, lo | 0);
    }
  }

  // ---- memory forms -----------------------------------------------------------------

  private memoryForm(low: number, reg: number, seg: number, off: number): void {
    this.memRaw80 = false;
    switch (low) {
      case 0: this.loadFloat32(seg, off); this.arithOrCompare(reg); return;
      case 2: this.loadInt(seg, off, 4); this.arithOrCompare(reg); return;
      case 4: this.loadFloat64(seg, off); this.arithOrCompare(reg); return;
      case 6: this.loadInt(seg, off, 2); this.arithOrCompare(reg); return;
      case 1:
        switch (reg) {
          case 0: this.loadFloat32(seg, off); this.fldMemory(); return;
          case 2: this.storeFloat(seg, off, 4, false); return;
          case 3: this.storeFloat(seg, off, 4, true); return;
        }
        break;
      case 3:
        switch (reg) {
          case 0: this.loadInt(seg, off, 4); this.fldMemory(); return;
          case 2: this.storeInt(seg, off, 4, false); return;
          case 3: this.storeInt(seg, off, 4, true); return;
          case 5: this.loadFloat80(seg, off); this.fldMemory(); return;
          case 7: this.storeFloat(seg, off, 10, true); return;
        }
        break; // /1 FISTTP is SSE3: not advertised ⇒ #UD
      case 5:
        switch (reg) {
          case 0: this.loadFloat64(seg, off); this.fldMemory(); return;
          case 2: this.storeFloat(seg, off, 8, false); return;
          case 3: this.storeFloat(seg, off, 8, true); return;
        }
        break;
      case 7:
        switch (reg) {
          case 0: this.loadInt(seg, off, 2); this.fldMemory(); return;
          case 2: this.storeInt(seg, off, 2, false); return;
          case 3: this.storeInt(seg, off, 2, true); return;
          case 4: this.fbld(seg, off); return;
          case 5: this.loadInt(seg, off, 8); this.fldMemory(); return;
          case 6: this.fbstp(seg, off); return;
          case 7: this.storeInt(seg, off, 8, true); return;
        }
        break;
    }
    throw new CpuException(EXC_UD);
  }

  /** FLD/FILD from MEM: SNaN from m32/m64 ⇒ IE and the quiet form; denormal ⇒ DE. */
  private fldMemory(): void {
    const c = this.r.classify(MEM);
    if (this.wouldOverflow()) {
      this.push(MEM);
      return;
    }
    if (c === CLASS_SNAN && !this.memRaw80) {
      if (this.signal(FSW_IE)) return;
      this.r.hi[MEM] |= 0x40000000;
    } else if (this.memDenormal && this.signal(FSW_DE)) {
      return;
    }
    this.setC1(false);
    this.push(MEM);
  }

  // ---- arithmetic ------------------------------------------------------------------

  /** D8/DC/DA/DE memory forms: ST(0) op MEM. */
  private arithOrCompare(reg: number): void {
    const p0 = this.st(0);
    if (reg === OP_COM || reg === OP_COMP) {
      this.compareInto(p0, MEM, false, reg === OP_COMP ? 1 : 0);
      return;
    }
    this.arith(reg, p0, MEM, p0);
  }

  /**
   * dst ← a op b for op in ADD MUL SUB SUBR DIV DIVR (reverse forms swap a, b).
   * `a`, `b` are physical registers or MEM; empty registers underflow.
   */
  private arith(op: number, a: number, b: number, dst: number): boolean {
    if ((a < 8 && this.empty[a]) || (b < 8 && this.empty[b])) {
      if (this.stackFault(false)) return false;
      this.setIndefinite(dst);
      this.empty[dst] = 0;
      return true;
    }
    if (op === OP_SUBR || op === OP_DIVR) {
      const t = a; a = b; b = t;
      op = op === OP_SUBR ? OP_SUB : OP_DIV;
    }
    if (!this.binary(op, a, b)) return false;
    this.r.copy(dst, TMP);
    this.empty[dst] = 0;
    return true;
  }

  /** TMP ← a op b with IEEE special cases, flags and rounding. False when suppressed by an unmasked exception. */
  private binary(op: number, a: number, b: number): boolean {
    const r = this.r;
    const ca = r.classify(a), cb = r.classify(b);
    if (ca >= CLASS_QNAN || cb >= CLASS_QNAN) return this.nanResult(a, ca, b, cb);
    // Division of a finite non-zero value by zero: ZE alone, even for a denormal dividend (measured).
    if (op === OP_DIV && cb === CLASS_ZERO && ca !== CLASS_ZERO && ca !== CLASS_INF) {
      if (this.signal(FSW_ZE)) return false;
      this.setC1(false);
      r.setDouble(TMP, (r.isNegative(a) !== r.isNegative(b)) ? -Infinity : Infinity);
      return true;
    }
    if ((ca === CLASS_DENORMAL || cb === CLASS_DENORMAL || (this.memDenormal && (a === MEM || b === MEM))) && this.signal(FSW_DE)) return false;
    const x = r.val[a], y = r.val[b];
    const rc = this.rc;
    let v: number;
    lastRounding.overflow = false;
    switch (op) {
      case OP_ADD:
        if (ca === CLASS_INF && cb === CLASS_INF && x !== y) return this.invalid();
        v = roundedAdd(x, y, rc);
        break;
      case OP_SUB:
        if (ca === CLASS_INF && cb === CLASS_INF && x === y) return this.invalid();
        v = roundedAdd(x, -y, rc);
        break;
      case OP_MUL:
        if ((ca === CLASS_INF && y === 0 && cb !== CLASS_DENORMAL) || (cb === CLASS_INF && x === 0 && ca !== CLASS_DENORMAL)) return this.invalid();
        v = roundedMul(x, y, rc);
        break;
      default: // OP_DIV
        if ((ca === CLASS_INF && cb === CLASS_INF) || (ca === CLASS_ZERO && cb === CLASS_ZERO)) return this.invalid();
        if (cb === CLASS_ZERO) {
          // ∞ / 0 = ∞ exactly, no exception.
          this.setC1(false);
          r.setDouble(TMP, (r.isNegative(a) !== r.isNegative(b)) ? -Infinity : Infinity);
          return true;
        }
        v = roundedDiv(x, y, rc);
    }
    this.finishResult(v);
    return true;
  }

  /** Store a rounded double into TMP with precision control and the OE/UE/PE/C1 flags. */
  private finishResult(v: number): void {
    let inexact = lastRounding.inexact;
    let up = lastRounding.roundedUp;
    let overflow = lastRounding.overflow;
    const pc = (this.fcw >> 8) & 3;
    if (pc === 3) {
      this.extendedResult(v, inexact, up);
      return;
    }
    if (pc === 0 && isFinite(v)) {
      // Precision control: single (FCW.PC = 00).
      const f = roundToFloat32(v, this.rc);
      if (lastRounding.inexact) {
        inexact = true;
        up = lastRounding.roundedUp;
        overflow = overflow || !isFinite(f) || Math.abs(f) === FORMAT_SINGLE.maxFinite && Math.abs(v) > f;
      }
      v = f;
    }
    let flags = 0;
    if (overflow) flags |= FSW_OE;
    const tiny = inexact ? Math.abs(v) < (pc === 0 ? 2 ** -126 : 2 ** -1022) : v !== 0 && Math.abs(v) < (pc === 0 ? 2 ** -126 : 2 ** -1022);
    if (tiny && (inexact || (this.fcw & FSW_UE) === 0)) flags |= FSW_UE;
    if (inexact) flags |= FSW_PE;
    this.setC1(up);
    if (flags) this.signal(flags);
    this.r.setDouble(TMP, v);
  }

  /**
   * PC = extended. The hardware result has 11 more significand bits and a wider
   * exponent, so a double overflow/underflow is no OE/UE yet. From the error of
   * the double `v` (lastRounding.err) decide what the 80-bit result would be: `v`
   * itself (the exact value lies within half an 80-bit ulp), or a value beside
   * it — then remember the side (Float80Slots.dir) so stores and compares see it.
   * PE and C1 follow the 80-bit rounding.
   */
  private extendedResult(v: number, inexact: boolean, up: boolean): void {
    const r = this.r;
    r.setDouble(TMP, v);
    if (!inexact) {
      this.setC1(false);
      return;
    }
    const err = lastRounding.err;
    const av = Math.abs(v);
    if (av === 0 || av === Infinity || err !== err) {
      // Only the side is known: the 80-bit value differs from v, and it rounded inexactly.
      r.dir[TMP] = lastRounding.errSign;
      this.setC1(av === Infinity ? false : up);
      this.signal(FSW_PE);
      return;
    }
    let k = Math.floor(Math.log2(av));
    if (2 ** k > av) k--;
    else if (2 ** (k + 1) <= av) k++;
    // Just below a power of two the 80-bit grid is twice as fine.
    if (2 ** k === av && (err > 0) !== (v > 0)) k--;
    const q = Math.abs(err) / 2 ** (k - 63); // the error in 80-bit ulps of v (< 2^11)
    const rc = this.rc;
    const steps = rc === RC_NEAREST ? (q - Math.floor(q) > 0.5 || (q - Math.floor(q) === 0.5 && (Math.floor(q) & 1) === 1) ? Math.ceil(q) : Math.floor(q)) : Math.floor(q);
    const extInexact = steps !== q || q === 0; // q underflows to 0 for a far smaller addend: still inexact
    r.dir[TMP] = steps === 0 ? 0 : err > 0 ? 1 : -1;
    if (steps === 1024 && rc === RC_NEAREST && av >= 2 ** -1022) {
      // The 80-bit value is the midpoint between v and its neighbour: a store
      // rounds it to the even one (double rounding); keep that one in `val`.
      doubleBits(v, storeWords);
      if (storeWords[1] & 1) {
        r.setDouble(TMP, err > 0 ? nextUp(v) : nextDown(v));
        r.dir[TMP] = err > 0 ? -1 : 1;
      }
    }
    // C1: the 80-bit value v + sign(err)·steps ulps lies beyond the exact one (away from zero)?
    this.setC1(extInexact && (v > 0) === (err > 0) ? steps > q : extInexact && steps < q);
    if (extInexact) this.signal(FSW_PE);
  }

  /**
   * NaN operands (SDM vol. 1 Table 4-7): SNaN/unsupported ⇒ IE; the result is the
   * QNaN with the larger significand, a QNaN over an SNaN, or the indefinite.
   */
  private nanResult(a: number, ca: number, b: number, cb: number): boolean {
    const r = this.r;
    if (ca === CLASS_UNSUPPORTED || cb === CLASS_UNSUPPORTED) return this.invalid();
    if ((ca === CLASS_SNAN || cb === CLASS_SNAN) && this.signal(FSW_IE)) return false;
    let pick: number;
    const aNan = ca >= CLASS_QNAN, bNan = cb >= CLASS_QNAN;
    if (aNan && bNan) {
      if (ca !== cb) pick = ca === CLASS_QNAN ? a : b;
      else {
        const ah = (r.hi[a] & 0x3fffffff) >>> 0, bh = (r.hi[b] & 0x3fffffff) >>> 0;
        pick = ah > bh || (ah === bh && (r.lo[a] >>> 0) >= (r.lo[b] >>> 0)) ? a : b;
      }
    } else pick = aNan ? a : b;
    r.setRaw(TMP, r.se[pick], r.hi[pick] | 0x40000000, r.lo[pick]);
    this.setC1(false);
    return true;
  }

  // ---- compares ---------------------------------------------------------------------

  /**
   * Compare a with b: 0 greater, 1 less, 2 equal, 3 unordered; -1 when an
   * unmasked IE/DE suppresses the result. `quiet` = FUCOM rules (QNaN no IE).
   */
  private compare(a: number, b: number, quiet: boolean): number {
    if ((a < 8 && this.empty[a]) || (b < 8 && this.empty[b])) {
      return this.stackFault(false) ? -1 : 3;
    }
    const r = this.r;
    const ca = r.classify(a), cb = r.classify(b);
    if (ca >= CLASS_QNAN || cb >= CLASS_QNAN) {
      const signalling = !quiet || ca === CLASS_SNAN || cb === CLASS_SNAN || ca === CLASS_UNSUPPORTED || cb === CLASS_UNSUPPORTED;
      if (signalling && this.signal(FSW_IE)) return -1;
      return 3;
    }
    if ((ca === CLASS_DENORMAL || cb === CLASS_DENORMAL || (this.memDenormal && (a === MEM || b === MEM))) && this.signal(FSW_DE)) return -1;
    return compareFinite(r, a, ca, b, cb);
  }

  /** FCOM/FCOMP/FCOMPP/FUCOM*, FICOM*: condition codes, then `pops` pops. */
  private compareInto(a: number, b: number, quiet: boolean, pops: number): void {
    const res = this.compare(a, b, quiet);
    if (res < 0) return;
    // C3 C2 C0: > 000, < 001, = 100, unordered 111 (SDM vol. 2 FCOM Table 3-21).
    this.setCC(res >= 2 ? 1 : 0, res === 3 ? 1 : 0, 0, res === 1 || res === 3 ? 1 : 0);
    for (let i = 0; i < pops; i++) this.pop();
  }

  /** FCOMI/FUCOMI(P): ZF PF CF, OF SF AF cleared (SDM vol. 2 FCOMI). */
  private compareEflags(i: number, quiet: boolean, pop: boolean): void {
    const res = this.compare(this.st(0), this.st(i), quiet);
    if (res < 0) return;
    this.setC1(false);
    const cpu = this.cpu;
    let f = readEflags(cpu) & ~(FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF);
    if (res === 1) f |= FLAG_CF;
    else if (res === 2) f |= FLAG_ZF;
    else if (res === 3) f |= FLAG_ZF | FLAG_PF | FLAG_CF;
    writeEflags(cpu, f);
    if (pop) this.pop();
  }

  // ---- stores --------------------------------------------------------------------

  /** FST/FSTP m32/m64/m80: memory is written before the pop; a fault restores FSW. */
  private storeFloat(seg: number, off: number, size: number, pop: boolean): void {
    const p = this.st(0);
    const r = this.r;
    const saved = this.fsw;
    const m = this.cpu.smem;
    let w0 = 0, w1 = 0, w2 = 0;
    if (this.empty[p]) {
      if (this.stackFault(false)) return;
      // Masked underflow stores the indefinite.
      if (size === 4) w0 = 0xffc00000 | 0;
      else if (size === 8) { w0 = 0; w1 = 0xfff80000 | 0; }
      else { w0 = 0; w1 = 0xc0000000 | 0; w2 = 0xffff; }
    } else if (size === 10) {
      w0 = r.lo[p]; w1 = r.hi[p]; w2 = r.se[p];
      this.setC1(false); // m80 stores never round
    } else {
      const c = r.classify(p);
      const sign = r.isNegative(p) ? 0x80000000 | 0 : 0;
      this.setC1(false);
      if (c === CLASS_SNAN || c === CLASS_UNSUPPORTED) {
        if (this.signal(FSW_IE)) return;
      }
      if (c === CLASS_UNSUPPORTED) {
        if (size === 4) w0 = 0xffc00000 | 0;
        else w1 = 0xfff80000 | 0;
      } else if (c === CLASS_QNAN || c === CLASS_SNAN) {
        const hi = r.hi[p] | 0x40000000;
        if (size === 4) w0 = sign | 0x7f800000 | ((hi >>> 8) & 0x7fffff);
        else { w1 = sign | 0x7ff00000 | ((hi >>> 11) & 0xfffff); w0 = (hi << 21) | (r.lo[p] >>> 11); }
      } else if (c === CLASS_INF) {
        // ∞ standing for a finite extended result beyond double's range: the store overflows.
        if (r.dir[p] !== 0) {
          this.setC1(true);
          if (this.signal(FSW_OE | FSW_PE) && (this.fcw & FSW_OE) === 0) return;
        }
        if (size === 4) w0 = sign | 0x7f800000;
        else w1 = sign | 0x7ff00000;
      } else {
        // No DE for a denormal source here: measured on the host (SDM lists #D for FST).
        const v = this.roundForStore(p, size === 4);
        if (v === undefined) return;
        if (size === 4) w0 = float32Bits(v);
        else {
          doubleBits(v, storeWords);
          w1 = storeWords[0]; w0 = storeWords[1];
        }
      }
    }
    try {
      m.write32(seg, off, w0);
      if (size >= 8) m.write32(seg, off + 4, w1);
      if (size === 10) m.write16(seg, off + 8, w2);
    } catch (e) {
      this.fsw = saved;
      throw e;
    }
    if (pop) this.pop();
  }

  /** ST(p) rounded to float32/float64 per RC, setting OE/UE/PE/C1. Undefined when suppressed. */
  private roundForStore(p: number, single: boolean): number | undefined {
    const r = this.r;
    let v: number, inexact: boolean, up: boolean, overflow: boolean, tiny: boolean;
    if (isExactDouble(r.se[p], r.hi[p], r.lo[p]) || r.classify(p) === CLASS_ZERO) {
      v = r.val[p];
      const dir = r.dir[p];
      if (single) {
        v = roundToFloat32(v, this.rc);
        inexact = lastRounding.inexact;
        up = lastRounding.roundedUp;
        overflow = inexact && (!isFinite(v) || Math.abs(v) === FORMAT_SINGLE.maxFinite && Math.abs(r.val[p]) > Math.abs(v));
        tiny = v === 0 ? inexact : Math.abs(v) < 2 ** -126 || (inexact && Math.abs(r.val[p]) < 2 ** -126);
      } else {
        inexact = up = overflow = tiny = false;
      }
      if (!inexact && dir !== 0) {
        // An extended-precision result stored to a narrower format: it rounds to `v`
        // (below the normal range it underflows; beyond the largest double it overflows).
        inexact = true;
        up = v !== 0 && (v > 0) === (dir < 0);
        tiny = Math.abs(v) < (single ? 2 ** -126 : 2 ** -1022);
        overflow = Math.abs(v) === Number.MAX_VALUE && (v > 0) === (dir > 0);
      }
    } else {
      v = roundFloat80(r.se[p], r.hi[p], r.lo[p], single ? FORMAT_SINGLE : FORMAT_DOUBLE, this.rc);
      inexact = exactRounding.inexact;
      up = exactRounding.roundedUp;
      overflow = exactRounding.overflow;
      tiny = exactRounding.tiny;
    }
    let flags = 0;
    if (overflow) flags |= FSW_OE;
    if (tiny && (inexact || (this.fcw & FSW_UE) === 0)) flags |= FSW_UE;
    if (inexact) flags |= FSW_PE;
    this.setC1(up);
    // Unmasked OE/UE leave the destination unchanged (SDM vol. 1 §4.9.2.1).
    if (flags && this.signal(flags) && (flags & ~this.fcw & (FSW_OE | FSW_UE))) return undefined;
    return v;
  }

  /** FIST/FISTP m16/m32/m64 with RC rounding; out of range ⇒ IE, masked ⇒ integer indefinite. */
  private storeInt(seg: number, off: number, size: number, pop: boolean): void {
    const p = this.st(0);
    const r = this.r;
    const saved = this.fsw;
    let lo = 0, hi = 0;
    let invalid = false;
    if (this.empty[p]) {
      if (this.stackFault(false)) return;
      invalid = true;
    } else {
      const c = r.classify(p);
      this.setC1(false);
      if (c >= CLASS_INF) invalid = true;
      else if (isExactDouble(r.se[p], r.hi[p], r.lo[p]) || c === CLASS_ZERO || c === CLASS_DENORMAL) {
        const v = integerOf(c === CLASS_DENORMAL ? (r.isNegative(p) ? -Number.MIN_VALUE : Number.MIN_VALUE) : r.val[p], r.dir[p], this.rc);
        const inexact = lastRounding.inexact, up = lastRounding.roundedUp;
        const limit = 2 ** (size * 8 - 1);
        if (v >= limit || v < -limit) invalid = true;
        else {
          hi = Math.floor(v / 4294967296) | 0;
          lo = (v - Math.floor(v / 4294967296) * 4294967296) | 0;
          this.setC1(up);
          if (inexact) this.signal(FSW_PE);
        }
      } else {
        const big = float80ToBigInt(r.se[p], r.hi[p], r.lo[p], this.rc);
        const limit = 1n << BigInt(size * 8 - 1);
        if (big >= limit || big < -limit) invalid = true;
        else {
          lo = Number(BigInt.asIntN(32, big));
          hi = Number(BigInt.asIntN(32, big >> 32n));
          this.setC1(exactRounding.roundedUp);
          if (exactRounding.inexact) this.signal(FSW_PE);
        }
      }
      if (invalid && this.signal(FSW_IE)) return;
    }
    if (invalid) {
      // Integer indefinite: the most negative value of the size.
      lo = size === 2 ? 0x8000 : size === 4 ? 0x80000000 | 0 : 0;
      hi = 0x80000000 | 0;
    }
    const m = this.cpu.smem;
    try {
      if (size === 2) m.write16(seg, off, lo);
      else {
        m.write32(seg, off, lo);
        if (size === 8) m.write32(seg, off + 4, hi);
      }
    } catch (e) {
      this.fsw = saved;
      throw e;
    }
    if (pop) this.pop();
  }

  // ---- packed BCD (FBLD/FBSTP, SDM vol. 1 §4.7) -----------------------------------

  private fbld(seg: number, off: number): void {
    const m = this.cpu.smem;
    const bytes = new Uint8Array(10);
    for (let i = 0; i < 10; i++) bytes[i] = m.read8(seg, off + i);
    let v = 0n;
    for (let i = 8; i >= 0; i--) v = v * 100n + BigInt((bytes[i] >> 4) * 10 + (bytes[i] & 15));
    if (bytes[9] & 0x80) v = -v;
    this.memDenormal = false;
    this.r.setInt64(MEM, Number(BigInt.asIntN(32, v >> 32n)), Number(BigInt.asIntN(32, v)));
    if (v === 0n && bytes[9] & 0x80) this.r.setSign(MEM, true);
    this.fldMemory();
  }

  private fbstp(seg: number, off: number): void {
    const p = this.st(0);
    const r = this.r;
    const saved = this.fsw;
    const bytes = new Uint8Array(10);
    let invalid = false;
    if (this.empty[p]) {
      if (this.stackFault(false)) return;
      invalid = true;
    } else {
      const c = r.classify(p);
      let big = 0n;
      if (c >= CLASS_INF) invalid = true;
      else {
        big = float80ToBigInt(r.se[p], r.hi[p], r.lo[p], this.rc);
        if (big >= 10n ** 18n || big <= -(10n ** 18n)) invalid = true;
      }
      if (invalid) {
        if (this.signal(FSW_IE)) return;
      } else {
        this.setC1(exactRounding.roundedUp);
        if (exactRounding.inexact) this.signal(FSW_PE);
        let mag = big < 0n ? -big : big;
        for (let i = 0; i < 9; i++) {
          const two = Number(mag % 100n);
          mag /= 100n;
          bytes[i] = ((two / 10) | 0) << 4 | (two % 10);
        }
        if (r.isNegative(p)) bytes[9] = 0x80;
      }
    }
    if (invalid) {
      // Packed BCD indefinite: FFFF C000 0000 0000 0000 (SDM vol. 1 Table 4-4).
      bytes.fill(0);
      bytes[7] = 0xc0; bytes[8] = 0xff; bytes[9] = 0xff;
    }
    const m = this.cpu.smem;
    try {
      for (let i = 0; i < 10; i++) m.write8(seg, off + i, bytes[i]);
    } catch (e) {
      this.fsw = saved;
      throw e;
    }
    this.pop();
  }

  // ---- register forms ----------------------------------------------------------------

  private registerForm(low: number, reg: number, i: number, modrm: number): void {
    const pi = this.st(i);
    const p0 = this.st(0);
    switch (low) {
      case 0: // D8: ST(0) ← ST(0) op ST(i)
        if (reg === OP_COM || reg === OP_COMP) this.compareInto(p0, pi, false, reg === OP_COMP ? 1 : 0);
        else this.arith(reg, p0, pi, p0);
        return;
      case 4: // DC: ST(i) ← ST(i) op ST(0); SUB/SUBR and DIV/DIVR swap meaning
        if (reg === OP_COM || reg === OP_COMP) this.compareInto(p0, pi, false, reg === OP_COMP ? 1 : 0); // FCOM2/FCOMP3 aliases
        else this.arith(reg ^ (reg >= 4 ? 1 : 0), pi, p0, pi);
        return;
      case 6: // DE: the popping forms
        if (reg === OP_COM) { this.compareInto(p0, pi, false, 1); return; } // FCOMP5 alias
        if (reg === OP_COMP) {
          if (modrm !== 0xd9) break;
          this.compareInto(p0, this.st(1), false, 2); // FCOMPP
          return;
        }
        if (this.arith(reg ^ (reg >= 4 ? 1 : 0), pi, p0, pi)) this.pop();
        return;
      case 1: this.registerD9(reg, i, modrm); return;
      case 2:
        if (reg < 4) { this.fcmov(reg, false, i); return; }
        if (modrm === 0xe9) { this.compareInto(p0, this.st(1), true, 2); return; } // FUCOMPP
        break;
      case 3:
        if (reg < 4) { this.fcmov(reg, true, i); return; }
        if (reg === 5) { this.compareEflags(i, true, false); return; } // FUCOMI
        if (reg === 6) { this.compareEflags(i, false, false); return; } // FCOMI
        break;
      case 5:
        switch (reg) {
          case 0: this.empty[pi] = 1; return; // FFREE
          case 1: this.fxch(i); return; // FXCH4 alias
          case 2: this.fstReg(i, false); return;
          case 3: this.fstReg(i, true); return;
          case 4: this.compareInto(p0, pi, true, 0); return; // FUCOM
          case 5: this.compareInto(p0, pi, true, 1); return; // FUCOMP
        }
        break;
      case 7:
        switch (reg) {
          case 0: this.empty[pi] = 1; this.pop(); return; // FFREEP
          case 1: this.fxch(i); return; // FXCH7 alias
          case 2: case 3: this.fstReg(i, true); return; // FSTP8/FSTP9 aliases
          case 5: this.compareEflags(i, true, true); return; // FUCOMIP
          case 6: this.compareEflags(i, false, true); return; // FCOMIP
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
      case 1: this.fxch(i); return;
      case 2: if (modrm === 0xd0) return; break; // FNOP
      case 3: this.fstReg(i, true); return; // FSTP1 alias
      case 4:
        switch (modrm) {
          case 0xe0: this.unaryPattern(true); return; // FCHS
          case 0xe1: this.unaryPattern(false); return; // FABS
          case 0xe4: this.ftst(); return;
          case 0xe5: this.fxam(); return;
        }
        break;
      case 5:
        if (modrm === 0xef) break;
        this.loadConstant(modrm - 0xe8);
        return;
      case 6:
        switch (modrm) {
          case 0xf0: this.f2xm1(); return;
          case 0xf1: this.fyl2x(false); return;
          case 0xf2: this.fptan(); return;
          case 0xf3: this.fpatan(); return;
          case 0xf4: this.fxtract(); return;
          case 0xf5: this.fprem(true); return;
          case 0xf6: this.top = (this.top - 1) & 7; this.setC1(false); return; // FDECSTP
          case 0xf7: this.top = (this.top + 1) & 7; this.setC1(false); return; // FINCSTP
        }
        break;
      case 7:
        switch (modrm) {
          case 0xf8: this.fprem(false); return;
          case 0xf9: this.fyl2x(true); return;
          case 0xfa: this.fsqrt(); return;
          case 0xfb: this.fsincos(); return;
          case 0xfc: this.frndint(); return;
          case 0xfd: this.fscale(); return;
          case 0xfe: this.fsinCos(true); return;
          case 0xff: this.fsinCos(false); return;
        }
        break;
    }
    throw new CpuException(EXC_UD);
  }

  /** ST(0) present? Otherwise underflow; masked ⇒ ST(0) ← indefinite and false returned too. */
  private needSt(...indices: number[]): boolean {
    for (const i of indices) {
      if (this.empty[this.st(i)]) {
        if (!this.stackFault(false)) {
          for (const j of indices) {
            if (j === 0 || j === 1) {
              this.setIndefinite(this.st(j));
              this.empty[this.st(j)] = 0;
            }
          }
        }
        return false;
      }
    }
    return true;
  }

  private fxch(i: number): void {
    const p0 = this.st(0), pi = this.st(i);
    if (this.empty[p0] || this.empty[pi]) {
      if (this.stackFault(false)) return;
      if (this.empty[p0]) this.setIndefinite(p0);
      if (this.empty[pi]) this.setIndefinite(pi);
      this.empty[p0] = this.empty[pi] = 0;
    } else this.setC1(false);
    this.r.copy(TMP, p0);
    this.r.copy(p0, pi);
    this.r.copy(pi, TMP);
  }

  /** FST/FSTP ST(i): verbatim copy. */
  private fstReg(i: number, pop: boolean): void {
    const p0 = this.st(0), pi = this.st(i);
    if (this.empty[p0]) {
      if (this.stackFault(false)) return;
      this.setIndefinite(pi);
    } else {
      this.r.copy(pi, p0);
      this.setC1(false);
    }
    this.empty[pi] = 0;
    if (pop) this.pop();
  }

  /** FCMOVcc (SDM vol. 2 FCMOVcc): B E BE U, and their negations with `negate`. */
  private fcmov(cc: number, negate: boolean, i: number): void {
    if (!this.needSt(0, i)) return;
    const f = readEflags(this.cpu);
    let cond: boolean;
    switch (cc) {
      case 0: cond = (f & FLAG_CF) !== 0; break;
      case 1: cond = (f & FLAG_ZF) !== 0; break;
      case 2: cond = (f & (FLAG_CF | FLAG_ZF)) !== 0; break;
      default: cond = (f & FLAG_PF) !== 0;
    }
    this.setC1(false);
    if (cond !== negate) this.r.copy(this.st(0), this.st(i));
  }

  /** FCHS / FABS: sign bit only, exact for every encoding; C1 ← 0. */
  private unaryPattern(chs: boolean): void {
    if (!this.needSt(0)) return;
    const p = this.st(0);
    this.r.setSign(p, chs ? !this.r.isNegative(p) : false);
    this.setC1(false);
  }

  private ftst(): void {
    this.r.setDouble(MEM, 0);
    this.memDenormal = false;
    const res = this.compare(this.st(0), MEM, false);
    if (res < 0) return;
    this.setCC(res >= 2 ? 1 : 0, res === 3 ? 1 : 0, 0, res === 1 || res === 3 ? 1 : 0);
  }

  /** FXAM (SDM vol. 2 FXAM Table 3-45): C3 C2 C0 class, C1 sign. */
  private fxam(): void {
    const p = this.st(0);
    const sign = this.r.isNegative(p) ? 1 : 0;
    if (this.empty[p]) { this.setCC(1, 0, sign, 1); return; }
    switch (this.r.classify(p)) {
      case CLASS_UNSUPPORTED: this.setCC(0, 0, sign, 0); return;
      case CLASS_QNAN: case CLASS_SNAN: this.setCC(0, 0, sign, 1); return;
      case CLASS_NORMAL: this.setCC(0, 1, sign, 0); return;
      case CLASS_INF: this.setCC(0, 1, sign, 1); return;
      case CLASS_ZERO: this.setCC(1, 0, sign, 0); return;
      default: this.setCC(1, 1, sign, 0); // denormal
    }
  }

  /** FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ, rounded per RC (SDM vol. 2 FLD1…: 66-bit internal constants). */
  private loadConstant(k: number): void {
    if (k === 6) this.r.setRaw(TMP, 0, 0, 0);
    else {
      const [se, hi, lo, dir] = CONSTANTS[k];
      const rc = this.rc;
      let adj = 0;
      if (dir > 0 && (rc === 1 || rc === 3)) adj = -1; // nearest went up: down/chop take the lower value
      if (dir < 0 && rc === 2) adj = 1; // nearest went down: up takes the higher value
      this.r.setRaw(TMP, se, hi, (lo + adj) | 0);
    }
    if (!this.wouldOverflow()) this.setC1(false);
    this.push(TMP);
  }

  // ---- one-operand arithmetic -----------------------------------------------------------

  /** Common prologue for ST(0) ← f(ST(0)): false when done (underflow or NaN handled). */
  private unaryPrologue(): boolean {
    if (!this.needSt(0)) return false;
    const p = this.st(0);
    const c = this.r.classify(p);
    if (c >= CLASS_QNAN) {
      if (this.nanResult(p, c, p, c)) this.r.copy(p, TMP);
      return false;
    }
    if (c === CLASS_DENORMAL && this.signal(FSW_DE)) return false;
    return true;
  }

  private fsqrt(): void {
    if (!this.unaryPrologue()) return;
    const p = this.st(0);
    const x = this.r.val[p];
    if (x < 0 || (x === -Infinity)) {
      if (this.invalid()) this.r.copy(p, TMP);
      return;
    }
    lastRounding.overflow = false;
    const v = roundedSqrt(x, this.rc);
    this.finishResult(v);
    this.r.copy(p, TMP);
  }

  private frndint(): void {
    if (!this.unaryPrologue()) return;
    const p = this.st(0);
    const r = this.r;
    const c = r.classify(p);
    if (c === CLASS_INF || c === CLASS_ZERO) return;
    if (isExactDouble(r.se[p], r.hi[p], r.lo[p])) {
      const v = integerOf(r.val[p], r.dir[p], this.rc);
      this.setC1(lastRounding.roundedUp);
      if (lastRounding.inexact) this.signal(FSW_PE);
      r.setDouble(p, v);
      return;
    }
    if ((r.se[p] & EXP_MAX) - EXP_BIAS >= 63) return; // already integral
    const big = float80ToBigInt(r.se[p], r.hi[p], r.lo[p], this.rc);
    this.setC1(exactRounding.roundedUp);
    if (exactRounding.inexact) this.signal(FSW_PE);
    const neg = r.isNegative(p);
    const mag = big < 0n ? -big : big;
    r.setInt64(p, Number(BigInt.asIntN(32, mag >> 32n)), Number(BigInt.asIntN(32, mag)));
    if (mag >= 1n << 63n) r.setRaw(p, EXP_BIAS + 63, 0x80000000 | 0, 0); // 2^63 after rounding up
    r.setSign(p, neg);
  }

  /** FXTRACT: ST(0) ← exponent, push significand; exact from the 80-bit pattern. */
  private fxtract(): void {
    if (!this.needSt(0)) return;
    if (this.wouldOverflow()) {
      if (this.stackFault(true)) return;
      this.setIndefinite(this.st(0));
      this.top = (this.top - 1) & 7;
      this.setIndefinite(this.st(0));
      this.empty[this.st(0)] = 0;
      return;
    }
    const p = this.st(0);
    const r = this.r;
    const c = r.classify(p);
    if (c >= CLASS_QNAN) {
      if (!this.nanResult(p, c, p, c)) return;
      r.copy(p, TMP);
      this.push(TMP);
      return;
    }
    const neg = r.isNegative(p);
    if (c === CLASS_ZERO) {
      if (this.signal(FSW_ZE)) return;
      r.setDouble(TMP2, neg ? -0 : 0);
      r.setDouble(p, -Infinity);
    } else if (c === CLASS_INF) {
      r.copy(TMP2, p);
      r.setDouble(p, Infinity);
    } else {
      if (c === CLASS_DENORMAL && this.signal(FSW_DE)) return;
      let exp = (r.se[p] & EXP_MAX) - EXP_BIAS;
      let hi = r.hi[p], lo = r.lo[p];
      if (c === CLASS_DENORMAL) {
        exp = 1 - EXP_BIAS;
        while (hi >= 0) { hi = (hi << 1) | (lo >>> 31); lo <<= 1; exp--; }
      }
      r.setRaw(TMP2, (neg ? 0x8000 : 0) | EXP_BIAS, hi, lo);
      r.setDouble(p, exp);
    }
    this.setC1(false);
    this.push(TMP2);
  }

  /** FSCALE: ST(0) ← ST(0) · 2^trunc(ST(1)). */
  private fscale(): void {
    if (!this.needSt(0, 1)) return;
    const p0 = this.st(0), p1 = this.st(1);
    const r = this.r;
    const c0 = r.classify(p0), c1 = r.classify(p1);
    if (c0 >= CLASS_QNAN || c1 >= CLASS_QNAN) {
      if (this.nanResult(p0, c0, p1, c1)) r.copy(p0, TMP);
      return;
    }
    if ((c0 === CLASS_DENORMAL || c1 === CLASS_DENORMAL) && this.signal(FSW_DE)) return;
    const n = Math.trunc(r.val[p1]);
    if (c1 === CLASS_INF) {
      if ((n > 0 && c0 === CLASS_ZERO) || (n < 0 && c0 === CLASS_INF)) {
        if (this.invalid()) r.copy(p0, TMP);
        return;
      }
      if (c0 !== CLASS_ZERO && c0 !== CLASS_INF) r.setDouble(p0, n > 0 ? (r.isNegative(p0) ? -Infinity : Infinity) : (r.isNegative(p0) ? -0 : 0));
      this.setC1(false);
      return;
    }
    if (c0 === CLASS_ZERO || c0 === CLASS_INF) { this.setC1(false); return; }
    const exp = r.se[p0] & EXP_MAX;
    if (c0 === CLASS_NORMAL && exp + n > 0 && exp + n < EXP_MAX) {
      // Exact: only the exponent changes.
      r.setRaw(p0, (r.se[p0] & 0x8000) | (exp + n), r.hi[p0], r.lo[p0]);
      this.setC1(false);
      return;
    }
    let v = r.val[p0];
    const k = Math.max(-2200, Math.min(2200, n));
    for (let left = k; left !== 0;) {
      const step = Math.max(-1000, Math.min(1000, left));
      v *= 2 ** step;
      left -= step;
    }
    lastRounding.inexact = v === 0 || !isFinite(v);
    lastRounding.roundedUp = !isFinite(v);
    lastRounding.overflow = !isFinite(v);
    lastRounding.errSign = v === 0 ? (r.isNegative(p0) ? -1 : 1) : !isFinite(v) ? (v > 0 ? -1 : 1) : 0;
    this.finishResult(v);
    r.copy(p0, TMP);
  }

  /** FPREM (truncating) and FPREM1 (IEEE): the full remainder at once, C2 = 0, C0 C3 C1 = Q2 Q1 Q0. */
  private fprem(ieee: boolean): void {
    if (!this.needSt(0, 1)) return;
    const p0 = this.st(0), p1 = this.st(1);
    const r = this.r;
    const c0 = r.classify(p0), c1 = r.classify(p1);
    if (c0 >= CLASS_QNAN || c1 >= CLASS_QNAN) {
      if (this.nanResult(p0, c0, p1, c1)) r.copy(p0, TMP);
      return;
    }
    if (c0 === CLASS_INF || c1 === CLASS_ZERO) {
      if (this.invalid()) r.copy(p0, TMP);
      return;
    }
    if ((c0 === CLASS_DENORMAL || c1 === CLASS_DENORMAL) && this.signal(FSW_DE)) return;
    const a = r.val[p0], b = r.val[p1];
    if (c1 === CLASS_INF || c0 === CLASS_ZERO) { this.setCC(0, 0, 0, 0); return; }
    let rem = a % b;
    const ab = Math.abs(b);
    // Quotient bits Q2..Q0 from a mod 8b; huge operands are scaled down (exactly) first.
    const k = ab > 2 ** 1000 ? 2 ** -16 : 1;
    const wide = (a * k) % (8 * b * k);
    let q = Math.round((Math.abs(wide) - Math.abs(rem * k)) / (ab * k)) & 7;
    if (ieee) {
      const twice = Math.abs(rem) * 2;
      if (twice > ab || (twice === ab && (q & 1) === 1)) {
        rem = rem > 0 ? rem - ab : rem + ab;
        q = (q + 1) & 7;
      }
    }
    if (rem === 0) rem = a < 0 ? -0 : 0;
    r.setDouble(p0, rem);
    this.setCC((q >> 1) & 1, 0, q & 1, (q >> 2) & 1);
  }

  // ---- transcendental functions (double precision; SDM vol. 1 §8.3.10) -------------

  private static readonly TRIG_LIMIT = 2 ** 63;

  /** FSIN / FCOS; |x| ≥ 2^63 ⇒ C2 = 1 and ST(0) unchanged. */
  private fsinCos(sin: boolean): void {
    if (!this.unaryPrologue()) return;
    const p = this.st(0);
    const x = this.r.val[p];
    if (!isFinite(x)) { if (this.invalid()) this.r.copy(p, TMP); return; }
    if (Math.abs(x) >= Fpu.TRIG_LIMIT) { this.fsw |= FSW_C2; return; }
    this.fsw &= ~FSW_C2;
    this.transcendentalResult(sin ? Math.sin(x) : Math.cos(x), x !== 0 || !sin);
    this.r.copy(p, TMP);
  }

  /**
   * Prologue of FSINCOS/FPTAN, which replace ST(0) and push a second result: stack
   * faults, NaN and invalid operands give the same value in both (measured).
   * Returns false when handled.
   */
  private pushingPrologue(): boolean {
    if (!this.needSt(0)) return false;
    if (this.wouldOverflow()) {
      if (this.stackFault(true)) return false;
      this.setIndefinite(this.st(0));
      this.top = (this.top - 1) & 7;
      this.setIndefinite(this.st(0));
      this.empty[this.st(0)] = 0;
      return false;
    }
    const p = this.st(0);
    const c = this.r.classify(p);
    let done = false;
    if (c >= CLASS_QNAN) done = !this.nanResult(p, c, p, c) || (this.r.copy(p, TMP), this.push(TMP), true);
    else if (c === CLASS_INF) done = !this.invalid() || (this.r.copy(p, TMP), this.push(TMP), true);
    else if (c === CLASS_DENORMAL && this.signal(FSW_DE)) done = true;
    if (done) return false;
    if (Math.abs(this.r.val[p]) >= Fpu.TRIG_LIMIT) {
      this.fsw |= FSW_C2;
      return false;
    }
    this.fsw &= ~FSW_C2;
    return true;
  }

  private fsincos(): void {
    if (!this.pushingPrologue()) return;
    const p = this.st(0);
    const x = this.r.val[p];
    this.transcendentalResult(Math.cos(x), true);
    this.r.copy(TMP2, TMP);
    this.transcendentalResult(Math.sin(x), x !== 0);
    this.r.copy(p, TMP);
    this.push(TMP2);
  }

  private fptan(): void {
    if (!this.pushingPrologue()) return;
    const p = this.st(0);
    const x = this.r.val[p];
    this.transcendentalResult(Math.tan(x), x !== 0);
    this.r.copy(p, TMP);
    this.r.setDouble(TMP, 1);
    this.push(TMP);
  }

  /** FPATAN: ST(1) ← atan2(ST(1), ST(0)), pop. */
  private fpatan(): void {
    if (!this.twoOperandPrologue()) return;
    const y = this.r.val[this.st(1)], x = this.r.val[this.st(0)];
    this.transcendentalResult(Math.atan2(y, x), y !== 0 || x < 0);
    this.r.copy(this.st(1), TMP);
    this.pop();
  }

  /** FYL2X: ST(1) ← ST(1)·log2(ST(0)); FYL2XP1: ST(1) ← ST(1)·log2(ST(0)+1); pop. */
  private fyl2x(plusOne: boolean): void {
    if (!this.twoOperandPrologue()) return;
    const p0 = this.st(0), p1 = this.st(1);
    const x = this.r.val[p0], y = this.r.val[p1];
    const arg = plusOne ? x + 1 : x;
    if (arg < 0 || (arg === 0 && y === 0) || (x !== x)) {
      if (this.invalid()) { this.r.copy(p1, TMP); this.pop(); }
      return;
    }
    if (arg === 0) {
      // log2(0) = -inf: ZE only with a finite multiplier (an infinite one is exact).
      if (isFinite(y) && this.signal(FSW_ZE)) return;
      this.r.setDouble(p1, y > 0 ? -Infinity : Infinity);
      this.pop();
      return;
    }
    const l = plusOne ? Math.log1p(x) / Math.LN2 : Math.log2(x);
    const v = y * l;
    if (v !== v) {
      if (this.invalid()) { this.r.copy(p1, TMP); this.pop(); }
      return;
    }
    this.transcendentalResult(v, !(Number.isInteger(l) && Number.isInteger(y)));
    this.r.copy(p1, TMP);
    this.pop();
  }

  /** F2XM1: ST(0) ← 2^ST(0) − 1. */
  private f2xm1(): void {
    if (!this.unaryPrologue()) return;
    const p = this.st(0);
    const x = this.r.val[p];
    if (x === -Infinity) { this.r.setDouble(p, -1); return; }
    if (x === Infinity) return;
    this.transcendentalResult(Math.expm1(x * Math.LN2), !Number.isInteger(x));
    this.r.copy(p, TMP);
  }

  private twoOperandPrologue(): boolean {
    if (!this.needSt(0, 1)) return false;
    const p0 = this.st(0), p1 = this.st(1);
    const c0 = this.r.classify(p0), c1 = this.r.classify(p1);
    if (c0 >= CLASS_QNAN || c1 >= CLASS_QNAN) {
      if (this.nanResult(p0, c0, p1, c1)) {
        this.r.copy(p1, TMP);
        this.pop();
      }
      return false;
    }
    if ((c0 === CLASS_DENORMAL || c1 === CLASS_DENORMAL) && this.signal(FSW_DE)) return false;
    return true;
  }

  /** A transcendental result: rounded to nearest in double, PE when inexact, C1 unknown ⇒ 0. */
  private transcendentalResult(v: number, inexact: boolean): void {
    lastRounding.inexact = inexact && v !== 0; // their zeros are exact: sin(0), y·log2(1), atan2(0, x>0)
    lastRounding.roundedUp = false;
    lastRounding.overflow = false;
    this.finishResult(v);
    this.r.dir[TMP] = 0; // the direction of a JS Math result is unknown
  }
}

/**
 * x rounded to an integer per RC, where `dir` says on which side of x an
 * extended-precision value lies (Float80Slots.dir): an integral x then stands for
 * a non-integral value, and directed modes may pick the neighbouring integer.
 */
function integerOf(x: number, dir: number, rc: number): number {
  const v = roundToInteger(x, rc);
  if (lastRounding.inexact || dir === 0) return v;
  let r = v;
  if (rc === RC_DOWN && dir < 0) r = v - 1;
  else if (rc === RC_UP && dir > 0) r = v + 1;
  else if (rc === RC_CHOP && (v > 0 ? dir < 0 : v < 0 && dir > 0)) r = v > 0 ? v - 1 : v + 1;
  lastRounding.inexact = true;
  lastRounding.roundedUp = Math.abs(r) > Math.abs(x) || (r === v && (v > 0 ? dir < 0 : dir > 0));
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

/**
 * Ordered compare of two finite values from their 80-bit patterns: 0 >, 1 <, 2 =.
 * With the effective exponent max(exp, 1), (exponent, significand) orders the
 * magnitudes of normals, denormals and pseudo-denormals alike.
 */
function compareFinite(r: Float80Slots, a: number, ca: number, b: number, cb: number): number {
  // Zeros are equal, unless one stands for a tiny extended value (its side in dir).
  if (ca === CLASS_ZERO && cb === CLASS_ZERO) return r.dir[a] === r.dir[b] ? 2 : r.dir[a] > r.dir[b] ? 0 : 1;
  const na = r.isNegative(a), nb = r.isNegative(b);
  if (ca === CLASS_INF || cb === CLASS_INF) {
    // An ∞ with a rounding side stands for a finite extended value beyond double's range.
    const ra = ca === CLASS_INF ? (r.dir[a] === 0 ? 2 : 1) : 0, rb = cb === CLASS_INF ? (r.dir[b] === 0 ? 2 : 1) : 0;
    if (ra === rb && na === nb) return 2;
    const sa = na ? -ra : ra, sb = nb ? -rb : rb;
    if (sa !== sb) return sa > sb ? 0 : 1;
    return na ? 1 : 0; // same rank and sign were handled; a finite value vs a zero-rank one
  }
  if (ca === CLASS_ZERO) return nb ? 0 : 1;
  if (cb === CLASS_ZERO) return na ? 1 : 0;
  if (na !== nb) return na ? 1 : 0;
  const ea = (r.se[a] & EXP_MAX) || 1, eb = (r.se[b] & EXP_MAX) || 1;
  const ha = r.hi[a] >>> 0, hb = r.hi[b] >>> 0;
  const la = r.lo[a] >>> 0, lb = r.lo[b] >>> 0;
  let mag = ea !== eb ? ea - eb : ha !== hb ? ha - hb : la - lb;
  // Equal doubles standing for different extended results are ordered by their rounding direction.
  if (mag === 0) mag = (na ? -1 : 1) * (r.dir[a] - r.dir[b]);
  if (mag === 0) return 2;
  return (mag > 0) !== na ? 0 : 1;
}
