// KVM's Xen hypercall interception: the config struct and the KVM_EXIT_XEN layout
// (pure), and on a host whose KVM intercepts (KVM_CAP_XEN_HVM with INTERCEPT_HCALL)
// a guest's direct VMCALL and VMMCALL reach tsxen and get its answer in EAX.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KVM_EXIT_XEN_HCALL, KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, RUN_XEN, readXenExit, xenHvmConfig } from './kvm-xen-abi.js';
import { KVM_XEN_HVM_CONFIG, XEN_HVM_CONFIG_BYTES } from './kvm-abi.js';
import { assemble, kvmGuest, kvmSkipReason, skipLoudly, startProtectedMode } from './kvm-test-support.js';

test('kvm_xen_hvm_config: flags and msr, no blobs, 56 bytes; the ioctl number encodes that size', () => {
  const b = xenHvmConfig(KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, 0x40000000);
  assert.equal(b.length, XEN_HVM_CONFIG_BYTES);
  assert.deepEqual([...b.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 0x40]);
  assert.ok(b.subarray(8).every((x) => x === 0));
  // _IOW(0xAE, 0x7a, 56): direction write (1) << 30 | size << 16 | 'type' << 8 | nr.
  assert.equal(KVM_XEN_HVM_CONFIG, ((1 << 30) | (XEN_HVM_CONFIG_BYTES << 16) | (0xae << 8) | 0x7a) >>> 0);
});

test('KVM_EXIT_XEN: type, longmode, cpl, input and six params at their kvm_run offsets', () => {
  const run = new DataView(new ArrayBuffer(4096));
  run.setUint32(RUN_XEN.type, KVM_EXIT_XEN_HCALL, true);
  run.setUint32(RUN_XEN.longmode, 1, true);
  run.setUint32(RUN_XEN.cpl, 3, true);
  run.setBigUint64(RUN_XEN.input, 17n, true);
  for (let i = 0; i < 6; i++) run.setBigUint64(RUN_XEN.params + 8 * i, BigInt(i + 1) << 40n, true);
  assert.deepEqual(readXenExit(run), { type: 1, longMode: true, cpl: 3, input: 17n, params: [1, 2, 3, 4, 5, 6].map((i) => BigInt(i) << 40n) });
  assert.equal(RUN_XEN.params + 48, 112, 'the hcall struct ends inside the 256-byte exit union');
});

test('a direct VMCALL and VMMCALL (no hypercall page) reach tsxen and return its answer (hosts whose KVM intercepts Xen hypercalls)', (t) => {
  const skip = kvmSkipReason();
  if (skip) return skipLoudly(t, skip);
  const g = kvmGuest();
  try {
    if (!g.backend.vcpu()!.vm.xenHypercallIntercept) {
      return skipLoudly(t, `this host's KVM has no KVM_CAP_XEN_HVM INTERCEPT_HCALL (${g.backend.vcpu()!.hypercallRoute})`);
    }
    g.memory.write(0x1000, assemble(`bits 32
org 0x1000
  mov eax, 17
  xor ebx, ebx
  vmcall
  mov [0x2000], eax
  mov eax, 29
  vmmcall
  mov [0x2004], eax
  cli
  hlt
`));
    startProtectedMode(g, 0x1000);
    let exit = g.vcpu.run();
    assert.equal(exit.kind, 'hypercall');
    assert.equal(g.vcpu.getRegisters().eax, 17);
    g.vcpu.setRegisters({ ...g.vcpu.getRegisters(), eax: 0x40011 });
    exit = g.vcpu.run();
    assert.equal(exit.kind, 'hypercall');
    assert.equal(g.vcpu.getRegisters().eax, 29);
    g.vcpu.setRegisters({ ...g.vcpu.getRegisters(), eax: -38 >>> 0 });
    exit = g.vcpu.run();
    assert.deepEqual(exit, { kind: 'hlt', interruptsEnabled: false });
    assert.equal(g.memory.readU32(0x2000), 0x40011);
    assert.equal(g.memory.readU32(0x2004), -38 >>> 0);
  } finally {
    g.close();
  }
});
