import { test } from 'node:test';
import assert from 'node:assert/strict';
import { farCall, farJump, farReturn, lar, lldt, loadSegment, lsl, ltr, verifySegment } from './segmentation.js';
import { ATTR_DB, ATTR_UNUSABLE, CS, DS, ES, ESP, EXC_GP, EXC_NP, EXC_SS, EXC_UD, FS, GS, LDTR, SS, TR } from './state.js';
import {
  catchFault,
  descriptor,
  FLAT_CODE,
  FLAT_DATA,
  flatCache,
  gate,
  GDT_BASE,
  makeCpu,
  protectedMode,
  SEL_KCODE,
  SEL_KDATA,
  SEL_TSS,
  SEL_UCODE,
  SEL_UDATA,
  TSS_BASE,
  writeDescriptor,
} from './system-fixture.test.js';

function pm() {
  const { cpu, memory } = makeCpu();
  protectedMode(cpu, memory);
  return { cpu, memory };
}

test('real mode: base = selector << 4, limit and attributes kept (big real mode)', () => {
  const { cpu } = makeCpu();
  cpu.segLimit[DS] = 0xffffffff;
  loadSegment(cpu, DS, 0x1234);
  assert.equal(cpu.segBase[DS], 0x12340);
  assert.equal(cpu.segSel[DS], 0x1234);
  assert.equal(cpu.segLimit[DS], 0xffffffff);
  farJump(cpu, 0xf000, 0xe05b, false);
  assert.equal(cpu.segBase[CS], 0xf0000);
  assert.equal(cpu.eip, 0xe05b);
});

test('protected-mode data load fills the cache and sets the accessed bit in memory', () => {
  const { cpu, memory } = pm();
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0x123000, 0xfff, 0x12, 0)); // data RW, A=0
  loadSegment(cpu, ES, 0x30);
  assert.equal(cpu.segBase[ES], 0x123000);
  assert.equal(cpu.segLimit[ES], 0xfff);
  assert.equal(cpu.segAttr[ES] & 0x1f, 0x13);
  assert.equal(memory.readU8(GDT_BASE + 6 * 8 + 5) & 1, 1, 'accessed bit written back');
  // 4 KiB granularity scales the limit.
  writeDescriptor(memory, GDT_BASE, 7, descriptor(0, 0xffffffff, 0x13, 0, { g: true }));
  loadSegment(cpu, FS, 0x38);
  assert.equal(cpu.segLimit[FS], 0xffffffff);
});

test('DS/ES/FS/GS rules: null allowed, limit, type, privilege, presence', () => {
  const { cpu, memory } = pm();
  loadSegment(cpu, GS, 0);
  assert.equal(cpu.segAttr[GS] & ATTR_UNUSABLE, ATTR_UNUSABLE);
  let f = catchFault(() => loadSegment(cpu, DS, 0x400)); // beyond the GDT limit
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, 0x400]);
  f = catchFault(() => loadSegment(cpu, DS, SEL_TSS)); // system descriptor
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, SEL_TSS]);
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0, 0xfffff, 0x18, 0)); // execute-only code
  f = catchFault(() => loadSegment(cpu, DS, 0x30));
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, 0x30]);
  writeDescriptor(memory, GDT_BASE, 7, descriptor(0, 0xfffff, 0x13, 0, { present: false }));
  f = catchFault(() => loadSegment(cpu, DS, 0x38));
  assert.deepEqual([f.vector, f.errorCode], [EXC_NP, 0x38]);
  // RPL 3 on a DPL-0 data segment: DPL < max(CPL, RPL).
  f = catchFault(() => loadSegment(cpu, DS, SEL_KDATA | 3));
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, SEL_KDATA]);
  // Readable code is a valid data-segment load.
  loadSegment(cpu, DS, SEL_KCODE);
  assert.equal(cpu.segSel[DS], SEL_KCODE);
  // CPL 3 cannot load a DPL-0 data segment; the register is untouched.
  cpu.cpl = 3;
  f = catchFault(() => loadSegment(cpu, ES, SEL_KDATA));
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, SEL_KDATA]);
  assert.equal(cpu.segSel[ES], SEL_KDATA, 'unchanged (the fixture loaded it)');
  loadSegment(cpu, ES, SEL_UDATA);
  assert.equal(cpu.segSel[ES], SEL_UDATA);
});

test('SS rules: null #GP(0), RPL/DPL != CPL or read-only #GP(sel), not present #SS(sel)', () => {
  const { cpu, memory } = pm();
  assert.deepEqual(fault(() => loadSegment(cpu, SS, 0)), [EXC_GP, 0]);
  assert.deepEqual(fault(() => loadSegment(cpu, SS, SEL_UDATA)), [EXC_GP, SEL_UDATA & 0xfffc]);
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0, 0xfffff, 0x11, 0)); // read-only data
  assert.deepEqual(fault(() => loadSegment(cpu, SS, 0x30)), [EXC_GP, 0x30]);
  writeDescriptor(memory, GDT_BASE, 7, descriptor(0, 0xfffff, 0x13, 0, { present: false }));
  assert.deepEqual(fault(() => loadSegment(cpu, SS, 0x38)), [EXC_SS, 0x38]);
  writeDescriptor(memory, GDT_BASE, 8, descriptor(0x10000, 0xffff, 0x13, 0, { db: false }));
  loadSegment(cpu, SS, 0x40);
  assert.equal(cpu.stack32, false, 'modeChanged() ran: 16-bit stack');
  assert.equal(cpu.segBase[SS], 0x10000);
});

function fault(f: () => void): [number, number] {
  const e = catchFault(f);
  return [e.vector, e.errorCode];
}

test('far JMP: same-privilege code, RPL forced to CPL, privilege and limit checks', () => {
  const { cpu, memory } = pm();
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0x10000, 0xffff, FLAT_CODE, 0, { db: false })); // 16-bit code
  farJump(cpu, 0x30, 0x1234, false);
  assert.equal(cpu.segSel[CS], 0x30);
  assert.equal(cpu.segBase[CS], 0x10000);
  assert.equal(cpu.eip, 0x1234);
  assert.equal(cpu.code32, false);
  assert.deepEqual(fault(() => farJump(cpu, 0x30, 0x10000, true)), [EXC_GP, 0]);
  assert.deepEqual(fault(() => farJump(cpu, SEL_UCODE, 0, true)), [EXC_GP, SEL_UCODE & 0xfffc]);
  assert.deepEqual(fault(() => farJump(cpu, SEL_KDATA, 0, true)), [EXC_GP, SEL_KDATA]);
  assert.deepEqual(fault(() => farJump(cpu, 0, 0, true)), [EXC_GP, 0]);
  farJump(cpu, SEL_KCODE, 0x100000, true);
  assert.equal(cpu.code32, true);
  assert.equal(cpu.cpl, 0);
});

test('conforming code: reachable from CPL 3, CPL unchanged and CS.RPL = CPL', () => {
  const { cpu, memory } = pm();
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0, 0xfffff, 0x1f, 0, { g: true })); // conforming code DPL 0
  cpu.cpl = 3;
  flatCache(cpu, CS, SEL_UCODE, 0xb, 3);
  farJump(cpu, 0x33, 0x5000, true);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], 0x33);
  assert.equal(cpu.eip, 0x5000);
});

test('CALL through a call gate from ring 3 switches to the TSS stack and copies parameters; RET far returns outward', () => {
  const { cpu, memory } = pm();
  writeDescriptor(memory, GDT_BASE, 6, gate(SEL_KCODE, 0x00c01000, 0x0c, 3, 2)); // 32-bit call gate, 2 params
  memory.writeU32(TSS_BASE + 4, 0x90000); // ESP0
  memory.writeU32(TSS_BASE + 8, SEL_KDATA); // SS0
  cpu.cpl = 3;
  flatCache(cpu, CS, SEL_UCODE, 0xb, 3);
  for (const s of [SS, DS, ES, FS, GS]) flatCache(cpu, s, SEL_UDATA, 3, 3);
  flatCache(cpu, DS, SEL_KDATA, 3, 0); // a DPL-0 selector left in DS: RET outward must null it
  cpu.segSel[DS] = SEL_KDATA;
  cpu.regs[ESP] = 0x80000;
  memory.writeU32(0x80000, 0x1111); // param 1 (top of the caller's stack)
  memory.writeU32(0x80004, 0x2222); // param 2
  cpu.eip = 0x401234; // return address
  farCall(cpu, 0x33, 0, true);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[CS], SEL_KCODE);
  assert.equal(cpu.segSel[SS], SEL_KDATA);
  assert.equal(cpu.eip, 0x00c01000);
  assert.equal(cpu.regs[ESP], 0x90000 - 24);
  const frame = [0, 4, 8, 12, 16, 20].map((o) => memory.readU32(0x90000 - 24 + o));
  assert.deepEqual(frame, [0x401234, SEL_UCODE, 0x1111, 0x2222, 0x80000, SEL_UDATA]);
  // RET 8 (release the two parameters on both stacks).
  farReturn(cpu, true, 8);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], SEL_UCODE);
  assert.equal(cpu.segSel[SS], SEL_UDATA);
  assert.equal(cpu.regs[ESP], 0x80008);
  assert.equal(cpu.eip, 0x401234);
  assert.equal(cpu.segAttr[DS] & ATTR_UNUSABLE, ATTR_UNUSABLE, 'DS with DPL 0 nulled');
  assert.equal(cpu.segSel[ES], SEL_UDATA, 'ES (DPL 3) kept');
});

test('call gate checks: gate DPL < CPL => #GP(gate), not present => #NP(gate)', () => {
  const { cpu, memory } = pm();
  writeDescriptor(memory, GDT_BASE, 6, gate(SEL_KCODE, 0x1000, 0x0c, 0));
  writeDescriptor(memory, GDT_BASE, 7, gate(SEL_KCODE, 0x1000, 0x0c, 3, 0, false));
  cpu.cpl = 3;
  flatCache(cpu, CS, SEL_UCODE, 0xb, 3);
  assert.deepEqual(fault(() => farCall(cpu, 0x33, 0, true)), [EXC_GP, 0x30]);
  assert.deepEqual(fault(() => farCall(cpu, 0x3b, 0, true)), [EXC_NP, 0x38]);
});

test('same-privilege far CALL and RET with 16-bit operands', () => {
  const { cpu, memory } = pm();
  cpu.regs[ESP] = 0x7000;
  cpu.eip = 0x4321;
  farCall(cpu, SEL_KCODE, 0x9000, false);
  assert.equal(cpu.regs[ESP], 0x7000 - 4);
  assert.equal(memory.readU16(0x7000 - 4), 0x4321);
  assert.equal(memory.readU16(0x7000 - 2), SEL_KCODE);
  farReturn(cpu, false, 0);
  assert.equal(cpu.eip, 0x4321);
  assert.equal(cpu.regs[ESP], 0x7000);
  // RET to a more privileged CS => #GP(sel).
  cpu.cpl = 3;
  flatCache(cpu, CS, SEL_UCODE, 0xb, 3);
  memory.writeU32(0x7000, 0x1000);
  memory.writeU32(0x7004, SEL_KCODE);
  assert.deepEqual(fault(() => farReturn(cpu, true, 0)), [EXC_GP, SEL_KCODE]);
  assert.equal(cpu.regs[ESP], 0x7000, 'ESP unchanged on a fault');
});

test('LLDT and LTR: types, busy bit, LDT-relative selectors', () => {
  const { cpu, memory } = pm();
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0x5000, 0x17, 0x02, 0, { db: false })); // LDT, 3 entries
  writeDescriptor(memory, 0x5000, 1, descriptor(0x777000, 0xfff, 0x13, 3)); // LDT entry 1: user data
  lldt(cpu, 0x30);
  assert.equal(cpu.segBase[LDTR], 0x5000);
  loadSegment(cpu, DS, 0x0f); // index 1, TI=1, RPL 3
  assert.equal(cpu.segBase[DS], 0x777000);
  assert.deepEqual(fault(() => loadSegment(cpu, DS, 0x1c)), [EXC_GP, 0x1c]); // index 3 beyond the LDT limit
  assert.deepEqual(fault(() => lldt(cpu, SEL_KDATA)), [EXC_GP, SEL_KDATA]);
  // LTR: available 32-bit TSS becomes busy.
  writeDescriptor(memory, GDT_BASE, 7, descriptor(0x6000, 0x67, 0x09, 0, { db: false }));
  ltr(cpu, 0x38);
  assert.equal(cpu.segSel[TR], 0x38);
  assert.equal(cpu.segBase[TR], 0x6000);
  assert.equal(memory.readU8(GDT_BASE + 7 * 8 + 5) & 0xf, 0xb, 'busy bit set in the GDT');
  assert.deepEqual(fault(() => ltr(cpu, 0x38)), [EXC_GP, 0x38], 'busy TSS refused');
  assert.deepEqual(fault(() => ltr(cpu, 0)), [EXC_GP, 0]);
  cpu.cpl = 3;
  assert.deepEqual(fault(() => ltr(cpu, 0x38)), [EXC_GP, 0]);
  cpu.cr0 = 0x10;
  assert.equal(catchFault(() => lldt(cpu, 0)).vector, EXC_UD);
});

test('LAR, LSL, VERR, VERW', () => {
  const { cpu, memory } = pm();
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0, 0x1234, 0x18, 0)); // execute-only code
  assert.equal(lar(cpu, SEL_KDATA) >>> 0, (descriptor(0, 0xffffffff, FLAT_DATA, 0)[1] & 0x00f0ff00) >>> 0);
  assert.equal(lsl(cpu, SEL_KDATA), 0xffffffff);
  assert.equal(lsl(cpu, 0x30), 0x1234);
  assert.equal(lar(cpu, 0), -1);
  assert.equal(lar(cpu, 0x800), -1);
  assert.equal(verifySegment(cpu, SEL_KDATA, true), true);
  assert.equal(verifySegment(cpu, SEL_KCODE, true), false);
  assert.equal(verifySegment(cpu, SEL_KCODE, false), true);
  assert.equal(verifySegment(cpu, 0x30, false), false);
  cpu.cpl = 3;
  assert.equal(lar(cpu, SEL_KDATA), -1, 'DPL 0 invisible at CPL 3');
  assert.equal(verifySegment(cpu, SEL_UDATA, true), true);
  assert.equal(verifySegment(cpu, SEL_KDATA, false), false);
  assert.equal(lsl(cpu, SEL_TSS), -1);
  cpu.cpl = 0;
  assert.equal(lsl(cpu, SEL_TSS), 0x67);
  void ATTR_DB;
});

test('far JMP to a TSS switches tasks: state saved in the old TSS, loaded from the new one', () => {
  const { cpu, memory } = pm();
  const NEW = 0x3400;
  writeDescriptor(memory, GDT_BASE, 6, descriptor(NEW, 0x67, 0x09, 0, { db: false }));
  memory.writeU32(NEW + 0x20, 0x2000); // EIP
  memory.writeU32(NEW + 0x24, 0x202); // EFLAGS (IF)
  memory.writeU32(NEW + 0x28, 0xaaaa); // EAX
  memory.writeU32(NEW + 0x38, 0x9000); // ESP
  memory.writeU16(NEW + 0x48, SEL_KDATA); // ES
  memory.writeU16(NEW + 0x4c, SEL_KCODE); // CS
  memory.writeU16(NEW + 0x50, SEL_KDATA); // SS
  memory.writeU16(NEW + 0x54, SEL_KDATA); // DS
  cpu.eip = 0x1111;
  cpu.regs[0] = 0x5555;
  farJump(cpu, 0x30, 0, true);
  assert.equal(cpu.segSel[TR], 0x30);
  assert.equal(cpu.eip, 0x2000);
  assert.equal(cpu.regs[0], 0xaaaa);
  assert.equal(cpu.regs[ESP], 0x9000);
  assert.equal(cpu.flags & 0x200, 0x200);
  assert.equal(cpu.segAttr[FS] & ATTR_UNUSABLE, ATTR_UNUSABLE);
  assert.equal(memory.readU32(TSS_BASE + 0x20), 0x1111, 'old EIP saved');
  assert.equal(memory.readU32(TSS_BASE + 0x28), 0x5555, 'old EAX saved');
  assert.equal(memory.readU8(GDT_BASE + 5 * 8 + 5) & 0xf, 0x9, 'old TSS no longer busy (JMP)');
  assert.equal(memory.readU8(GDT_BASE + 6 * 8 + 5) & 0xf, 0xb, 'new TSS busy');
  assert.equal(cpu.cr0 & 8, 8, 'CR0.TS set');
});
