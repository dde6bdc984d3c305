// The fast exit path's shortcuts keep their meaning: registers read at an exit
// come from kvm_run's sync area without an ioctl and are never stale after a
// write; a verified hypercall stub is recognised again without KVM_GET_SREGS, yet
// an OUT to the stub port from outside the page stays a port write; exit counts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, kvmGuest, kvmSkipReason, skipLoudly, startProtectedMode } from './kvm-test-support.js';
import { HYPERCALL_PORT } from './hypercall-stubs.js';
import { ioctlSerial } from './libc.js';
import { writeHypercallPage } from '../../hypervisor/hypercall/hypercall-page.js';

const skip = kvmSkipReason();

test('registers at an exit are read without an ioctl, and a write is seen by the next read and by the guest', (t) => {
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
    // After KVM_SET_REGS the sync area is stale: the read must come from KVM.
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
