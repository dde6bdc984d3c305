// vcpu-state.ts: the encodings of 80/128/64-bit values and the validation every
// backend runs before loading a record from a save file or the other backend.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bytesToHexLe, float80Hex, float80Parts, hexToBytesLe, initialFpuState, msrHex, msrName, msrValue, parseVcpuState,
  STATE_MSRS, VcpuStateError, VCPU_STATE_VERSION, longModeParts, lowHalves, registers64, stateRegisters64, type VcpuState,
} from './vcpu-state.js';
import { REGISTERS64, signed64, unsigned64 } from './backend.js';

function seg(selector: number, code: boolean) {
  return { selector, base: 0, limit: 0xffffffff, type: code ? 0xb : 3, s: 1, dpl: 0, present: 1, db: 1, g: 1, avl: 0, l: 0, unusable: 0 };
}

function sample(): VcpuState {
  return {
    version: VCPU_STATE_VERSION,
    regs: { eax: 1, ebx: 2, ecx: 3, edx: 4, esi: 5, edi: 6, esp: 0x7000, ebp: 0xffffffff, eip: 0x1000, eflags: 0x202 },
    sregs: {
      cs: seg(8, true), ds: seg(16, false), es: seg(16, false), fs: seg(16, false), gs: seg(16, false), ss: seg(16, false),
      tr: { ...seg(0x28, false), type: 0xb, s: 0 }, ldt: { ...seg(0, false), unusable: 1 },
      gdt: { base: 0x1000, limit: 47 }, idt: { base: 0x2000, limit: 2047 },
      cr0: 0x80000011, cr2: 0xdeadbeef, cr3: 0x3000, cr4: 0x220, efer: 0x800, apicBase: 0xfee00900,
    },
    fpu: initialFpuState(),
    msrs: [{ index: 0x10, value: '0xFFFFFFFFFFFFFFFF' }, { index: 0x277, value: '0x7040600070406' }],
    debug: { dr0: 0, dr1: 0, dr2: 0, dr3: 0, dr6: 0xffff0ff0, dr7: 0x400 },
    events: { interruptShadow: 'mov-ss', exception: { vector: 14, errorCode: 2 }, interrupt: 0x30, nmiPending: true, nmiMasked: false },
    halted: false,
    intrLine: true,
  };
}

test('80-bit values: sign/exponent first, significand halves exact, uint32 or int32 input', () => {
  assert.equal(float80Hex(0x4000, 0xc90fdaa2 | 0, 0x2168c235), '4000c90fdaa22168c235');
  assert.deepEqual(float80Parts('4000c90fdaa22168c235'), [0x4000, 0xc90fdaa2, 0x2168c235]);
  assert.deepEqual(float80Parts(float80Hex(0xffff, -1, -1)), [0xffff, 0xffffffff, 0xffffffff]);
});

test('128-bit and MSR values: memory byte 0 is the least significant digit pair; MSRs are 64-bit hex', () => {
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => i);
  const hex = bytesToHexLe(bytes);
  assert.equal(hex, '0f0e0d0c0b0a09080706050403020100');
  const back = new Uint8Array(20);
  hexToBytesLe(hex, back, 2);
  assert.deepEqual(back.subarray(2, 18), bytes);
  assert.equal(back[0], 0);
  assert.equal(msrHex(-1n), '0xffffffffffffffff');
  assert.equal(msrHex(1n << 64n), '0x0', 'wraps to 64 bits');
  assert.equal(msrName(0x176), 'IA32_SYSENTER_EIP');
  assert.equal(msrName(0x1234), 'MSR 0x1234');
  assert.ok(STATE_MSRS.includes(0x10) && STATE_MSRS.includes(0x1a0) && STATE_MSRS.includes(0x2ff));
});

test('parseVcpuState: a good record comes back normalised (lower-case hex, no extra fields) and survives JSON', () => {
  const s = sample();
  const withExtra = { ...s, extra: 'x', regs: { ...s.regs, r8: 5 } } as unknown;
  const p = parseVcpuState(JSON.parse(JSON.stringify(withExtra)));
  assert.equal(p.msrs[0].value, '0xffffffffffffffff');
  assert.equal(msrValue(p, 0x10), (1n << 64n) - 1n);
  assert.equal(msrValue(p, 0x174), undefined);
  assert.equal('extra' in p, false);
  assert.equal('r8' in p.regs, false);
  assert.deepEqual(p, { ...s, msrs: [{ index: 0x10, value: '0xffffffffffffffff' }, s.msrs[1]] });
  assert.deepEqual(parseVcpuState({ ...s, emu: { fpuRoundingSides: [0, 1, -1, 0, 0, 0, 0, 0] } }).emu, { fpuRoundingSides: [0, 1, -1, 0, 0, 0, 0, 0] });
});

test('parseVcpuState: every kind of bad input is a VcpuStateError naming the field, never a crash', () => {
  const s = sample();
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /state is not an object/],
    [[], /state is not an object/],
    [{ ...s, version: '1' }, /version/],
    [{ ...s, regs: { ...s.regs, eip: 2 ** 32 } }, /regs\.eip/],
    [{ ...s, regs: { ...s.regs, eax: 1.5 } }, /regs\.eax/],
    [{ ...s, regs: { ...s.regs, ebx: NaN } }, /regs\.ebx/],
    [{ ...s, sregs: { ...s.sregs, gdt: { base: 0, limit: 0x10000 } } }, /sregs\.gdt\.limit/],
    [{ ...s, sregs: { ...s.sregs, ss: { ...s.sregs.ss, type: 16 } } }, /sregs\.ss\.type/],
    [{ ...s, sregs: { ...s.sregs, tr: null } }, /sregs\.tr is not an object/],
    [{ ...s, fpu: { ...s.fpu, st: [...s.fpu.st.slice(0, 7), '1'.repeat(21)] } }, /fpu\.st\[7\]/],
    [{ ...s, fpu: { ...s.fpu, xmm: 'nope' } }, /fpu\.xmm is not an array/],
    [{ ...s, fpu: { ...s.fpu, ftw: 0x100 } }, /fpu\.ftw/],
    [{ ...s, msrs: [{ index: 0x10, value: '0x' + '1'.repeat(17) }] }, /msrs\[0\]\.value/],
    [{ ...s, msrs: [{ index: -1, value: '0x0' }] }, /msrs\[0\]\.index/],
    [{ ...s, msrs: Array.from({ length: 1025 }, (_, i) => ({ index: i, value: '0x0' })) }, /1025 MSRs/],
    [{ ...s, debug: { ...s.debug, dr7: '0x400' } }, /debug\.dr7/],
    [{ ...s, events: { ...s.events, interrupt: 256 } }, /events\.interrupt/],
    [{ ...s, events: { ...s.events, exception: { vector: 14, errorCode: -2 } } }, /events\.exception\.errorCode/],
    [{ ...s, events: { ...s.events, nmiPending: 1 } }, /events\.nmiPending/],
    [{ ...s, intrLine: undefined }, /intrLine/],
    [{ ...s, emu: { fpuRoundingSides: [2, 0, 0, 0, 0, 0, 0, 0] } }, /emu\.fpuRoundingSides\[0\]/],
    [{ ...s, version: 3 }, /version 3 is not 1 or 2/],
    [{ ...s, sregs: { ...s.sregs, fs: { ...s.sregs.fs, base: 2 ** 64 } } }, /sregs\.fs\.base .* is not a 64-bit address/],
    [{ ...s, sregs: { ...s.sregs, cr2: 0.5 } }, /sregs\.cr2/],
    [{ ...s, long: { regs: [], xmmHigh: [] } }, /long\.regs is not an array of 18/],
    [{ ...s, long: { regs: Array(18).fill('0x1'), xmmHigh: Array(8).fill('0'.repeat(32)) } }, /regs\.eax = 0x1 is not|regs\.\w+ = 0x\w+ is not the low half/],
    [{ ...s, long: { regs: Array(18).fill('0x10000000000000000'), xmmHigh: Array(8).fill('0'.repeat(32)) } }, /long\.regs\[0\] \(rax\)/],
    [{ ...s, long: { ...longOf(s), xmmHigh: ['x'] } }, /long\.xmmHigh is not an array of 8/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseVcpuState(input), (e: unknown) => e instanceof VcpuStateError && message.test(e.message), `expected ${message}`);
  }
});

/** A `long` part consistent with `s.regs`: upper halves set, R8-R15 distinct. */
function longOf(s: VcpuState): NonNullable<VcpuState['long']> {
  const r = stateRegisters64(s);
  const values = REGISTERS64.map((name, i) => (name === 'rflags' ? r[name] : r[name] | (BigInt(i + 1) << 40n)));
  return { regs: values.map((v) => '0x' + v.toString(16)), xmmHigh: Array.from({ length: 8 }, (_, i) => (i + 1).toString(16).padStart(32, '0')) };
}

test('version 2: x86-64 registers exact, 32-bit view checked against them, canonical addresses as signed numbers', () => {
  const s = sample();
  const long = longOf(s);
  const kernelBase = signed64(0xffffffff81000000n);
  assert.equal(kernelBase, -0x7f000000);
  assert.equal(unsigned64(kernelBase), 0xffffffff81000000n);
  assert.equal(signed64(0xffff888000001234n), -0x777fffffedcc);
  const withLong: VcpuState = { ...s, long, sregs: { ...s.sregs, efer: 0xd01, gs: { ...s.sregs.gs, base: signed64(0xffff888007c00000n) }, idt: { base: signed64(0xfffffe0000000000n), limit: 0xfff } } };
  const p = parseVcpuState(JSON.parse(JSON.stringify(withLong)));
  assert.deepEqual(p, { ...withLong, msrs: [{ index: 0x10, value: '0xffffffffffffffff' }, s.msrs[1]] });
  const r = stateRegisters64(p);
  assert.equal(r.rax, 0x10000000001n);
  assert.equal(r.r15, 16n << 40n);
  assert.deepEqual(lowHalves(r), s.regs);
  assert.equal(unsigned64(p.sregs.gs.base), 0xffff888007c00000n);
  assert.deepEqual(registers64([]).r9, 0n);
  // A version 1 record (before long mode) reads as version 2 without `long`.
  const v1 = parseVcpuState({ ...s, version: 1 });
  assert.equal(v1.version, 2);
  assert.equal('long' in v1, false);
  assert.equal(stateRegisters64(v1).rip, 0x1000n);
  assert.equal(stateRegisters64(v1).r8, 0n);
});

test('longModeParts: long mode is refused for a 32-bit-only backend; upper halves outside it are reported as dropped', () => {
  const s = sample();
  assert.deepEqual(longModeParts(s), { refuse: null, dropped: [] });
  assert.match(longModeParts({ ...s, sregs: { ...s.sregs, efer: 0x500 } }).refuse!, /long mode \(EFER = 0x500\)/);
  assert.match(longModeParts({ ...s, sregs: { ...s.sregs, efer: 0x100 } }).refuse!, /long mode/);
  const dropped = longModeParts({ ...s, long: longOf(s) }).dropped;
  assert.ok(dropped.includes('rax') && dropped.includes('r15') && dropped.includes('xmm8-15'), dropped.join());
  assert.equal(dropped.includes('rflags'), false);
});
