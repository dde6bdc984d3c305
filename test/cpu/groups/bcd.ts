// BCD adjustments: daa das aaa aas over every AL with every AF/CF pair, aam and
// aad with several bases, aam 0 → #DE (SDM vol. 2; AMD values of the undefined
// flags are in the fact sheet §6 table, so all flags are compared).

import { AF, ARITH, CF, OF, PF, SF, ZF, Rng, hex, type DiffCase, type DiffGroup } from '../diff-case.js';

export function bcdGroup(): DiffGroup {
  const rng = new Rng(0xbcd);
  const cases: DiffCase[] = [];
  const flagSets = [0, AF, CF, AF | CF, SF | ZF | PF | OF];
  for (const op of ['daa', 'das', 'aaa', 'aas'] as const) {
    for (let al = 0; al < 256; al++) {
      for (const flags of flagSets) {
        if (flags === (SF | ZF | PF | OF) && al % 5 !== 0) continue;
        const ah = op === 'aaa' || op === 'aas' ? [0, 1, 0x7f, 0xff, 0x80][al % 5] : rng.below(256);
        cases.push({
          name: `${op} al=${hex(al)} ah=${hex(ah)} f=${flags}`,
          asm: op,
          regs: { eax: 0x5a5a0000 | (ah << 8) | al },
          flags,
        });
      }
    }
  }
  for (const base of [10, 16, 7, 1, 255, 0]) {
    for (let al = 0; al < 256; al += base === 10 ? 1 : 3) {
      cases.push({
        name: `aam ${base} al=${hex(al)}`,
        asm: `aam ${base}`,
        regs: { eax: 0x12340000 | (rng.below(256) << 8) | al },
        flags: al & 1 ? ARITH : 0,
      });
    }
  }
  for (const base of [10, 16, 7, 0, 255]) {
    for (let i = 0; i < 120; i++) {
      const al = i < 8 ? [0, 8, 0x0c, 0xff, 0x80, 0x7f, 9, 1][i] : rng.below(256);
      const ah = i < 8 ? [0, 0x0c, 0x0c, 0xff, 0, 0x01, 9, 0xff][i] : rng.below(256);
      cases.push({
        name: `aad ${base} ax=${hex((ah << 8) | al)}`,
        asm: `aad ${base}`,
        regs: { eax: 0x43210000 | (ah << 8) | al },
        flags: i & 1 ? ARITH : 0,
      });
    }
  }
  return { name: 'bcd', cases };
}
