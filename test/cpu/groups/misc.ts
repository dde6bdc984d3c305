// Odds and ends a kernel relies on: prefixes (redundant, repeated, the 15-byte
// instruction limit), the multi-byte NOPs Linux pads with, flag instructions,
// BOUND/INTO/INT3 exceptions from user mode, and self-modifying code (the emu's
// decoded-instruction cache must see writes to code; fact sheet §5.4, §6).

import { ARITH, CF, DF, OF, Rng, hex, type DiffCase, type DiffGroup } from '../diff-case.js';
import { DATA_ADDR } from '../layout.js';

const db = (bytes: number[]) => 'db ' + bytes.map((b) => '0x' + b.toString(16)).join(', ');

export function miscGroup(): DiffGroup {
  const rng = new Rng(0x315c);
  const cases: DiffCase[] = [];
  // Linux's NOPs for X86_P6_NOP=n (asm/nops.h) and redundant segment prefixes.
  const nops: Array<[string, number[]]> = [
    ['89 f6', [0x89, 0xf6]],
    ['8d 76 00', [0x8d, 0x76, 0x00]],
    ['8d 74 26 00', [0x8d, 0x74, 0x26, 0x00]],
    ['3e 8d 74 26 00', [0x3e, 0x8d, 0x74, 0x26, 0x00]],
    ['8d b6 00 00 00 00', [0x8d, 0xb6, 0, 0, 0, 0]],
    ['8d b4 26 00 00 00 00', [0x8d, 0xb4, 0x26, 0, 0, 0, 0]],
    ['90 (xchg eax,eax)', [0x90]],
    ['66 90', [0x66, 0x90]],
  ];
  for (const [name, bytes] of nops) cases.push({ name: `nop ${name}`, asm: db(bytes), regs: { esi: 0x1000 }, flags: ARITH });
  // Prefixes: 14 prefixes + 1-byte opcode = 15 bytes (legal); 15 + 1 = 16 bytes => #GP(0).
  cases.push({ name: '15-byte instruction', asm: db([...Array(14).fill(0x3e), 0x90]) });
  cases.push({ name: '16-byte instruction is #GP', asm: db([...Array(15).fill(0x3e), 0x90]) });
  // 81 05 disp32 imm32 (ADD dword [DATA], 1) is 10 bytes: 5 prefixes make 15, 6 make 16.
  cases.push({ name: '15 bytes with operands', asm: db([...Array(5).fill(0x26), 0x81, 0x05, 0, 0, 0x21, 0, 1, 0, 0, 0]) });
  cases.push({ name: '16 bytes with operands is #GP', asm: db([...Array(6).fill(0x26), 0x81, 0x05, 0, 0, 0x21, 0, 1, 0, 0, 0]) });
  cases.push({ name: 'repeated 66 prefixes', asm: db([0x66, 0x66, 0x66, 0x05, 0x34, 0x12]), regs: { eax: 0xffffffff } });
  cases.push({ name: '66 then 67 order', asm: db([0x67, 0x66, 0x8d, 0x00]), regs: { ebx: 0x12345678, esi: 0x1111 } });
  cases.push({ name: 'segment override on memory operand (ss/ds/es/cs)', asm: 'mov eax, [ss:DATA]\nmov ebx, [es:DATA+4]\nmov ecx, [cs:DATA+8]\nmov [es:DATA+12], eax', data: Array.from({ length: 16 }, (_, i) => i * 9) });
  cases.push({ name: 'two segment prefixes', asm: db([0x26, 0x3e, 0x8b, 0x05, 0, 0, 0x21, 0]), data: [1, 2, 3, 4] });
  cases.push({ name: 'rep on a non-string instruction is ignored', asm: db([0xf3, 0x01, 0xd8]), regs: { eax: 5, ebx: 7 } });
  // Flag instructions.
  for (const flags of [0, ARITH | DF]) {
    cases.push({ name: `clc stc cmc f=${flags}`, asm: 'clc\npushfd\nstc\npushfd\ncmc\npushfd\npop eax\npop ebx\npop ecx', flags });
    cases.push({ name: `cld std f=${flags}`, asm: 'std\npushfd\ncld\npushfd\npop eax\npop ebx', flags });
  }
  // BOUND: in range passes, out of range is #BR (a fault).
  for (const [idx, lo, hi] of [[5, 0, 10], [0, 0, 0], [-1, 0, 10], [11, 0, 10], [-5, -10, -1], [0x7fffffff, -0x80000000, 0x7fffffff]] as const) {
    cases.push({
      name: `bound32 ${idx} in [${lo},${hi}]`,
      asm: 'bound eax, [DATA]',
      regs: { eax: idx >>> 0 },
      data: [lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, (lo >>> 24) & 0xff, hi & 0xff, (hi >>> 8) & 0xff, (hi >>> 16) & 0xff, (hi >>> 24) & 0xff],
    });
    cases.push({
      name: `bound16 ${idx} in [${lo},${hi}]`,
      asm: 'bound ax, [DATA]',
      regs: { eax: idx & 0xffff },
      data: [lo & 0xff, (lo >>> 8) & 0xff, hi & 0xff, (hi >>> 8) & 0xff],
    });
  }
  cases.push({ name: 'into with OF=1 (trap)', asm: 'mov ecx, 1\ninto\nmov ecx, 2', flags: OF });
  cases.push({ name: 'into with OF=0', asm: 'mov ecx, 1\ninto\nmov ecx, 2' });
  cases.push({ name: 'int3 (trap)', asm: 'mov ecx, 1\nint3\nmov ecx, 2' });
  cases.push({ name: 'int 0x40 (DPL-0 gate, #GP)', asm: 'int 0x40' });
  cases.push({ name: 'ud2 keeps state', asm: 'mov ecx, 3\nstc\nud2', flags: 0 });
  // EFLAGS.TF: POPF that sets TF traps (#DB) after the instruction that follows it (SDM vol. 3A §17.3.1.4).
  const tfOn = 'pushfd\nor dword [esp], 0x100\npopfd\n';
  cases.push({ name: 'TF: single-step trap after the next instruction', asm: `${tfOn}mov eax, 1\nmov eax, 2`, flags: CF });
  cases.push({ name: 'TF: single-step over a taken jump', asm: `${tfOn}jmp short .x\nmov eax, 1\n.x:\nmov eax, 2` });
  cases.push({ name: 'TF: REP STOSB traps after each iteration', asm: `${tfOn}rep stosb\nnop`, regs: { edi: DATA_ADDR, ecx: 3, eax: 0x77 } });
  // Self-modifying code: EBX = address of .base at run time (CALL/POP), then patch ahead.
  const base = 'call .base\n.base:\npop ebx\n';
  cases.push({ name: 'smc: patch an immediate ahead', asm: `${base}mov dword [ebx + .imm + 1 - .base], 0x55667788\n.imm:\nmov eax, 0x11223344` });
  cases.push({ name: 'smc: patch an opcode ahead (inc -> dec)', asm: `${base}xor ecx, ecx\nmov byte [ebx + .op - .base], 0x49\n.op:\ninc ecx` });
  cases.push({
    name: 'smc: loop re-executes patched code',
    asm: `${base}xor edx, edx\nmov esi, 3\n.top:\n.imm:\nmov eax, 1\nadd edx, eax\ninc dword [ebx + .imm + 1 - .base]\ndec esi\njnz .top`,
  });
  cases.push({ name: 'smc: rep stosb over code ahead', asm: `${base}lea edi, [ebx + .pad - .base]\nmov ecx, 5\nmov al, 0x90\nrep stosb\n.pad:\nmov eax, 0x42\nud2\nnop` });
  cases.push({ name: 'smc: string copy of code', asm: `${base}lea esi, [ebx + .src - .base]\nlea edi, [ebx + .dst - .base]\nmov ecx, 5\nrep movsb\njmp .dst\n.src:\nmov edx, 0x77777777\n.dst:\nmov edx, 0x11111111` });
  // A few random arithmetic sequences, checking flags through several dependent steps.
  for (let i = 0; i < 40; i++) {
    const ops = ['add', 'adc', 'sub', 'sbb', 'xor', 'and', 'or', 'cmp', 'inc', 'dec', 'neg', 'shl', 'shr', 'sar', 'rcl', 'rcr', 'rol', 'ror', 'imul'];
    const regs = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'];
    const lines: string[] = [];
    for (let k = 0; k < 8; k++) {
      const op = rng.pick(ops);
      const a = rng.pick(regs);
      const b = rng.pick(regs);
      if (op === 'inc' || op === 'dec' || op === 'neg') lines.push(`${op} ${a}`);
      else if (['shl', 'shr', 'sar', 'rcl', 'rcr', 'rol', 'ror'].includes(op)) lines.push(`${op} ${a}, ${1 + rng.below(31)}`);
      else if (op === 'imul') lines.push(`imul ${a}, ${b}`);
      else lines.push(`${op} ${a}, ${b}`);
    }
    cases.push({
      name: `sequence #${i}`,
      asm: lines.join('\n'),
      regs: { eax: rng.u32(), ebx: rng.u32(), ecx: rng.u32(), edx: rng.u32(), esi: rng.u32(), edi: rng.u32(), ebp: rng.u32() },
      flags: i & 1 ? CF : 0,
      // Multi-bit shifts/rotates leave OF undefined; a sequence may end with one.
      flagMask: OF,
    });
  }
  cases.push({ name: 'data buffer address', asm: `mov eax, ${hex(DATA_ADDR)}\nmov dword [eax+60], esp` });
  return { name: 'misc', cases };
}
