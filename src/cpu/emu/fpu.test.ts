// x87 behaviour beyond single operations: state images (byte-exact against the
// host), #NM/#MF rules, stack faults, pointers, FCMOV, exact 64-bit integers and
// 80-bit round trips, fault atomicity, Linux's FDIV check.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFpuRig, type FpuRig } from './fpu-fixture.test.js';
import { IMAGE_ENV16, IMAGE_ENV32, IMAGE_FXSAVE, IMAGE_SAVE16, IMAGE_SAVE32 } from './fpu-host-vectors.test.js';
import { CR0_EM, CR0_MP, CR0_NE, CR0_TS, CpuException, DS, EAX, ES, EXC_GP, EXC_MF, EXC_NM, EXC_PF, EXC_UD, FLAG_CF, FLAG_PF, FLAG_ZF } from './state.js';
import { writeEflags } from './flags.js';
import { float80ToDouble } from './fpu-float80.js';

/** Bytes in memory order as hex (the image constants are in memory order). */
function dump(rig: FpuRig, addr: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += rig.cpu.memory.bytes[addr + i].toString(16).padStart(2, '0');
  return s;
}
function load(rig: FpuRig, addr: number, hexMemoryOrder: string): void {
  for (let i = 0; i < hexMemoryOrder.length / 2; i++) rig.cpu.memory.bytes[addr + i] = parseInt(hexMemoryOrder.substr(2 * i, 2), 16);
}
/** Replace bytes [from, to) of a memory-order hex image with 'xx'. */
function mask(hex: string, from: number, to: number): string {
  return hex.slice(0, 2 * from) + 'xx'.repeat(to - from) + hex.slice(2 * to);
}
function throwsVector(fn: () => void, vector: number): void {
  assert.throws(fn, (e: unknown) => e instanceof CpuException && e.vector === vector);
}

const FNINIT = [0xdb, 0xe3] as const;

test("Linux's FDIV bug check (fninit; fldl; fdivl; fmull; fldl; fsubp; fistpl; fwait) gives 0", () => {
  const rig = makeFpuRig();
  const dv = new DataView(rig.cpu.memory.buffer as unknown as ArrayBuffer);
  dv.setFloat64(0x100, 4195835, true);
  dv.setFloat64(0x108, 3145727, true);
  dv.setInt32(0x110, 0x55aa, true);
  rig.x(...FNINIT);
  rig.m(0xdd, 0, 0x100); // fldl x
  rig.m(0xdc, 6, 0x108); // fdivl y
  rig.m(0xdc, 1, 0x108); // fmull y
  rig.m(0xdd, 0, 0x100); // fldl x
  rig.x(0xde, 0xe9); // fsubp
  rig.m(0xdb, 3, 0x110); // fistpl
  rig.fpu.fwait();
  rig.x(...FNINIT);
  assert.equal(dv.getInt32(0x110, true), 0);
});

test('FNINIT / power-on state, FNSTSW AX and FNSTCW', () => {
  const rig = makeFpuRig();
  assert.equal(rig.fpu.fcw, 0x0040);
  assert.equal(rig.fpu.tagWord, 0x5555);
  rig.x(...FNINIT);
  rig.m(0xd9, 7, 0x200); // fnstcw
  assert.equal(rig.getHex(0x200, 2), '037f');
  rig.x(0xd9, 0xe8); // fld1
  rig.x(0xd9, 0xee); // fldz
  rig.cpu.regs[EAX] = 0x12340000 | 0;
  rig.x(0xdf, 0xe0); // fnstsw ax
  assert.equal(rig.cpu.regs[EAX] >>> 0, 0x12343000);
  assert.equal(rig.fpu.tagWord, 0x1fff); // fact sheet §7: after fninit; fld1; fldz
});

/** The host's image sequence, replayed; FIP/FDP are made to match the host's addresses. */
function imageSequence(rig: FpuRig): void {
  const hostFip = parseInt(IMAGE_ENV32.slice(24, 32).match(/../g)!.reverse().join(''), 16) | 0;
  const hostFdp = parseInt(IMAGE_ENV32.slice(40, 48).match(/../g)!.reverse().join(''), 16) | 0;
  rig.cpu.insnEip = hostFip;
  rig.cpu.segSel[ES] = 0x2b;
  rig.cpu.segBase[ES] = (0x300 - hostFdp) | 0; // FDP offset lands at linear 0x300
  rig.put80(0x310, '7fffa000000000000001'); // SNaN
  rig.put80(0x320, '3fff4000000000000000'); // unnormal
  new DataView(rig.cpu.memory.buffer as unknown as ArrayBuffer).setFloat64(0x300, -1, true);
  rig.x(...FNINIT);
  rig.x(0xd9, 0xe8); // fld1
  rig.x(0xd9, 0xee); // fldz
  rig.x(0xd9, 0xeb); // fldpi
  rig.m(0xdb, 5, 0x310);
  rig.m(0xdb, 5, 0x320);
  rig.fpu.execute(0xdd, 0x05, ES, hostFdp, true); // fldl -1.0
  rig.x(0xd9, 0xfa); // fsqrt ⇒ IE (masked), indefinite
}

test('FNSTENV/FNSAVE (32- and 16-bit) images are byte-exact against the host', () => {
  const rig = makeFpuRig();
  imageSequence(rig);
  rig.m(0xd9, 6, 0x400); // fnstenv m28 (then masks all exceptions)
  rig.m(0xd9, 5, 0x400); // fldcw from the image
  rig.m(0xd9, 6, 0x440, false); // fnstenv m14
  rig.m(0xd9, 5, 0x400);
  rig.m(0xdd, 6, 0x500); // fnsave m108 (re-initialises)
  assert.equal(rig.fpu.fcw, 0x037f);
  assert.equal(rig.fpu.tagWord, 0xffff);
  rig.m(0xdd, 4, 0x500); // frstor
  rig.m(0xdd, 6, 0x600, false); // fnsave m94
  assert.equal(dump(rig, 0x400, 28), IMAGE_ENV32);
  assert.equal(dump(rig, 0x440, 14), IMAGE_ENV16);
  assert.equal(dump(rig, 0x500, 108), IMAGE_SAVE32);
  assert.equal(dump(rig, 0x600, 94), IMAGE_SAVE16);
});

test('FXSAVE image matches the host (AMD zeroes FOP/FIP/FDP and reports another MXCSR_MASK: masked); FXRSTOR round-trips', () => {
  const rig = makeFpuRig();
  imageSequence(rig);
  rig.fpu.fxsave(DS, 0x800);
  // 6..23: FOP FIP FCS FDP FDS (AMD stores 0 without a pending exception); 28..31 MXCSR_MASK.
  const ours = mask(mask(dump(rig, 0x800, 160), 6, 24), 28, 32);
  assert.equal(ours, mask(mask(IMAGE_FXSAVE, 6, 24), 28, 32));
  assert.equal(dump(rig, 0x800 + 28, 4), 'bfff0000');
  assert.equal(rig.fpu.fop, 0x1fa); // Intel keeps the pointers in the image
  // XMM bytes are opaque and round-trip; FXRSTOR restores everything.
  for (let i = 0; i < 128; i++) rig.cpu.memory.bytes[0x800 + 160 + i] = (i * 7) & 0xff;
  const image = dump(rig, 0x800, 288);
  rig.x(...FNINIT);
  rig.fpu.fxrstor(DS, 0x800);
  rig.fpu.fxsave(DS, 0xa00);
  assert.equal(dump(rig, 0xa00, 288), image);
  assert.equal(rig.fpu.tagWord, 0x12af); // full tag rebuilt from abridged bits + contents
});

test('FXSAVE/FXRSTOR: misalignment ⇒ #GP(0); reserved MXCSR bits ⇒ #GP(0) with no state change; #NM under TS/EM', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  rig.x(0xd9, 0xe8);
  throwsVector(() => rig.fpu.fxsave(DS, 0x808), EXC_GP);
  throwsVector(() => rig.fpu.fxrstor(DS, 0x804), EXC_GP);
  rig.fpu.fxsave(DS, 0x800);
  rig.cpu.memory.bytes[0x800 + 24 + 2] = 0x01; // MXCSR bit 16
  rig.x(0xd9, 0xee); // fldz: state now differs from the image
  throwsVector(() => rig.fpu.fxrstor(DS, 0x800), EXC_GP);
  assert.equal(rig.fpu.top, 6);
  rig.cpu.memory.bytes[0x800 + 24 + 2] = 0;
  rig.cpu.memory.bytes[0x800 + 24] = 0xc0; // DAZ (bit 6) is reserved here too
  throwsVector(() => rig.fpu.fxrstor(DS, 0x800), EXC_GP);
  rig.cpu.memory.bytes[0x800 + 24] = 0x80;
  rig.fpu.fxrstor(DS, 0x800);
  assert.equal(rig.fpu.top, 7);
  rig.cpu.cr0 |= CR0_TS;
  throwsVector(() => rig.fpu.fxsave(DS, 0x800), EXC_NM);
  rig.cpu.cr0 = (rig.cpu.cr0 & ~CR0_TS) | CR0_EM;
  throwsVector(() => rig.fpu.fxrstor(DS, 0x800), EXC_NM);
});

test('#NM: CR0.EM or CR0.TS for x87 instructions; WAIT only with MP && TS', () => {
  const rig = makeFpuRig();
  const base = rig.cpu.cr0 & ~(CR0_EM | CR0_TS | CR0_MP);
  rig.cpu.cr0 = base | CR0_EM;
  throwsVector(() => rig.x(0xd9, 0xe8), EXC_NM);
  rig.fpu.fwait(); // EM alone does not affect WAIT
  rig.cpu.cr0 = base | CR0_TS;
  throwsVector(() => rig.x(...FNINIT), EXC_NM);
  rig.fpu.fwait(); // TS without MP: WAIT runs
  rig.cpu.cr0 = base | CR0_TS | CR0_MP;
  throwsVector(() => rig.fpu.fwait(), EXC_NM);
  rig.cpu.cr0 = base | CR0_MP;
  rig.x(...FNINIT);
  rig.fpu.fwait();
});

test('unmasked exceptions: result suppressed, ES/B set, #MF at the next waiting instruction (CR0.NE), FERR# otherwise', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  rig.putHex(0x200, '037e'); // unmask IE
  rig.m(0xd9, 5, 0x200);
  rig.x(0xd9, 0xe8); // fld1
  rig.x(0xd9, 0xe0); // fchs ⇒ -1
  rig.x(0xd9, 0xfa); // fsqrt(-1): IE unmasked ⇒ ST(0) unchanged
  assert.equal(rig.fpu.statusWord & 0x80ff, 0x8081);
  assert.equal(rig.fpu.r.val[rig.fpu.st(0)], -1);
  // Non-waiting instructions still run.
  rig.m(0xdd, 7, 0x210);
  assert.equal(rig.getHex(0x210, 2), 'b881');
  rig.m(0xd9, 7, 0x212);
  throwsVector(() => rig.x(0xd9, 0xe8), EXC_MF);
  throwsVector(() => rig.fpu.fwait(), EXC_MF);
  assert.equal(rig.fpu.top, 7); // the faulting FLD1 did nothing
  // CR0.NE = 0: FERR# (IRQ 13 through the platform) once, and the instruction proceeds.
  rig.cpu.cr0 &= ~CR0_NE;
  let ferr = 0;
  rig.fpu.onFerr = () => ferr++;
  rig.fpu.fwait();
  rig.x(0xd9, 0xe8);
  assert.equal(ferr, 1);
  assert.equal(rig.fpu.top, 6);
  rig.x(0xdb, 0xe2); // fnclex
  assert.equal(rig.fpu.statusWord & 0x80ff, 0);
  rig.cpu.cr0 |= CR0_NE;
  rig.fpu.fwait();
  // FLDCW that unmasks an already-set flag makes it pending.
  rig.putHex(0x200, '037f');
  rig.m(0xd9, 5, 0x200);
  rig.x(0xd9, 0xe8);
  rig.x(0xd9, 0xe0);
  rig.x(0xd9, 0xfa); // masked: indefinite, IE set
  assert.equal(rig.fpu.statusWord & 0x80, 0);
  rig.putHex(0x200, '037e');
  rig.m(0xd9, 5, 0x200);
  throwsVector(() => rig.fpu.fwait(), EXC_MF);
});

test('stack overflow and underflow: IE+SF with C1, masked response is the indefinite', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  for (let i = 0; i < 8; i++) rig.x(0xd9, 0xe8);
  assert.equal(rig.fpu.statusWord, 0x0000);
  rig.x(0xd9, 0xee); // ninth push overflows: TOP 7, C1 = 1
  assert.equal(rig.fpu.statusWord, 0x3a41);
  rig.m(0xdb, 7, 0x300); // fstp m80 of the indefinite
  assert.equal(rig.get80(0x300), 'ffffc000000000000000');
  rig.x(...FNINIT);
  rig.x(0xd8, 0xc1); // fadd st0, st1 on an empty stack: C1 = 0
  assert.equal(rig.fpu.statusWord, 0x0041);
  assert.equal(rig.fpu.tagWord & 3, 2); // ST(0) now holds the indefinite (special)
  rig.x(...FNINIT);
  rig.m(0xdb, 3, 0x310); // fistp m32 from empty ⇒ integer indefinite
  assert.equal(rig.getHex(0x310, 4), '80000000');
  rig.x(...FNINIT);
  rig.putHex(0x200, '037e');
  rig.m(0xd9, 5, 0x200);
  rig.putHex(0x320, '12345678');
  rig.m(0xdb, 3, 0x320); // unmasked underflow: nothing stored, nothing popped
  assert.equal(rig.getHex(0x320, 4), '12345678');
  assert.equal(rig.fpu.statusWord, 0x80c1);
});

test('FXAM classes, FTST, FFREE, FINCSTP/FDECSTP', () => {
  const rig = makeFpuRig();
  const fxam = (pattern: string | null): number => {
    rig.x(...FNINIT);
    if (pattern !== null) {
      rig.put80(0x300, pattern);
      rig.m(0xdb, 5, 0x300);
    }
    rig.x(0xd9, 0xe5);
    return rig.fpu.statusWord & 0x4700;
  };
  assert.equal(fxam(null), 0x4100); // empty
  assert.equal(fxam('3fff8000000000000000'), 0x0400); // normal
  assert.equal(fxam('bfff8000000000000000'), 0x0600); // normal, negative (C1)
  assert.equal(fxam('80000000000000000000'), 0x4200); // -0
  assert.equal(fxam('7fff8000000000000000'), 0x0500); // +inf
  assert.equal(fxam('7fffc000000000000000'), 0x0100); // NaN
  assert.equal(fxam('00000000000000000001'), 0x4400); // denormal
  assert.equal(fxam('3fff4000000000000000'), 0x0000); // unsupported (unnormal)
  rig.x(...FNINIT);
  rig.x(0xd9, 0xe8);
  rig.x(0xd9, 0xe0);
  rig.x(0xd9, 0xe4); // ftst(-1): C0
  assert.equal(rig.fpu.statusWord & 0x4500, 0x0100);
  rig.x(0xdd, 0xc0); // ffree st0
  assert.equal(rig.fpu.tagWord, 0xffff);
  assert.equal(rig.fpu.top, 7);
  rig.x(0xd9, 0xf7); // fincstp
  assert.equal(rig.fpu.top, 0);
  rig.x(0xd9, 0xf6); // fdecstp
  rig.x(0xd9, 0xf6);
  assert.equal(rig.fpu.top, 6);
});

test('FCMOVcc reads EFLAGS; FCOMI writes ZF PF CF', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  rig.x(0xd9, 0xe8); // 1
  rig.x(0xd9, 0xee); // 0 = ST0, ST1 = 1
  writeEflags(rig.cpu, 2);
  rig.x(0xda, 0xc9); // fcmove st0, st1: ZF=0 ⇒ no move
  assert.equal(rig.fpu.r.val[rig.fpu.st(0)], 0);
  rig.x(0xdb, 0xc9); // fcmovne: moves
  assert.equal(rig.fpu.r.val[rig.fpu.st(0)], 1);
  rig.x(0xd9, 0xee); // 0, 1, 1
  writeEflags(rig.cpu, 2 | FLAG_CF);
  rig.x(0xda, 0xc1); // fcmovb
  assert.equal(rig.fpu.r.val[rig.fpu.st(0)], 1);
  rig.x(0xd9, 0xee);
  writeEflags(rig.cpu, 2 | FLAG_PF);
  rig.x(0xda, 0xd9); // fcmovu
  assert.equal(rig.fpu.r.val[rig.fpu.st(0)], 1);
  rig.x(0xd9, 0xee);
  writeEflags(rig.cpu, 2 | FLAG_ZF);
  rig.x(0xdb, 0xd1); // fcmovnbe: ZF=1 ⇒ no move
  assert.equal(rig.fpu.r.val[rig.fpu.st(0)], 0);
  rig.x(0xdb, 0xf1); // fcomi st0(0), st1(1): less ⇒ CF
  assert.equal(rig.cpu.lazyFlags & (FLAG_CF | FLAG_ZF | FLAG_PF), FLAG_CF);
});

test('64-bit integers load and store exactly beyond 2^53; m80 patterns round-trip verbatim through FLD/FSTP/FXCH/FST ST(i)', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  for (const v of ['123456789abcdef1', 'fffffffffffffff1', '8000000000000000', '7fffffffffffffff', '0020000000000001']) {
    rig.putHex(0x300, v);
    rig.m(0xdf, 5, 0x300); // fild m64
    rig.m(0xdf, 7, 0x310); // fistp m64
    assert.equal(rig.getHex(0x310, 8), v);
  }
  const patterns = ['7fffa000000000000001', '3fff4000000000000000', '00008000000000000001', '00000000000000000001',
    'ffff0000000000000000', '7fff4000000000000000', '4000c90fdaa22168c235', '7ffe8000000000000000', '0001ffffffffffffffff'];
  for (const p of patterns) {
    rig.put80(0x300, p);
    rig.m(0xdb, 5, 0x300); // fld m80
    rig.x(0xd9, 0xc0); // fld st0
    rig.x(0xd9, 0xc9); // fxch
    rig.x(0xdd, 0xd1); // fst st1
    rig.x(0xd9, 0xe0); // fchs
    rig.x(0xd9, 0xe0); // fchs
    rig.m(0xdb, 7, 0x310);
    rig.m(0xdb, 7, 0x320);
    assert.equal(rig.get80(0x310), p);
    assert.equal(rig.get80(0x320), p);
  }
  assert.equal(rig.fpu.statusWord & 0x3f, 0); // none of these raise
});

test('FBLD/FBSTP: 18 digits exactly, rounding per RC, out of range ⇒ BCD indefinite', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  rig.putHex(0x300, '80987654321098765432'); // -987654321098765432
  rig.m(0xdf, 4, 0x300);
  rig.m(0xdf, 6, 0x310);
  assert.equal(rig.getHex(0x310, 10), '80987654321098765432');
  rig.put80(0x300, '4000a000000000000000'); // 2.5
  for (const [cw, want] of [['037f', '2'], ['077f', '2'], ['0b7f', '3'], ['0f7f', '2']]) {
    rig.putHex(0x200, cw);
    rig.m(0xd9, 5, 0x200);
    rig.m(0xdb, 5, 0x300);
    rig.m(0xdf, 6, 0x310);
    assert.equal(rig.getHex(0x310, 10), want.padStart(20, '0'));
  }
  rig.put80(0x300, '403ade0b6b3a76400000'); // 10^18
  rig.m(0xdb, 5, 0x300);
  rig.m(0xdf, 6, 0x310);
  assert.equal(rig.getHex(0x310, 10), 'ffffc000000000000000');
  assert.equal(rig.fpu.statusWord & 1, 1);
});

test('precision control single rounds results to 24 bits; FRNDINT and FIST honour RC', () => {
  const rig = makeFpuRig();
  const dv = new DataView(rig.cpu.memory.buffer as unknown as ArrayBuffer);
  rig.x(...FNINIT);
  rig.putHex(0x200, '007f'); // PC = single
  rig.m(0xd9, 5, 0x200);
  dv.setFloat64(0x300, 1, true);
  dv.setFloat64(0x308, 3, true);
  rig.m(0xdd, 0, 0x300);
  rig.m(0xdc, 6, 0x308); // 1/3
  assert.equal(rig.fpu.r.val[rig.fpu.st(0)], Math.fround(1 / 3));
  for (const [cw, x, want] of [[0x037f, -2.5, -2], [0x077f, -2.5, -3], [0x0b7f, -2.5, -2], [0x0f7f, -2.7, -2], [0x037f, 3.5, 4]] as const) {
    rig.x(...FNINIT);
    rig.putHex(0x200, cw.toString(16).padStart(4, '0'));
    rig.m(0xd9, 5, 0x200);
    dv.setFloat64(0x300, x, true);
    rig.m(0xdd, 0, 0x300);
    rig.x(0xd9, 0xc0);
    rig.x(0xd9, 0xfc); // frndint
    assert.equal(rig.fpu.r.val[rig.fpu.st(0)], want);
    rig.x(0xdd, 0xd8); // fstp st0
    rig.m(0xdf, 3, 0x310); // fistp m16
    assert.equal(dv.getInt16(0x310, true), want);
  }
});

test('FIP/FCS/FOP/FDP/FDS: last non-control instruction and its memory operand', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  rig.cpu.insnEip = 0x1234;
  rig.m(0xdd, 0, 0x300); // fldl [0x300] (modrm 0x05)
  rig.cpu.insnEip = 0x1240;
  rig.x(0xd9, 0xe1); // fabs: register form, keeps FDP
  rig.cpu.insnEip = 0x1250;
  rig.m(0xd9, 7, 0x200); // fnstcw: control, no update
  assert.deepEqual([rig.fpu.fip, rig.fpu.fcs, rig.fpu.fop, rig.fpu.fdp, rig.fpu.fds], [0x1240, 0x23, 0x1e1, 0x300, 0x2b]);
  rig.m(0xd9, 6, 0x400);
  assert.equal(dump(rig, 0x400 + 12, 16), '40120000' + '2300e101' + '00030000' + '2b00ffff');
});

test('real-mode and 16-bit environment layouts pack linear pointers; FLDENV reads them back', () => {
  const rig = makeFpuRig();
  rig.cpu.protectedMode = false;
  rig.cpu.segSel[1] = 0x1000;
  rig.cpu.segSel[DS] = 0x2000;
  rig.x(...FNINIT);
  rig.cpu.insnEip = 0xfff0;
  rig.m(0xdd, 0, 0x300);
  rig.m(0xd9, 6, 0x400); // 32-bit real-mode layout
  // FIP linear 0x1fff0: 15:0 at 12, 31:16 in bits 27:12 at 16 with FOP; FDP 0x20300.
  assert.equal(dump(rig, 0x400 + 12, 16), 'f0ffffff' + '05150000' + '0003ffff' + '00200000');
  rig.m(0xd9, 6, 0x440, false); // 16-bit real-mode layout
  assert.equal(dump(rig, 0x440 + 6, 8), 'f0ff0515' + '00030020');
  rig.x(...FNINIT);
  rig.m(0xd9, 4, 0x440, false);
  assert.equal(rig.fpu.fip, 0x1fff0);
  assert.equal(rig.fpu.fdp, 0x20300);
  assert.equal(rig.fpu.fop, 0x505);
  assert.equal(rig.fpu.tagWord, 0x7fff); // ST(0) = +0 from the zeroed m64
});

test('faults leave the FPU unchanged: a #PF on a store, FRSTOR or FLD keeps TOP, registers and FSW', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  rig.x(0xd9, 0xe8);
  rig.x(0xd9, 0xeb);
  rig.m(0xdd, 6, 0x500); // fnsave
  rig.m(0xdd, 4, 0x500); // frstor
  const before = { sw: rig.fpu.statusWord, tw: rig.fpu.tagWord, st0: rig.fpu.r.val[rig.fpu.st(0)] };
  rig.faultAt.add(0x304);
  throwsVector(() => rig.m(0xdd, 3, 0x300), EXC_PF); // fstp m64, second dword faults
  throwsVector(() => rig.m(0xdb, 7, 0x2fc), EXC_PF); // fstp m80 (bytes 0x2fc..0x305)
  throwsVector(() => rig.m(0xdd, 0, 0x300), EXC_PF); // fld m64
  rig.faultAt.clear();
  rig.faultAt.add(0x500 + 100);
  rig.x(0xd9, 0xee); // fldz, so that FRSTOR would change things
  throwsVector(() => rig.m(0xdd, 4, 0x500), EXC_PF);
  rig.x(0xdd, 0xd8); // fstp st0
  assert.deepEqual({ sw: rig.fpu.statusWord, tw: rig.fpu.tagWord, st0: rig.fpu.r.val[rig.fpu.st(0)] }, before);
});

test('invalid encodings raise #UD (FISTTP is SSE3, not advertised)', () => {
  const rig = makeFpuRig();
  rig.x(...FNINIT);
  for (const [op, reg] of [[0xdb, 1], [0xdd, 1], [0xdf, 1], [0xd9, 1], [0xdb, 4], [0xdb, 6], [0xdd, 5]]) {
    throwsVector(() => rig.m(op, reg, 0x300), EXC_UD);
  }
  for (const [op, modrm] of [[0xd9, 0xd1], [0xd9, 0xe2], [0xd9, 0xef], [0xda, 0xe8], [0xdb, 0xe5], [0xde, 0xd8], [0xdf, 0xe1], [0xdd, 0xf0]]) {
    throwsVector(() => rig.x(op, modrm), EXC_UD);
  }
});

test('fuzz: random x87 instructions on random 80-bit patterns and control words only ever raise CpuException', () => {
  const rig = makeFpuRig();
  let s = 0x2545f491;
  const rnd = (n: number) => { s = (Math.imul(s, 1103515245) + 12345) | 0; return ((s >>> 8) % n + n) % n; };
  const bytes = rig.cpu.memory.bytes;
  let faults = 0;
  for (let i = 0; i < 60000; i++) {
    if (i % 64 === 0) {
      for (let k = 0; k < 512; k++) bytes[0x3000 + k] = rnd(256);
      // Bias the exponents of 80-bit fields toward the interesting ones.
      for (let k = 0; k < 512; k += 10) bytes[0x3000 + k + 9] = [0x7f, 0xff, 0x00, 0x80, 0x3f, 0x40, 0x43][rnd(7)];
    }
    const op = 0xd8 + rnd(8);
    const modrm = rnd(256);
    try {
      if (rnd(50) === 0) rig.fpu.fwait();
      else if (rnd(400) === 0) rig.fpu.fxrstor(DS, 0x3000 + 16 * rnd(8));
      else rig.fpu.execute(op, modrm, DS, 0x3000 + rnd(400), rnd(2) === 0);
    } catch (e) {
      if (!(e instanceof CpuException)) throw e;
      faults++;
      rig.x(0xdb, 0xe2); // fnclex, so that #MF does not stick
    }
    assert.ok(rig.fpu.top >= 0 && rig.fpu.top < 8);
    // Invariant: every register's double is the value of its 80-bit pattern.
    const r = rig.fpu.r;
    for (let p = 0; p < 8; p++) {
      const want = float80ToDouble(r.se[p], r.hi[p], r.lo[p]);
      assert.ok(Object.is(want, r.val[p]) || (Number.isNaN(want) && Number.isNaN(r.val[p])), `reg ${p} after ${op.toString(16)} ${modrm.toString(16)}`);
    }
  }
  assert.ok(faults > 0);
});

test('saveState/restoreState round-trip everything, incl. pending exceptions and extended-rounding sides; bad records are refused', () => {
  const a = makeFpuRig();
  imageSequence(a); // six registers, IE set (masked)
  a.putHex(0x200, '037e');
  a.m(0xd9, 5, 0x200); // unmasking it makes it pending (ES)
  const dv = new DataView(a.cpu.memory.buffer as unknown as ArrayBuffer);
  dv.setFloat64(0x700, 0.1, true);
  dv.setFloat64(0x708, 0.2, true);
  const state = a.fpu.saveState();
  const b = makeFpuRig();
  b.fpu.restoreState(JSON.parse(JSON.stringify(state)));
  assert.deepEqual(b.fpu.saveState(), state);
  throwsVector(() => b.fpu.fwait(), EXC_MF);
  // The extended-rounding side survives: 0.1 + 0.2 at PC = extended, then FST m64 reports PE with C1.
  for (const rig of [a, b]) rig.x(...FNINIT);
  a.m(0xdd, 0, 0x700);
  a.m(0xdc, 0, 0x708);
  const mid = a.fpu.saveState();
  assert.notEqual(mid.regs[7][3], 0);
  b.fpu.restoreState(mid);
  b.m(0xdd, 3, 0x710);
  assert.equal(b.fpu.statusWord & 0x0220, 0x0220); // C1: the store rounded the 80-bit sum up to the double
  assert.throws(() => b.fpu.restoreState({ ...mid, regs: mid.regs.slice(1) }), RangeError);
  assert.deepEqual(b.fpu.saveState().regs.length, 8);
});

test('PC = extended: a double that only looks like a tie rounds toward the 80-bit value in FIST and FST m32 (host-measured)', () => {
  const rig = makeFpuRig();
  const dv = new DataView(rig.cpu.memory.buffer as unknown as ArrayBuffer);
  dv.setFloat64(0x700, 2 ** -60, true);
  const run = (x: number, add: boolean, store: 'i32' | 'f32'): [string, number] => {
    dv.setFloat64(0x708, x, true);
    rig.x(...FNINIT);
    rig.m(0xdd, 0, 0x708);
    rig.m(0xdc, add ? 0 : 4, 0x700); // faddl / fsubl 2^-60
    if (store === 'i32') rig.m(0xdb, 3, 0x710);
    else rig.m(0xd9, 3, 0x710);
    return [rig.getHex(0x710, 4), rig.fpu.statusWord];
  };
  // Expected values from gcc -m32 inline x87 on the host (fninit; fldl; faddl/fsubl; fistpl/fstps; fnstsw).
  assert.deepEqual(run(2.5, true, 'i32'), ['00000003', 0x0220]);
  assert.deepEqual(run(-2.5, false, 'i32'), ['fffffffd', 0x0220]);
  assert.deepEqual(run(1 + 2 ** -24, true, 'f32'), ['3f800001', 0x0220]);
  assert.deepEqual(run(1 + 2 ** -24, false, 'f32'), ['3f800000', 0x0020]);
});
