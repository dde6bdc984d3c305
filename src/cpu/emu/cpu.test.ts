// EmuVcpu as a backend: string instructions, self-modifying code, exceptions
// through the real-mode IVT, interrupts and HLT, PIO, MSR exits, diagnostics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, machine, runProgram, runToExit, LOAD } from './emu-test-machine.test.js';
import { CpuException, EXC_GP, FLAG_IOPL, TR, UnimplementedInstruction } from './state.js';
import { checkIoPermission } from './exec-io.js';
import { COMPILE_THRESHOLD } from './block-compiler.js';

const ZF = 0x40;

test('REP MOVS/STOS forward and backward, overlapping, 16-bit wrap', () => {
  let m = runProgram(
    [
      'mov edi, 0x3000', 'mov eax, 0x11223344', 'mov ecx, 1024', 'cld', 'rep stosd', // 4 KiB, crosses into the next page
      'mov byte [0x3000], 0x55',
      'mov esi, 0x3000', 'mov edi, 0x5001', 'mov ecx, 4097', 'rep movsb',
      // Backward copy of 8 dwords (decompressor style).
      'mov esi, 0x301c', 'mov edi, 0x603c', 'mov ecx, 8', 'std', 'rep movsd', 'cld',
      // Overlapping forward byte copy replicates a pattern.
      'mov dword [0x7000], 0x04030201', 'mov esi, 0x7000', 'mov edi, 0x7001', 'mov ecx, 8', 'rep movsb',
      'hlt',
    ].join('\n'),
    'flat32',
  );
  const mem = m.memory;
  assert.equal(mem.readU32(0x3ffc), 0x11223344);
  assert.equal(mem.readU32(0x4000), 0);
  assert.equal(mem.readU8(0x5001), 0x55);
  assert.equal(mem.readU32(0x5002), 0x44112233);
  assert.equal(mem.readU8(0x6001), 0); // the 4097th byte, copied from 0x4000
  assert.equal(mem.readU8(0x6000), 0x11);
  assert.equal(mem.readU32(0x6020), 0x11223355);
  assert.equal(mem.readU32(0x603c), 0x11223344);
  const r = m.vcpu.getRegisters();
  assert.equal(r.ecx, 0);
  assert.deepEqual([...mem.read(0x7000, 9)], [1, 1, 1, 1, 1, 1, 1, 1, 1]);
  // 16-bit addressing: DI wraps inside the segment.
  m = runProgram(['mov ax, 0x200', 'mov es, ax', 'mov di, 0xfffe', 'mov cx, 4', 'mov al, 0xab', 'rep stosb', 'hlt'].join('\n'), 'real');
  assert.equal(m.memory.readU8(0x11ffe), 0xab);
  assert.equal(m.memory.readU8(0x11fff), 0xab);
  assert.equal(m.memory.readU16(0x2000), 0xabab);
  assert.equal(m.memory.readU8(0x12000), 0);
  assert.equal(m.vcpu.getRegisters().edi & 0xffff, 2);
});

test('REPE CMPS / REPNE SCAS stop on the condition; LODS; count 0 does nothing', () => {
  const m = runProgram(
    [
      'mov dword [0x3000], 0x64636261', 'mov dword [0x3100], 0x65636261',
      'mov esi, 0x3000', 'mov edi, 0x3100', 'mov ecx, 10', 'repe cmpsb', 'mov [0x3200], ecx', 'mov [0x3204], esi',
      'mov edi, 0x3000', 'mov al, 0x63', 'mov ecx, 10', 'repne scasb', 'mov [0x3208], ecx', 'mov [0x320c], edi',
      'mov esi, 0x3000', 'lodsw', 'mov [0x3210], eax',
      'xor ecx, ecx', 'mov edi, 0x3300', 'rep stosb', 'mov [0x3214], edi',
      'hlt',
    ].join('\n'),
    'flat32',
  );
  const mem = m.memory;
  assert.equal(mem.readU32(0x3200), 6);
  assert.equal(mem.readU32(0x3204), 0x3004);
  assert.equal(mem.readU32(0x3208), 7);
  assert.equal(mem.readU32(0x320c), 0x3003);
  assert.equal(mem.readU32(0x3210) & 0xffff, 0x6261);
  assert.equal(mem.readU32(0x3214), 0x3300);
});

test('self-modifying code: patching the next instruction in the same block takes effect', () => {
  const m = runProgram(
    [
      'mov ecx, 3',
      'again: mov byte [patch + 1], 0x42', // change the immediate of the next instruction
      'patch: mov eax, 0x11', // becomes mov eax, 0x42
      'mov [0x3000], eax',
      'mov byte [patch + 1], 0x11',
      'dec ecx', 'jnz again',
      'hlt',
    ].join('\n'),
    'flat32',
  );
  assert.equal(m.memory.readU32(0x3000), 0x42);
  assert.equal(m.vcpu.getRegisters().eax, 0x42);
});

test('self-modifying code stays correct in chained, compiled blocks on other pages', () => {
  // Page 2 patches its own next instruction only once, long after its blocks were
  // linked and compiled: the executing frame must follow the chain for the write to stop the block.
  const m = runProgram(
    [
      'xor esi, esi', 'xor edi, edi', 'mov ecx, 200',
      'outer: call page2', 'call page3', 'dec ecx', 'jnz outer', 'hlt',
      'times 0x1000 - ($ - $$) nop',
      'page2: cmp ecx, 50', 'jne skip', 'mov byte [imm2], 7',
      'skip: db 0x81, 0xc6', // add esi, imm32
      'imm2: dd 0',
      'ret',
      'times 0x2000 - ($ - $$) nop',
      'page3: add edi, 1',
      'ret',
    ].join('\n'),
    'flat32',
  );
  assert.equal(m.vcpu.getRegisters().esi, 7 * 50);
  assert.equal(m.vcpu.getRegisters().edi, 200);
});

test('an instruction crossing a page boundary is cached and still sees writes to either page', () => {
  const m = runProgram(
    [
      'xor esi, esi', 'mov ecx, 3',
      'jmp again',
      'times 0xff0 - ($ - $$) nop',
      'again:',
      'times 0xffd - ($ - $$) nop',
      'cross: mov eax, 0x11111111', // bytes 0x1ffd..0x2001: the last immediate byte is in the next page
      'add esi, eax',
      'inc byte [cross + 4]', // modify the byte in the second page
      'dec ecx', 'jnz again',
      'hlt',
    ].join('\n'),
    'flat32',
  );
  assert.equal(m.vcpu.getRegisters().esi, (0x11111111 + 0x12111111 + 0x13111111) >>> 0);
  assert.ok(m.vcpu.cache.blocksDecoded >= 3, 'the crossing instruction was re-decoded after each write');
});

test('writes from outside the CPU (DMA/loader) invalidate cached code', () => {
  const code = assemble('mov eax, 1\nhlt', 32);
  const m = machine(code, 'flat32');
  assert.equal(runToExit(m.vcpu).kind, 'hlt');
  assert.equal(m.vcpu.getRegisters().eax, 1);
  m.memory.write(LOAD, assemble('mov eax, 2\nhlt', 32));
  m.vcpu.cpu.halted = false;
  m.vcpu.cpu.eip = LOAD;
  assert.equal(runToExit(m.vcpu).kind, 'hlt');
  assert.equal(m.vcpu.getRegisters().eax, 2);
});

/** Real-mode program with an IVT entry for `vector` pointing at label `handler`. */
function withHandler(vector: number, body: string): string {
  return [
    'xor ax, ax', 'mov ds, ax', `mov word [${vector * 4}], handler`, `mov word [${vector * 4 + 2}], 0`,
    body,
    'handler: mov bx, 0xdead', 'pop si', 'hlt', // SI = the pushed IP
  ].join('\n');
}

test('#DE on divide by zero and quotient overflow goes through the IVT with IP at the DIV', () => {
  let m = runProgram(withHandler(0, 'mov ax, 5\nmov cl, 0\nfault: div cl\nmov bx, 1\nhlt'), 'real');
  let r = m.vcpu.getRegisters();
  assert.equal(r.ebx & 0xffff, 0xdead);
  assert.equal(r.eax & 0xffff, 5, 'registers untouched');
  const faultIp = r.esi & 0xffff;
  assert.equal(m.memory.readU8(faultIp), 0xf6); // the DIV opcode
  m = runProgram(withHandler(0, 'mov edx, 0xffffffff\nmov eax, 0x80000000\nmov ecx, -1\nidiv ecx\nhlt'), 'real');
  r = m.vcpu.getRegisters();
  assert.equal(r.ebx & 0xffff, 0xdead);
  assert.equal(r.eax, 0x80000000);
});

test('#UD for UD2, invalid LOCK, LEA with a register operand, CMPXCHG8B mod=11, SSE opcodes', () => {
  for (const bad of ['ud2', 'db 0xf0, 0x90', 'db 0x8d, 0xc0', 'db 0x0f, 0xc7, 0xc8', 'db 0x0f, 0x28, 0xc1', 'db 0xf0, 0x01, 0xc0', 'db 0x0f, 0xae, 0xe8']) {
    const m = runProgram(withHandler(6, `mov bx, 1\n${bad}\nhlt`), 'real');
    assert.equal(m.vcpu.getRegisters().ebx & 0xffff, 0xdead, bad);
  }
  // LOCK with a memory destination is fine; NOPL and the multi-byte NOPs run.
  const m = runProgram('mov ebx, 0x3000\nlock add dword [ebx], 2\nnop dword [eax+eax*1+0]\ndb 0x8d, 0x76, 0x00\nhlt', 'flat32');
  assert.equal(m.memory.readU32(0x3000), 2);
});

test('instructions longer than 15 bytes raise #GP(0)', () => {
  const m = runProgram(withHandler(13, `mov bx, 1\n${'db 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66'}\nmov eax, 1\nhlt`), 'real');
  assert.equal(m.vcpu.getRegisters().ebx & 0xffff, 0xdead);
});

test('external interrupts: delivered when IF=1, held off by the STI shadow, wake HLT', () => {
  const src = [
    'xor ax, ax', 'mov ds, ax', 'mov word [0x20 * 4], isr', 'mov word [0x20 * 4 + 2], 0',
    'xor cx, cx', 'cli', 'mov bx, 0',
    'sti', 'hlt', // interrupt arrives here
    'mov dx, 0x1234', 'cli', 'hlt',
    'isr: inc cx', 'iret',
  ].join('\n');
  const m = machine(assemble(src, 16), 'real');
  let e = runToExit(m.vcpu);
  assert.deepEqual(e, { kind: 'hlt', interruptsEnabled: true });
  assert.equal(m.vcpu.run().kind, 'hlt', 'stays halted with no interrupt');
  m.bus.pendingVector = 0x20;
  m.vcpu.setIrqLine(true);
  let exit;
  try {
    exit = m.vcpu.run();
  } finally {
    m.vcpu.setIrqLine(false);
  }
  e = exit.kind === 'interrupted' ? runToExit(m.vcpu) : exit;
  assert.deepEqual(e, { kind: 'hlt', interruptsEnabled: false });
  assert.equal(m.vcpu.getRegisters().ecx & 0xffff, 1);
  assert.equal(m.vcpu.getRegisters().edx & 0xffff, 0x1234);
});

test('STI shadow: an interrupt pending at STI is taken after the next instruction', () => {
  const src = [
    'xor ax, ax', 'mov ds, ax', 'mov word [0x21 * 4], isr', 'mov word [0x21 * 4 + 2], 0',
    'xor cx, cx', 'sti', 'inc cx', 'inc cx', 'hlt',
    'isr: mov [0x3000], cx', 'cli', 'hlt',
  ].join('\n');
  const m = machine(assemble(src, 16), 'real');
  m.bus.pendingVector = 0x21;
  m.vcpu.setIrqLine(true);
  const e = runToExit(m.vcpu);
  assert.deepEqual(e, { kind: 'hlt', interruptsEnabled: false });
  assert.equal(m.memory.readU16(0x3000), 1, 'exactly one instruction ran after STI');
});

test('PIO reaches VmOps: OUT imm/DX, IN, REP OUTSB', () => {
  const m = runProgram(
    [
      'mov al, 0x41', 'out 0x80, al', 'mov dx, 0x3f8', 'mov ax, 0x1234', 'out dx, ax', 'mov eax, 0xdeadbeef', 'out dx, eax',
      'mov dx, 0x60', 'in al, dx', 'mov [0x3000], al',
      'mov dword [0x3100], 0x63626160', 'mov esi, 0x3100', 'mov ecx, 3', 'mov dx, 0xe9', 'rep outsb',
      'hlt',
    ].join('\n'),
    'flat32',
  );
  assert.deepEqual(m.bus.writes, [
    { port: 0x80, size: 1, value: 0x41 },
    { port: 0x3f8, size: 2, value: 0x1234 },
    { port: 0x3f8, size: 4, value: 0xdeadbeef },
    { port: 0xe9, size: 1, value: 0x60 },
    { port: 0xe9, size: 1, value: 0x61 },
    { port: 0xe9, size: 1, value: 0x62 },
  ]);
  assert.equal(m.memory.readU8(0x3000), 0xff, 'unmapped port reads all ones');
});

test('I/O permission: CPL > IOPL consults the TSS bitmap; beyond the limit is #GP(0)', () => {
  const m = machine(new Uint8Array([0xf4]), 'flat32');
  const cpu = m.vcpu.cpu;
  cpu.cpl = 3;
  cpu.flags &= ~FLAG_IOPL;
  cpu.segBase[TR] = 0x4000;
  cpu.segLimit[TR] = 0x68 + 0x20;
  cpu.segAttr[TR] = 0x8b;
  m.memory.writeU16(0x4066, 0x68);
  m.memory.fill(0x4068, 0x20, 0xff);
  m.memory.writeU8(0x4068 + 0x10, 0xfe); // port 0x80 allowed, 0x81 not
  checkIoPermission(cpu, 0x80, 1);
  assert.throws(() => checkIoPermission(cpu, 0x80, 2), (e: unknown) => e instanceof CpuException && e.vector === EXC_GP && e.errorCode === 0);
  assert.throws(() => checkIoPermission(cpu, 0x3f8, 1), (e: unknown) => e instanceof CpuException && e.vector === EXC_GP);
  cpu.flags |= FLAG_IOPL;
  checkIoPermission(cpu, 0x3f8, 4);
});

test('RDMSR of an MSR the CPU does not own is an msr exit; completeMsr finishes it', () => {
  const m = machine(assemble('mov ecx, 0x40000000\nrdmsr\nmov ebx, 1\nwrmsr\nrdmsr\nhlt', 32), 'flat32');
  let e = runToExit(m.vcpu);
  assert.deepEqual(e, { kind: 'msr', write: false, index: 0x40000000, value: 0n });
  assert.equal(m.vcpu.getRegisters().eip, LOAD + 5, 'EIP still at RDMSR');
  m.vcpu.completeMsr(0x1122334455667788n);
  assert.deepEqual([m.vcpu.getRegisters().eax, m.vcpu.getRegisters().edx], [0x55667788, 0x11223344]);
  e = runToExit(m.vcpu);
  assert.equal(e.kind, 'msr');
  assert.equal((e as { write: boolean }).write, true);
  m.vcpu.completeMsr(0n);
  e = runToExit(m.vcpu);
  assert.equal(e.kind, 'msr');
  m.vcpu.completeMsr(0n);
  assert.equal(runToExit(m.vcpu).kind, 'hlt');
  assert.equal(m.vcpu.getRegisters().ebx, 1);
});

test('completeMsr(undefined) raises #GP(0) at the RDMSR', () => {
  const m = machine(assemble(withHandler(13, 'mov ecx, 0x40000000\nmsr: rdmsr\nmov bx, 1\nhlt'), 16), 'real');
  assert.equal(runToExit(m.vcpu).kind, 'msr');
  m.vcpu.completeMsr(undefined);
  assert.equal(runToExit(m.vcpu).kind, 'hlt');
  const r = m.vcpu.getRegisters();
  assert.equal(r.ebx & 0xffff, 0xdead);
  assert.deepEqual([...m.memory.read(r.esi & 0xffff, 2)], [0x0f, 0x32], 'pushed IP is the RDMSR');
});

test('an unimplemented instruction stops with a diagnostic naming registers, bytes and recent events', () => {
  const m = machine(assemble('mov al, 0x55\nout 0x80, al\nmov eax, 0xcafe\nfld1\nhlt', 32), 'flat32');
  m.vcpu.cpu.fpu.execute = () => {
    throw new UnimplementedInstruction('x87 d9 /5 (test)');
  };
  const e = runToExit(m.vcpu);
  assert.equal(e.kind, 'internal-error');
  if (e.kind !== 'internal-error') return;
  assert.equal(e.reason, 'unimplemented instruction x87 d9 /5 (test)');
  assert.match(e.diagnostic, /eax=0000cafe/);
  assert.match(e.diagnostic, /eip=00001009/);
  assert.match(e.diagnostic, /bytes at cs:eip: d9 e8 f4/);
  assert.match(e.diagnostic, /out8 port 0x0080 = 0x55/);
  assert.match(e.diagnostic, /cs   sel=0008 base=00000000 limit=ffffffff/);
  assert.match(e.diagnostic, /eflags=0x00000002/);
});

test('the run slice ends with `interrupted` and requestExit stops a running vCPU', () => {
  const m = machine(assemble('l: inc eax\njmp l', 32), 'flat32');
  m.vcpu.sliceInstructions = 1000;
  assert.equal(m.vcpu.run().kind, 'interrupted');
  const n = m.vcpu.cpu.instructions;
  assert.ok(n >= 1000 && n < 1100, `retired ${n}`);
  assert.equal(m.vcpu.getRegisters().eax, n / 2);
});

test('a fault loop (handler that faults again) still ends the slice', () => {
  // IVT entry 6 points at a UD2: every delivery faults again.
  const m = machine(assemble('xor ax, ax\nmov ds, ax\nmov word [6 * 4], bad\nmov word [6 * 4 + 2], 0\nbad: ud2', 16), 'real');
  m.vcpu.sliceInstructions = 500;
  assert.equal(m.vcpu.run().kind, 'interrupted');
  assert.equal(m.vcpu.run().kind, 'interrupted');
});

test('requestExit before run() makes the next run return at once', () => {
  const m = machine(assemble('l: inc eax\njmp l', 32), 'flat32');
  m.vcpu.requestExit();
  assert.equal(m.vcpu.run().kind, 'interrupted');
  assert.equal(m.vcpu.cpu.instructions, 0);
  m.vcpu.sliceInstructions = 100;
  assert.equal(m.vcpu.run().kind, 'interrupted');
  assert.ok(m.vcpu.cpu.instructions >= 100);
});

test('hot loops run compiled in real mode and flat 32-bit mode with the same results', () => {
  // Each of the loop's two blocks runs at least half the rounds: enough to be compiled.
  const rounds = 4 * COMPILE_THRESHOLD;
  const body = (r: string) => [
    `xor ${r}ax, ${r}ax`, `xor ${r}bx, ${r}bx`, `mov ${r}cx, ${rounds}`,
    `l: add ${r}ax, ${r}cx`, `mov [0x3000], ${r}ax`, `adc ${r}bx, [0x3000]`, 'test cl, 1', 'jz even', `inc ${r}bx`, `even: dec ${r}cx`, 'jnz l', 'hlt',
  ].join('\n');
  const real = runProgram(body('e'), 'real');
  const flat = runProgram(body('e'), 'flat32');
  assert.equal(real.vcpu.getRegisters().eax, ((rounds * (rounds + 1)) / 2) % 2 ** 32);
  assert.deepEqual(real.vcpu.getRegisters().ebx, flat.vcpu.getRegisters().ebx);
  const compiled = [...flat.vcpu.cache['pages'].values()].flatMap((p) => p.all).filter((b) => b.compiled !== null);
  assert.ok(compiled.length > 0, 'the loop body was compiled');
});

test('reset gives the power-on state', () => {
  const m = machine(new Uint8Array([0xf4]), 'flat32');
  m.vcpu.reset();
  const s = m.vcpu.getSpecialRegisters();
  const r = m.vcpu.getRegisters();
  assert.equal(r.eip, 0xfff0);
  assert.equal(r.eflags, 2);
  assert.equal(s.cs.selector, 0xf000);
  assert.equal(s.cs.base, 0xffff0000);
  assert.equal(s.cr0, 0x60000010);
  assert.equal(m.vcpu.cpu.code32, false);
  // setSpecialRegisters round-trips the segment caches.
  m.vcpu.setSpecialRegisters(s);
  assert.deepEqual(m.vcpu.getSpecialRegisters(), s);
  void ZF;
});
