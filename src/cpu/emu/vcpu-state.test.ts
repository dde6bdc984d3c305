// The emu's VcpuState export/import (issue 6 §3): a state taken mid-program loads
// into a fresh vCPU and the program finishes the same; every field survives JSON;
// the TSC continues from the saved value; the STI shadow, HLT and queued events
// behave as on the CPU that saved them; a malformed record changes nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import { msrValue, parseVcpuState, VcpuStateError, type VcpuState } from '../../hypervisor/vcpu/vcpu-state.js';
import { EmuVcpu } from './cpu.js';
import { CODE_ADDR, CpuTestRig, HANDLERS_ADDR, RIG_RAM_BYTES, SEL_CODE0, SEL_DATA0, STACK_TOP } from './test-rig.js';
import { readTsc } from './system.js';

/** A CPL-0 vCPU on the rig's tables (GDT/IDT with HLT handlers), with an INTR source. */
function machine(clock = new ManualClock()) {
  const rig = new CpuTestRig();
  const memory = new GuestMemory({ ramBytes: RIG_RAM_BYTES });
  memory.write(0, rig.memory.read(0, 0x10000));
  const irq = { vector: 0x30, acked: 0 };
  const ops: VmOps = {
    pioRead: () => 0xff, pioWrite: () => {}, mmioRead: () => 0, mmioWrite: () => {},
    acknowledgeInterrupt: () => {
      irq.acked++;
      vcpu.setIrqLine(false);
      return irq.vector;
    },
  };
  const vcpu = new EmuVcpu(memory, ops, clock);
  const flat = (selector: number, code: boolean) => ({ selector, base: 0, limit: 0xffffffff, type: code ? 0xb : 0x3, s: 1, dpl: 0, present: 1, db: 1, g: 1, avl: 0, l: 0, unusable: 0 });
  const s = vcpu.getSpecialRegisters();
  vcpu.setSpecialRegisters({
    ...s, cs: flat(SEL_CODE0, true), ss: flat(SEL_DATA0, false), ds: flat(SEL_DATA0, false), es: flat(SEL_DATA0, false),
    fs: flat(SEL_DATA0, false), gs: flat(SEL_DATA0, false), gdt: { base: 0x1000, limit: 47 }, idt: { base: 0x2000, limit: 2047 },
    tr: { selector: 0x28, base: 0x4000, limit: 0x67, type: 0xb, s: 0, dpl: 0, present: 1, db: 0, g: 0, avl: 0, l: 0, unusable: 0 },
    cr0: 0x11 | 0x20,
  });
  vcpu.setRegisters({ eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: STACK_TOP, eip: CODE_ADDR, eflags: 2 });
  return { memory, vcpu, clock, irq };
}

const bytes = (...b: number[]) => new Uint8Array(b);

// fninit; fldpi; fld1; fldl2e; faddp st1 (ST: l2e+1, pi); mov ecx,0x174; mov eax,0x10; xor edx,edx; wrmsr;
// mov ecx,0x277; mov eax,0x00070106; mov edx,0x00070406; wrmsr; mov eax,0x1234; mov dr0,eax;
// mov eax,0x7fffffff; add eax,1 (OF SF AF PF pending in the lazy flags); hlt
const PART1 = bytes(
  0xdb, 0xe3, 0xd9, 0xeb, 0xd9, 0xe8, 0xd9, 0xea, 0xde, 0xc1,
  0xb9, 0x74, 0x01, 0x00, 0x00, 0xb8, 0x10, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x0f, 0x30,
  0xb9, 0x77, 0x02, 0x00, 0x00, 0xb8, 0x06, 0x01, 0x07, 0x00, 0xba, 0x06, 0x04, 0x07, 0x00, 0x0f, 0x30,
  0xb8, 0x34, 0x12, 0x00, 0x00, 0x0f, 0x23, 0xc0,
  0xb8, 0xff, 0xff, 0xff, 0x7f, 0x83, 0xc0, 0x01,
  0xf4,
);
// pushfd; pop ebx; fstp qword [0x210000]; fstp qword [0x210008]; fnstsw ax; hlt
const PART2 = bytes(0x9c, 0x5b, 0xdd, 0x1d, 0x00, 0x00, 0x21, 0x00, 0xdd, 0x1d, 0x08, 0x00, 0x21, 0x00, 0xdf, 0xe0, 0xf4);

function runToHlt(vcpu: EmuVcpu): void {
  for (let i = 0; i < 100; i++) {
    const exit = vcpu.run();
    if (exit.kind === 'hlt') return;
    assert.equal(exit.kind, 'interrupted', `unexpected exit ${JSON.stringify(exit)}`);
  }
  assert.fail('no HLT');
}

test('emu: a state taken half-way loads into a fresh vCPU and the program finishes as if it had not moved', () => {
  const program = new Uint8Array([...PART1, ...PART2]);
  // Reference: all on one vCPU (the HLT in between is stepped over by setting halted = false via an IRQ-less resume).
  const ref = machine();
  ref.memory.write(CODE_ADDR, program);
  runToHlt(ref.vcpu);
  ref.vcpu.cpu.halted = false;
  runToHlt(ref.vcpu);

  const a = machine();
  a.memory.write(CODE_ADDR, program);
  runToHlt(a.vcpu);
  const saved = JSON.parse(JSON.stringify(a.vcpu.getState())) as VcpuState;
  assert.equal(saved.halted, true);
  assert.equal(saved.regs.eflags & 0x8d4, 0x894, 'lazy flags of 0x7fffffff+1 materialised: OF SF AF (ZF CF clear)');
  assert.equal(saved.fpu.fsw >> 11 & 7, 6, 'TOP after three loads and a pop');
  assert.equal(saved.fpu.ftw, 0xc0, 'physical registers 6 and 7 in use');
  assert.equal(saved.fpu.st[1], '4000c90fdaa22168c235', 'ST(1) = pi, bit for bit');
  assert.equal(saved.debug.dr0, 0x1234);
  assert.equal(msrValue(saved, 0x174), 0x10n);
  assert.equal(msrValue(saved, 0x277), 0x0007040600070106n);

  const b = machine();
  b.memory.write(0x200000, a.memory.read(0x200000, 0x30000));
  assert.deepEqual(b.vcpu.setState(saved), []);
  assert.deepEqual(b.vcpu.getState(), saved, 'getState after setState gives the same record');
  b.vcpu.cpu.halted = false;
  runToHlt(b.vcpu);
  assert.deepEqual(b.vcpu.getRegisters(), ref.vcpu.getRegisters());
  assert.deepEqual(b.memory.read(0x210000, 16), ref.memory.read(0x210000, 16));
  assert.deepEqual(b.vcpu.getState(), ref.vcpu.getState());
});

test('emu: every field survives a round trip, including SSE registers, MTRRs, segments and the rounding sides', () => {
  const a = machine();
  const s = a.vcpu.getState();
  s.fpu.xmm[3] = '00112233445566778899aabbccddeeff';
  s.fpu.st[0] = 'c0008000000000000001';
  s.fpu.ftw = 0x81;
  s.fpu.mxcsr = 0x1fa0;
  s.fpu.fip = 0x12345678; s.fpu.fcs = 0x08; s.fpu.fdp = 0x9abcdef0; s.fpu.fds = 0x10; s.fpu.fop = 0x5e9;
  s.msrs = s.msrs.map((m) => (m.index === 0x200 ? { index: 0x200, value: '0xfee00006' } : m));
  s.sregs.fs = { ...s.sregs.fs, selector: 0x33, base: 0x12340000, limit: 0xfff, g: 0, type: 1, dpl: 0 };
  s.debug = { dr0: 1, dr1: 2, dr2: 3, dr3: 4, dr6: 0xffff4ff1, dr7: 0x455 };
  s.emu = { fpuRoundingSides: [0, 1, -1, 0, 0, 0, 0, 1] };
  const b = machine();
  assert.deepEqual(b.vcpu.setState(s), []);
  assert.deepEqual(b.vcpu.getState(), s);
  const x = b.vcpu.cpu.fpu.xmm;
  assert.equal(x[48], 0xff, 'XMM3 byte 0 is the least significant');
  assert.equal(x[63], 0x00);
});

test('emu: the TSC continues from the saved value on a vCPU whose clock is elsewhere', () => {
  const a = machine();
  a.clock.ns = 5_000_000;
  const s = a.vcpu.getState();
  const saved = msrValue(s, 0x10)!;
  assert.equal(saved, 5_000_000n);
  const clock = new ManualClock();
  clock.ns = 123;
  const b = machine(clock);
  b.vcpu.setState(s);
  assert.equal(readTsc(b.vcpu.cpu), saved);
  clock.advance(1000);
  assert.equal(readTsc(b.vcpu.cpu), saved + 1000n);
});

test('emu: an STI shadow moves with the state: the instruction after STI runs before the interrupt', () => {
  // sti; inc esi; inc esi; hlt
  const code = bytes(0xfb, 0x46, 0x46, 0xf4);
  const a = machine();
  a.memory.write(CODE_ADDR, code);
  a.vcpu.sliceInstructions = 1;
  assert.equal(a.vcpu.run().kind, 'interrupted');
  const s = a.vcpu.getState();
  assert.equal(s.events.interruptShadow, 'sti');
  assert.equal(s.regs.eip, CODE_ADDR + 1);
  for (const [shadow, expectEsi] of [['sti', 1], ['none', 0]] as const) {
    const b = machine();
    b.memory.write(0x200000, a.memory.read(0x200000, 0x30000));
    b.vcpu.setState({ ...s, events: { ...s.events, interruptShadow: shadow }, intrLine: true });
    runToHlt(b.vcpu);
    const r = b.vcpu.getRegisters();
    assert.equal(r.eip, HANDLERS_ADDR + 0x30 + 1, 'the interrupt was taken');
    assert.equal(r.esi, expectEsi, `shadow ${shadow}: ${expectEsi} INC before the interrupt`);
    assert.equal(b.memory.readU32(r.esp), CODE_ADDR + 1 + expectEsi, 'return address');
  }
});

test('emu: a halted state stays halted until an interrupt; queued exception and interrupt are delivered through the IDT', () => {
  const a = machine();
  const s = a.vcpu.getState();
  const b = machine();
  b.memory.write(CODE_ADDR, bytes(0x46, 0xf4));
  b.vcpu.setState({ ...s, halted: true, regs: { ...s.regs, eflags: 0x202 } });
  assert.deepEqual(b.vcpu.run(), { kind: 'hlt', interruptsEnabled: true });
  assert.equal(b.vcpu.getRegisters().esi, 0, 'nothing ran');
  b.vcpu.setIrqLine(true);
  runToHlt(b.vcpu);
  assert.equal(b.irq.acked, 1);
  assert.equal(b.vcpu.getRegisters().eip, HANDLERS_ADDR + 0x30 + 1);

  const c = machine();
  c.vcpu.setState({ ...s, events: { ...s.events, exception: { vector: 13, errorCode: 0x18 } } });
  runToHlt(c.vcpu);
  const r = c.vcpu.getRegisters();
  assert.equal(r.eip, HANDLERS_ADDR + 13 + 1);
  assert.equal(c.memory.readU32(r.esp), 0x18, 'error code pushed');
  assert.equal(c.memory.readU32(r.esp + 4), CODE_ADDR, 'faulting EIP');

  const d = machine();
  d.vcpu.setState({ ...s, events: { ...s.events, interrupt: 0x41 } });
  runToHlt(d.vcpu);
  assert.equal(d.vcpu.getRegisters().eip, HANDLERS_ADDR + 0x41 + 1);
  assert.equal(d.irq.acked, 0, 'an already-acknowledged vector is not acknowledged again');
});

test('emu: MSRs the emu does not model are reported, not applied; a malformed record changes nothing', () => {
  const a = machine();
  const s = a.vcpu.getState();
  const notes = a.vcpu.setState({ ...s, msrs: [...s.msrs, { index: 0x1a0, value: '0x1' }], events: { ...s.events, nmiMasked: true } });
  assert.equal(notes.length, 2);
  assert.match(notes[0], /IA32_MISC_ENABLE = 0x1 is not modelled/);
  assert.match(notes[1], /NMI blocking/);

  const before = a.vcpu.getState();
  const bad: unknown[] = [
    { ...s, version: 3 },
    { ...s, regs: { ...s.regs, eax: -1 } },
    { ...s, fpu: { ...s.fpu, st: s.fpu.st.slice(1) } },
    { ...s, fpu: { ...s.fpu, xmm: [...s.fpu.xmm.slice(1), 'zz'.repeat(16)] } },
    { ...s, msrs: [{ index: 0x10, value: '0x1' }, { index: 0x10, value: '0x2' }] },
    { ...s, msrs: [{ index: 0x10, value: 16 }] },
    { ...s, events: { ...s.events, interruptShadow: 'both' } },
    { ...s, events: { ...s.events, exception: { vector: 300, errorCode: -1 } } },
    { ...s, sregs: { ...s.sregs, cs: { ...s.sregs.cs, dpl: 4 } } },
    { ...s, halted: 'yes' },
    null,
  ];
  for (const x of bad) {
    assert.throws(() => a.vcpu.setState(x as VcpuState), VcpuStateError);
    assert.throws(() => parseVcpuState(x), VcpuStateError);
  }
  assert.deepEqual(a.vcpu.getState(), before);
});
