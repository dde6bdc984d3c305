// Small real- and protected-mode guests on KvmVcpu (issue 6 acceptance): port and
// MMIO exits reach VmOps, HLT and an injected interrupt, CPUID from tsxen's
// table, the hypercall MSR and a hypercall through the stub page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, kvmGuest, kvmSkipReason, skipLoudly, startProtectedMode, startRealMode } from './kvm-test-support.js';
import { HYPERCALL_PORT, kvmHypercallPageBytes } from './hypercall-stubs.js';
import { writeHypercallPage } from '../../hypervisor/hypercall/hypercall-page.js';

const skip = kvmSkipReason();

test('real mode: UART and debug-port output reach VmOps, HLT with IF=0 exits', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble(`bits 16
org 0x1000
  mov si, msg
  mov dx, 0x3f8
.next:
  lodsb
  test al, al
  jz .done
  out dx, al
  jmp .next
.done:
  mov al, 0x42
  out 0xe9, al
  cli
  hlt
msg: db "hello", 0
`));
    startRealMode(g, 0x1000);
    const exit = g.vcpu.run();
    assert.deepEqual(exit, { kind: 'hlt', interruptsEnabled: false });
    assert.equal(String.fromCharCode(...g.uart), 'hello');
    assert.deepEqual(g.debug, [0x42]);
  } finally {
    g.close();
  }
});

test('real mode: IN is answered by VmOps; MMIO read and write in the VGA hole exit to VmOps', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble(`bits 16
org 0x1000
  mov dx, 0x3fd
  in al, dx
  mov [0x2000], al
  mov ax, 0xa000
  mov es, ax
  mov word [es:0x10], 0xbeef
  mov ax, [es:0x20]
  mov [0x2002], ax
  cli
  hlt
`));
    g.mmioValue = 0x1234;
    startRealMode(g, 0x1000);
    assert.equal(g.vcpu.run().kind, 'hlt');
    assert.equal(g.memory.readU8(0x2000), 0x60);
    assert.deepEqual(g.accesses.filter((a) => a.kind.startsWith('mmio')), [
      { kind: 'mmio-write', address: 0xa0010, size: 2, value: 0xbeef },
      { kind: 'mmio-read', address: 0xa0020, size: 2, value: 0x1234 },
    ]);
    assert.equal(g.memory.readU16(0x2002), 0x1234);
  } finally {
    g.close();
  }
});

test('real mode: HLT with IF=1 exits, then a raised INTR line is acknowledged, the handler runs and HLT returns', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble(`bits 16
org 0x1000
  mov word [0x20*4], handler
  mov word [0x20*4+2], 0
  sti
  hlt
  mov al, 'A'
  out 0xe9, al
  cli
  hlt
handler:
  mov al, 'T'
  out 0xe9, al
  iret
`));
    startRealMode(g, 0x1000);
    assert.deepEqual(g.vcpu.run(), { kind: 'hlt', interruptsEnabled: true });
    assert.deepEqual(g.debug, []);
    g.nextVector = 0x20;
    g.vcpu.setIrqLine(true); // the timer fires
    assert.deepEqual(g.vcpu.run(), { kind: 'hlt', interruptsEnabled: false });
    assert.deepEqual(g.acked, [0x20]);
    assert.equal(String.fromCharCode(...g.debug), 'TA');
  } finally {
    g.close();
  }
});

test('requestExit before run returns interrupted without running the guest', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble('bits 16\norg 0x1000\n  mov al, 1\n  out 0xe9, al\n  cli\n  hlt\n'));
    startRealMode(g, 0x1000);
    g.vcpu.requestExit();
    assert.deepEqual(g.vcpu.run(), { kind: 'interrupted' });
    assert.deepEqual(g.debug, []);
    assert.equal(g.vcpu.run().kind, 'hlt');
    assert.deepEqual(g.debug, [1]);
  } finally {
    g.close();
  }
});

test('protected mode: CPUID is served from the table tsxen sets', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.vcpu.setCpuid([
      { leaf: 0, subleaf: 0, indexed: false, eax: 1, ebx: 0x61616161, ecx: 0x62626262, edx: 0x63636363 },
      { leaf: 1, subleaf: 0, indexed: false, eax: 0x633, ebx: 0, ecx: 0, edx: 0x1 },
      { leaf: 0x40000000, subleaf: 0, indexed: false, eax: 0x40000002, ebx: 0x566e6558, ecx: 0x65584d4d, edx: 0x4d4d566e },
    ]);
    g.memory.write(0x1000, assemble(`bits 32
org 0x1000
  mov eax, 0x40000000
  cpuid
  mov [0x2000], eax
  mov [0x2004], ebx
  mov [0x2008], ecx
  mov [0x200c], edx
  xor eax, eax
  cpuid
  mov [0x2010], ebx
  cli
  hlt
`));
    startProtectedMode(g, 0x1000);
    assert.equal(g.vcpu.run().kind, 'hlt');
    assert.equal(g.memory.readU32(0x2000), 0x40000002);
    assert.equal(Buffer.from(g.memory.read(0x2004, 12)).toString('latin1'), 'XenVMMXenVMM');
    assert.equal(g.memory.readU32(0x2010), 0x61616161);
  } finally {
    g.close();
  }
});

test('protected mode: the hypercall-page MSR write reaches tsxen, and a hypercall through the page returns its result in EAX', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble(`bits 32
org 0x1000
  mov ecx, 0x40000000
  mov eax, 0x5000
  xor edx, edx
  wrmsr
  mov ebx, 0x11
  mov ecx, 0x22
  mov edx, 0x33
  call 0x5000 + 17*32      ; xen_version
  mov [0x2000], eax
  mov [0x2004], ebx
  mov ecx, 0x1b            ; IA32_APIC_BASE reaches tsxen too
  rdmsr
  mov [0x2008], eax
  cli
  hlt
`));
    startProtectedMode(g, 0x1000);
    const msr = g.vcpu.run();
    assert.deepEqual(msr, { kind: 'msr', write: true, index: 0x40000000, value: 0x5000n });
    // The domain fills the page (VMCALL stubs) and completes; the backend swaps in its port stubs.
    writeHypercallPage(g.memory, 0x5000);
    g.vcpu.completeMsr(0n);
    assert.deepEqual(g.memory.read(0x5000, 4096), kvmHypercallPageBytes());
    assert.deepEqual(g.vcpu.run(), { kind: 'hypercall' });
    const r = g.vcpu.getRegisters();
    assert.equal(r.eax, 17);
    assert.deepEqual([r.ebx, r.ecx, r.edx], [0x11, 0x22, 0x33]);
    g.vcpu.setRegisters({ ...r, eax: 0x40011 }); // Xen 4.17
    const apic = g.vcpu.run();
    assert.deepEqual(apic, { kind: 'msr', write: false, index: 0x1b, value: 0n });
    g.vcpu.completeMsr(0xfee00900n);
    assert.deepEqual(g.vcpu.run(), { kind: 'hlt', interruptsEnabled: false });
    assert.equal(g.memory.readU32(0x2000), 0x40011);
    assert.equal(g.memory.readU32(0x2004), 0x11);
    assert.equal(g.memory.readU32(0x2008), 0xfee00900);
    // The stub port is a hypercall only from inside the page.
    assert.equal(g.accesses.some((a) => a.address === HYPERCALL_PORT), false);
  } finally {
    g.close();
  }
});

test('protected mode: 32-bit MMIO above RAM, an unknown MSR refused with #GP, a triple fault', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble(`bits 32
org 0x1000
  mov dword [0xf0000010], 0xcafef00d
  mov eax, [0xf0000020]
  mov [0x2000], eax
  mov ecx, 0x12345678
  rdmsr                 ; refused: #GP with an empty IDT -> triple fault
  hlt
`));
    g.mmioValue = 0x87654321;
    startProtectedMode(g, 0x1000);
    const s = g.vcpu.getSpecialRegisters();
    g.vcpu.setSpecialRegisters({ ...s, idt: { base: 0, limit: 0 } });
    const msr = g.vcpu.run();
    assert.deepEqual(msr, { kind: 'msr', write: false, index: 0x12345678, value: 0n });
    assert.deepEqual(g.accesses.filter((a) => a.kind.startsWith('mmio')), [
      { kind: 'mmio-write', address: 0xf0000010, size: 4, value: 0xcafef00d },
      { kind: 'mmio-read', address: 0xf0000020, size: 4, value: 0x87654321 },
    ]);
    assert.equal(g.memory.readU32(0x2000), 0x87654321);
    g.vcpu.completeMsr(undefined);
    const tf = g.vcpu.run();
    assert.equal(tf.kind, 'triple-fault');
  } finally {
    g.close();
  }
});

test('a guest spinning without exits is kicked out of KVM_RUN by the slice timer', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest(4 << 20, 5);
  try {
    g.memory.write(0x1000, assemble('bits 16\norg 0x1000\n  sti\n.spin:\n  inc dword [0x2000]\n  jmp .spin\n'));
    startRealMode(g, 0x1000);
    const t0 = performance.now();
    assert.deepEqual(g.vcpu.run(), { kind: 'interrupted' });
    const ms = performance.now() - t0;
    assert.ok(ms < 500, `run() returned after ${ms.toFixed(1)} ms`);
    const count = g.memory.readU32(0x2000);
    assert.ok(count > 0, 'the guest ran');
    assert.deepEqual(g.vcpu.run(), { kind: 'interrupted' });
    assert.ok(g.memory.readU32(0x2000) > count, 'the guest ran again');
  } finally {
    g.close();
  }
});

test('FPU and MSR state through KVM: FCW set and read back, FNINIT state, an MSR KVM owns round-trips', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    const raw = g.vcpu.getFpu();
    new DataView(raw.buffer).setUint16(128, 0x27f, true); // FCW: double precision
    g.vcpu.setFpu(raw);
    assert.equal(new DataView(g.vcpu.getFpu().buffer).getUint16(128, true), 0x27f);
    g.vcpu.initFpu();
    assert.equal(new DataView(g.vcpu.getFpu().buffer).getUint16(128, true), 0x37f);
    assert.throws(() => g.vcpu.setFpu(new Uint8Array(10)), RangeError);
    const SYSENTER_CS = 0x174;
    assert.equal(g.vcpu.setMsrs([[SYSENTER_CS, 0x10n]]), 1);
    assert.deepEqual(g.vcpu.getMsrs([SYSENTER_CS]), [0x10n]);
  } finally {
    g.close();
  }
});

test('long mode: an instruction KVM cannot emulate stops the vCPU with a 64-bit diagnostic (RIP, R8-R15, CR2/CR3, the bytes at RIP through the page tables)', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.setLongModeCpuid();
    g.memory.write(0x1000, assemble(`bits 32
org 0x1000
%include "long-mode.inc"
  mov dword [0x50000], 0x51003           ; PML4[0] -> PDPT
  mov dword [0x50000 + 511 * 8], 0x52003 ; PML4[511] -> PDPT2
  mov dword [0x51000], 0x53003           ; PDPT[0] -> PD: 0-2 MiB
  mov dword [0x51000 + 3 * 8], 0x54003   ; PDPT[3] -> PD': 3 GiB, where no RAM is
  mov dword [0x52000 + 510 * 8], 0x53003 ; 0xffffffff80000000 -> 0
  mov dword [0x53000], 0x83
  mov dword [0x54000], 0xc0000083
  ENTER_LONG_MODE 0x50000, gdtr, lmode
bits 64
lmode:
  mov rax, 0xffffffff80000000 + high
  jmp rax
high:
  mov r8, 0x1122334455667788
  mov r15, 0x0f0e0d0c0b0a0908
  fild dword [0xc0000000]                ; x87 on MMIO: KVM's emulator has no x87 loads
  hlt
align 8
gdt: dq 0, 0x00209a0000000000, 0x0000920000000000
gdtr: dw 23
  dd gdt
`));
    startProtectedMode(g, 0x1000);
    let exit = g.vcpu.run();
    while (exit.kind === 'interrupted' || exit.kind === 'mmio') exit = g.vcpu.run();
    assert.equal(exit.kind, 'internal-error', `stopped with ${JSON.stringify(exit)}`);
    if (exit.kind !== 'internal-error') return;
    assert.match(exit.diagnostic, /^rax=[0-9a-f]{16} /m);
    assert.match(exit.diagnostic, /^r8=1122334455667788 .* r11=[0-9a-f]{16}$/m);
    assert.match(exit.diagnostic, /r15=0f0e0d0c0b0a0908/);
    assert.match(exit.diagnostic, /^rip=ffffffff8000[0-9a-f]{4} rflags=[0-9a-f]{8} cs=8 cr0=[0-9a-f]{8} cr2=[0-9a-f]{16} cr3=0000000000050000 /m);
    assert.match(exit.diagnostic, /^bytes at cs:rip: db 04 25 00 00 00 c0 f4/m, 'FILD m32 then HLT, read through the 4-level tables at the upper-half RIP');
    assert.match(exit.diagnostic, /^last kvm exits: /m);
  } finally {
    g.close();
  }
});
