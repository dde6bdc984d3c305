// add adc sub sbb cmp and or xor test inc dec neg not, 8/16/32 bits, register,
// memory and immediate forms (SDM vol. 2 per instruction; AMD AF=0 for the
// logic ops, fact sheet §6).

import { AF, ARITH, CF, REG, Rng, WIDTHS, edgeValues, hex, intoReg, le, sizeWord, type DiffCase, type DiffGroup, type Width } from '../diff-case.js';

const BINARY = ['add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor', 'test'] as const;
const UNARY = ['inc', 'dec', 'neg', 'not'] as const;

/** TEST leaves AF undefined (SDM) and the fact sheet measured AMD only for AND/OR/XOR. */
function maskFor(op: string): number {
  return op === 'test' ? AF : 0;
}

export function aluGroup(): DiffGroup {
  const rng = new Rng(0xa1);
  const cases: DiffCase[] = [];
  for (const w of WIDTHS) {
    const vals = edgeValues(w, rng, 2);
    for (const op of BINARY) {
      for (const a of vals) {
        for (const b of vals) {
          for (const flags of [0, ARITH]) {
            cases.push({
              name: `${op}${w} r,r a=${hex(a)} b=${hex(b)} f=${flags ? 'all' : 0}`,
              asm: `${op} ${REG.a[w]}, ${REG.b[w]}`,
              regs: { eax: intoReg(0x5a5a5a5a, a, w), ebx: intoReg(0xa5a5a5a5, b, w) },
              flags,
              flagMask: maskFor(op),
            });
          }
        }
      }
      // Memory destination, memory source and immediate forms on fewer pairs.
      for (let i = 0; i < 12; i++) {
        const a = rng.pick(vals);
        const b = rng.pick(vals);
        const flags = i & 1 ? ARITH : CF;
        const data = le(a, 4).concat(le(b, 4));
        const common = { flags, flagMask: maskFor(op), data };
        if (op !== 'test') {
          cases.push({ ...common, name: `${op}${w} m,r #${i}`, asm: `${op} ${sizeWord(w)} [DATA], ${REG.b[w]}`, regs: { ebx: b } });
          cases.push({ ...common, name: `${op}${w} r,m #${i}`, asm: `${op} ${REG.a[w]}, ${sizeWord(w)} [DATA+4]`, regs: { eax: a } });
        } else {
          cases.push({ ...common, name: `${op}${w} m,r #${i}`, asm: `${op} ${sizeWord(w)} [DATA], ${REG.b[w]}`, regs: { ebx: b } });
        }
        cases.push({ ...common, name: `${op}${w} r,imm #${i}`, asm: `${op} ${REG.a[w]}, ${hex(b)}`, regs: { eax: a } });
        cases.push({ ...common, name: `${op}${w} m,imm #${i}`, asm: `${op} ${sizeWord(w)} [DATA], ${hex(b)}` });
        if (w !== 8 && op !== 'test') {
          // 83 /n ib: sign-extended 8-bit immediate.
          const imm8 = (b & 0xff) << 24 >> 24;
          cases.push({ ...common, name: `${op}${w} r,simm8 #${i}`, asm: `${op} ${REG.c[w]}, byte ${imm8}`, regs: { ecx: a } });
        }
        // Accumulator short form with a forced full-size immediate (04/05 +0x08n).
        cases.push({ ...common, name: `${op}${w} acc,imm #${i}`, asm: `${op} ${REG.a[w]}, strict ${sizeWord(w)} ${hex(b)}`, regs: { eax: a } });
      }
    }
    for (const op of UNARY) {
      for (const a of vals) {
        for (const flags of [0, ARITH]) {
          cases.push({ name: `${op}${w} r a=${hex(a)} f=${flags ? 'all' : 0}`, asm: `${op} ${REG.d[w]}`, regs: { edx: intoReg(0x3c3c3c3c, a, w) }, flags });
          cases.push({ name: `${op}${w} m a=${hex(a)} f=${flags ? 'all' : 0}`, asm: `${op} ${sizeWord(w)} [DATA+8]`, data: [0, 0, 0, 0, 0, 0, 0, 0, ...le(a, 4)], flags });
        }
      }
    }
  }
  // High byte registers (AH CH DH BH encodings).
  for (const op of ['add', 'sub', 'xor', 'adc', 'cmp'] as const) {
    for (let i = 0; i < 8; i++) {
      cases.push({
        name: `${op}8 ah,bh #${i}`,
        asm: `${op} ah, bh\n${op} ch, dl`,
        regs: { eax: rng.u32(), ebx: rng.u32(), ecx: rng.u32(), edx: rng.u32() },
        flags: i & 1 ? CF : 0,
      });
    }
  }
  const w16: Width = 16;
  cases.push({ name: 'inc16 wraps 0xffff', asm: 'inc ax', regs: { eax: intoReg(0x12340000, 0xffff, w16) } });
  return { name: 'alu', cases };
}
