// Validates the host side of the differential tests on its own: the runner must
// report facts the SDM and the fact sheet state, or every comparison built on it
// would be meaningless.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleSnippets } from './toolchain.js';
import { runOnHost, type SnippetInput } from './host-cpu.js';
import { ASM_PRELUDE, AF, CF, OF, PF, SF, ZF, initialData, initialRegs, type DiffCase } from './diff-case.js';
import { startEflags } from './differential.js';
import { CODE_ADDR, DATA_ADDR, STACK_TOP, STACK_WINDOW } from './layout.js';
import { GROUP_BUILDERS } from './groups/index.js';

async function runCases(cases: DiffCase[]) {
  const codes = await assembleSnippets(cases.map((c) => c.asm), ASM_PRELUDE);
  const inputs: SnippetInput[] = cases.map((c, i) => ({ code: codes[i], regs: initialRegs(c, STACK_TOP), eflags: startEflags(c), data: initialData(c) }));
  return { codes, outcomes: await runOnHost(inputs) };
}

const ARITH6 = CF | PF | AF | ZF | SF | OF;

test('host runner: registers, flags, data and stack come back', async () => {
  const { codes, outcomes } = await runCases([
    { name: 'add', asm: 'add eax, ebx', regs: { eax: 0x7fffffff, ebx: 1 } },
    { name: 'store', asm: 'mov dword [DATA+4], 0x11223344\npush dword 0xaabbccdd', data: [9, 8, 7, 6] },
    { name: 'std', asm: 'std\nmov esi, 5', flags: CF },
  ]);
  const [add, store, std] = outcomes;
  assert.equal(add.vector, -1);
  assert.equal(add.regs[0], 0x80000000);
  assert.equal(add.regs[3], 1);
  assert.equal(add.regs[4], STACK_TOP, 'ESP starts at STACK_TOP');
  assert.equal(add.regs[1], 0x89abcdef, 'untouched registers keep their defaults');
  // 0x7fffffff + 1: OF SF AF set, ZF CF clear, PF from 0x00 (even) set.
  assert.equal(add.eflags & ARITH6, OF | SF | AF | PF);
  assert.equal(add.eip, CODE_ADDR + codes[0].length);
  assert.deepEqual([...store.data.subarray(0, 8)], [9, 8, 7, 6, 0x44, 0x33, 0x22, 0x11]);
  assert.equal(store.regs[4], STACK_TOP - 4);
  const slot = STACK_TOP - 4 - STACK_WINDOW;
  assert.deepEqual([...store.stack.subarray(slot, slot + 4)], [0xdd, 0xcc, 0xbb, 0xaa]);
  assert.equal(store.stack.filter((b) => b !== 0).length, 4, 'nothing else on the stack window changed');
  assert.equal(std.eflags & ((1 << 10) | CF), (1 << 10) | CF, 'DF and CF seen after the snippet');
  assert.equal(std.regs[6], 5);
});

test('host runner: faults report vector, error code, faulting EIP and state', async () => {
  const { outcomes } = await runCases([
    { name: 'div0', asm: 'mov ecx, 0\ndiv ecx', regs: { eax: 5, edx: 0 } },
    { name: 'idiv overflow', asm: 'idiv ebx', regs: { edx: 0xffffffff, eax: 0x80000000, ebx: 0xffffffff } },
    { name: 'ud2', asm: 'nop\nud2' },
    { name: 'hlt', asm: 'hlt' },
    { name: 'lock add reg', asm: 'db 0xf0, 0x01, 0xd8' },
    { name: 'aam 0', asm: 'aam 0', regs: { eax: 0x1234 } },
    { name: 'int3', asm: 'int3' },
    { name: 'segv', asm: 'mov eax, [0]' },
  ]);
  const [div0, idiv, ud2, hlt, lock, aam0, int3, segv] = outcomes;
  assert.equal(div0.vector, 0);
  assert.equal(div0.eip, CODE_ADDR + 5, '#DE is a fault: EIP of the DIV');
  assert.equal(div0.regs[0], 5, 'registers untouched by the faulting DIV');
  assert.equal(idiv.vector, 0);
  assert.equal(ud2.vector, 6);
  assert.equal(ud2.eip, CODE_ADDR + 1);
  assert.equal(hlt.vector, 13);
  assert.equal(hlt.errorCode, 0);
  assert.equal(lock.vector, 6);
  assert.equal(aam0.vector, 0);
  assert.equal(int3.vector, 3);
  assert.equal(int3.eip, CODE_ADDR + 1, '#BP is a trap: EIP after INT3');
  assert.equal(segv.vector, 14);
});

test('host runner: AMD values the fact sheet lists (§6) are what the host does', async () => {
  const { outcomes } = await runCases([
    { name: 'shl al,8', asm: 'shl al, 8', regs: { eax: 0x81 } },
    { name: 'shl al,9', asm: 'shl al, 9', regs: { eax: 0x81 } },
    { name: 'shld ax,bx,17', asm: 'shld ax, bx, 17', regs: { eax: 0x1234, ebx: 0x5678 } },
    { name: 'shrd ax,bx,20', asm: 'shrd ax, bx, 20', regs: { eax: 0x1234, ebx: 0x5678 } },
    { name: 'div flags', asm: 'div ebx', regs: { eax: 100, edx: 0, ebx: 7 }, flags: ARITH6 },
    { name: 'bsf zero', asm: 'bsf eax, ebx', regs: { eax: 0x12345678, ebx: 0 } },
    { name: 'daa 0x7f', asm: 'daa', regs: { eax: 0x7f } },
    { name: 'bswap16', asm: 'db 0x66, 0x0f, 0xc8', regs: { eax: 0x12345678 } },
  ]);
  const [shl8, shl9, shld, shrd, div, bsf, daa, bswap16] = outcomes;
  assert.equal(shl8.regs[0] & 0xff, 0);
  assert.equal(shl8.eflags & (CF | OF), CF | OF);
  assert.equal(shl9.eflags & (CF | OF), 0);
  assert.equal(shld.regs[0] & 0xffff, 0xacf0);
  assert.equal(shrd.regs[0] & 0xffff, 0x8567);
  assert.equal(div.regs[0], 14);
  assert.equal(div.eflags & ARITH6, AF | CF | OF, 'DIV: S=0 Z=0 P=0 A=1, O and C kept');
  assert.equal(bsf.regs[0], 0x12345678, 'BSF of 0 keeps the destination');
  assert.equal(bsf.eflags & ARITH6, ZF | PF);
  assert.equal(daa.regs[0] & 0xff, 0x85);
  assert.equal(daa.eflags & OF, OF);
  assert.equal(bswap16.regs[0], 0x12340000);
});

test('host runner: every group assembles and runs, with the data buffer at DATA', async () => {
  let total = 0;
  for (const build of GROUP_BUILDERS) {
    const group = build();
    const { outcomes } = await runCases(group.cases);
    assert.equal(outcomes.length, group.cases.length);
    total += outcomes.length;
  }
  const { outcomes } = await runCases([{ name: 'data address', asm: `mov eax, DATA\nmov byte [eax], 0x5a` }]);
  assert.equal(outcomes[0].regs[0], DATA_ADDR);
  assert.equal(outcomes[0].data[0], 0x5a);
  assert.ok(total > 10000, `only ${total} cases`);
});
