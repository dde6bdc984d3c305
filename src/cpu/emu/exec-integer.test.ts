// Integer instruction groups on EmuVcpu: results and flags (AMD values for the
// undefined ones, fact sheet §6), in real mode and flat 32-bit protected mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram, type TestMachine } from './emu-test-machine.test.js';

const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ARITH = CF | PF | AF | ZF | SF | OF;

function regs(m: TestMachine) {
  return m.vcpu.getRegisters();
}
function dword(m: TestMachine, addr: number): number {
  return m.memory.readU32(addr);
}

/** Run 32-bit `body`, which leaves a value in EAX; returns [eax, arithmetic flags after body]. */
function flagsOf(body: string): { eax: number; flags: number } {
  const m = runProgram(`${body}\npushfd\npop edx\nhlt`, 'flat32');
  const r = regs(m);
  return { eax: r.eax, flags: r.edx & ARITH };
}

test('ADD/SUB/ADC/SBB/CMP/NEG flags', () => {
  assert.deepEqual(flagsOf('mov eax, 0x7fffffff\nadd eax, 1'), { eax: 0x80000000, flags: SF | OF | AF | PF });
  assert.deepEqual(flagsOf('mov eax, 0xffffffff\nadd eax, 1'), { eax: 0, flags: ZF | CF | AF | PF });
  assert.deepEqual(flagsOf('mov eax, 0\nsub eax, 1'), { eax: 0xffffffff, flags: SF | CF | AF | PF });
  assert.deepEqual(flagsOf('mov eax, 0x80000000\nsub eax, 1'), { eax: 0x7fffffff, flags: OF | AF | PF });
  assert.deepEqual(flagsOf('stc\nmov eax, 0xffffffff\nadc eax, 0'), { eax: 0, flags: ZF | CF | AF | PF });
  assert.deepEqual(flagsOf('stc\nmov eax, 0\nsbb eax, 0xffffffff'), { eax: 0, flags: ZF | CF | AF | PF });
  assert.deepEqual(flagsOf('mov eax, 5\ncmp eax, 7'), { eax: 5, flags: SF | CF | AF });
  assert.deepEqual(flagsOf('mov eax, 1\nneg eax'), { eax: 0xffffffff, flags: SF | CF | AF | PF });
  assert.deepEqual(flagsOf('xor eax, eax\nneg eax'), { eax: 0, flags: ZF | PF });
  // 8-bit and 16-bit forms keep the rest of the register.
  assert.deepEqual(flagsOf('mov eax, 0x123456ff\nadd al, 1'), { eax: 0x12345600, flags: ZF | CF | AF | PF });
  assert.deepEqual(flagsOf('mov eax, 0x1234ffff\ninc ax'), { eax: 0x12340000, flags: ZF | AF | PF });
  assert.deepEqual(flagsOf('mov eax, 0x12348000\nsub ah, 1'), { eax: 0x12347f00, flags: OF | AF });
});

test('INC/DEC keep CF; logic ops clear CF OF AF', () => {
  assert.deepEqual(flagsOf('stc\nmov eax, 0x7f\ninc al'), { eax: 0x80, flags: CF | SF | OF | AF });
  assert.deepEqual(flagsOf('clc\nmov eax, 1\ndec eax'), { eax: 0, flags: ZF | PF });
  assert.deepEqual(flagsOf('stc\nmov eax, 0xf0\nand eax, 0x3c'), { eax: 0x30, flags: PF });
  assert.deepEqual(flagsOf('mov eax, 0x80000000\nor eax, 1'), { eax: 0x80000001, flags: SF });
  assert.deepEqual(flagsOf('mov eax, 0x55\ntest al, 0xaa'), { eax: 0x55, flags: ZF | PF });
});

test('shifts and rotates: count edge cases and AMD flag values', () => {
  assert.deepEqual(flagsOf('mov eax, 0x80000001\nshl eax, 1'), { eax: 2, flags: OF | CF | AF });
  assert.equal(flagsOf('mov eax, 0xc0000001\nshl eax, 2').flags & OF, OF);
  assert.deepEqual(flagsOf('mov eax, 0x81\nmov cl, 8\nshl al, cl'), { eax: 0, flags: CF | OF | AF | ZF | PF });
  assert.deepEqual(flagsOf('mov eax, 0x81\nmov cl, 9\nshl al, cl'), { eax: 0, flags: AF | ZF | PF });
  // ROL by 8 on an 8-bit register: value unchanged, CF = low bit, OF = MSB ^ CF, SZAP kept.
  assert.deepEqual(flagsOf('xor edx, edx\nmov eax, 0x81\nmov cl, 8\nrol al, cl'), { eax: 0x81, flags: CF | ZF | PF });
  // Count 0 (masked from 32) changes nothing, flags included.
  assert.deepEqual(flagsOf('mov eax, 1\nadd eax, 0\nmov cl, 32\nshl eax, cl'), { eax: 1, flags: 0 });
  assert.deepEqual(flagsOf('mov eax, 0x80000000\nsar eax, 31'), { eax: 0xffffffff, flags: SF | PF | AF });
  assert.deepEqual(flagsOf('mov eax, 0x80000001\nshr eax, 1'), { eax: 0x40000000, flags: CF | OF | AF | PF });
  assert.deepEqual(flagsOf('stc\nmov eax, 0x80\nrcl al, 1'), { eax: 1, flags: CF | OF });
  assert.deepEqual(flagsOf('clc\nmov eax, 1\nrcr eax, 1'), { eax: 0, flags: CF }); // S Z A P untouched
  assert.deepEqual(flagsOf('clc\nmov eax, 0x01\nmov cl, 9\nrcl al, cl').eax, 1); // mod 9 = 0
  assert.equal(flagsOf('mov eax, 0x12345678\nror eax, 8').eax, 0x78123456);
  // SHLD/SHRD 16-bit with counts above 16 (fact sheet §6 measured values).
  const shld = (n: number) => flagsOf(`mov eax, 0x1234\nmov ebx, 0x5678\nmov cl, ${n}\nshld ax, bx, cl`).eax;
  assert.deepEqual([shld(17), shld(20), shld(31)], [0xacf0, 0x6785, 0x2b3c]);
  const shrd = (n: number) => flagsOf(`mov eax, 0x1234\nmov ebx, 0x5678\nmov cl, ${n}\nshrd ax, bx, cl`).eax;
  assert.deepEqual([shrd(17), shrd(20)], [0x2b3c, 0x8567]);
  assert.equal(flagsOf('mov eax, 0x12345678\nmov ebx, 0x9abcdef0\nshld eax, ebx, 8').eax, 0x3456789a);
  assert.equal(flagsOf('mov eax, 0x12345678\nmov ebx, 0x9abcdef0\nshrd eax, ebx, 8').eax, 0xf0123456);
});

test('MUL/IMUL/DIV/IDIV results and CF/OF', () => {
  let m = runProgram('mov eax, 0xffffffff\nmov ecx, 0xffffffff\nmul ecx\nhlt', 'flat32');
  assert.deepEqual([regs(m).eax, regs(m).edx], [1, 0xfffffffe]);
  m = runProgram('mov eax, -3\nmov ecx, 7\nimul ecx\nhlt', 'flat32');
  assert.deepEqual([regs(m).eax, regs(m).edx], [0xffffffeb, 0xffffffff]);
  assert.equal(flagsOf('mov eax, 0x10000\nimul eax, eax, 0x10000').flags & (CF | OF), CF | OF);
  assert.equal(flagsOf('mov eax, -2\nmov ebx, 3\nimul eax, ebx').eax, 0xfffffffa);
  assert.equal(flagsOf('mov eax, -2\nmov ebx, 3\nimul eax, ebx').flags & (CF | OF), 0);
  m = runProgram('mov edx, 5\nmov eax, 0x12345678\nmov ecx, 0x10000000\ndiv ecx\nhlt', 'flat32');
  assert.deepEqual([regs(m).eax, regs(m).edx], [0x51, 0x02345678]);
  m = runProgram('mov edx, -1\nmov eax, -100\nmov ecx, 7\nidiv ecx\nhlt', 'flat32');
  assert.deepEqual([regs(m).eax, regs(m).edx], [(-14) >>> 0, (-2) >>> 0]);
  m = runProgram('mov ax, 1000\nmov cl, 7\ndiv cl\nhlt', 'real');
  assert.equal(regs(m).eax & 0xffff, (6 << 8) | 142);
  // DIV flags on AMD: S=Z=P=0, A=1, O and C kept.
  assert.equal(flagsOf('xor edx, edx\nmov eax, 10\nmov ecx, 3\nstc\ndiv ecx').flags, AF | CF);
  m = runProgram('mov ax, -7\ncwd\nmov bx, 2\nidiv bx\nhlt', 'real');
  assert.deepEqual([regs(m).eax & 0xffff, regs(m).edx & 0xffff], [0xfffd, 0xffff]);
});

test('BCD adjustments (AMD undefined-flag values)', () => {
  assert.equal(flagsOf('mov eax, 0x1fa\naaa').eax, 0x300);
  const daa = flagsOf('mov eax, 0x7f\nadd eax, 0\ndaa');
  assert.deepEqual(daa, { eax: 0x85, flags: SF | OF | AF });
  const aad = flagsOf('mov eax, 0x0c08\naad');
  assert.equal(aad.eax, 0x80);
  assert.equal(aad.flags & OF, OF);
  assert.equal(flagsOf('mov eax, 0x4f\naam').eax, 0x0709);
  assert.equal(flagsOf('mov al, 0x35\nsub al, 0x17\ndas').eax & 0xff, 0x18);
});

test('bit instructions: BT family with memory bit strings, BSF/BSR, BSWAP', () => {
  const m = runProgram(
    [
      'mov dword [0x3000], 0', 'mov dword [0x3004], 0',
      'mov ebx, 0x3004', 'mov ecx, -1', 'bts [ebx], ecx', // bit 31 of the dword at 0x3000
      'mov ecx, 33', 'bts [ebx], ecx', // bit 1 of 0x3008
      'setc dl', 'bt dword [ebx], 1', 'setc dh', 'mov eax, 0xf0', 'btr eax, 36', 'setc cl', 'hlt',
    ].join('\n'),
    'flat32',
  );
  assert.equal(dword(m, 0x3000), 0x80000000);
  assert.equal(dword(m, 0x3008), 2);
  assert.equal(regs(m).edx & 0xffff, 0x0000);
  assert.equal(regs(m).eax, 0xe0);
  assert.equal(regs(m).ecx & 0xff, 1);
  const bsf = flagsOf('mov ebx, 0x00f00000\nbsf eax, ebx');
  assert.deepEqual([bsf.eax, bsf.flags & ZF], [20, 0]);
  assert.equal(flagsOf('mov ebx, 0x00f00000\nbsr eax, ebx').eax, 23);
  const zero = flagsOf('mov eax, 0x1234\nxor ebx, ebx\nbsf eax, ebx');
  assert.deepEqual(zero, { eax: 0x1234, flags: ZF | PF });
  assert.equal(flagsOf('mov ebx, 8\ndb 0xf3\nbsf eax, ebx').eax, 3); // REP BSF is BSF
  assert.equal(flagsOf('mov eax, 0x11223344\nbswap eax').eax, 0x44332211);
});

test('data movement: MOVZX/MOVSX, XCHG, XADD, CMPXCHG, CMPXCHG8B, CBW/CWDE/CDQ, LEA, SETcc, CMOVcc, XLAT, LAHF/SAHF', () => {
  let m = runProgram(
    [
      'mov ebx, 0x80', 'movsx eax, bl', 'movzx ecx, bl', 'mov dx, 0x8000', 'movsx esi, dx', 'lea edi, [ebx + ecx*4 + 0x10]', 'hlt',
    ].join('\n'),
    'flat32',
  );
  assert.deepEqual([regs(m).eax, regs(m).ecx, regs(m).esi, regs(m).edi], [0xffffff80, 0x80, 0xffff8000, 0x80 + 0x200 + 0x10]);
  m = runProgram(
    [
      'mov dword [0x3000], 5', 'mov eax, 5', 'mov ecx, 9', 'cmpxchg [0x3000], ecx', 'setz bl',
      'mov eax, 1', 'cmpxchg [0x3000], ecx', 'setz bh', 'mov esi, eax',
      'mov edx, 3', 'xadd [0x3000], edx', 'hlt',
    ].join('\n'),
    'flat32',
  );
  assert.equal(regs(m).ebx & 0xffff, 0x0001);
  assert.equal(regs(m).esi, 9);
  assert.equal(regs(m).edx, 9);
  assert.equal(dword(m, 0x3000), 12);
  m = runProgram(
    [
      'mov dword [0x3000], 0x11111111', 'mov dword [0x3004], 0x22222222',
      'mov eax, 0x11111111', 'mov edx, 0x22222222', 'mov ebx, 0xaaaaaaaa', 'mov ecx, 0xbbbbbbbb',
      'cmpxchg8b [0x3000]', 'setz byte [0x3010]', 'xor eax, eax', 'xor edx, edx', 'cmpxchg8b [0x3000]', 'setz byte [0x3011]', 'hlt',
    ].join('\n'),
    'flat32',
  );
  assert.deepEqual([dword(m, 0x3000), dword(m, 0x3004)], [0xaaaaaaaa, 0xbbbbbbbb]);
  assert.deepEqual([regs(m).eax, regs(m).edx], [0xaaaaaaaa, 0xbbbbbbbb]);
  assert.equal(m.memory.readU16(0x3010), 0x0001);
  assert.equal(flagsOf('mov eax, 0x8000\ncwde').eax, 0xffff8000);
  m = runProgram('mov eax, 0x80000000\ncdq\nhlt', 'flat32');
  assert.equal(regs(m).edx, 0xffffffff);
  m = runProgram('mov eax, 1\nmov ebx, 2\ncmp eax, ebx\ncmovl ecx, ebx\ncmovg edx, ebx\nhlt', 'flat32');
  assert.deepEqual([regs(m).ecx, regs(m).edx], [2, 0]);
  m = runProgram('mov byte [0x3005], 0x77\nmov ebx, 0x3000\nmov al, 5\nxlatb\nhlt', 'flat32');
  assert.equal(regs(m).eax & 0xff, 0x77);
  assert.equal(flagsOf('mov ah, 0xd5\nsahf\nmov eax, 0\nlahf').eax >> 8, 0xd7);
});

test('stack: PUSH/POP forms, PUSHA/POPA, ENTER/LEAVE, PUSHF/POPF', () => {
  let m = runProgram(
    [
      'mov eax, 1', 'mov ecx, 2', 'mov edx, 3', 'mov ebx, 4', 'mov ebp, 6', 'mov esi, 7', 'mov edi, 8',
      'pushad', 'mov eax, [esp + 12]', 'mov [0x3000], eax', 'xor eax, eax', 'xor ecx, ecx', 'popad',
      'push esp', 'pop dword [0x3004]', 'push word 0x1234', 'pop bx', 'push -2', 'pop esi', 'hlt',
    ].join('\n'),
    'flat32',
  );
  assert.equal(dword(m, 0x3000), 0x8000); // the ESP that PUSHAD saw
  assert.deepEqual([regs(m).eax, regs(m).ecx, regs(m).esp], [1, 2, 0x8000]);
  assert.equal(dword(m, 0x3004), 0x8000);
  assert.equal(regs(m).ebx & 0xffff, 0x1234);
  assert.equal(regs(m).esi, 0xfffffffe);
  m = runProgram('mov ebp, 0x1111\nenter 16, 0\nmov [0x3000], ebp\nmov [0x3004], esp\nleave\nhlt', 'flat32');
  assert.deepEqual([dword(m, 0x3000), dword(m, 0x3004), regs(m).esp, regs(m).ebp], [0x7ffc, 0x7fec, 0x8000, 0x1111]);
  m = runProgram('mov ebp, 0x7000\nenter 8, 2\nhlt', 'flat32');
  // level 2: push ebp, push [ebp-4], push frame temp.
  assert.equal(regs(m).ebp, 0x7ffc);
  assert.equal(regs(m).esp, 0x7ffc - 8 - 8);
  m = runProgram('push dword 0x2d5\npopfd\npushfd\npop eax\nhlt', 'flat32');
  assert.equal(regs(m).eax, 0x2d7 & ~0x8 | 0x2); // reserved bits read as fixed values
});

test('16-bit addressing: BP forms default to SS, offsets wrap at 64 KiB', () => {
  const m = runProgram(
    [
      'mov ax, 0x200', 'mov ss, ax', 'mov ax, 0x300', 'mov ds, ax',
      'mov bp, 0x10', 'mov si, 0x4', 'mov word [bp+si], 0xbeef', // SS:0x14 = 0x2014
      'mov bx, 0xfffe', 'mov di, 0x4', 'mov word [bx+di], 0xcafe', // DS:0x0002 (wraps) = 0x3002
      'mov word [ds:bp+si+2], 0xf00d', // DS override: 0x3016
      'hlt',
    ].join('\n'),
    'real',
  );
  assert.equal(m.memory.readU16(0x2014), 0xbeef);
  assert.equal(m.memory.readU16(0x3002), 0xcafe);
  assert.equal(m.memory.readU16(0x3016), 0xf00d);
});

test('control flow: Jcc, LOOP, JCXZ, CALL/RET near (16 and 32)', () => {
  let m = runProgram(
    [
      'xor eax, eax', 'mov ecx, 10', 'l1: add eax, ecx', 'loop l1', 'jecxz ok', 'mov eax, -1', 'ok:',
      'call fn', 'jmp done', 'fn: add eax, 100', 'ret', 'done: hlt',
    ].join('\n'),
    'flat32',
  );
  assert.equal(regs(m).eax, 155);
  m = runProgram(['xor ax, ax', 'call f16', 'call f16', 'hlt', 'f16: inc ax', 'ret'].join('\n'), 'real');
  assert.equal(regs(m).eax & 0xffff, 2);
  assert.equal(regs(m).esp, 0x8000);
  m = runProgram(['mov eax, 3', 'cmp eax, 3', 'jne bad', 'jle good', 'bad: mov ebx, 1', 'good: hlt'].join('\n'), 'flat32');
  assert.equal(regs(m).ebx, 0);
  m = runProgram(['push dword 0', 'push word 0', 'push word after', 'ret 4', 'after: hlt'].join('\n'), 'real');
  assert.equal(regs(m).esp & 0xffff, 0x8000 - 2);
});
