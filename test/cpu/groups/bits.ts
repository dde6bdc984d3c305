// bt bts btr btc (register, immediate and memory operands, memory with large
// positive and negative bit offsets) and bsf/bsr incl. a zero source
// (SDM vol. 2 BT/BTS/BTR/BTC, BSF/BSR; fact sheet §6: AMD keeps O S A P for BT*
// and the destination for a zero BSF/BSR source, with O S A C = 0, P = 1).
// BSF/BSR of a non-zero source leave CF OF SF AF PF undefined and the fact sheet
// gives no AMD value: masked. F3-prefixed forms (TZCNT/LZCNT on the host) are
// never generated.

import { AF, ARITH, CF, OF, PF, SF, Rng, hex, intoReg, type DiffCase, type DiffGroup } from '../diff-case.js';
import { DATA_ADDR } from '../layout.js';

const BT_OPS = ['bt', 'bts', 'btr', 'btc'] as const;

export function bitsGroup(): DiffGroup {
  const rng = new Rng(0xb17);
  const cases: DiffCase[] = [];
  const pattern = Array.from({ length: 64 }, () => rng.below(256));
  for (const op of BT_OPS) {
    for (const w of [16, 32] as const) {
      const r = w === 16 ? { a: 'ax', c: 'cx' } : { a: 'eax', c: 'ecx' };
      const offsets = [0, 1, 7, w - 1, w, w + 1, 63, 0xffff, 0x7fffffff, 0xffffffff, rng.u32(), rng.u32()];
      for (const off of offsets) {
        for (const v of [0, 0xffffffff, 0x80000001, rng.u32()]) {
          const flags = off & 1 ? ARITH : 0;
          cases.push({
            name: `${op}${w} r,r v=${hex(v)} off=${hex(off)}`,
            asm: `${op} ${r.a}, ${r.c}`,
            regs: { eax: v, ecx: off },
            flags,
          });
          cases.push({
            name: `${op}${w} r,imm v=${hex(v)} off=${off & 0xff}`,
            asm: `${op} ${r.a}, ${off & 0xff}`,
            regs: { eax: v },
            flags,
          });
        }
      }
      // Memory with a register offset: signed, unit at EA + (off SAR 5)*4 (SAR 4, *2 at 16 bits).
      const memOffsets = [0, 5, 31, 32, 100, 511, -1, -8, -100, -511, 1000, -1000, 0x7ff0, -0x7ff0];
      if (w === 32) memOffsets.push(123456, -123456, 0x100000, -0x100000);
      for (const off of memOffsets) {
        const unitBytes = w / 8;
        const unitShift = w === 16 ? 4 : 5;
        const unit = Math.floor(off / 2 ** unitShift) * unitBytes;
        // Point EBX so that the addressed unit lands in the middle of the data buffer.
        const ebx = (DATA_ADDR + 24 - unit) >>> 0;
        const offReg = w === 16 ? intoReg(0xabcd0000, off & 0xffff, 16) : off >>> 0;
        cases.push({
          name: `${op}${w} m,r off=${off}`,
          asm: `${op} ${w === 16 ? 'word' : 'dword'} [ebx+4], ${r.c}`,
          regs: { ebx: (ebx - 4) >>> 0, ecx: offReg },
          data: pattern,
          flags: off & 2 ? ARITH : 0,
        });
      }
      for (const imm of [0, 3, 15, 16, 31, 32, 37, 200, 255]) {
        cases.push({
          name: `${op}${w} m,imm off=${imm}`,
          asm: `${op} ${w === 16 ? 'word' : 'dword'} [DATA+6], ${imm}`,
          data: pattern,
          flags: imm & 1 ? ARITH : 0,
        });
      }
    }
  }
  for (const op of ['bsf', 'bsr'] as const) {
    for (const w of [16, 32] as const) {
      const src = w === 16 ? 'bx' : 'ebx';
      const dst = w === 16 ? 'ax' : 'eax';
      const vals = [0, 1, 2, 0x8000, 0x80000000, 0xffffffff, 0x00010000, 0x00018000, 0x40, rng.u32(), rng.u32() & 0xffff, rng.u32() >>> 12];
      for (const v of vals) {
        const value = w === 16 ? v & 0xffff : v;
        const flagMask = value === 0 ? 0 : CF | OF | SF | AF | PF;
        for (const flags of [0, ARITH]) {
          cases.push({
            name: `${op}${w} r v=${hex(v)} f=${flags ? 'all' : 0}`,
            asm: `${op} ${dst}, ${src}`,
            regs: { eax: 0xdeadbeef, ebx: intoReg(0x12340000, v, w) },
            flags,
            flagMask,
          });
        }
        cases.push({
          name: `${op}${w} m v=${hex(v)}`,
          asm: `${op} ${dst}, [DATA+12]`,
          regs: { eax: 0x0badcafe },
          data: [...Array(12).fill(0), v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24],
          flags: ARITH,
          flagMask,
        });
      }
    }
  }
  return { name: 'bits', cases };
}
