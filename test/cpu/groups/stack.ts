// Stack instructions: push/pop (register, memory, immediate, 16-bit forms, ESP
// itself), pusha/popa, pushf/popf with the flags user mode may change, enter/
// leave with nesting levels, near call/ret (SDM vol. 2 PUSH/POP/PUSHA/POPA/
// PUSHF/POPF/ENTER/LEAVE/CALL/RET). The runner compares the stack window too.

import { ARITH, Rng, hex, type DiffCase, type DiffGroup } from '../diff-case.js';
import { DATA_ADDR, STACK_TOP } from '../layout.js';

export function stackGroup(): DiffGroup {
  const rng = new Rng(0x57ac);
  const cases: DiffCase[] = [];
  const regs = () => ({ eax: rng.u32(), ecx: rng.u32(), edx: rng.u32(), ebx: rng.u32(), ebp: rng.u32(), esi: rng.u32(), edi: rng.u32() });
  cases.push({ name: 'push r32 / pop r32', asm: 'push eax\npush ebx\npush ecx\npop edx\npop esi\npop edi', regs: regs() });
  cases.push({ name: 'push r16 / pop r16', asm: 'push ax\npush bx\npop cx\npop dx', regs: regs() });
  cases.push({ name: 'push esp / pop esp', asm: 'push esp\npop eax\npush esp\npop esp', regs: regs() });
  cases.push({ name: 'push sp (16)', asm: 'push sp\npop ax', regs: regs() });
  cases.push({ name: 'push imm8/imm32/imm16', asm: 'push byte -3\npush dword 0x12345678\npush word 0x9abc\npop ax\npop ebx\npop ecx', regs: regs() });
  cases.push({ name: 'push m / pop m', asm: 'push dword [DATA]\npush word [DATA+4]\npop word [DATA+8]\npop dword [DATA+12]', data: [1, 2, 3, 4, 5, 6, 7, 8] });
  cases.push({ name: 'pop [esp] uses ESP after the pop', asm: 'push dword 0x11111111\npush dword 0x22222222\npop dword [esp]\npop eax' });
  cases.push({ name: 'pop [esp+4]', asm: 'push dword 1\npush dword 2\npush dword 3\npop dword [esp+4]\npop eax\npop ebx' });
  cases.push({ name: 'pushad / popad', asm: 'pushad\nmov eax, 0\nmov ebx, 0\nmov ebp, 0\npopad', regs: regs() });
  cases.push({ name: 'pushad then inspect', asm: 'pushad\npop eax\npop ebx\npop ecx\npop edx\npop esi\npop edi\npop ebp\npop ebx', regs: regs() });
  cases.push({ name: 'popad skips ESP', asm: 'push dword 1\npush dword 2\npush dword 3\npush dword 0xdead\npush dword 5\npush dword 6\npush dword 7\npush dword 8\npopad' });
  cases.push({ name: 'pushaw / popaw', asm: 'pushaw\npopaw\npushaw\npop ax\npop bx', regs: regs() });
  for (let i = 0; i < 24; i++) {
    const flags = rng.u32() & (ARITH | (1 << 10));
    cases.push({ name: `pushfd #${i}`, asm: 'pushfd\npop eax', flags });
    cases.push({ name: `pushfw #${i}`, asm: 'pushfw\npop ax', flags });
  }
  // POPF at CPL 3, IOPL 0: arithmetic flags, DF, AC, ID and NT change; IF and IOPL are kept silently; TF is never set here.
  const popfValues = [0, 0xffffffff, 0x00000cd5, 0x00240000, 0x00003200, 0x00000200 ^ 0xfff, rng.u32(), rng.u32()].map((v) => (v & ~(1 << 8)) >>> 0);
  for (const v of popfValues) {
    cases.push({ name: `popfd ${hex(v)}`, asm: `push dword ${hex(v)}\npopfd\npushfd\npop eax\npush dword 0x202\npopfd`, flags: ARITH });
    cases.push({ name: `popfw ${hex(v & 0xffff)}`, asm: `push word ${hex(v & 0xffff)}\npopfw\npushfd\npop eax\npush dword 0x202\npopfd`, flags: ARITH });
    cases.push({ name: `popfd keeps ${hex(v)}`, asm: `push dword ${hex(v & ~(1 << 18))}\npopfd` });
  }
  for (const level of [0, 1, 2, 3, 5]) {
    for (const size of [0, 8, 0x104]) {
      // EBP chain inside the stack window: level > 1 copies frame pointers from [EBP-4]...
      cases.push({
        name: `enter ${size},${level}`,
        asm: `enter ${size}, ${level}\nmov eax, esp\nmov ebx, ebp\nleave`,
        regs: { ebp: STACK_TOP + 0x20 },
      });
      cases.push({ name: `enter ${size},${level} no leave`, asm: `enter ${size}, ${level}\nmov eax, esp`, regs: { ebp: STACK_TOP + 0x30 } });
    }
  }
  cases.push({ name: 'enterw / leavew', asm: 'db 0x66\nenter 12, 2\nmov eax, esp\ndb 0x66\nleave', regs: { ebp: STACK_TOP + 0x10 } });
  cases.push({ name: 'leave', asm: 'leave', regs: { ebp: STACK_TOP + 0x8 } });
  cases.push({ name: 'call/ret', asm: 'call .f\nmov ebx, eax\njmp .e\n.f:\nmov eax, [esp]\nret\n.e:' });
  cases.push({ name: 'ret imm16', asm: 'push dword 1\npush dword 2\ncall .f\njmp .e\n.f:\nret 8\n.e:' });
  cases.push({ name: 'call indirect reg', asm: 'call .next\n.next:\npop eax\nadd eax, .f - .next\ncall eax\njmp .e\n.f:\nmov ecx, 7\nret\n.e:' });
  cases.push({ name: 'call indirect mem', asm: `call .next\n.next:\npop eax\nadd eax, .f - .next\nmov [DATA], eax\ncall [DATA]\njmp .e\n.f:\nmov ecx, 9\nret\n.e:` });
  cases.push({ name: 'jmp indirect mem', asm: `call .next\n.next:\npop eax\nadd eax, .f - .next\nmov [DATA+4], eax\njmp [DATA+4]\nmov ecx, 1\n.f:\nmov edx, 2` });
  cases.push({ name: 'push data address', asm: `push dword ${hex(DATA_ADDR)}\npop eax\nmov dword [eax], 0x55aa55aa` });
  return { name: 'stack', cases };
}
