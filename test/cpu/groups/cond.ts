// setcc, cmovcc and jcc (short and near) over all 16 conditions and all 32
// combinations of CF PF ZF SF OF; loop/loope/loopne/jecxz (SDM vol. 2 Jcc,
// SETcc, CMOVcc, LOOPcc, Appendix B "EFLAGS Condition Codes").

import { CF, OF, PF, SF, ZF, flagsName, type DiffCase, type DiffGroup } from '../diff-case.js';

const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;
const FLAG_BITS = [CF, PF, ZF, SF, OF];

export function condGroup(): DiffGroup {
  const cases: DiffCase[] = [];
  for (let combo = 0; combo < 32; combo++) {
    let flags = 0;
    FLAG_BITS.forEach((b, i) => {
      if (combo & (1 << i)) flags |= b;
    });
    const f = flagsName(flags);
    for (const cc of CONDS) {
      cases.push({ name: `set${cc} r f=${f}`, asm: `set${cc} al\nset${cc} bh`, regs: { eax: 0xffffffff, ebx: 0x5555aa55 }, flags });
      cases.push({ name: `set${cc} m f=${f}`, asm: `set${cc} [DATA+3]`, data: [1, 2, 3, 4, 5], flags });
      cases.push({ name: `cmov${cc}32 r f=${f}`, asm: `cmov${cc} eax, ebx`, regs: { eax: 0x11111111, ebx: 0x22222222 }, flags });
      cases.push({ name: `cmov${cc}16 r f=${f}`, asm: `cmov${cc} cx, dx`, regs: { ecx: 0x33333333, edx: 0x44444444 }, flags });
      cases.push({ name: `cmov${cc}32 m f=${f}`, asm: `cmov${cc} esi, [DATA+4]`, data: [0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12], flags });
      cases.push({
        name: `j${cc} short f=${f}`,
        asm: `j${cc} short .taken\nmov eax, 1\njmp short .done\n.taken:\nmov eax, 2\n.done:`,
        flags,
      });
      cases.push({
        name: `j${cc} near f=${f}`,
        asm: `j${cc} near .taken\nmov eax, 1\njmp near .done\ntimes 200 nop\n.taken:\nmov eax, 2\n.done:`,
        flags,
      });
    }
  }
  // Backward jcc and loops: count iterations in EDX.
  for (const ecx of [0, 1, 2, 5, 0x10001]) {
    for (const flags of [0, ZF]) {
      const body = (insn: string) => `xor edx, edx\n.top:\ninc edx\ncmp edx, 3\n${insn} .top`;
      cases.push({ name: `loop ecx=${ecx} f=${flagsName(flags)}`, asm: `xor edx, edx\n.top:\ninc edx\ncmp edx, 100\nje .out\nloop .top\n.out:`, regs: { ecx }, flags });
      cases.push({ name: `loope ecx=${ecx} f=${flagsName(flags)}`, asm: body('loope'), regs: { ecx }, flags });
      cases.push({ name: `loopne ecx=${ecx} f=${flagsName(flags)}`, asm: body('loopne'), regs: { ecx }, flags });
      cases.push({ name: `jecxz ecx=${ecx} f=${flagsName(flags)}`, asm: `mov eax, 1\njecxz .z\nmov eax, 2\n.z:`, regs: { ecx }, flags });
      cases.push({ name: `jcxz ecx=${ecx} f=${flagsName(flags)}`, asm: `mov eax, 1\njcxz .z\nmov eax, 2\n.z:`, regs: { ecx }, flags });
    }
  }
  // A backward conditional branch loop: sum 1..10.
  cases.push({ name: 'jnz backward loop', asm: 'xor eax, eax\nmov ecx, 10\n.top:\nadd eax, ecx\ndec ecx\njnz .top' });
  return { name: 'cond', cases };
}
