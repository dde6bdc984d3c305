// x87 state images in guest memory:
// - FNSTENV/FLDENV environment, 14 bytes (16-bit operand size) or 28 bytes (32-bit),
//   in protected-mode or real/V86-mode layout (SDM vol. 1 §8.1.10, Figures 8-9..8-12);
// - FNSAVE/FRSTOR = environment + ST(0)..ST(7) as 10-byte values (94/108 bytes);
// - FXSAVE/FXRSTOR 512-byte image (SDM vol. 2 FXSAVE, Table 3-53 legacy layout).
// Loads read every byte before changing any state, so a fault leaves the FPU intact.
// Reserved upper halves of the 32-bit environment words are written as 0xFFFF, as
// measured on the project's host.

import { CpuException, EXC_GP, type CpuState } from './state.js';
import type { Fpu } from './fpu.js';

/** MXCSR bits FXRSTOR accepts and FXSAVE reports as MXCSR_MASK (no DAZ). */
const MXCSR_MASK = 0xffbf;

export interface FpuEnvironment {
  fcw: number;
  fsw: number;
  ftw: number;
  fip: number;
  fcs: number;
  fop: number;
  fdp: number;
  fds: number;
}

/** Real-mode images hold 20/32-bit linear pointers instead of selector:offset. */
function linear(sel: number, off: number): number {
  return ((sel << 4) + off) | 0;
}

export function writeEnvironment(fpu: Fpu, cpu: CpuState, seg: number, off: number, op32: boolean): void {
  const m = cpu.smem;
  const fcw = fpu.fcw, fsw = fpu.statusWord, ftw = fpu.tagWord;
  if (op32) {
    const r = 0xffff0000 | 0;
    m.write32(seg, off, r | fcw);
    m.write32(seg, off + 4, r | fsw);
    m.write32(seg, off + 8, r | ftw);
    if (cpu.protectedMode) {
      m.write32(seg, off + 12, fpu.fip);
      m.write32(seg, off + 16, (fpu.fcs & 0xffff) | ((fpu.fop & 0x7ff) << 16));
      m.write32(seg, off + 20, fpu.fdp);
      m.write32(seg, off + 24, r | (fpu.fds & 0xffff));
    } else {
      const ip = linear(fpu.fcs, fpu.fip), dp = linear(fpu.fds, fpu.fdp);
      m.write32(seg, off + 12, r | (ip & 0xffff));
      m.write32(seg, off + 16, ((ip >>> 16) << 12) | (fpu.fop & 0x7ff));
      m.write32(seg, off + 20, r | (dp & 0xffff));
      m.write32(seg, off + 24, (dp >>> 16) << 12);
    }
  } else {
    m.write16(seg, off, fcw);
    m.write16(seg, off + 2, fsw);
    m.write16(seg, off + 4, ftw);
    if (cpu.protectedMode) {
      m.write16(seg, off + 6, fpu.fip);
      m.write16(seg, off + 8, fpu.fcs);
      m.write16(seg, off + 10, fpu.fdp);
      m.write16(seg, off + 12, fpu.fds);
    } else {
      const ip = linear(fpu.fcs, fpu.fip), dp = linear(fpu.fds, fpu.fdp);
      m.write16(seg, off + 6, ip);
      m.write16(seg, off + 8, (((ip >>> 16) & 0xf) << 12) | (fpu.fop & 0x7ff));
      m.write16(seg, off + 10, dp);
      m.write16(seg, off + 12, ((dp >>> 16) & 0xf) << 12);
    }
  }
}

export function readEnvironment(cpu: CpuState, seg: number, off: number, op32: boolean): FpuEnvironment {
  const m = cpu.smem;
  if (op32) {
    const w = [0, 4, 8, 12, 16, 20, 24].map((o) => m.read32(seg, off + o));
    if (cpu.protectedMode) {
      return { fcw: w[0] & 0xffff, fsw: w[1] & 0xffff, ftw: w[2] & 0xffff, fip: w[3], fcs: w[4] & 0xffff, fop: (w[4] >>> 16) & 0x7ff, fdp: w[5], fds: w[6] & 0xffff };
    }
    return {
      fcw: w[0] & 0xffff, fsw: w[1] & 0xffff, ftw: w[2] & 0xffff,
      fip: ((w[3] & 0xffff) | (((w[4] >>> 12) & 0xffff) << 16)) | 0, fcs: 0, fop: w[4] & 0x7ff,
      fdp: ((w[5] & 0xffff) | (((w[6] >>> 12) & 0xffff) << 16)) | 0, fds: 0,
    };
  }
  const h = [0, 2, 4, 6, 8, 10, 12].map((o) => m.read16(seg, off + o));
  if (cpu.protectedMode) {
    return { fcw: h[0], fsw: h[1], ftw: h[2], fip: h[3], fcs: h[4], fop: 0, fdp: h[5], fds: h[6] };
  }
  return {
    fcw: h[0], fsw: h[1], ftw: h[2],
    fip: h[3] | ((h[4] >>> 12) << 16), fcs: 0, fop: h[4] & 0x7ff,
    fdp: h[5] | ((h[6] >>> 12) << 16), fds: 0,
  };
}

export function applyEnvironment(fpu: Fpu, env: FpuEnvironment): void {
  fpu.fcw = (env.fcw & 0x1f7f) | 0x40;
  fpu.statusWord = env.fsw;
  fpu.tagWord = env.ftw;
  fpu.fip = env.fip;
  fpu.fcs = env.fcs;
  fpu.fop = env.fop;
  fpu.fdp = env.fdp;
  fpu.fds = env.fds;
  fpu.updateSummary();
}

/** FNSAVE's image (the caller re-initialises the FPU afterwards). */
export function storeSaveImage(fpu: Fpu, cpu: CpuState, seg: number, off: number, op32: boolean): void {
  writeEnvironment(fpu, cpu, seg, off, op32);
  const m = cpu.smem;
  const base = off + (op32 ? 28 : 14);
  for (let i = 0; i < 8; i++) {
    const p = fpu.st(i), o = base + 10 * i;
    m.write32(seg, o, fpu.r.lo[p]);
    m.write32(seg, o + 4, fpu.r.hi[p]);
    m.write16(seg, o + 8, fpu.r.se[p]);
  }
}

/** FRSTOR: every byte is read first; the registers go to ST(i) relative to the loaded TOP. */
export function loadSaveImage(fpu: Fpu, cpu: CpuState, seg: number, off: number, op32: boolean): void {
  const env = readEnvironment(cpu, seg, off, op32);
  const m = cpu.smem;
  const base = off + (op32 ? 28 : 14);
  const regs = new Int32Array(24);
  for (let i = 0; i < 8; i++) {
    const o = base + 10 * i;
    regs[3 * i] = m.read32(seg, o);
    regs[3 * i + 1] = m.read32(seg, o + 4);
    regs[3 * i + 2] = m.read16(seg, o + 8);
  }
  applyEnvironment(fpu, env);
  for (let i = 0; i < 8; i++) fpu.r.setRaw(fpu.st(i), regs[3 * i + 2], regs[3 * i + 1], regs[3 * i]);
}

/** FXSAVE (legacy 32-bit layout): bytes 0..287; 288..511 are left untouched. */
export function storeFxImage(fpu: Fpu, cpu: CpuState, seg: number, off: number): void {
  const m = cpu.smem;
  m.write32(seg, off, fpu.fcw | (fpu.statusWord << 16));
  m.write32(seg, off + 4, fpu.abridgedTag | ((fpu.fop & 0x7ff) << 16));
  m.write32(seg, off + 8, fpu.fip);
  m.write32(seg, off + 12, fpu.fcs & 0xffff);
  m.write32(seg, off + 16, fpu.fdp);
  m.write32(seg, off + 20, fpu.fds & 0xffff);
  m.write32(seg, off + 24, fpu.mxcsr);
  m.write32(seg, off + 28, MXCSR_MASK);
  for (let i = 0; i < 8; i++) {
    const p = fpu.st(i), o = off + 32 + 16 * i;
    m.write32(seg, o, fpu.r.lo[p]);
    m.write32(seg, o + 4, fpu.r.hi[p]);
    m.write32(seg, o + 8, fpu.r.se[p]);
    m.write32(seg, o + 12, 0);
  }
  const x = fpu.xmm;
  for (let i = 0; i < 128; i += 4) {
    m.write32(seg, off + 160 + i, x[i] | (x[i + 1] << 8) | (x[i + 2] << 16) | (x[i + 3] << 24));
  }
}

/** FXRSTOR: MXCSR reserved bits ⇒ #GP(0); the full tag is rebuilt from the abridged bits and contents. */
export function loadFxImage(fpu: Fpu, cpu: CpuState, seg: number, off: number): void {
  const m = cpu.smem;
  const mxcsr = m.read32(seg, off + 24);
  if (mxcsr & ~MXCSR_MASK) throw new CpuException(EXC_GP, 0);
  const words = new Int32Array(8 + 8 * 3 + 32);
  for (let i = 0; i < 6; i++) words[i] = m.read32(seg, off + 4 * i);
  for (let i = 0; i < 8; i++) {
    const o = off + 32 + 16 * i;
    words[8 + 3 * i] = m.read32(seg, o);
    words[8 + 3 * i + 1] = m.read32(seg, o + 4);
    words[8 + 3 * i + 2] = m.read16(seg, o + 8);
  }
  for (let i = 0; i < 32; i++) words[32 + i] = m.read32(seg, off + 160 + 4 * i);
  fpu.fcw = (words[0] & 0x1f7f) | 0x40;
  fpu.statusWord = (words[0] >>> 16) & 0xffff;
  fpu.abridgedTag = words[1] & 0xff;
  fpu.fop = (words[1] >>> 16) & 0x7ff;
  fpu.fip = words[2];
  fpu.fcs = words[3] & 0xffff;
  fpu.fdp = words[4];
  fpu.fds = words[5] & 0xffff;
  fpu.mxcsr = mxcsr;
  for (let i = 0; i < 8; i++) fpu.r.setRaw(fpu.st(i), words[8 + 3 * i + 2], words[8 + 3 * i + 1], words[8 + 3 * i]);
  for (let i = 0; i < 32; i++) {
    const w = words[32 + i];
    fpu.xmm[4 * i] = w;
    fpu.xmm[4 * i + 1] = w >>> 8;
    fpu.xmm[4 * i + 2] = w >>> 16;
    fpu.xmm[4 * i + 3] = w >>> 24;
  }
}
