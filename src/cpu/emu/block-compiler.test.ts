// Differential test of the block compiler's inline forms (block-inline.ts): every
// snippet runs once interpreted and once with all its blocks compiled, from the
// same random register and memory state; registers, EFLAGS, EIP and the data area
// must agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, machine, runToExit, type TestMachine } from './emu-test-machine.test.js';
import { CHAIN_DEPTH, compileBlock, type CompiledBlock } from './block-compiler.js';
import type { VcpuRegisters } from '../../hypervisor/vcpu/backend.js';
import { xorshift32 } from '../../../test/support/fuzz.js';

const DATA = 0x3000;
const DATA_BYTES = 0x400;

interface Start {
  regs: VcpuRegisters;
  data: Uint8Array;
}

function randomStart(next: () => number): Start {
  const pick = () => {
    // Mix of small, boundary and random values so carries, zero and sign results all occur.
    const k = next() % 6;
    return [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, next()][k] ^ (k === 5 ? 0 : next() % 3);
  };
  const regs: VcpuRegisters = {
    eax: pick(), ecx: pick(), edx: pick(), ebx: DATA + (next() % 0x100) * 4, esp: 0x8000, ebp: pick(),
    esi: DATA + 0x200 + (next() % 0x40) * 4, edi: pick(), eip: 0x1000, eflags: 2 | (next() & 0x8d5),
  };
  const data = new Uint8Array(DATA_BYTES);
  for (let k = 0; k < DATA_BYTES; k++) data[k] = next() & 0xff;
  return { regs, data };
}

function load(m: TestMachine, s: Start): void {
  m.vcpu.setRegisters(s.regs);
  m.vcpu.cpu.halted = false; // the warm-up run ended on HLT
  m.memory.write(DATA, s.data);
}

function finish(m: TestMachine, what: string): { regs: VcpuRegisters; data: number[] } {
  const exit = runToExit(m.vcpu);
  assert.equal(exit.kind, 'hlt', `${what}: ${JSON.stringify(exit)}`);
  return { regs: m.vcpu.getRegisters(), data: [...m.memory.read(DATA, DATA_BYTES)] };
}

/** Compile every cached block of the machine; returns how many compiled. */
function compileAll(m: TestMachine): number {
  let n = 0;
  for (const page of m.vcpu.cache['pages'].values()) {
    for (const b of page.all) {
      if (!b.valid) continue;
      b.compiled = compileBlock(b, m.vcpu.cache);
      if (b.compiled !== null) n++;
    }
  }
  return n;
}

function differential(source: string, seeds = 24, setup: (m: TestMachine) => void = () => {}): void {
  const code = assemble(`${source}\nhlt`, 32);
  for (let seed = 1; seed <= seeds; seed++) {
    const start = randomStart(xorshift32(seed * 7919 + source.length));
    const interp = machine(code, 'flat32');
    setup(interp);
    load(interp, start);
    const want = finish(interp, `interpreted ${source}`);
    const comp = machine(code, 'flat32');
    setup(comp);
    load(comp, start);
    finish(comp, `warm-up ${source}`); // decodes the blocks
    assert.ok(compileAll(comp) > 0, 'blocks compiled');
    load(comp, start);
    const got = finish(comp, `compiled ${source}`);
    assert.deepEqual(got.regs, want.regs, `${source} (seed ${seed})`);
    assert.deepEqual(got.data, want.data, `${source} data (seed ${seed})`);
  }
}

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const CONDS = ['o', 'no', 'b', 'ae', 'z', 'nz', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

test('compiled ALU forms (reg, imm, memory) agree with the interpreter, including EFLAGS', () => {
  for (const op of ALU) {
    differential(`${op} eax, ecx\n${op} edx, 0x12345678\n${op} edi, -3`);
    differential(`${op} ecx, eax\n${op} ebp, [ebx + 8]\nmov edx, 5`);
    differential(`${op} [ebx + 4], eax\n${op} dword [esi + ecx * 0 - 8], 0x7f\nmov edx, eax`);
    differential(`${op} dword [ebx], 1\nlea eax, [ebx + esi * 4 + 0x10]`);
  }
});

test('compiled carry chains (ADC/SBB after every flag writer, INC/DEC keeping CF) agree with the interpreter', () => {
  for (const first of ['add eax, ecx', 'sub edx, ebp', 'xor eax, edi', 'adc edi, edx', 'sbb ecx, eax', 'inc eax', 'dec edx', 'cmp ecx, [ebx]', 'mov eax, edx']) {
    for (const second of ['adc edx, ebp', 'sbb edi, [ebx]', 'adc [esi], eax', 'sbb dword [ebx + 4], 7', 'adc eax, 0']) {
      differential(`${first}\n${second}\ninc ecx\nadc edx, edx\ndec ebp\nsbb eax, eax\nmov [ebx + 16], eax`, 4);
    }
  }
});

test('compiled MOV/LEA/TEST and memory stores agree with the interpreter', () => {
  differential('mov eax, ecx\nmov edx, 0xdeadbeef\nmov [ebx + 12], eax\nmov ebp, [esi - 4]\nmov dword [ebx], 0x55aa\ntest eax, edx\nlea edi, [ebx + esi * 2 + 7]\nlea ecx, [eax * 8]');
  differential('cmp eax, 0x12345\nadc eax, 0x7fffffff\nsbb eax, -1\nsetb dl\ntest eax, 0x80000001\nsetnz cl\ntest edi, 0x700\nsets ch\ntest [ebx + 4], esi\nsetz dh\ntest dword [esi], 0x55\nseto al\nand eax, 0x7fff\nxor eax, 0x100\nsub eax, 9\nsetle bl');
  differential('test ecx, ecx\nmov eax, [ebx]\nadd eax, [ebx + 4]\nmov [esi], eax\ninc ecx\ndec edx');
});

test('compiled Jcc agrees with the interpreter after every kind of flag writer', () => {
  for (const cc of CONDS) {
    for (const setter of ['cmp eax, ecx', 'sub edx, eax', 'add eax, edx', 'and ecx, edx', 'test eax, eax', 'xor edi, ebp', 'adc eax, ecx', 'sbb edx, ebp', 'inc edx', 'dec ecx', 'cmp dword [ebx], 3', 'adc eax, [ebx]']) {
      differential(`${setter}\nmov ebp, eax\nj${cc} taken\nmov edi, 1\ntaken: mov esi, 2`, 6);
    }
  }
});

test('a compiled self loop runs to completion and agrees with the interpreter', () => {
  differential('and ecx, 0xff\ninc ecx\nxor eax, eax\nagain: add eax, [ebx]\nadc edx, ecx\nmov [esi], eax\nsub ecx, 1\njnz again');
  differential('mov ecx, 300\nagain: add eax, ecx\ndec ecx\njnz again');
});

/** A machine with `source` loaded and the block at `at` decoded and compiled before anything runs. */
function precompiled(source: string, at: number): TestMachine {
  const m = machine(assemble(`${source}\nhlt`, 32), 'flat32');
  m.vcpu.setRegisters({ eax: 0, ecx: 0, edx: 0, ebx: 0, esp: 0x8000, ebp: 0, esi: 0, edi: 0, eip: at, eflags: 2 });
  const b = m.vcpu.cache.find();
  b.compiled = compileBlock(b);
  assert.ok(b.compiled !== null);
  m.vcpu.cpu.eip = 0x1000;
  return m;
}

test('a compiled self loop stays inside its function and honours the budget', () => {
  // 0x1000: mov ecx, 300 (5 bytes); 0x1005: the loop.
  const m = precompiled('mov ecx, 300\nagain: add eax, ecx\ndec ecx\njnz again', 0x1005);
  const cpu = m.vcpu.cpu;
  cpu.eip = 0x1005;
  const b = m.vcpu.cache.find();
  cpu.regs[1] = 300;
  cpu.eip = 0x1005;
  const before = cpu.instructions;
  assert.equal(b.compiled!(cpu, 1_000_000, 0), 4, 'the last round falls through to HLT');
  assert.equal(cpu.instructions - before, 897, 'all 300 rounds in one call');
  assert.equal(cpu.regs[0], 45150);
  assert.equal(cpu.eip, 0x100b);
  cpu.halted = false;
  cpu.regs[1] = 300;
  cpu.eip = 0x1005;
  assert.equal(b.compiled!(cpu, 30, 0), 3, 'stops at the budget');
  assert.equal(cpu.instructions - before, 897 + 27);
  assert.equal(cpu.regs[1], 290);
  assert.equal(cpu.eip, 0x1005);
  cpu.regs[1] = 300;
  cpu.eip = 0x1005;
  cpu.intrLine = true;
  cpu.flags |= 0x200;
  assert.equal(b.compiled!(cpu, 1_000_000, 0), 3, 'a pending interrupt ends the loop after one round');
});

test('a compiled self loop stops on a write to its own code', () => {
  // The loop patches the immediate of its own "mov edx" each round; every round must see the new value.
  const m = precompiled('mov ecx, 10\nagain: mov edx, 0\nadd eax, edx\nmov [again + 1], ecx\nsub ecx, 1\njnz again', 0x1005);
  const r = finish(m, 'smc loop').regs;
  // Rounds add 0, 10, 9, ..., 2 (a loop that missed the write would keep adding 0).
  assert.equal(r.eax, 54);
});

test('compiled PUSH/POP and unaligned or page-crossing memory operands agree with the interpreter', () => {
  differential('push eax\npush ecx\npop edx\npush esp\npop ebp\nmov [ebx + 1], eax\nmov edi, [ebx + 3]\nadd [esi + 2], ecx\npop esi\npush dword 7\npop esp');
  // A stack that straddles a page boundary and an unaligned ESP take the slow path.
  differential('mov esp, 0x3002\npush eax\npush ecx\npop edi\nmov esp, 0x3ffe\npush edx\nmov eax, [0x3ffe]\npop ecx\nmov esp, 0x8000');
});

test('compiled memory operands honour segment bases and a non-flat segment', () => {
  const fsBase = (m: TestMachine) => {
    m.vcpu.cpu.segBase[4] = 0x100; // FS
  };
  differential('mov eax, [fs:ebx]\nadd [fs:esi + 4], eax\nmov [fs:ebx + 8], edx\nsub ecx, [fs:ebx]', 12, fsBase);
  // DS limit below the data area: every access must fault (#GP, no IDT: triple fault) exactly as interpreted.
  const shortDs = (m: TestMachine) => {
    m.vcpu.cpu.segLimit[3] = 0x2fff;
  };
  for (const source of ['mov eax, [ebx]', 'mov [ebx], eax', 'add [ebx], eax', 'cmp eax, [ebx]', 'movzx eax, byte [ebx]', 'cmovz eax, [ebx]', 'imul eax, [ebx], 3']) {
    const code = assemble(`mov ecx, 5\n${source}\nhlt`, 32);
    for (const compiled of [false, true]) {
      const m = machine(code, 'flat32');
      shortDs(m);
      m.vcpu.setRegisters({ eax: 1, ecx: 0, edx: 0, ebx: DATA, esp: 0x8000, ebp: 0, esi: 0, edi: 0, eip: 0x1000, eflags: 2 });
      if (compiled) {
        const b = m.vcpu.cache.find();
        b.compiled = compileBlock(b, m.vcpu.cache);
        assert.ok(b.compiled !== null);
      }
      const exit = runToExit(m.vcpu);
      assert.equal(exit.kind, 'triple-fault', `${source} compiled=${compiled}`);
      assert.equal(m.vcpu.getRegisters().ecx, 5, 'the instruction before the fault completed');
      assert.equal(m.vcpu.getRegisters().eip, 0x1005, 'EIP of the faulting instruction');
      assert.equal(m.vcpu.getRegisters().esp, 0x8000);
    }
  }
  // A read-only DS: loads use the fast path's checks, stores must #GP.
  const readOnlyDs = (m: TestMachine) => {
    m.vcpu.cpu.segAttr[3] &= ~2;
  };
  differential('mov eax, [ebx]\nadd edx, [ebx + 4]', 4, readOnlyDs);
});

test('aligned accesses to flat segments skip the SegmentedMemory calls in compiled code', () => {
  const m = precompiled('mov eax, [ebx]\nmov [ebx + 4], eax\nadd [ebx + 8], eax\npush eax\npop ecx', 0x1000);
  const cpu = m.vcpu.cpu;
  const smem = cpu.smem;
  let calls = 0;
  const read32 = smem.read32.bind(smem);
  const write32 = smem.write32.bind(smem);
  smem.read32 = (seg, off) => (calls++, read32(seg, off));
  smem.write32 = (seg, off, v) => (calls++, write32(seg, off, v));
  m.memory.write(DATA, new Uint8Array([1, 2, 3, 4]));
  const again = () => {
    cpu.regs.fill(0);
    cpu.regs[3] = DATA;
    cpu.regs[4] = 0x8000;
    cpu.eip = 0x1000;
    cpu.halted = false;
    finish(m, 'flat run');
  };
  again(); // the first touch of each page fills the TLB through the slow path
  assert.ok(calls > 0, 'slow path while the TLB is empty');
  calls = 0;
  again();
  assert.equal(calls, 0, 'TLB hits stay inline');
  assert.equal(m.vcpu.getRegisters().ecx, 0x04030201);
  assert.deepEqual([...m.memory.read(DATA + 4, 4)], [1, 2, 3, 4]);
});

test('compiled MOVZX/MOVSX, SETcc, CMOVcc, IMUL and shifts agree with the interpreter', () => {
  differential('movzx eax, cl\nmovzx edx, ch\nmovsx edi, dh\nmovsx ebp, ax\nmovzx ecx, word [ebx + 2]\nmovsx esi, byte [ebx + 5]\nmovsx edx, word [ebx + 1]\nmovzx eax, byte [ebx + 7]');
  for (const cc of CONDS) {
    for (const setter of ['cmp eax, ecx', 'add edx, eax', 'test eax, eax', 'shl edx, 3', 'sar eax, 31', 'shr ecx, cl', 'imul eax, ecx', 'inc edx']) {
      differential(`${setter}\nset${cc} al\nset${cc} dh\ncmov${cc} ebp, ecx\ncmov${cc} esi, [ebx + 4]`, 3);
    }
  }
  for (const op of ['shl', 'shr', 'sar', 'sal']) {
    for (const count of ['1', '5', '31', 'cl']) {
      differential(`${op} eax, ${count}\nadc edx, 0\n${op} ecx, ${count}\njo over\nsetc bl\nover: ${op} edi, ${count}\nsets bh\nsetz dl`, 6);
    }
  }
  differential('imul eax, ecx\nimul edx, [ebx + 8], 1000\nimul ebp, edi, -7\njo over\nimul ecx, eax\nover: adc esi, 0\nimul edi, edi, 0x10001\nseto al');
});

test('compiled blocks chain into their linked successors and agree with the interpreter', () => {
  // top..jmp and mid..jnz are two blocks that branch to each other.
  const loop = 'and ecx, 0x3f\nadd ecx, 20\ntop: add eax, ecx\ncmp eax, edx\njb skip\nxor eax, 3\nmov [ebx], eax\nskip: push eax\njmp mid\nhlt\nmid: pop edi\nadd [ebx + 4], edi\ndec ecx\njnz top\nadd esi, 1';
  differential(loop, 8);
  // The same loop with every block compiled from the start: later rounds run block to block without the run loop.
  const m = machine(assemble(`${loop}\nhlt`, 32), 'flat32');
  const start = randomStart(xorshift32(5));
  load(m, start);
  finish(m, 'warm-up');
  compileAll(m);
  const depths: number[] = [];
  for (const page of m.vcpu.cache['pages'].values()) {
    for (const b of page.all) {
      const f = b.compiled;
      if (f === null) continue;
      const counted: CompiledBlock = (cpu, budget, depth) => (depths.push(depth), f(cpu, budget, depth));
      b.compiled = counted;
    }
  }
  load(m, start);
  const got = finish(m, 'chained');
  const want = machine(assemble(`${loop}\nhlt`, 32), 'flat32');
  load(want, start);
  assert.deepEqual(got.regs, finish(want, 'interpreted').regs);
  assert.ok(depths.some((d) => d > 0), 'some block ran chained');
  assert.ok(depths.every((d) => d <= CHAIN_DEPTH), 'chains are bounded');
});
