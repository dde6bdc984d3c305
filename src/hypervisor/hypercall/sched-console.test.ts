import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import type { VcpuRegisters } from '../vcpu/backend.js';
import { dispatchHypercall } from './dispatch.js';
import type { HypercallContext } from './hypercall-context.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';

function call(memory: GuestMemory, r: Partial<VcpuRegisters>, extra: Partial<HypercallContext> = {}): number {
  let regs: VcpuRegisters = { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: 0, eflags: 2, ...r };
  const result = dispatchHypercall({ regs: { get: () => ({ ...regs }), set: (n) => (regs = { ...n }) }, memory, ...extra });
  assert.equal(regs.eax, result >>> 0);
  return result;
}

test('sched_op: shutdown passes the reason, bad reasons and buffers are refused, yield/block/poll return', () => {
  const m = new GuestMemory({ ramBytes: 1 << 20 });
  const reasons: number[] = [];
  const shutdown = (r: number) => void reasons.push(r);
  m.writeU32(0x1000, 1); // SHUTDOWN_reboot
  assert.equal(call(m, { eax: 29, ebx: 2, ecx: 0x1000 }, { shutdown }), 0);
  assert.deepEqual(reasons, [1]);
  m.writeU32(0x1000, 9);
  assert.equal(call(m, { eax: 29, ebx: 2, ecx: 0x1000 }, { shutdown }), -XEN_EINVAL);
  assert.equal(call(m, { eax: 29, ebx: 2, ecx: 0xfffff000 }, { shutdown }), -XEN_EFAULT);
  m.writeU32(0x1000, 3);
  assert.equal(call(m, { eax: 29, ebx: 5, ecx: 0x1000 }, { shutdown }), 0, 'shutdown_code records, does not stop');
  assert.deepEqual(reasons, [1]);
  assert.equal(call(m, { eax: 29, ebx: 0 }), 0, 'yield');
  assert.equal(call(m, { eax: 29, ebx: 1 }), 0, 'block');
  m.writeU32(0x2004, 1);
  assert.equal(call(m, { eax: 29, ebx: 3, ecx: 0x2000 }), 0, 'poll one port');
  m.writeU32(0x2004, 1000);
  assert.equal(call(m, { eax: 29, ebx: 3, ecx: 0x2000 }), -XEN_EINVAL, 'too many ports');
  assert.equal(call(m, { eax: 29, ebx: 4, ecx: 0x2000 }), -XEN_EPERM, 'remote_shutdown needs privilege');
  assert.equal(call(m, { eax: 29, ebx: 99 }), -XEN_ENOSYS);
  m.writeU32(0x1000, 0);
  assert.equal(call(m, { eax: 29, ebx: 2, ecx: 0x1000 }), -XEN_ENOSYS, 'no shutdown hook: not available');
});

test('console_io: writes reach the console hook with non-printables dropped; reads need privilege', () => {
  const m = new GuestMemory({ ramBytes: 1 << 20 });
  const out: string[] = [];
  const text = 'hi\x01 there\n';
  m.write(0x3000, new TextEncoder().encode(text));
  assert.equal(call(m, { eax: 18, ebx: 0, ecx: text.length, edx: 0x3000 }, { console: (t) => void out.push(t) }), 0);
  assert.deepEqual(out, ['hi there\n']);
  assert.equal(call(m, { eax: 18, ebx: 0, ecx: 16, edx: 0xffffff00 }, { console: (t) => void out.push(t) }), -XEN_EFAULT);
  assert.equal(call(m, { eax: 18, ebx: 1, ecx: 16, edx: 0x3000 }), -XEN_EPERM);
  assert.equal(call(m, { eax: 18, ebx: 7 }), -XEN_EPERM, 'XSM before the cmd: a domU gets -EPERM for any other cmd');
  const dom0 = { domain: { privileged: true, handle: new Uint8Array(16) } };
  assert.equal(call(m, { eax: 18, ebx: 1, ecx: 16, edx: 0x3000 }, dom0), 0);
  assert.equal(call(m, { eax: 18, ebx: 7 }, dom0), -XEN_ENOSYS);
});
