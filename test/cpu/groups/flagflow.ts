// Flags produced by one instruction and consumed by the next inside the snippet:
// all 16 SETcc conditions, ADC/SBB (CF in) and LAHF after every flag-producing
// instruction family. A CPU that computes flags lazily (the emu does) evaluates
// each condition from the producer's operands here, not from a stored EFLAGS.
// Conditions reading a flag the producer leaves undefined (SDM) are not used.

import { AF, ARITH, CF, OF, Rng, WIDTHS, edgeValues, hex, intoReg, REG, type DiffCase, type DiffGroup, type Width } from '../diff-case.js';

const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;
/** Conditions that read OF (directly or as SF xor OF). */
const USES_OF = new Set(['o', 'no', 'l', 'ge', 'le', 'g']);

interface Producer {
  name: string;
  asm: (w: Width) => string;
  widths: readonly Width[];
  /** Flags this producer leaves undefined (no AMD value in the fact sheet). */
  undefinedFlags: number;
}

const PRODUCERS: Producer[] = [
  ...['add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor'].map((op) => ({ name: op, asm: (w: Width) => `${op} ${REG.a[w]}, ${REG.b[w]}`, widths: WIDTHS, undefinedFlags: 0 })),
  { name: 'test', asm: (w: Width) => `test ${REG.a[w]}, ${REG.b[w]}`, widths: WIDTHS, undefinedFlags: AF },
  ...['inc', 'dec', 'neg'].map((op) => ({ name: op, asm: (w: Width) => `${op} ${REG.a[w]}`, widths: WIDTHS, undefinedFlags: 0 })),
  { name: 'shl1', asm: (w: Width) => `shl ${REG.a[w]}, 1`, widths: WIDTHS, undefinedFlags: 0 },
  { name: 'shr1', asm: (w: Width) => `shr ${REG.a[w]}, 1`, widths: WIDTHS, undefinedFlags: 0 },
  { name: 'sar1', asm: (w: Width) => `sar ${REG.a[w]}, 1`, widths: WIDTHS, undefinedFlags: 0 },
  { name: 'shl5', asm: (w: Width) => `shl ${REG.a[w]}, 5`, widths: WIDTHS, undefinedFlags: 0 },
  { name: 'shr5', asm: (w: Width) => `shr ${REG.a[w]}, 5`, widths: WIDTHS, undefinedFlags: OF },
  { name: 'sar5', asm: (w: Width) => `sar ${REG.a[w]}, 5`, widths: WIDTHS, undefinedFlags: OF },
  { name: 'shl cl', asm: (w: Width) => `shl ${REG.a[w]}, cl`, widths: WIDTHS, undefinedFlags: 0 },
  { name: 'rol1', asm: (w: Width) => `rol ${REG.a[w]}, 1`, widths: WIDTHS, undefinedFlags: 0 },
  { name: 'rcr1', asm: (w: Width) => `rcr ${REG.a[w]}, 1`, widths: WIDTHS, undefinedFlags: 0 },
  { name: 'shld', asm: (w: Width) => `shld ${REG.a[w]}, ${REG.b[w]}, 1`, widths: [16, 32], undefinedFlags: AF },
  { name: 'imul2', asm: (w: Width) => `imul ${REG.a[w]}, ${REG.b[w]}`, widths: [16, 32], undefinedFlags: 0 },
  { name: 'mul', asm: (w: Width) => `mul ${REG.b[w]}`, widths: WIDTHS, undefinedFlags: 0 },
  { name: 'bt', asm: (w: Width) => `bt ${REG.a[w]}, ${REG.b[w]}`, widths: [16, 32], undefinedFlags: 0 },
  { name: 'daa', asm: () => 'daa', widths: [8], undefinedFlags: 0 },
  { name: 'sahf', asm: () => 'mov ah, bl\nsahf', widths: [8], undefinedFlags: 0 },
  { name: 'popfd', asm: () => 'push ebx\npopfd', widths: [32], undefinedFlags: 0 },
  { name: 'cmpxchg', asm: (w: Width) => `cmpxchg ${REG.c[w]}, ${REG.d[w]}`, widths: WIDTHS, undefinedFlags: 0 },
];

export function flagflowGroup(): DiffGroup {
  const rng = new Rng(0xf10f);
  const cases: DiffCase[] = [];
  for (const p of PRODUCERS) {
    for (const w of p.widths) {
      const vals = edgeValues(w, rng, 2);
      for (let i = 0; i < 10; i++) {
        const a = vals[(i * 3) % vals.length];
        const b = p.name === 'popfd' ? (rng.u32() & (ARITH | 0x400)) | 0x202 : vals[(i * 5 + 1) % vals.length];
        const lines = [p.asm(w)];
        CONDS.forEach((cc, k) => {
          if (!(p.undefinedFlags & OF && USES_OF.has(cc))) lines.push(`set${cc} byte [DATA+${k}]`);
        });
        // LAHF first (it changes no flag), then ADC reads the producer's CF, SBB the ADC's.
        if (!(p.undefinedFlags & AF)) lines.push('lahf');
        lines.push('mov esi, 0', 'adc esi, 0x7ffffffe', 'mov edi, 0', 'sbb edi, 0');
        cases.push({
          name: `${p.name}${w} a=${hex(a)} b=${hex(b)} #${i}`,
          asm: lines.join('\n'),
          regs: { eax: intoReg(0x13572468, a, w), ebx: p.name === 'popfd' ? b : intoReg(0x24681357, b, w), ecx: i * 7, edx: 0x5a5a5a5a },
          flags: i & 1 ? ARITH : CF,
          flagMask: p.undefinedFlags,
        });
      }
    }
  }
  return { name: 'flagflow', cases };
}
