// Decoder: lengths, operand sizes, addressing forms and default segments for
// encodings the opcode table describes, decoded straight from bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine } from './emu-test-machine.test.js';
import { decode, InstructionFetcher } from './decoder.js';
import { Insn } from './insn.js';
import { execUd } from './exec-bit.js';
import { CpuException, DS, EXC_GP, EXC_UD, SS, ES, FS } from './state.js';

function dec(bytes: number[], code32: boolean): Insn {
  const m = machine(new Uint8Array(bytes), code32 ? 'flat32' : 'real');
  const f = new InstructionFetcher(m.vcpu.cpu);
  f.begin(0x1000, 0x1000);
  const i = new Insn();
  decode(m.vcpu.cpu, f, 0x1000, code32, i);
  return i;
}

/** The decode fault's vector; UD2/UD0/UD1 decode to the #UD handler and count as #UD too; -1 = valid. */
function fault(bytes: number[], code32: boolean): number {
  try {
    if (dec(bytes, code32).exec === execUd) return EXC_UD;
  } catch (e) {
    if (e instanceof CpuException) return e.vector;
    throw e;
  }
  return -1;
}

test('lengths and immediates of common encodings', () => {
  const cases: Array<[number[], boolean, number, string]> = [
    [[0x90], true, 1, 'nop'],
    [[0x8d, 0x76, 0x00], true, 3, 'lea'], // Linux 3-byte NOP
    [[0x8d, 0x74, 0x26, 0x00], true, 4, 'lea'], // with SIB
    [[0x3e, 0x8d, 0x74, 0x26, 0x00], true, 5, 'lea'], // redundant DS prefix
    [[0x0f, 0x1f, 0x44, 0x00, 0x00], true, 5, 'nop'], // NOPL
    [[0x81, 0xc3, 1, 2, 3, 4], true, 6, 'add'],
    [[0x66, 0x81, 0xc3, 1, 2], true, 5, 'add'], // 16-bit immediate under 0x66
    [[0x83, 0xc3, 0xff], true, 3, 'add'],
    [[0xa1, 1, 2, 3, 4], true, 5, 'mov'], // moffs32
    [[0x67, 0xa1, 1, 2], true, 4, 'mov'], // moffs16 under 0x67
    [[0xea, 1, 2, 3, 4, 5, 6], true, 7, 'jmp far'],
    [[0xea, 1, 2, 3, 4], false, 5, 'jmp far'],
    [[0xc8, 0x10, 0x00, 0x01], true, 4, 'enter'],
    [[0xc7, 0x84, 0x88, 1, 2, 3, 4, 5, 6, 7, 8], true, 11, 'mov'], // SIB + disp32 + imm32
    [[0xc7, 0x05, 1, 2, 3, 4, 5, 6, 7, 8], true, 10, 'mov'], // disp32 only
    [[0x8b, 0x46, 0x02], false, 3, 'mov'], // [bp+2]
    [[0x8b, 0x06, 0x34, 0x12], false, 4, 'mov'], // [0x1234]
    [[0xf6, 0xc3, 0x01], true, 3, 'test'], // group 3 /0 has an immediate
    [[0xf6, 0xd3], true, 2, 'not'], // group 3 /2 has none
    [[0x0f, 0x84, 1, 2, 3, 4], true, 6, 'jcc'],
    [[0x0f, 0x84, 1, 2], false, 4, 'jcc'],
    [[0xd9, 0xe8], true, 2, 'x87'],
  ];
  for (const [bytes, code32, len, name] of cases) {
    const i = dec(bytes, code32);
    assert.equal(i.len, len, `${bytes.map((b) => b.toString(16)).join(' ')}`);
    assert.equal(i.name, name, `${bytes.map((b) => b.toString(16)).join(' ')}`);
  }
  assert.equal(dec([0x81, 0xc3, 0xff, 0xff, 0xff, 0xff], true).imm, -1);
  assert.equal(dec([0x6a, 0x80], true).imm, -128);
  assert.equal(dec([0xc8, 0x10, 0x00, 0x01], true).imm2, 1);
});

test('operand and address sizes follow CS.D and the 0x66/0x67 prefixes', () => {
  assert.equal(dec([0x89, 0xc3], true).osz, 4);
  assert.equal(dec([0x66, 0x89, 0xc3], true).osz, 2);
  assert.equal(dec([0x89, 0xc3], false).osz, 2);
  assert.equal(dec([0x66, 0x89, 0xc3], false).osz, 4);
  assert.equal(dec([0x88, 0xc3], true).osz, 1);
  assert.equal(dec([0x0f, 0x22, 0xc0], false).osz, 4, 'MOV CR is always 32-bit');
  assert.equal(dec([0x0f, 0x22, 0x00], true).mod, 3, 'MOV CR ignores mod');
  assert.equal(dec([0x8b, 0x00], true).asz32, true);
  assert.equal(dec([0x67, 0x8b, 0x00], true).asz32, false);
});

test('default segments: EBP/ESP bases and BP forms use SS; overrides win', () => {
  assert.equal(dec([0x8b, 0x45, 0x08], true).seg, SS); // [ebp+8]
  assert.equal(dec([0x8b, 0x04, 0x24], true).seg, SS); // [esp]
  assert.equal(dec([0x8b, 0x04, 0x25, 0, 0, 0, 0], true).seg, DS); // SIB, no base
  assert.equal(dec([0x8b, 0x04, 0x2c], true).seg, SS); // [esp+ebp]: base ESP
  assert.equal(dec([0x8b, 0x04, 0x2b], true).seg, DS); // [ebx+ebp]: EBP as index
  assert.equal(dec([0x8b, 0x02], false).seg, SS); // [bp+si]
  assert.equal(dec([0x8b, 0x07], false).seg, DS); // [bx]
  assert.equal(dec([0x26, 0x8b, 0x45, 0x08], true).seg, ES);
  assert.equal(dec([0x64, 0xa1, 0, 0, 0, 0], true).seg, FS);
});

test('undefined encodings are #UD; more than 15 bytes is #GP', () => {
  for (const bytes of [[0x0f, 0x0b], [0xd6], [0x0f, 0xff, 0xc0], [0x0f, 0xb9, 0xc0], [0x0f, 0x10, 0xc0], [0x0f, 0x6f, 0xc0],
    [0xf0, 0x89, 0xc3], [0xf0, 0x8b, 0x03], [0xfe, 0xd0], [0xff, 0xf8], [0x8f, 0xc8], [0x0f, 0xc7, 0xc8], [0x0f, 0x00, 0xf0], [0x0f, 0x01, 0xf9],
    [0xc4, 0xc0], [0x0f, 0x24, 0xc0], [0x0f, 0x38, 0x00, 0xc0]]) {
    assert.equal(fault(bytes, true), EXC_UD, bytes.map((b) => b.toString(16)).join(' '));
  }
  assert.equal(fault([0xf0, 0x01, 0x03], true), -1, 'LOCK ADD to memory is fine');
  assert.equal(fault([0xf0, 0x0f, 0xc7, 0x0b], true), -1, 'LOCK CMPXCHG8B m64 is fine');
  assert.equal(fault(new Array(15).fill(0x66).concat([0x90]), true), EXC_GP);
  assert.equal(fault(new Array(14).fill(0x66).concat([0x90]), true), -1);
});
