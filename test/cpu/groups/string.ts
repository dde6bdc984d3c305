// String instructions movs lods stos cmps scas at 8/16/32 bits, without a
// prefix and with rep/repe/repne, DF clear and set, counts 0.. on the data
// buffer (SDM vol. 2 MOVS/LODS/STOS/CMPS/SCAS, REP/REPE/REPNE; fact sheet §6:
// count 0 does nothing, F2 on MOVS/LODS/STOS acts as REP).

import { ARITH, DF, Rng, WIDTHS, type DiffCase, type DiffGroup, type Width } from '../diff-case.js';
import { DATA_ADDR } from '../layout.js';

const SUFFIX: Record<Width, string> = { 8: 'b', 16: 'w', 32: 'd' };

export function stringGroup(): DiffGroup {
  const rng = new Rng(0x57);
  const cases: DiffCase[] = [];
  // Two 32-byte halves that agree on a prefix and then differ, so REPE/REPNE stop mid-way.
  const base = Array.from({ length: 32 }, () => rng.below(256));
  const data = [...base, ...base.map((b, i) => (i >= 11 ? b ^ (i % 3 === 0 ? 0x40 : 0) : b))];
  data[48] = data[16];
  for (const w of WIDTHS) {
    const size = w / 8;
    const counts = [0, 1, 2, 3, 7].filter((c) => c * size <= 32);
    for (const op of ['movs', 'lods', 'stos', 'cmps', 'scas'] as const) {
      const prefixes = op === 'cmps' || op === 'scas' ? ['', 'rep ', 'repne '] : ['', 'rep ', 'repne '];
      for (const prefix of prefixes) {
        for (const down of [false, true]) {
          for (const count of prefix === '' ? [5] : counts) {
            // DF=0 walks up from the start of each half; DF=1 walks down from its last element.
            const esi = down ? DATA_ADDR + 32 - size : DATA_ADDR;
            const edi = down ? DATA_ADDR + 64 - size : DATA_ADDR + 32;
            const flags = (down ? DF : 0) | (count & 1 ? ARITH : 0);
            const acc = op === 'scas' ? (data[32 + (down ? 32 - size : 0) + size * Math.min(count, 2)] | 0x01000000) : 0x5a5a5a5a;
            const spelled = prefix === 'rep ' && (op === 'cmps' || op === 'scas') ? 'repe ' : prefix;
            cases.push({
              name: `${spelled}${op}${SUFFIX[w]} ${down ? 'down' : 'up'} ecx=${count}`,
              asm: `${spelled}${op}${SUFFIX[w]}`,
              regs: { esi, edi, ecx: count, eax: acc },
              flags,
              data,
            });
          }
        }
      }
    }
  }
  // Overlapping copies: element order is architectural (a forward copy with EDI = ESI + k
  // replicates the first k bytes; fact sheet §6 warns bulk-copy shortcuts must not change it).
  for (const [k, down, sfx, n] of [[1, false, 'b', 20], [3, false, 'b', 20], [4, false, 'd', 6], [2, false, 'w', 9], [1, true, 'b', 20], [4, true, 'd', 6], [-1, false, 'b', 20], [-4, false, 'd', 6]] as const) {
    const esi = down ? DATA_ADDR + 40 : DATA_ADDR + 8;
    cases.push({
      name: `rep movs${sfx} overlap edi=esi${k >= 0 ? '+' : ''}${k} ${down ? 'down' : 'up'} n=${n}`,
      asm: `rep movs${sfx}`,
      regs: { esi, edi: esi + k, ecx: n },
      flags: down ? DF : 0,
      data,
    });
  }
  // Segment override on the source of MOVS (DS → SS: same flat base, still legal).
  cases.push({ name: 'ss: rep movsd', asm: 'ss rep movsd', regs: { esi: DATA_ADDR, edi: DATA_ADDR + 32, ecx: 4 }, data });
  return { name: 'string', cases };
}
