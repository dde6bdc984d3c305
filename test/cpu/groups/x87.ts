// x87 basics: fld/fst of 32/64-bit reals and integers, fadd fsub fsubr fmul
// fdiv fdivr (register and memory forms), fsqrt fchs fabs frndint, fist/fistp
// under all four rounding modes, fcom/ftst + fnstsw, fcomi/fucomi (SDM vol. 1
// ch. 8, vol. 2 per instruction). No FXSAVE: results are stored to the data
// buffer and the status word is read with FNSTSW AX, both compared.

import { ARITH, CF, PF, ZF, type DiffCase, type DiffGroup } from '../diff-case.js';

function f64(x: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return [...b];
}
function f32(x: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [...b];
}
/** A number as a case-name fragment (keeps the sign of -0). */
function num(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}
function i32(x: number): number[] {
  return [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];
}

const VALUES = [1.5, -2.25, 0, -0, 3, 7, 0.1, 1e300, 1e-300, 2 ** 70, -(2 ** -20), Infinity, -Infinity, NaN];
const PAIRS: Array<[number, number]> = [
  [1.5, -2.25], [3, 7], [0.1, 0.2], [1, 3], [2, 0], [-0, 0], [0, -5], [1e300, 1e300], [1e-300, 1e-300],
  [Infinity, 1], [Infinity, -Infinity], [NaN, 1], [-7.5, 2.5], [2 ** 60 + 1, 3], [123456.789, -0.001],
];
/** FCW values: round to nearest, down, up, toward zero (all exceptions masked, 64-bit precision). */
const ROUNDING: Array<[number, string]> = [[0x037f, 'nearest'], [0x077f, 'down'], [0x0b7f, 'up'], [0x0f7f, 'chop']];

export function x87Group(): DiffGroup {
  const cases: DiffCase[] = [];
  const tail = 'fnstsw ax\nfninit';
  for (const [a, b] of PAIRS) {
    const data = [...f64(a), ...f64(b)];
    const tag = `${num(a)},${num(b)}`;
    for (const op of ['fadd', 'fsub', 'fsubr', 'fmul', 'fdiv', 'fdivr'] as const) {
      cases.push({ name: `${op}p st1 ${tag}`, asm: `fninit\nfld qword [DATA]\nfld qword [DATA+8]\n${op}p st1, st0\nfstp qword [DATA+16]\n${tail}`, data });
      cases.push({ name: `${op} m64 ${tag}`, asm: `fninit\nfld qword [DATA]\n${op} qword [DATA+8]\nfst qword [DATA+24]\nfstp dword [DATA+32]\n${tail}`, data });
      cases.push({ name: `${op} st0,st1 ${tag}`, asm: `fninit\nfld qword [DATA+8]\nfld qword [DATA]\n${op} st0, st1\nfstp qword [DATA+16]\nfstp qword [DATA+24]\n${tail}`, data });
    }
    for (const op of ['fcomi', 'fucomi'] as const) {
      cases.push({ name: `${op} ${tag}`, asm: `fninit\nfld qword [DATA+8]\nfld qword [DATA]\n${op} st0, st1\n${tail}`, data, flags: ARITH });
      cases.push({ name: `${op}p ${tag}`, asm: `fninit\nfld qword [DATA+8]\nfld qword [DATA]\n${op}p st0, st1\nfstp qword [DATA+16]\n${tail}`, data });
    }
    cases.push({ name: `fcom+fnstsw ${tag}`, asm: `fninit\nfld qword [DATA]\nfcom qword [DATA+8]\n${tail}`, data });
    cases.push({ name: `fucompp ${tag}`, asm: `fninit\nfld qword [DATA+8]\nfld qword [DATA]\nfucompp\n${tail}`, data });
  }
  for (const v of VALUES) {
    const data = [...f64(v), ...f32(v)];
    cases.push({ name: `fsqrt ${num(v)}`, asm: `fninit\nfld qword [DATA]\nfsqrt\nfstp qword [DATA+16]\n${tail}`, data });
    cases.push({ name: `fchs/fabs ${num(v)}`, asm: `fninit\nfld qword [DATA]\nfchs\nfst qword [DATA+16]\nfabs\nfstp qword [DATA+24]\n${tail}`, data });
    cases.push({ name: `fld m32/fst m64 ${num(v)}`, asm: `fninit\nfld dword [DATA+8]\nfstp qword [DATA+16]\n${tail}`, data });
    cases.push({ name: `ftst ${num(v)}`, asm: `fninit\nfld qword [DATA]\nftst\n${tail}`, data });
    cases.push({ name: `fxam ${num(v)}`, asm: `fninit\nfld qword [DATA]\nfxam\n${tail}`, data });
    for (const [cw, mode] of ROUNDING) {
      const d = [...data, 0, 0, 0, 0, ...i32(cw)];
      cases.push({
        name: `fist/frndint ${mode} ${num(v)}`,
        asm: `fninit\nfldcw [DATA+16]\nfld qword [DATA]\nfist dword [DATA+24]\nfist word [DATA+28]\nfrndint\nfistp qword [DATA+32]\n${tail}`,
        data: d,
      });
    }
  }
  for (const v of [2.5, -2.5, 3.5, 1.7, -1.7, 0.5, -0.5, 70000.4, -32768.6, 2 ** 31 - 0.5, -(2 ** 31) - 0.75]) {
    for (const [cw, mode] of ROUNDING) {
      cases.push({
        name: `fistp ${mode} ${num(v)}`,
        asm: `fninit\nfldcw [DATA+8]\nfld qword [DATA]\nfist dword [DATA+16]\nfist word [DATA+20]\nfistp qword [DATA+24]\n${tail}`,
        data: [...f64(v), ...i32(cw)],
      });
    }
  }
  for (const n of [0, 1, -1, 0x7fffffff, -0x80000000, 12345, 3]) {
    cases.push({ name: `fild m32 ${n}`, asm: `fninit\nfild dword [DATA]\nfld1\nfaddp st1, st0\nfstp qword [DATA+8]\n${tail}`, data: i32(n) });
    cases.push({ name: `fild m16 ${n & 0xffff} (m32 ${n})`, asm: `fninit\nfild word [DATA]\nfimul dword [DATA]\nfstp qword [DATA+8]\n${tail}`, data: i32(n) });
  }
  // FCMOVcc reads CF ZF PF from EFLAGS (P6 x87; busybox uses FCMOVE).
  const fcmovs = ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu', 'fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'];
  for (const op of fcmovs) {
    for (const flags of [0, CF, ZF, PF, CF | ZF | PF]) {
      cases.push({
        name: `${op} f=${flags}`,
        asm: `fninit\nfld qword [DATA]\nfld qword [DATA+8]\n${op} st0, st1\nfstp qword [DATA+16]\nfstp qword [DATA+24]\n${tail}`,
        data: [...f64(1.25), ...f64(-3.5)],
        flags,
      });
    }
  }
  // 80-bit loads/stores and 64-bit integers.
  for (const v of [1.5, -0.1, 1e300, 2 ** -1070, Infinity, NaN, 0]) {
    cases.push({ name: `fld m64/fstp m80 ${num(v)}`, asm: `fninit\nfld qword [DATA]\nfstp tword [DATA+16]\nfld tword [DATA+16]\nfstp qword [DATA+32]\n${tail}`, data: f64(v) });
  }
  for (const n of [0n, 1n, -1n, 0x7fffffffffffffffn, -0x8000000000000000n, 123456789012345n]) {
    const bytes = Array.from({ length: 8 }, (_, i) => Number((BigInt.asUintN(64, n) >> BigInt(8 * i)) & 0xffn));
    cases.push({ name: `fild/fistp m64 ${n}`, asm: `fninit\nfild qword [DATA]\nfld st0\nfistp qword [DATA+8]\nfstp qword [DATA+16]\n${tail}`, data: bytes });
  }
  // FNSTENV: control, status and tag words (bytes 0-11); the pointer fields are zeroed by the
  // snippet because AMD stores them only with a pending exception (fact sheet §7).
  const env = (body: string) => `fninit\n${body}\nfnstenv [DATA+32]\nfldcw [DATA+32]\nxor eax, eax\nmov [DATA+44], eax\nmov [DATA+48], eax\nmov [DATA+52], eax\nmov [DATA+56], eax\nmov [DATA+60], eax\nfninit`;
  cases.push({ name: 'fnstenv empty', asm: env('') });
  cases.push({ name: 'fnstenv two loads', asm: env('fld1\nfldz'), data: [] });
  cases.push({ name: 'fnstenv special/zero/valid tags', asm: env('fld qword [DATA]\nfldz\nfld1\nfld qword [DATA+8]'), data: [...f64(Infinity), ...f64(NaN)] });
  cases.push({ name: 'fnstenv after pop', asm: env('fld1\nfld1\nfstp st0\nfincstp') });
  // FNSAVE/FRSTOR (108-byte image) on the stack, which the runner compares; the FIP/FCS/FDP/FDS
  // fields (bytes 12-27) are zeroed first since they hold this CPU's own CS and code address.
  // FNINIT keeps register contents, so all eight are zeroed first: empty slots then agree too.
  const clearRegs = `fninit\n${'fldz\n'.repeat(8)}`;
  const blankPointers = 'xor eax, eax\nmov [esp+12], eax\nmov [esp+16], eax\nmov [esp+20], eax\nmov [esp+24], eax';
  cases.push({
    name: 'fnsave/frstor round trip',
    asm: `${clearRegs}fninit\nfld qword [DATA]\nfld1\nfldpi\nsub esp, 108\nfnsave [esp]\nfnstsw [DATA+16]\nfld1\nfrstor [esp]\nfstp qword [DATA+24]\nfstp qword [DATA+32]\nfstp qword [DATA+40]\n${blankPointers}\nadd esp, 108\nfninit`,
    data: f64(-123.5),
  });
  cases.push({ name: 'fnsave after fld1 fldz', asm: `${clearRegs}fninit\nfld1\nfldz\nsub esp, 108\nfnsave [esp]\n${blankPointers}\nadd esp, 108\nfninit` });
  // Unmasked exceptions with CR0.NE=1 raise #MF at the next waiting x87 instruction (SDM vol. 1 §8.7).
  const cw = (v: number) => i32(v);
  cases.push({ name: '#MF: unmasked divide by zero, then fwait', asm: 'fninit\nfldcw [DATA]\nfld1\nfldz\nfdivp st1, st0\nmov ecx, 1\nfwait\nmov ecx, 2', data: cw(0x037b) });
  cases.push({ name: '#MF: unmasked invalid, then next x87 op', asm: 'fninit\nfldcw [DATA]\nfld qword [DATA+8]\nfsqrt\nmov ecx, 1\nfld1\nmov ecx, 2', data: [...cw(0x037e), 0, 0, 0, 0, ...f64(-1)] });
  cases.push({ name: '#MF: masked precision stays silent', asm: 'fninit\nfld1\nfld qword [DATA+8]\nfdivp st1, st0\nfwait\nfnstsw ax\nfninit', data: [0, 0, 0, 0, 0, 0, 0, 0, ...f64(3)] });
  cases.push({ name: 'fnclex clears the pending exception', asm: 'fninit\nfldcw [DATA]\nfld1\nfldz\nfdivp st1, st0\nfnclex\nfwait\nfnstsw ax\nfninit', data: cw(0x037b) });
  cases.push({ name: 'constants', asm: `fninit\nfld1\nfstp qword [DATA]\nfldz\nfstp qword [DATA+8]\nfldpi\nfstp qword [DATA+16]\nfldl2e\nfstp qword [DATA+24]\nfldln2\nfstp qword [DATA+32]\n${tail}` });
  cases.push({ name: 'fxch and stack', asm: `fninit\nfld1\nfldz\nfxch st1\nfstp qword [DATA]\nfstp qword [DATA+8]\n${tail}` });
  cases.push({ name: 'fnstcw after fninit', asm: 'fninit\nfnstcw [DATA]\nfnstsw [DATA+2]\nfld1\nfnstsw [DATA+4]\nfninit' });
  cases.push({ name: 'FDIV bug check', asm: `fninit\nfld qword [DATA]\nfdiv qword [DATA+8]\nfmul qword [DATA+8]\nfld qword [DATA]\nfsubp st1, st0\nfistp dword [DATA+16]\n${tail}`, data: [...f64(4195835), ...f64(3145727)] });
  cases.push({ name: 'stack overflow', asm: `fninit\n${'fld1\n'.repeat(9)}fstp qword [DATA]\n${tail}` });
  return { name: 'x87', cases };
}
