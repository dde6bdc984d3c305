// Replays x87 sequences measured on the host CPU (fpu-host-vectors.c) through the
// emulated FPU and compares results and status words bit for bit. Documented
// deviations are filtered explicitly below, each with its reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFpuRig, hex80ToNumber, type FpuRig } from './fpu-fixture.test.js';
import { COMI_VECTORS, CONV_VECTORS, EXT_VECTORS, MEM_VECTORS, REG_VECTORS, UNDER_VECTORS, UNMASKED_VECTORS } from './fpu-host-vectors.test.js';
import { readEflags, writeEflags } from './flags.js';

const OPS: Record<string, [number, number]> = {
  fadd: [0xd8, 0xc1], fsub: [0xd8, 0xe1], fsubr: [0xd8, 0xe9], fmul: [0xd8, 0xc9], fdiv: [0xd8, 0xf1], fdivr: [0xd8, 0xf9],
  faddp: [0xde, 0xc1], fsubp: [0xde, 0xe9], fsubrp: [0xde, 0xe1], fdivp: [0xde, 0xf9], fdivrp: [0xde, 0xf1], fmulp_dc: [0xdc, 0xc9],
  fcom: [0xd8, 0xd1], fucom: [0xdd, 0xe1], fcompp: [0xde, 0xd9], fucompp: [0xda, 0xe9], ftst: [0xd9, 0xe4], fxam: [0xd9, 0xe5],
  fsqrt: [0xd9, 0xfa], frndint: [0xd9, 0xfc], fchs: [0xd9, 0xe0], fabs: [0xd9, 0xe1], fxtract: [0xd9, 0xf4],
  fscale: [0xd9, 0xfd], fprem: [0xd9, 0xf8], fprem1: [0xd9, 0xf5], fxch: [0xd9, 0xc9], fsin: [0xd9, 0xfe], fcos: [0xd9, 0xff],
  fptan: [0xd9, 0xf2], fpatan: [0xd9, 0xf3], fyl2x: [0xd9, 0xf1], fyl2xp1: [0xd9, 0xf9], f2xm1: [0xd9, 0xf0], fsincos: [0xd9, 0xfb],
};
const APPROX = new Set(['fsin', 'fcos', 'fptan', 'fpatan', 'fyl2x', 'fyl2xp1', 'f2xm1', 'fsincos']);

// Scratch addresses in guest RAM.
const CW = 0x1000, MASKED = 0x1002, SW = 0x1004, A = 0x1010, B = 0x1020, O1 = 0x1030, O2 = 0x1040, IN = 0x1050, OUT = 0x1060;

function putWord(rig: FpuRig, addr: number, v: number): void {
  rig.putHex(addr, v.toString(16).padStart(4, '0'));
}
function getWord(rig: FpuRig, addr: number): number {
  return parseInt(rig.getHex(addr, 2), 16);
}

/**
 * Closeness for transcendental results: a few double ulps, or an absolute error
 * tied to the argument (the host reduces trigonometric arguments with a 66-bit π,
 * so sin(π) is exact only to ~2^-64·|x| there).
 */
function close(host: string, ours: string, arg: string): boolean {
  const h = hex80ToNumber(host), o = hex80ToNumber(ours);
  if (Number.isNaN(h) || Number.isNaN(o)) return host === ours;
  if (h === o) return true;
  const diff = Math.abs(h - o);
  return diff <= 4e-16 * Math.max(Math.abs(h), Math.abs(o)) || diff <= 2 ** -62 * Math.max(1, Math.abs(hex80ToNumber(arg)));
}

function replayRegVectors(vectors: readonly string[]): { checked: number; failures: string[] } {
  const rig = makeFpuRig();
  let checked = 0;
  const failures: string[] = [];
  for (const line of vectors) {
    const [op, cwHex, a, b, swHex, st0, st1] = line.split(' ');
    const sw = parseInt(swHex, 16);
    // FPREM/FPREM1 finish in one step here (C2 = 0); the host reports a partial remainder (C2 = 1) beyond 2^63.
    if ((op === 'fprem' || op === 'fprem1') && sw & 0x400) continue;
    // Outside the documented domains (F2XM1: |x| <= 1, FYL2XP1: |x| < 1 - sqrt(2)/2) results are undefined.
    if (op === 'f2xm1' && Math.abs(hex80ToNumber(a)) > 1) continue;
    if (op === 'fyl2xp1' && Math.abs(hex80ToNumber(a)) >= 1 - Math.SQRT2 / 2) continue;
    putWord(rig, CW, parseInt(cwHex, 16));
    putWord(rig, MASKED, 0x37f);
    rig.put80(A, a);
    rig.put80(B, b);
    rig.x(0xdb, 0xe3); // FNINIT
    rig.m(0xd9, 5, CW); // FLDCW
    rig.m(0xdb, 5, B); // FLD m80
    rig.m(0xdb, 5, A);
    const [o, mr] = OPS[op];
    rig.x(o, mr);
    rig.m(0xdd, 7, SW); // FNSTSW
    rig.x(0xdb, 0xe2); // FNCLEX
    rig.m(0xd9, 5, MASKED);
    rig.m(0xdb, 7, O1); // FSTP m80
    rig.m(0xdb, 7, O2);
    const gotSw = getWord(rig, SW), g0 = rig.get80(O1), g1 = rig.get80(O2);
    checked++;
    if (APPROX.has(op)) {
      // C1 (rounded up) and PE depend on the exact result; compare the rest.
      const mask = ~0x0220 & 0xffff;
      if ((gotSw & mask) !== (sw & mask) || !close(st0, g0, a) || !close(st1, g1, a)) failures.push(`${line} => ${gotSw.toString(16)} ${g0} ${g1}`);
    } else if (gotSw !== sw || g0 !== st0 || g1 !== st1) {
      failures.push(`${line} => ${gotSw.toString(16).padStart(4, '0')} ${g0} ${g1}`);
    }
  }
  return { checked, failures };
}

test('register-form arithmetic, compares and one-operand functions match the host', () => {
  const { checked, failures } = replayRegVectors(REG_VECTORS);
  assert.ok(checked > 4000, `only ${checked} vectors`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${checked} differ`);
});

test('unmasked exceptions (IE ZE DE OE UE PE one at a time): results suppressed or delivered, ES/B, as the host', () => {
  // An 80-bit denormal operand is 0 as a double: only its DE (unmasked: suppression) is comparable.
  const denormal = (x: string) => x.startsWith('0000') || x.startsWith('8000') ? x.slice(4) !== '0000000000000000' : false;
  const vectors = UNMASKED_VECTORS.filter((l) => {
    const [, cw, a, b] = l.split(' ');
    return cw === '027d' || (!denormal(a) && !denormal(b));
  });
  const { checked, failures } = replayRegVectors(vectors);
  assert.ok(checked > 1000, `only ${checked} vectors`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${checked} differ`);
});

test('FCOMI/FUCOMI set ZF PF CF, clear OF SF AF, and IE exactly as the host', () => {
  const rig = makeFpuRig();
  const failures: string[] = [];
  for (const line of COMI_VECTORS) {
    const [insn, a, b, swHex, flHex] = line.split(' ');
    rig.put80(A, a);
    rig.put80(B, b);
    writeEflags(rig.cpu, 0x8d5 | 2); // all six arithmetic flags set beforehand
    rig.x(0xdb, 0xe3);
    rig.m(0xdb, 5, B);
    rig.m(0xdb, 5, A);
    rig.x(0xdb, insn === 'fcomi' ? 0xf1 : 0xe9);
    rig.m(0xdd, 7, SW);
    const fl = readEflags(rig.cpu) & 0x8d5;
    if (getWord(rig, SW) !== parseInt(swHex, 16) || fl !== parseInt(flHex, 16)) {
      failures.push(`${line} => ${getWord(rig, SW).toString(16)} ${fl.toString(16)}`);
    }
  }
  assert.ok(COMI_VECTORS.length > 500);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} differ`);
});

const LOADS: Record<string, [number, number, number]> = {
  m64: [0xdd, 0, 8], m32: [0xd9, 0, 4], i16: [0xdf, 0, 2], i32: [0xdb, 0, 4], i64: [0xdf, 5, 8], bcd: [0xdf, 4, 10],
};
const STORES: Record<string, [number, number, number]> = {
  m80: [0xdb, 7, 10], m64: [0xdd, 3, 8], m32: [0xd9, 3, 4], i16: [0xdf, 3, 2], i32: [0xdb, 3, 4], i64: [0xdf, 7, 8], bcd: [0xdf, 6, 10],
};

test('loads and stores of every format convert special values exactly as the host', () => {
  const rig = makeFpuRig();
  const failures: string[] = [];
  for (const line of CONV_VECTORS) {
    const [load, store, cwHex, input, out, swHex] = line.split(' ');
    putWord(rig, CW, parseInt(cwHex, 16));
    rig.putHex(IN, input);
    rig.putHex(OUT, 'aa'.repeat(16));
    rig.x(0xdb, 0xe3);
    rig.m(0xd9, 5, CW);
    let got: string;
    if (load === 'm80') {
      rig.m(0xdb, 5, IN);
      const [o, r, n] = STORES[store];
      rig.m(o, r, OUT);
      rig.m(0xdd, 7, SW);
      got = rig.getHex(OUT, n);
    } else {
      const [o, r] = LOADS[load];
      rig.m(o, r, IN);
      rig.m(0xdd, 7, SW);
      rig.x(0xdb, 0xe2);
      rig.m(0xdb, 7, OUT);
      got = rig.getHex(OUT, 10);
    }
    if (got !== out || getWord(rig, SW) !== parseInt(swHex, 16)) failures.push(`${line} => ${got} ${getWord(rig, SW).toString(16)}`);
  }
  assert.ok(CONV_VECTORS.length > 1000);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} differ`);
});

const MEM_OPS: Record<string, [number, number, number]> = {
  fadds: [0xd8, 0, 4], faddl: [0xdc, 0, 8], fiadds: [0xde, 0, 2], fiaddl: [0xda, 0, 4], fsubl: [0xdc, 4, 8], fsubrl: [0xdc, 5, 8],
  fmull: [0xdc, 1, 8], fdivl: [0xdc, 6, 8], fdivrl: [0xdc, 7, 8], fdivs: [0xd8, 6, 4], fcoml: [0xdc, 2, 8], fcomps: [0xd8, 3, 4],
  ficoml: [0xda, 2, 4], fidivrs: [0xde, 7, 2], fisubl: [0xda, 4, 4], fimull: [0xda, 1, 4],
};

test('memory-operand arithmetic and compares (m32, m64, m16int, m32int) match the host, incl. SNaN and denormal operands', () => {
  const rig = makeFpuRig();
  const failures: string[] = [];
  for (const line of MEM_VECTORS) {
    const [insn, cwHex, a, operand, swHex, st0] = line.split(' ');
    putWord(rig, CW, parseInt(cwHex, 16));
    putWord(rig, MASKED, 0x37f);
    rig.put80(A, a);
    rig.putHex(IN, operand);
    rig.x(0xdb, 0xe3);
    rig.m(0xd9, 5, CW);
    rig.m(0xdb, 5, A);
    const [o, r] = MEM_OPS[insn];
    rig.m(o, r, IN);
    rig.m(0xdd, 7, SW);
    rig.x(0xdb, 0xe2);
    rig.m(0xd9, 5, MASKED);
    rig.m(0xdb, 7, O1);
    const got = rig.get80(O1);
    if (got !== st0 || getWord(rig, SW) !== parseInt(swHex, 16)) failures.push(`${line} => ${getWord(rig, SW).toString(16)} ${got}`);
  }
  assert.ok(MEM_VECTORS.length > 600);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} differ`);
});

test('extended precision (PC = 11, all RC): FCOM against the double result and FST m64 report PE/C1/OE/UE like 80-bit hardware', () => {
  const rig = makeFpuRig();
  const ops: Record<string, number> = { faddl: 0, fsubl: 4, fmull: 1, fdivl: 6 };
  const failures: string[] = [];
  for (const line of EXT_VECTORS) {
    const [insn, cwHex, a, b, c, swHex, out] = line.split(' ');
    putWord(rig, CW, parseInt(cwHex, 16));
    rig.putHex(A, a);
    rig.putHex(B, b);
    rig.putHex(IN, c);
    rig.x(0xdb, 0xe3);
    rig.m(0xd9, 5, CW);
    rig.m(0xdd, 0, A);
    rig.m(0xdc, ops[insn], B);
    rig.m(0xdc, 2, IN); // fcom m64
    rig.m(0xdd, 2, OUT); // fst m64
    rig.m(0xdd, 7, SW);
    const got = rig.getHex(OUT, 8);
    if (got !== out || getWord(rig, SW) !== parseInt(swHex, 16)) failures.push(`${line} => ${getWord(rig, SW).toString(16).padStart(4, '0')} ${got}`);
  }
  assert.ok(EXT_VECTORS.length > 3000);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} differ`);
});

test('stack underflow of every register-form instruction (0 or 1 values loaded, IE masked or not): FSW, tags and results match the host', () => {
  const rig = makeFpuRig();
  const failures: string[] = [];
  for (const line of UNDER_VECTORS) {
    const [op, depth, cwHex, swHex, tagHex, st0, st1] = line.split(' ');
    putWord(rig, CW, parseInt(cwHex, 16));
    putWord(rig, MASKED, 0x37f);
    rig.put80(A, '3fffc000000000000000'); // 1.5
    rig.x(0xdb, 0xe3);
    rig.m(0xd9, 5, CW);
    if (depth === '1') rig.m(0xdb, 5, A);
    const [o, mr] = OPS[op];
    rig.x(o, mr);
    rig.m(0xdd, 7, SW);
    rig.m(0xd9, 6, IN); // fnstenv: tag word at +8
    rig.x(0xdb, 0xe2);
    rig.m(0xd9, 5, MASKED);
    rig.m(0xdb, 7, O1);
    rig.m(0xdb, 7, O2);
    const got = `${getWord(rig, SW).toString(16).padStart(4, '0')} ${getWord(rig, IN + 8).toString(16).padStart(4, '0')} ${rig.get80(O1)} ${rig.get80(O2)}`;
    if (op === 'f2xm1') continue; // 1.5 is outside F2XM1's domain
    // These compute at FCW.PC = extended: values to double precision, C1 unknown.
    const approx = APPROX.has(op) || op === 'fsqrt';
    const same = approx
      ? (getWord(rig, SW) & ~0x200) === (parseInt(swHex, 16) & ~0x200) && got.split(' ')[1] === tagHex && close(st0, rig.get80(O1), '3fffc000000000000000') && close(st1, rig.get80(O2), '3fffc000000000000000')
      : got === `${swHex} ${tagHex} ${st0} ${st1}`;
    if (!same) failures.push(`${line} => ${got}`);
  }
  assert.ok(UNDER_VECTORS.length >= 140);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} differ`);
});
