import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainCpuidPolicy, CPUID1_EDX, CPU_BRAND_STRING, cpuidFlags, hideCpuidFlags, missingCpuidFlags } from './cpuid-policy.js';

const leaf = (n: number) => {
  const e = domainCpuidPolicy().find((x) => x.leaf === n);
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

test('longMode: the x86-64 baseline Linux requires (CONFIG_X86_64 required-features) on top of the i686 set', () => {
  const p = domainCpuidPolicy({ apic: true, longMode: true });
  const get = (n: number) => p.find((x) => x.leaf === n)!;
  const l1 = get(1);
  const i686 = domainCpuidPolicy({ apic: true }).find((x) => x.leaf === 1)!;
  assert.equal(l1.edx & i686.edx, i686.edx, 'everything of the i686 set stays');
  for (const bit of [CPUID1_EDX.MMX, CPUID1_EDX.SSE, CPUID1_EDX.SSE2, CPUID1_EDX.CLFSH, CPUID1_EDX.FXSR, CPUID1_EDX.PAE, CPUID1_EDX.PSE, CPUID1_EDX.MSR, CPUID1_EDX.PGE]) assert.ok(l1.edx & bit, `bit ${Math.log2(bit)}`);
  assert.equal((l1.ebx >> 8) & 0xff, 8, 'CLFLUSH line 64 bytes');
  assert.equal(get(0x80000000).eax, 0x80000008);
  const ext = get(0x80000001);
  assert.ok(ext.edx & (1 << 29), 'LM');
  assert.ok(ext.edx & (1 << 11), 'SYSCALL');
  assert.ok(ext.edx & (1 << 20), 'NX');
  assert.ok(ext.ecx & 1, 'LAHF/SAHF in 64-bit mode');
  assert.equal(get(0x80000008).eax, 0x3024, '48-bit linear, 36-bit physical');
  const brand = [0x80000002, 0x80000003, 0x80000004].map(get).map((e) => text(e.eax, e.ebx, e.ecx, e.edx)).join('');
  assert.match(brand, /^tsxen virtual x86-64 CPU\0*$/);
  // The i686 set never shows long mode (the software CPU has none).
  assert.equal(domainCpuidPolicy({ apic: true }).find((x) => x.leaf === 0x80000001)!.edx & (1 << 29), 0);
});

test('named flags: hiding the x86-64 set gives back exactly the i686 table, and missing flags are named', () => {
  const i686 = domainCpuidPolicy({ apic: true });
  const x64 = domainCpuidPolicy({ apic: true, longMode: true });
  assert.deepEqual(cpuidFlags(i686), ['fpu', 'pse', 'tsc', 'msr', 'pae', 'cx8', 'apic', 'sysenter', 'pge', 'cmov', 'pat', 'fxsr', 'nx']);
  assert.deepEqual(missingCpuidFlags(x64, i686), ['clfsh', 'mmx', 'sse', 'sse2', 'lahfsahf', 'syscall', 'lm']);
  assert.deepEqual(missingCpuidFlags(i686, x64), []);
  const pinned = hideCpuidFlags(x64, ['clfsh', 'mmx', 'sse', 'sse2', 'lahfsahf', 'syscall', 'lm']);
  assert.deepEqual(missingCpuidFlags(pinned, i686), []);
  assert.equal(pinned.find((e) => e.leaf === 0x80000000)!.eax, 0x80000004);
  assert.equal(pinned.some((e) => e.leaf === 0x80000008), false);
  assert.equal(x64.find((e) => e.leaf === 0x80000000)!.eax, 0x80000008, 'the input is not changed');
  assert.throws(() => hideCpuidFlags(x64, ['avx512']), /unknown CPUID flag "avx512" \(known: fpu, /);
});
