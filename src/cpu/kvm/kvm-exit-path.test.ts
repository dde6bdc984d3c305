// The fast exit path's shortcuts keep their meaning: registers read at an exit
// come from kvm_run's sync area without an ioctl, registers written there are
// loaded by the next KVM_RUN, or written back before any other ioctl; a verified
// hypercall stub is recognised again without KVM_GET_SREGS, yet an OUT to the
// stub port from outside the page stays a port write; exit counts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, kvmGuest, kvmSkipReason, skipLoudly, startProtectedMode } from './kvm-test-support.js';
import { HYPERCALL_PORT } from './hypercall-stubs.js';
import { ioctlSerial } from './libc.js';
import { writeHypercallPage } from '../../hypervisor/hypercall/hypercall-page.js';

const skip = kvmSkipReason();

test('registers at an exit are read and written without an ioctl; the next read and the guest see the write', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble(`bits 32
org 0x1000
  mov eax, 0x11111111
  mov ebx, 0x22222222
  mov esi, 0x33333333
  mov edi, 0x44444444
  mov ecx, 0x1b            ; IA32_APIC_BASE: an msr exit to tsxen
  rdmsr
  mov [0x2000], ebx
  mov [0x2004], esi
  cli
  hlt
`));
    startProtectedMode(g, 0x1000);
    assert.deepEqual(g.vcpu.run(), { kind: 'msr', write: false, index: 0x1b, value: 0n });
    const before = ioctlSerial();
    const r = g.vcpu.getRegisters();
    assert.equal(ioctlSerial(), before, 'no KVM_GET_REGS at the exit');
    // EIP: KVM reports the exit on the RDMSR (4 x 5-byte MOVs + one more from 0x1000), completed when it resumes.
    assert.deepEqual([r.eax, r.ebx, r.esi, r.edi, r.ecx, r.eip], [0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x1b, 0x1019]);
    g.vcpu.setRegisters({ ...r, ebx: 0xcafe0001, esi: 0xcafe0002 });
    assert.equal(ioctlSerial(), before, 'no KVM_SET_REGS: the next KVM_RUN loads them from kvm_run');
    assert.deepEqual([g.vcpu.getRegisters().ebx, g.vcpu.getRegisters().esi], [0xcafe0001, 0xcafe0002]);
    g.vcpu.completeMsr(0xfee00900n);
    assert.deepEqual(g.vcpu.run(), { kind: 'hlt', interruptsEnabled: false });
    assert.deepEqual([g.memory.readU32(0x2000), g.memory.readU32(0x2004)], [0xcafe0001, 0xcafe0002]);
    assert.equal(g.vcpu.getRegisters().eax, 0xfee00900, 'RDMSR completed with tsxen value');
    assert.equal(g.vcpu.exitCounts.get('hlt'), 1);
    assert.equal(g.vcpu.exitCounts.get('rdmsr'), 1);
  } finally {
    g.close();
  }
});

test('a second hypercall from the verified page needs no KVM_GET_SREGS; OUT to the stub port elsewhere stays a port write', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble(`bits 32
org 0x1000
  mov ecx, 0x40000000
  mov eax, 0x5000
  xor edx, edx
  wrmsr
  call 0x5000 + 17*32
  call 0x5000 + 12*32
  mov eax, 0x5a5a
  out 0x${HYPERCALL_PORT.toString(16)}, eax   ; not from the page: a plain port write
  cli
  hlt
`));
    startProtectedMode(g, 0x1000);
    assert.equal(g.vcpu.run().kind, 'msr');
    writeHypercallPage(g.memory, 0x5000);
    g.vcpu.completeMsr(0n);
    assert.deepEqual(g.vcpu.run(), { kind: 'hypercall' });
    assert.equal(g.vcpu.getRegisters().eax, 17);
    g.vcpu.setRegisters({ ...g.vcpu.getRegisters(), eax: 0 });
    const before = ioctlSerial();
    assert.deepEqual(g.vcpu.run(), { kind: 'hypercall' });
    assert.equal(g.vcpu.getRegisters().eax, 12);
    assert.equal(ioctlSerial(), before, 'the second hypercall was recognised and read without an ioctl');
    g.vcpu.setRegisters({ ...g.vcpu.getRegisters(), eax: 0 });
    assert.deepEqual(g.vcpu.run(), { kind: 'hlt', interruptsEnabled: false });
    assert.deepEqual(g.accesses.filter((a) => a.address === HYPERCALL_PORT), [{ kind: 'out', address: HYPERCALL_PORT, size: 4, value: 0x5a5a }]);
    assert.equal(g.vcpu.exitCounts.get('io'), 3);
  } finally {
    g.close();
  }
});

test('registers left for KVM_RUN are written back before another ioctl, and reset() still wins over them', (t) => {
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    g.memory.write(0x1000, assemble(`bits 32
org 0x1000
  mov ecx, 0x1b
  rdmsr
  mov [0x2000], ebx
  mov ecx, 0x1b
  rdmsr
  cli
  hlt
`));
    startProtectedMode(g, 0x1000);
    assert.equal(g.vcpu.run().kind, 'msr');
    g.vcpu.setRegisters({ ...g.vcpu.getRegisters(), ebx: 0x600d600d });
    // KVM_GET_SREGS is another ioctl: KVM_SET_REGS goes first (two ioctls, not one).
    const before = ioctlSerial();
    const cr0 = g.vcpu.getSpecialRegisters().cr0;
    assert.equal(ioctlSerial() - before, 2, 'the registers were written back, then the sregs read');
    assert.equal(cr0 & 1, 1);
    g.vcpu.completeMsr(0n);
    assert.equal(g.vcpu.run().kind, 'msr');
    assert.equal(g.memory.readU32(0x2000), 0x600d600d, 'the guest ran with the written-back EBX');
    // Left for KVM_RUN again, then reset: the power-on registers are what KVM holds.
    g.vcpu.setRegisters({ ...g.vcpu.getRegisters(), eip: 0x1234, ebx: 0xbad });
    g.vcpu.reset();
    const r = g.vcpu.getRegisters();
    assert.deepEqual([r.eip, r.ebx], [0xfff0, 0], 'reset() after a pending write leaves the power-on state');
  } finally {
    g.close();
  }
});
