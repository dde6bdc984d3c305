import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliverEvent, EVENT_EXCEPTION, EVENT_EXTERNAL, EVENT_SOFTWARE_EXC, EVENT_SOFTWARE_INT, iret, raiseException } from './interrupts.js';
import { readEflags, writeEflags } from './flags.js';
import * as segmentation from './segmentation.js';
import {
  ATTR_UNUSABLE,
  CpuException,
  CS,
  DS,
  ES,
  ESP,
  EXC_GP,
  EXC_NP,
  EXC_PF,
  FLAG_IF,
  FLAG_NT,
  FLAG_TF,
  FLAG_VM,
  FS,
  GS,
  SS,
  TR,
} from './state.js';
import {
  catchFault,
  descriptor,
  flatCache,
  gate,
  GDT_BASE,
  IDT_BASE,
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

const INT_GATE32 = 0x0e, TRAP_GATE32 = 0x0f, TASK_GATE = 0x05;

function pm() {
  const { cpu, memory } = makeCpu();
  protectedMode(cpu, memory);
  memory.writeU32(TSS_BASE + 4, 0x90000); // ESP0
  memory.writeU32(TSS_BASE + 8, SEL_KDATA); // SS0
  const idt = (vector: number, d: [number, number]) => writeDescriptor(memory, IDT_BASE, vector, d);
  return { cpu, memory, idt };
}

function toRing3(cpu: ReturnType<typeof makeCpu>['cpu']): void {
  cpu.cpl = 3;
  flatCache(cpu, CS, SEL_UCODE, 0xb, 3);
  for (const s of [SS, DS, ES, FS, GS]) flatCache(cpu, s, SEL_UDATA, 3, 3);
  cpu.modeChanged();
}

test('real mode: INT pushes FLAGS CS IP and vectors through the IVT', () => {
  const { cpu, memory } = makeCpu();
  cpu.idtBase = 0;
  cpu.idtLimit = 0x3ff;
  memory.writeU16(0x10 * 4, 0x1234);
  memory.writeU16(0x10 * 4 + 2, 0xc000);
  cpu.segSel[CS] = 0x0700;
  cpu.segBase[CS] = 0x7000;
  cpu.segLimit[SS] = 0xffff;
  cpu.regs[ESP] = 0x7c00;
  cpu.eip = 0x0042;
  writeEflags(cpu, 0x202 | FLAG_TF);
  deliverEvent(cpu, 0x10, EVENT_SOFTWARE_INT, -1);
  assert.equal(cpu.segBase[CS], 0xc0000);
  assert.equal(cpu.eip, 0x1234);
  assert.equal(cpu.regs[ESP], 0x7bfa);
  assert.deepEqual([memory.readU16(0x7bfa), memory.readU16(0x7bfc), memory.readU16(0x7bfe)], [0x42, 0x0700, 0x302]);
  assert.equal(readEflags(cpu) & (FLAG_IF | FLAG_TF), 0);
  iret(cpu, false);
  assert.equal(cpu.eip, 0x42);
  assert.equal(cpu.segBase[CS], 0x7000);
  assert.equal(readEflags(cpu) & (FLAG_IF | FLAG_TF), FLAG_IF | FLAG_TF);
});

test('same privilege: 32-bit interrupt gate pushes EFLAGS CS EIP error and clears IF; IRET restores', () => {
  const { cpu, memory, idt } = pm();
  idt(13, gate(SEL_KCODE, 0xc0001000, INT_GATE32, 0));
  cpu.regs[ESP] = 0x80000;
  cpu.eip = 0xc0100000;
  writeEflags(cpu, 0x202 | FLAG_NT);
  deliverEvent(cpu, 13, EVENT_EXCEPTION, 0x28);
  assert.equal(cpu.eip >>> 0, 0xc0001000);
  assert.equal(cpu.regs[ESP], 0x80000 - 16);
  const frame = [0, 4, 8, 12].map((o) => memory.readU32(0x80000 - 16 + o));
  // Faults push RF=1 (bit 16) in the saved EFLAGS.
  assert.deepEqual(frame, [0x28, 0xc0100000, SEL_KCODE, 0x10202 | FLAG_NT]);
  assert.equal(readEflags(cpu) & (FLAG_IF | FLAG_NT), 0, 'IF and NT cleared');
  cpu.regs[ESP] += 4; // the handler pops the error code
  writeEflags(cpu, readEflags(cpu) & ~FLAG_NT);
  iret(cpu, true);
  assert.equal(cpu.eip >>> 0, 0xc0100000);
  assert.equal(cpu.regs[ESP], 0x80000);
  assert.equal(readEflags(cpu) & FLAG_IF, FLAG_IF);
});

test('trap gate keeps IF; external interrupt pushes no error code and no RF', () => {
  const { cpu, memory, idt } = pm();
  idt(0x30, gate(SEL_KCODE, 0x5000, TRAP_GATE32, 0));
  cpu.regs[ESP] = 0x80000;
  cpu.eip = 0x1234;
  writeEflags(cpu, 0x202);
  deliverEvent(cpu, 0x30, EVENT_EXTERNAL, -1);
  assert.equal(cpu.regs[ESP], 0x80000 - 12);
  assert.equal(memory.readU32(0x80000 - 4), 0x202);
  assert.equal(readEflags(cpu) & FLAG_IF, FLAG_IF);
});

test('ring 3 -> ring 0: stack from the TSS, SS ESP EFLAGS CS EIP pushed; IRET returns to ring 3', () => {
  const { cpu, memory, idt } = pm();
  idt(0x80, gate(SEL_KCODE, 0xc0002000, INT_GATE32, 3));
  toRing3(cpu);
  cpu.regs[ESP] = 0xbffff000;
  cpu.eip = 0x08048000;
  writeEflags(cpu, 0x246);
  deliverEvent(cpu, 0x80, EVENT_SOFTWARE_INT, -1);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[CS], SEL_KCODE);
  assert.equal(cpu.segSel[SS], SEL_KDATA);
  assert.equal(cpu.regs[ESP], 0x90000 - 20);
  const frame = [0, 4, 8, 12, 16].map((o) => memory.readU32(0x90000 - 20 + o));
  assert.deepEqual(frame, [0x08048000, SEL_UCODE, 0x246, 0xbffff000, SEL_UDATA]);
  // Kernel loads its own data segment, then IRETs back.
  flatCache(cpu, DS, SEL_KDATA, 3, 0);
  iret(cpu, true);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], SEL_UCODE);
  assert.equal(cpu.segSel[SS], SEL_UDATA);
  assert.equal(cpu.regs[ESP] >>> 0, 0xbffff000);
  assert.equal(cpu.eip, 0x08048000);
  assert.equal(readEflags(cpu), 0x246);
  assert.equal(cpu.segAttr[DS] & ATTR_UNUSABLE, ATTR_UNUSABLE, 'kernel DS nulled on the way out');
  assert.equal(cpu.segSel[ES], SEL_UDATA);
});

test('IRET at CPL 3 cannot change IOPL or IF when CPL > IOPL, and cannot return inward', () => {
  const { cpu, memory } = pm();
  toRing3(cpu);
  cpu.regs[ESP] = 0x70000;
  writeEflags(cpu, 0x002);
  memory.writeU32(0x70000, 0x1000);
  memory.writeU32(0x70004, SEL_UCODE);
  memory.writeU32(0x70008, 0x3202); // IOPL 3, IF
  iret(cpu, true);
  assert.equal(readEflags(cpu), 0x002);
  cpu.regs[ESP] = 0x70000;
  memory.writeU32(0x70004, SEL_KCODE);
  const f = catchFault(() => iret(cpu, true));
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, SEL_KCODE]);
});

test('software INT checks the gate DPL: #GP(vector*8+2); INT1/ICEBP does not', () => {
  const { cpu, idt } = pm();
  idt(0x81, gate(SEL_KCODE, 0x1000, INT_GATE32, 0));
  idt(1, gate(SEL_KCODE, 0x1000, INT_GATE32, 0));
  toRing3(cpu);
  cpu.regs[ESP] = 0x70000;
  let f = catchFault(() => deliverEvent(cpu, 0x81, EVENT_SOFTWARE_INT, -1));
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, 0x81 * 8 + 2]);
  assert.equal(cpu.cpl, 3);
  deliverEvent(cpu, 1, EVENT_SOFTWARE_EXC, -1);
  assert.equal(cpu.cpl, 0);
  // Not-present gate for a hardware event: #NP(vector*8+2+EXT).
  toRing3(cpu);
  f = catchFault(() => deliverEvent(cpu, 0x40, EVENT_EXTERNAL, -1));
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, 0x40 * 8 + 3], 'empty slot is not a valid gate type');
  idt(0x41, gate(SEL_KCODE, 0x1000, INT_GATE32, 0, 0, false));
  f = catchFault(() => deliverEvent(cpu, 0x41, EVENT_EXTERNAL, -1));
  assert.deepEqual([f.vector, f.errorCode], [EXC_NP, 0x41 * 8 + 3]);
});

test('double fault: a contributory fault while delivering a contributory fault => #DF(0)', () => {
  const { cpu, memory, idt } = pm();
  idt(13, gate(SEL_KCODE, 0x1000, INT_GATE32, 0, 0, false)); // #GP gate not present => #NP
  idt(8, gate(SEL_KCODE, 0x8000, INT_GATE32, 0));
  cpu.regs[ESP] = 0x80000;
  cpu.eip = 0x4444;
  raiseException(cpu, new CpuException(EXC_GP, 0));
  assert.equal(cpu.eip, 0x8000);
  assert.equal(memory.readU32(0x80000 - 16), 0, '#DF error code 0');
  assert.equal(memory.readU32(0x80000 - 12), 0x4444);
  assert.equal(cpu.pendingExit, null);
  assert.equal(cpu.deliveringVector, -1);
});

test('#PF while delivering #PF => #DF, and #PF while delivering #DF => triple fault', () => {
  const { cpu, memory, idt } = pm();
  idt(14, gate(SEL_KCODE, 0x1400, INT_GATE32, 0));
  idt(13, gate(SEL_KCODE, 0x1300, INT_GATE32, 0));
  idt(8, gate(SEL_KCODE, 0x0800, INT_GATE32, 0));
  // Paging with only the low 4 MiB identity-mapped (4 MiB page); the stack is above it.
  memory.writeU32(0x10000, 0x83 | 0x4); // PDE 0: 4 MiB page at 0
  cpu.cr3 = 0x10000;
  cpu.cr4 = 0x10; // PSE
  cpu.cr0 |= 0x80000000;
  cpu.regs[ESP] = 0x00500000; // unmapped
  raiseException(cpu, new CpuException(EXC_PF, 2));
  // #PF delivery faults with #PF, then #DF delivery faults with #PF => triple fault.
  assert.equal(cpu.pendingExit?.kind, 'triple-fault');
});

test('contributory fault then #PF during its delivery: the #PF is delivered serially', () => {
  const { cpu, memory, idt } = pm();
  // Low 4 MiB mapped for everyone (4 MiB user page); the ring-0 stack at 5 MiB is not mapped.
  memory.writeU32(0x10000, 0x87);
  cpu.cr3 = 0x10000;
  cpu.cr4 = 0x10;
  cpu.cr0 |= 0x80000000;
  memory.writeU32(TSS_BASE + 4, 0x00500000);
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0, 0xffffffff, 0x1f, 0)); // conforming code, DPL 0
  idt(13, gate(SEL_KCODE, 0x1300, INT_GATE32, 0)); // inward: needs the unmapped ring-0 stack
  idt(14, gate(0x30, 0x1400, INT_GATE32, 0)); // conforming: stays at CPL 3 on the user stack
  toRing3(cpu);
  cpu.regs[ESP] = 0x80000;
  cpu.eip = 0x2222;
  raiseException(cpu, new CpuException(EXC_GP, 0));
  assert.equal(cpu.pendingExit, null);
  assert.equal(cpu.eip, 0x1400, '#PF handler reached');
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.cr2, 0x00500000 - 4);
  assert.equal(memory.readU32(0x80000 - 16), 2, '#PF error code: supervisor write, not present');
  assert.equal(memory.readU32(0x80000 - 12), 0x2222);
});

test('triple fault: no usable IDT => pendingExit triple-fault with the chain', () => {
  const { cpu } = pm();
  cpu.idtLimit = 0;
  raiseException(cpu, new CpuException(EXC_GP, 0));
  assert.equal(cpu.pendingExit?.kind, 'triple-fault');
  assert.match(cpu.pendingExit?.kind === 'triple-fault' ? cpu.pendingExit.detail : '', /#13.*#8.*#13/);
});

test('#DF through a task gate (Linux): registers, CR3, TR, back link, NT and busy bits', () => {
  const { cpu, memory, idt } = pm();
  const DF_TSS = 0x3400;
  writeDescriptor(memory, GDT_BASE, 6, descriptor(DF_TSS, 0x67, 0x09, 0, { db: false }));
  idt(8, gate(0x30, 0, TASK_GATE, 0));
  idt(13, gate(SEL_KCODE, 0, INT_GATE32, 0, 0, false)); // #GP => #NP => #DF
  memory.writeU32(DF_TSS + 0x1c, 0x0); // CR3 (paging is off: not loaded)
  memory.writeU32(DF_TSS + 0x20, 0xc0dead00); // EIP
  memory.writeU32(DF_TSS + 0x24, 0x2); // EFLAGS
  memory.writeU32(DF_TSS + 0x38, 0x60000); // ESP
  memory.writeU16(DF_TSS + 0x48, SEL_KDATA);
  memory.writeU16(DF_TSS + 0x4c, SEL_KCODE);
  memory.writeU16(DF_TSS + 0x50, SEL_KDATA);
  memory.writeU16(DF_TSS + 0x54, SEL_KDATA);
  memory.writeU16(DF_TSS + 0x58, SEL_KDATA);
  memory.writeU16(DF_TSS + 0x5c, SEL_KDATA);
  cpu.eip = 0xc0101234;
  cpu.regs[3] = 0x33;
  writeEflags(cpu, 0x202);
  raiseException(cpu, new CpuException(EXC_GP, 0));
  assert.equal(cpu.pendingExit, null);
  assert.equal(cpu.segSel[TR], 0x30);
  assert.equal(cpu.eip >>> 0, 0xc0dead00);
  assert.equal(readEflags(cpu) & FLAG_NT, FLAG_NT);
  assert.equal(memory.readU16(DF_TSS), SEL_TSS, 'back link = old TR');
  assert.equal(memory.readU32(TSS_BASE + 0x20) >>> 0, 0xc0101234, 'faulting EIP saved in the old TSS');
  assert.equal(memory.readU32(TSS_BASE + 0x34), 0x33, 'EBX saved');
  assert.equal(memory.readU8(GDT_BASE + 5 * 8 + 5) & 0xf, 0xb, 'old TSS stays busy (nested)');
  assert.equal(memory.readU8(GDT_BASE + 6 * 8 + 5) & 0xf, 0xb, 'new TSS busy');
  assert.equal(cpu.regs[ESP], 0x60000 - 4, 'error code pushed on the new stack');
  assert.equal(memory.readU32(0x60000 - 4), 0);
  // IRET with NT=1 returns to the interrupted task.
  cpu.regs[ESP] += 4;
  iret(cpu, true);
  assert.equal(cpu.segSel[TR], SEL_TSS);
  assert.equal(cpu.eip >>> 0, 0xc0101234);
  assert.equal(cpu.regs[3], 0x33);
  assert.equal(memory.readU8(GDT_BASE + 6 * 8 + 5) & 0xf, 0x9, 'returned-from TSS available again');
});

test('V86: IRET to V86 from CPL 0, then an interrupt from V86 pushes GS FS DS ES and nulls them', () => {
  const { cpu, memory, idt } = pm();
  idt(0x0d, gate(SEL_KCODE, 0x7000, INT_GATE32, 0));
  cpu.regs[ESP] = 0x80000 - 36;
  const frame = [0x0100, 0x2000, 0x20202 | FLAG_VM | 0x3000, 0xfffe, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000];
  frame.forEach((v, i) => memory.writeU32(0x80000 - 36 + 4 * i, v >>> 0));
  iret(cpu, true);
  assert.equal(cpu.flags & FLAG_VM, FLAG_VM);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.protectedMode, false);
  assert.equal(cpu.segBase[CS], 0x20000);
  assert.equal(cpu.segBase[SS], 0x30000);
  assert.deepEqual([ES, DS, FS, GS].map((s) => cpu.segSel[s]), [0x4000, 0x5000, 0x6000, 0x7000]);
  assert.equal(cpu.regs[ESP], 0xfffe);
  assert.equal(cpu.eip, 0x100);
  // #GP from V86 goes to the ring-0 handler with the long frame.
  cpu.eip = 0x104;
  deliverEvent(cpu, 0x0d, EVENT_EXCEPTION, 0);
  assert.equal(cpu.flags & FLAG_VM, 0);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.regs[ESP], 0x90000 - 40);
  const pushed = Array.from({ length: 10 }, (_, i) => memory.readU32(0x90000 - 40 + 4 * i));
  assert.deepEqual(pushed.slice(0, 3), [0, 0x104, 0x2000]);
  assert.equal(pushed[3] & FLAG_VM, FLAG_VM);
  assert.deepEqual(pushed.slice(4), [0xfffe, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000]);
  assert.equal(cpu.segAttr[DS] & ATTR_UNUSABLE, ATTR_UNUSABLE);
  // The handler drops the error code and IRETs back into V86 with the segments restored.
  cpu.regs[ESP] += 4;
  iret(cpu, true);
  assert.equal(cpu.flags & FLAG_VM, FLAG_VM);
  assert.equal(cpu.eip, 0x104);
  assert.equal(cpu.segBase[DS], 0x50000);
  // INT n in V86 with IOPL < 3 => #GP(0) before the IDT is read.
  writeEflags(cpu, (readEflags(cpu) & ~0x3000) | FLAG_VM);
  const f = catchFault(() => deliverEvent(cpu, 0x21, EVENT_SOFTWARE_INT, -1));
  assert.deepEqual([f.vector, f.errorCode], [EXC_GP, 0]);
});

test('16-bit interrupt gate: 2-byte frame, offset truncated to 16 bits', () => {
  const { cpu, memory, idt } = pm();
  idt(0x20, gate(SEL_KCODE, 0x12345678, 0x06, 0));
  cpu.regs[ESP] = 0x80000;
  cpu.eip = 0xabcd;
  writeEflags(cpu, 0x202);
  deliverEvent(cpu, 0x20, EVENT_EXTERNAL, -1);
  assert.equal(cpu.eip, 0x5678);
  assert.equal(cpu.regs[ESP], 0x80000 - 6);
  assert.deepEqual([memory.readU16(0x80000 - 6), memory.readU16(0x80000 - 4), memory.readU16(0x80000 - 2)], [0xabcd, SEL_KCODE, 0x202]);
  iret(cpu, false);
  assert.equal(cpu.eip, 0xabcd);
  assert.equal(cpu.regs[ESP], 0x80000);
});

test('EXT bit: faults while delivering an external event carry EXT=1 in their error code', () => {
  const { cpu, memory, idt } = pm();
  writeDescriptor(memory, GDT_BASE, 6, descriptor(0, 0xffffffff, 0x1b, 0, { present: false }));
  idt(0x30, gate(0x30, 0x1000, INT_GATE32, 0));
  cpu.regs[ESP] = 0x80000;
  let f = catchFault(() => deliverEvent(cpu, 0x30, EVENT_EXTERNAL, -1));
  assert.deepEqual([f.vector, f.errorCode], [EXC_NP, 0x31]);
  f = catchFault(() => deliverEvent(cpu, 0x30, EVENT_SOFTWARE_INT, -1));
  assert.deepEqual([f.vector, f.errorCode], [EXC_NP, 0x30], 'INT n: EXT=0');
  // A TSS stack outside the TSS limit => #TS(TR selector + EXT).
  idt(0x31, gate(SEL_KCODE, 0x1000, INT_GATE32, 3));
  toRing3(cpu);
  cpu.segLimit[TR] = 4;
  f = catchFault(() => deliverEvent(cpu, 0x31, EVENT_EXTERNAL, -1));
  assert.deepEqual([f.vector, f.errorCode], [0x0a, SEL_TSS | 1]);
  assert.equal(cpu.cpl, 3, 'nothing changed');
});

test('CALL to a task gate nests tasks: back link, NT, both busy; IRET returns and frees the callee', () => {
  const { cpu, memory } = pm();
  const NEW = 0x3400;
  writeDescriptor(memory, GDT_BASE, 6, descriptor(NEW, 0x67, 0x09, 0, { db: false }));
  writeDescriptor(memory, GDT_BASE, 7, gate(0x30, 0, TASK_GATE, 0));
  memory.writeU32(NEW + 0x20, 0x5000);
  memory.writeU32(NEW + 0x24, 0x2);
  memory.writeU32(NEW + 0x38, 0x70000);
  for (const [off, sel] of [[0x48, SEL_KDATA], [0x4c, SEL_KCODE], [0x50, SEL_KDATA], [0x54, SEL_KDATA]] as const) memory.writeU16(NEW + off, sel);
  cpu.eip = 0x1234;
  writeEflags(cpu, 0x202);
  const { farCall } = segmentation;
  farCall(cpu, 0x38, 0, true);
  assert.equal(cpu.segSel[TR], 0x30);
  assert.equal(cpu.eip, 0x5000);
  assert.equal(readEflags(cpu) & FLAG_NT, FLAG_NT);
  assert.equal(memory.readU16(NEW), SEL_TSS);
  assert.equal(memory.readU8(GDT_BASE + 5 * 8 + 5) & 0xf, 0xb);
  assert.equal(memory.readU8(GDT_BASE + 6 * 8 + 5) & 0xf, 0xb);
  iret(cpu, true);
  assert.equal(cpu.segSel[TR], SEL_TSS);
  assert.equal(cpu.eip, 0x1234);
  assert.equal(readEflags(cpu) & (FLAG_NT | FLAG_IF), FLAG_IF);
  assert.equal(memory.readU8(GDT_BASE + 6 * 8 + 5) & 0xf, 0x9);
  assert.equal(memory.readU32(NEW + 0x24) & FLAG_NT, 0, 'IRET saved the callee with NT clear');
});
