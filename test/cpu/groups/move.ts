// Exchange and conversion instructions: xadd, cmpxchg, cmpxchg8b, xchg, bswap,
// movzx/movsx, cbw/cwde/cwd/cdq, lahf/sahf (SDM vol. 2; fact sheet §6: CMPXCHG
// flags are those of CMP, CMPXCHG8B changes only ZF, AMD's BSWAP r16 zeroes the
// low 16 bits).

import { ARITH, CF, REG, Rng, WIDTHS, edgeValues, flagsName, hex, intoReg, le, sizeWord, type DiffCase, type DiffGroup } from '../diff-case.js';

export function moveGroup(): DiffGroup {
  const rng = new Rng(0x70e5);
  const cases: DiffCase[] = [];
  for (const w of WIDTHS) {
    const vals = edgeValues(w, rng, 2);
    for (let i = 0; i < vals.length; i++) {
      const a = vals[i];
      const b = vals[(i * 3 + 1) % vals.length];
      const flags = i & 1 ? ARITH : 0;
      cases.push({ name: `xadd${w} r,r a=${hex(a)} b=${hex(b)} #${i}`, asm: `xadd ${REG.a[w]}, ${REG.b[w]}`, regs: { eax: a, ebx: b }, flags });
      cases.push({ name: `xadd${w} m,r a=${hex(a)} b=${hex(b)} #${i}`, asm: `xadd ${sizeWord(w)} [DATA+4], ${REG.b[w]}`, regs: { ebx: b }, data: [0, 0, 0, 0, ...le(a, 4)], flags });
      cases.push({ name: `lock xadd${w} m,r a=${hex(a)} b=${hex(b)} #${i}`, asm: `lock xadd ${sizeWord(w)} [DATA+4], ${REG.b[w]}`, regs: { ebx: b }, data: [0, 0, 0, 0, ...le(a, 4)], flags });
      cases.push({ name: `xchg${w} r,r a=${hex(a)} b=${hex(b)} #${i}`, asm: `xchg ${REG.c[w]}, ${REG.d[w]}`, regs: { ecx: a, edx: b }, flags });
      cases.push({ name: `xchg${w} m,r a=${hex(a)} b=${hex(b)} #${i}`, asm: `xchg ${sizeWord(w)} [DATA+1], ${REG.d[w]}`, regs: { edx: b }, data: [9, ...le(a, 4)], flags });
      for (const equal of [true, false]) {
        const dst = equal ? a : b;
        const tag = `${equal ? "eq" : "ne"} acc=${hex(a)} dst=${hex(dst)} #${i}`;
        cases.push({ name: `cmpxchg${w} r,r ${tag}`, asm: `cmpxchg ${REG.c[w]}, ${REG.d[w]}`, regs: { eax: a, ecx: dst, edx: 0x13579bdf }, flags });
        cases.push({ name: `cmpxchg${w} m,r ${tag}`, asm: `lock cmpxchg ${sizeWord(w)} [DATA+2], ${REG.d[w]}`, regs: { eax: a, edx: 0x2468ace0 }, data: [7, 7, ...le(dst, 4)], flags });
      }
    }
  }
  for (let i = 0; i < 8; i++) {
    const mem = [rng.u32(), rng.u32()];
    const equal = i % 2 === 0;
    const edx = equal ? mem[1] : mem[1] ^ (i & 2 ? 1 : 0x80000000);
    const eax = equal || i & 4 ? mem[0] : mem[0] ^ 0x10;
    cases.push({
      name: `cmpxchg8b ${equal ? 'eq' : 'ne'} #${i}`,
      asm: `${i & 1 ? '' : 'lock '}cmpxchg8b [DATA+8]`,
      regs: { eax, edx, ebx: 0x11223344, ecx: 0x55667788 },
      data: [...Array(8).fill(0xee), ...le(mem[0], 4), ...le(mem[1], 4)],
      flags: i & 2 ? ARITH : CF,
    });
  }
  for (const v of [0x12345678, 0, 0xffffffff, 0x80000001, rng.u32()]) {
    cases.push({ name: `bswap32 ${hex(v)}`, asm: 'bswap ecx\nbswap edi', regs: { ecx: v, edi: v ^ 0xff00ff00 } });
    cases.push({ name: `bswap16 ${hex(v)}`, asm: 'db 0x66, 0x0f, 0xc8', regs: { eax: v } });
  }
  for (const v of [0, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x12345678, 0x87654321, rng.u32()]) {
    const data = le(v, 4);
    cases.push({ name: `movzx/movsx r ${hex(v)}`, asm: 'movzx eax, bl\nmovsx ecx, bl\nmovzx edx, bx\nmovsx esi, bx\nmovzx di, bl\nmovsx bp, bl', regs: { ebx: v } });
    cases.push({ name: `movzx/movsx m ${hex(v)}`, asm: 'movzx eax, byte [DATA]\nmovsx ecx, byte [DATA]\nmovzx edx, word [DATA]\nmovsx esi, word [DATA]\nmovsx di, byte [DATA]', data });
    cases.push({ name: `cbw ${hex(v)}`, asm: 'cbw', regs: { eax: v } });
    cases.push({ name: `cwde ${hex(v)}`, asm: 'cwde', regs: { eax: v } });
    cases.push({ name: `cwd ${hex(v)}`, asm: 'cwd', regs: { eax: v, edx: 0x5a5a5a5a } });
    cases.push({ name: `cdq ${hex(v)}`, asm: 'cdq', regs: { eax: v, edx: 0x5a5a5a5a } });
  }
  for (let f = 0; f < 64; f++) {
    const flags = ((f & 1) | ((f & 2) << 1) | ((f & 4) << 2) | ((f & 8) << 3) | ((f & 16) << 3) | ((f & 32) << 6)) & ARITH;
    cases.push({ name: `lahf f=${flagsName(flags)}`, asm: 'lahf', regs: { eax: 0x12345678 }, flags });
    cases.push({ name: `sahf ah=${hex(f * 4 + 3)}`, asm: 'sahf', regs: { eax: ((f * 4 + 3) & 0xff) << 8 }, flags: f & 1 ? ARITH : 0 });
  }
  for (const v of [0x00, 0xff, 0xd5, 0x2a]) {
    cases.push({ name: `sahf;lahf ah=${hex(v)}`, asm: 'sahf\nmov al, 0\nlahf', regs: { eax: v << 8 }, flags: CF });
  }
  // MOV forms with the data buffer (moffs, modrm, immediate to memory).
  cases.push({ name: 'mov moffs', asm: 'mov eax, [DATA+4]\nmov [DATA+12], ax\nmov al, [DATA+5]\nmov [DATA+20], al', data: le(0x11223344, 4).concat(le(0x55667788, 4)) });
  cases.push({ name: 'mov imm to m', asm: 'mov dword [DATA], 0x89abcdef\nmov word [DATA+6], 0x1234\nmov byte [DATA+9], 0x56' });
  cases.push({ name: 'xlat', asm: 'mov ebx, DATA\nxlatb', regs: { eax: 0x12345605 }, data: [10, 11, 12, 13, 14, 15, 16, 17] });
  cases.push({ name: 'xchg eax,r short form', asm: 'xchg eax, esi\nxchg ax, di', regs: { eax: 1, esi: 2, edi: 0x33334444 } });
  cases.push({ name: 'mov al keeps bits 31:8', asm: 'mov al, 0x12\nmov bh, 0x34', regs: { eax: intoReg(0xffffff00, 0, 8) } });
  return { name: 'move', cases };
}
