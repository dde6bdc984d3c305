import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emuCpuidPolicy, CPUID1_EDX, CPU_BRAND_STRING } from './cpuid-policy.js';

const leaf = (n: number) => {
  const e = emuCpuidPolicy().find((x) => x.leaf === n);
  assert.ok(e, `leaf ${n.toString(16)}`);
  return e;
};
const text = (...regs: number[]) => regs.map((r) => String.fromCharCode(r & 255, (r >> 8) & 255, (r >> 16) & 255, r >>> 24)).join('');

test('vendor, family and the features Debian 686/686-pae require', () => {
  const l0 = leaf(0);
  assert.equal(text(l0.ebx, l0.edx, l0.ecx), 'AuthenticAMD');
  const l1 = leaf(1);
  assert.equal((l1.eax >> 8) & 0xf, 6, 'family 6 => uname -m i686');
  for (const bit of [CPUID1_EDX.FPU, CPUID1_EDX.CX8, CPUID1_EDX.CMOV, CPUID1_EDX.PAE, CPUID1_EDX.TSC]) assert.ok(l1.edx & bit);
  assert.equal(l1.edx & CPUID1_EDX.APIC, 0, 'no local APIC on the direct-boot platform');
  assert.equal(l1.edx & ((1 << 23) | (1 << 25) | (1 << 26)), 0, 'no MMX/SSE/SSE2');
  assert.equal(l1.ecx, 0, 'no hypervisor bit until the Xen leaves exist');
});

test('the brand string names tsxen', () => {
  const b = [0x80000002, 0x80000003, 0x80000004].map(leaf).map((e) => text(e.eax, e.ebx, e.ecx, e.edx)).join('');
  assert.equal(b.replace(/\0+$/, ''), CPU_BRAND_STRING);
  assert.match(CPU_BRAND_STRING, /tsxen/);
});
