// Shifts and rotates: shl shr sar rol ror rcl rcr by CL, by imm8 and by 1, and
// shld/shrd, at 8/16/32 bits with counts 0, 1, width-1, width, width+1, 31, 32
// and random ones (SDM vol. 2 SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD).
//
// Masking (fact sheet §6 gives AMD values for the rest, which are compared):
// - SHR/SAR: OF for masked counts > 1; CF when an 8/16-bit count reaches the width.
// - ROR/RCL/RCR: OF for masked counts > 1 (ROL's is measured: MSB XOR CF).
// - SHLD/SHRD: OF for counts > 1, AF always; all six flags for 16-bit counts > 16.

import { AF, ARITH, CF, OF, REG, Rng, WIDTHS, hex, intoReg, le, mask, sizeWord, type DiffCase, type DiffGroup, type Width } from '../diff-case.js';

const SHIFTS = ['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'] as const;
type ShiftOp = (typeof SHIFTS)[number];

function shiftMask(op: ShiftOp, w: Width, count: number): number {
  const c = count & 31;
  if (c === 0) return 0;
  let m = 0;
  if (c > 1 && op !== 'shl' && op !== 'rol') m |= OF;
  if ((op === 'shr' || op === 'sar') && w < 32 && c >= w) m |= CF;
  return m;
}

function shiftValues(w: Width, rng: Rng): number[] {
  const m = mask(w);
  const top = 2 ** (w - 1);
  return [0, 1, top, top + 1, top - 1, m, 0x81818181 & m, rng.u32() & m, rng.u32() & m].map((v) => v >>> 0);
}

function counts(w: Width, rng: Rng): number[] {
  return [0, 1, 2, w - 1, w, w + 1, 31, 32, 33, 63, 0xff, rng.below(64)];
}

export function shiftGroup(): DiffGroup {
  const rng = new Rng(0x5e1f7);
  const cases: DiffCase[] = [];
  for (const w of WIDTHS) {
    const vals = shiftValues(w, rng);
    for (const op of SHIFTS) {
      for (const count of counts(w, rng)) {
        for (const v of vals) {
          for (const flags of [0, ARITH]) {
            cases.push({
              name: `${op}${w} r,cl v=${hex(v)} n=${count} f=${flags ? 'all' : 0}`,
              asm: `${op} ${REG.a[w]}, cl`,
              regs: { eax: intoReg(0x6b6b6b6b, v, w), ecx: intoReg(0x11111100, count, 8) },
              flags,
              flagMask: shiftMask(op, w, count),
            });
          }
        }
        // Immediate count (C0/C1) and memory operand, two values each.
        for (const v of [vals[2], vals[7]]) {
          const flags = count & 1 ? ARITH : CF;
          cases.push({
            name: `${op}${w} r,imm v=${hex(v)} n=${count}`,
            asm: `${op} ${REG.d[w]}, ${count}`,
            regs: { edx: intoReg(0x2e2e2e2e, v, w) },
            flags,
            flagMask: shiftMask(op, w, count),
          });
          cases.push({
            name: `${op}${w} m,cl v=${hex(v)} n=${count}`,
            asm: `${op} ${sizeWord(w)} [DATA+2], cl`,
            regs: { ecx: count },
            data: [0x77, 0x77, ...le(v, 4), 0x77],
            flags,
            flagMask: shiftMask(op, w, count),
          });
        }
      }
      // D0/D1 (shift by one, no count byte).
      for (const v of vals) {
        for (const flags of [0, ARITH]) {
          cases.push({
            name: `${op}${w} r,1 v=${hex(v)} f=${flags ? 'all' : 0}`,
            asm: `${op} ${REG.b[w]}, 1`,
            regs: { ebx: intoReg(0x49494949, v, w) },
            flags,
          });
        }
      }
    }
  }
  // SHLD / SHRD.
  for (const w of [16, 32] as const) {
    const vals = shiftValues(w, rng);
    for (const op of ['shld', 'shrd'] as const) {
      for (const count of [0, 1, 2, 4, 8, w - 1, w, w + 1, 17, 20, 31, 32, 33, rng.below(64)]) {
        const c = count & 31;
        let flagMask = AF;
        if (c > 1) flagMask |= OF;
        if (w === 16 && c > 16) flagMask |= ARITH;
        if (c === 0) flagMask = 0;
        for (let i = 0; i < 6; i++) {
          const d = i === 0 ? 0x1234 : rng.pick(vals);
          const s = i === 0 ? 0x5678 : rng.pick(vals);
          const flags = i & 1 ? ARITH : 0;
          cases.push({
            name: `${op}${w} r,r,cl d=${hex(d)} s=${hex(s)} n=${count} f=${flags ? 'all' : 0}`,
            asm: `${op} ${REG.a[w]}, ${REG.b[w]}, cl`,
            regs: { eax: intoReg(0x0f0f0f0f, d, w), ebx: intoReg(0xf0f0f0f0, s, w), ecx: count },
            flags,
            flagMask,
          });
          if (i < 2) {
            cases.push({
              name: `${op}${w} m,r,imm d=${hex(d)} s=${hex(s)} n=${count}`,
              asm: `${op} ${sizeWord(w)} [DATA+1], ${REG.d[w]}, ${count & 0xff}`,
              regs: { edx: s },
              data: [0x99, ...le(d, 4)],
              flags,
              flagMask,
            });
          }
        }
      }
    }
  }
  return { name: 'shift', cases };
}
