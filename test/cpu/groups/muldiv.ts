// mul, imul (one, two and three operands), div and idiv incl. #DE for a zero
// divisor and for quotient overflow (SDM vol. 2 MUL/IMUL/DIV/IDIV). AMD keeps
// SZAP for MUL/IMUL and gives S=0 Z=0 P=0 A=1 for DIV/IDIV (fact sheet §6), so
// every flag is compared.

import { ARITH, CF, REG, Rng, WIDTHS, edgeValues, hex, intoReg, le, mask, sizeWord, type DiffCase, type DiffGroup } from '../diff-case.js';

export function muldivGroup(): DiffGroup {
  const rng = new Rng(0x3d1f);
  const cases: DiffCase[] = [];
  for (const w of WIDTHS) {
    const vals = edgeValues(w, rng, 2);
    for (const op of ['mul', 'imul'] as const) {
      for (const a of vals) {
        for (const b of vals) {
          const flags = (a ^ b) & 1 ? ARITH : 0;
          cases.push({
            name: `${op}${w} r a=${hex(a)} b=${hex(b)}`,
            asm: `${op} ${REG.b[w]}`,
            regs: { eax: intoReg(0x12345678, a, w), ebx: intoReg(0x9abcdef0, b, w), edx: 0x55555555 },
            flags,
          });
        }
      }
      for (let i = 0; i < 10; i++) {
        const a = rng.pick(vals);
        const b = rng.pick(vals);
        cases.push({
          name: `${op}${w} m a=${hex(a)} b=${hex(b)} #${i}`,
          asm: `${op} ${sizeWord(w)} [DATA+4]`,
          regs: { eax: intoReg(0x12345678, a, w) },
          data: [0, 0, 0, 0, ...le(b, 4)],
          flags: i & 1 ? ARITH : 0,
        });
      }
    }
    if (w !== 8) {
      for (const a of vals) {
        for (const b of vals) {
          const flags = (a + b) & 1 ? ARITH : CF;
          cases.push({
            name: `imul${w} r,r a=${hex(a)} b=${hex(b)}`,
            asm: `imul ${REG.c[w]}, ${REG.d[w]}`,
            regs: { ecx: intoReg(0x77777777, a, w), edx: intoReg(0x88888888, b, w) },
            flags,
          });
          const imm8 = (b & 0xff) << 24 >> 24;
          cases.push({
            name: `imul${w} r,r,imm8 a=${hex(a)} imm=${imm8}`,
            asm: `imul ${REG.c[w]}, ${REG.d[w]}, byte ${imm8}`,
            regs: { edx: intoReg(0x88888888, a, w), ecx: 0x44444444 },
            flags,
          });
          cases.push({
            name: `imul${w} r,m,imm a=${hex(a)} imm=${hex(b)}`,
            asm: `imul ${REG.a[w]}, ${sizeWord(w)} [DATA], strict ${sizeWord(w)} ${hex(b)}`,
            data: le(a, 4),
            flags,
          });
        }
      }
    }
    // Division: dividend high part from a few shapes, low part and divisor from the edges.
    const m = mask(w);
    const highs = [0, 1, m, 2 ** (w - 1), 2 ** (w - 1) - 1, rng.u32() & m].map((v) => v >>> 0);
    const divisors = [...vals, 3, 10, m - 2].map((v) => v >>> 0);
    for (const op of ['div', 'idiv'] as const) {
      for (const d of divisors) {
        for (const lo of vals) {
          // High halves that fit (0, d-1, d/2, the sign extension of lo) and one from the fixed shapes (often #DE).
          const signExt = lo & 2 ** (w - 1) ? m : 0;
          const hs = [0, (d - 1) & m, d >>> 1, signExt, highs[(d + lo) % highs.length]].map((v) => v >>> 0);
          for (const hi of new Set(hs)) {
            const flags = (hi ^ lo ^ d) & 2 ? ARITH : 0;
            const regs =
              w === 8
                ? { eax: intoReg(0x13570000, ((hi & 0xff) << 8) | (lo & 0xff), 16), ebx: intoReg(0x24680000, d, 8) }
                : { eax: intoReg(0x13571357, lo, w), edx: intoReg(0x24682468, hi, w), ebx: intoReg(0x9bdf9bdf, d, w) };
            cases.push({ name: `${op}${w} r hi=${hex(hi)} lo=${hex(lo)} d=${hex(d)}`, asm: `${op} ${REG.b[w]}`, regs, flags });
          }
        }
      }
      for (let i = 0; i < 6; i++) {
        const d = i === 0 ? 0 : rng.pick(divisors);
        cases.push({
          name: `${op}${w} m d=${hex(d)} #${i}`,
          asm: `${op} ${sizeWord(w)} [DATA+8]`,
          regs: { eax: rng.u32(), edx: rng.u32() & (m >>> 1) },
          data: [0, 0, 0, 0, 0, 0, 0, 0, ...le(d, 4)],
          flags: i & 1 ? ARITH : 0,
        });
      }
    }
  }
  // The famous one: IDIV of 0xFFFFFFFF:80000000 by -1 overflows (#DE).
  cases.push({ name: 'idiv32 int_min/-1', asm: 'idiv ebx', regs: { edx: 0xffffffff, eax: 0x80000000, ebx: 0xffffffff } });
  cases.push({ name: 'idiv16 int_min/-1', asm: 'idiv bx', regs: { edx: 0xffff, eax: 0x8000, ebx: 0xffff } });
  cases.push({ name: 'idiv8 int_min/-1', asm: 'idiv bl', regs: { eax: 0xff80, ebx: 0xff } });
  return { name: 'muldiv', cases };
}
