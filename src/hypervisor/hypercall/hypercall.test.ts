import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import { ManualClock } from '../clock.js';
import type { VcpuRegisters } from '../vcpu/backend.js';
import { EmuVcpu } from '../../cpu/emu/cpu.js';
import { domainCpuidPolicy } from '../cpuid-policy.js';
import { multibootEntrySpecialRegisters } from '../../firmware/multiboot/entry-state.js';
import { tscToNsScale, withXenLeaves, xenCpuidLeaves } from './xen-cpuid-leaves.js';
import { handleXenMsr, hypercallPageBytes, writeHypercallPage } from './hypercall-page.js';
import { dispatchHypercall } from './dispatch.js';
import type { HypercallContext } from './hypercall-context.js';

const MiB = 1 << 20;

function leafOf(entries: ReturnType<typeof xenCpuidLeaves>, leaf: number, subleaf = 0) {
  const e = entries.find((x) => x.leaf === leaf && (!x.indexed || x.subleaf === subleaf));
  assert.ok(e, `leaf ${leaf.toString(16)}.${subleaf} present`);
  return e;
}

function ascii(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return String.fromCharCode(...bytes.subarray(0, end < 0 ? bytes.length : end));
}

test('Xen CPUID leaves: signature, max leaf, version, hypercall page MSR, HVM leaf', () => {
  const l = xenCpuidLeaves({ vcpuId: 0, domId: 7 });
  const sig = leafOf(l, 0x40000000);
  assert.equal(sig.eax, 0x40000005);
  const text = [sig.ebx, sig.ecx, sig.edx].map((r) => String.fromCharCode(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24)).join('');
  assert.equal(text, 'XenVMMXenVMM');
  assert.equal(leafOf(l, 0x40000001).eax, 0x00040011);
  const hc = leafOf(l, 0x40000002);
  assert.deepEqual([hc.eax, hc.ebx, hc.ecx, hc.edx], [1, 0x40000000, 0, 0]);
  const hvm = leafOf(l, 0x40000004, 0);
  assert.equal(hvm.eax, (1 << 3) | (1 << 4), 'vCPU id and domain id present, nothing optional');
  assert.equal(hvm.ecx, 7);
  const time0 = leafOf(l, 0x40000003, 0);
  assert.equal(time0.ecx, 1_000_000, 'guest TSC kHz of the 1 GHz software TSC');
  const time1 = leafOf(l, 0x40000003, 1);
  assert.deepEqual([time1.ecx, time1.edx], [0x80000000, 1]);
});

test('Viridian moves the block to 0x40000100 and the MSR to 0x40000200', () => {
  const l = xenCpuidLeaves({ viridian: true });
  assert.equal(leafOf(l, 0x40000100).eax, 0x40000105);
  assert.equal(leafOf(l, 0x40000102).ebx, 0x40000200);
  assert.equal(l.some((e) => e.leaf < 0x40000100), false);
});

test('tsc->ns scale matches ns = ((tsc << shift) * mul) >> 32', () => {
  for (const hz of [1e9, 2.5e9, 3e9, 1.1e9, 100e6, 14318180]) {
    const { mulFrac, shift } = tscToNsScale(hz);
    const tsc = BigInt(Math.round(hz)); // one second of ticks
    const shifted = shift >= 0 ? tsc << BigInt(shift) : tsc >> BigInt(-shift);
    const ns = Number((shifted * BigInt(mulFrac)) >> 32n);
    assert.ok(Math.abs(ns - 1e9) < 5, `${hz} Hz: one second = ${ns} ns`);
    assert.ok(mulFrac >= 0x80000000 && mulFrac < 2 ** 32, 'mul_frac normalised');
  }
});

test('withXenLeaves sets CPUID.1:ECX.hypervisor and appends, without touching the input', () => {
  const base = domainCpuidPolicy();
  const before = JSON.stringify(base);
  const p = withXenLeaves(base);
  assert.equal(JSON.stringify(base), before);
  assert.equal(p.find((e) => e.leaf === 1)!.ecx >>> 31, 1);
  assert.equal(p.filter((e) => e.leaf === 0x40000000).length, 1);
  assert.equal(withXenLeaves(p).filter((e) => e.leaf === 0x40000000).length, 1, 'applying twice does not duplicate');
});

test('hypercall page: 0xCC filler, mov eax,nr; vmcall; ret per 32 bytes; UD2 for iret', () => {
  const p = hypercallPageBytes();
  assert.equal(p.length, 4096);
  assert.deepEqual([...p.subarray(17 * 32, 17 * 32 + 10)], [0xb8, 17, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3, 0xcc]);
  assert.deepEqual([...p.subarray(0, 9)], [0xb8, 0, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3]);
  assert.deepEqual([...p.subarray(127 * 32, 127 * 32 + 9)], [0xb8, 127, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3]);
  assert.deepEqual([...p.subarray(23 * 32, 23 * 32 + 3)], [0x0f, 0x0b, 0xcc]);
  assert.ok(p.subarray(17 * 32 + 9, 18 * 32).every((b) => b === 0xcc));
  const amd = hypercallPageBytes('amd');
  assert.deepEqual([...amd.subarray(5, 8)], [0x0f, 0x01, 0xd9]);
});

test('hypercall MSR: write fills the page; bad index, non-RAM frame or other MSRs are #GP', () => {
  const m = new GuestMemory({ ramBytes: 4 * MiB });
  const ok = handleXenMsr(true, 0x40000000, 0x3000n, m);
  assert.deepEqual(ok, { handled: true, hypercallPage: 0x3000 });
  assert.deepEqual([...m.read(0x3000 + 17 * 32, 9)], [0xb8, 17, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3]);
  assert.deepEqual(handleXenMsr(true, 0x40000000, 0x3001n, m), { handled: true, gp: true }, 'page index 1');
  assert.deepEqual(handleXenMsr(true, 0x40000000, 0xa0000n, m), { handled: true, gp: true }, 'VGA hole is not RAM');
  assert.deepEqual(handleXenMsr(true, 0x40000000, BigInt(8 * MiB), m), { handled: true, gp: true }, 'beyond RAM');
  assert.deepEqual(handleXenMsr(true, 0x40000000, 0x1_0000_3000n, m), { handled: true, gp: true }, 'above 4 GiB');
  assert.deepEqual(handleXenMsr(false, 0x40000000, 0n, m), { handled: true, value: 0n }, 'reads as zero');
  assert.deepEqual(handleXenMsr(false, 0x40000001, 0n, m), { handled: true, gp: true });
  assert.deepEqual(handleXenMsr(true, 0x400002ff, 0x3000n, m), { handled: true, gp: true });
  assert.deepEqual(handleXenMsr(true, 0x40000300, 0x3000n, m), { handled: false });
  assert.deepEqual(handleXenMsr(false, 0x1b, 0n, m), { handled: false });
  assert.deepEqual(handleXenMsr(true, 0x40000000, 0x3000n, m, { viridian: true }), { handled: false }, 'Viridian owns 0x40000000');
  assert.equal(handleXenMsr(true, 0x40000200, 0x5000n, m, { viridian: true }).hypercallPage, 0x5000);
  assert.throws(() => writeHypercallPage(m, 0x3010), /not page aligned/);
});

/** A context over plain registers, for direct dispatch tests. */
function context(memory: GuestMemory, r: Partial<VcpuRegisters>, extra: Partial<HypercallContext> = {}) {
  let regs: VcpuRegisters = { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: 0, eflags: 2, ...r };
  const ctx: HypercallContext = { regs: { get: () => ({ ...regs }), set: (n) => (regs = { ...n }) }, memory, ...extra };
  return { ctx, regs: () => regs };
}

function call(memory: GuestMemory, r: Partial<VcpuRegisters>, extra: Partial<HypercallContext> = {}) {
  const c = context(memory, r, extra);
  const result = dispatchHypercall(c.ctx);
  assert.equal(c.regs().eax, result >>> 0, 'result lands in EAX');
  return result;
}

test('xen_version sub-ops write their results into guest memory', () => {
  const m = new GuestMemory({ ramBytes: 4 * MiB });
  const buf = 0x10000;
  const poison = () => m.fill(buf, 2048, 0xaa);
  assert.equal(call(m, { eax: 17, ebx: 0, ecx: 0 }), 0x00040011);

  poison();
  assert.equal(call(m, { eax: 17, ebx: 1, ecx: buf }), 0);
  assert.equal(ascii(m.read(buf, 16)), '.0');
  assert.ok(m.read(buf + 2, 14).every((b) => b === 0), 'NUL padded to 16');
  assert.equal(m.readU8(buf + 16), 0xaa, 'exactly 16 bytes written');

  poison();
  assert.equal(call(m, { eax: 17, ebx: 2, ecx: buf }), 0);
  assert.equal(ascii(m.read(buf, 64)), 'tsxen (TypeScript)');
  assert.equal(ascii(m.read(buf + 64, 16)), 'tsxen');
  assert.equal(m.readU8(buf + 143), 0);
  assert.equal(m.readU8(buf + 144), 0xaa, 'compile_info is 144 bytes');

  poison();
  assert.equal(call(m, { eax: 17, ebx: 3, ecx: buf }), 0);
  assert.equal(ascii(m.read(buf, 1024)), 'hvm-3.0-x86_32 hvm-3.0-x86_32p');
  assert.equal(m.readU8(buf + 1023), 0);
  assert.equal(m.readU8(buf + 1024), 0xaa);

  poison();
  assert.equal(call(m, { eax: 17, ebx: 4, ecx: buf }), 0);
  assert.equal(ascii(m.read(buf, 64)), 'unavailable');
  assert.equal(m.readU8(buf + 64), 0xaa);

  poison();
  assert.equal(call(m, { eax: 17, ebx: 5, ecx: buf }), 0);
  assert.equal(m.readU32(buf), 0, 'virt_start 0 for HVM');
  assert.equal(m.readU8(buf + 4), 0xaa, '32-bit compat layout: 4 bytes');

  poison();
  m.writeU32(buf, 0);
  assert.equal(call(m, { eax: 17, ebx: 6, ecx: buf }), 0);
  assert.equal(m.readU32(buf), 0, 'submap_idx kept');
  assert.equal(m.readU32(buf + 4), 0x00010005, 'writable_page_tables, auto_translated_physmap, not_direct_mapped');
  assert.equal(m.readU32(buf + 4) & (1 << 8), 0, 'no hvm_callback_vector yet');
  m.writeU32(buf, 1);
  assert.equal(call(m, { eax: 17, ebx: 6, ecx: buf }), -22, 'submap 1 -> -EINVAL');

  assert.equal(call(m, { eax: 17, ebx: 7, ecx: 0 }), 4096);
  assert.equal(call(m, { eax: 17, ebx: 7, ecx: buf }), -22, 'pagesize with a handle -> -EINVAL');

  poison();
  const handle = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  assert.equal(call(m, { eax: 17, ebx: 8, ecx: buf }, { domain: { privileged: false, handle } }), 0);
  assert.deepEqual([...m.read(buf, 16)], [...handle]);

  poison();
  assert.equal(call(m, { eax: 17, ebx: 9, ecx: buf }), 0, 'unprivileged commandline: Xen returns 0 with "<denied>"');
  assert.equal(ascii(m.read(buf, 9)), '<denied>');
  assert.equal(m.readU8(buf + 9), 0xaa);

  assert.equal(call(m, { eax: 17, ebx: 10, ecx: buf }), -1, 'build_id needs privilege');
  assert.equal(call(m, { eax: 17, ebx: 99, ecx: buf }), -38);
});

test('bad guest buffers give -EFAULT and write nothing', () => {
  const m = new GuestMemory({ ramBytes: 4 * MiB });
  assert.equal(call(m, { eax: 17, ebx: 1, ecx: 0xa0000 }), -14, 'VGA hole');
  assert.equal(call(m, { eax: 17, ebx: 1, ecx: 0xfffffff8 }), -14, 'wraps past 4 GiB');
  const end = 4 * MiB;
  m.fill(end - 8, 8, 0x55);
  assert.equal(call(m, { eax: 17, ebx: 3, ecx: end - 8 }), -14, 'runs off the end of RAM');
  assert.ok(m.read(end - 8, 8).every((b) => b === 0x55), 'all or nothing');
  assert.equal(call(m, { eax: 17, ebx: 6, ecx: 0xfebff000 }), -14, 'get_features reads from nowhere');
  assert.equal(call(m, { eax: 17, ebx: 2, ecx: 0 }), 0, 'address 0 is RAM in HVM');
});

test('unknown and PV-only ops are -ENOSYS; CPL 3 and vm86 are -EPERM; real mode is allowed', () => {
  const m = new GuestMemory({ ramBytes: 4 * MiB });
  for (const op of [1, 23, 48, 99, 0x80000000, 0xffffffff]) assert.equal(call(m, { eax: op }), -38, `op ${op}`);
  assert.equal(call(m, { eax: 17, ebx: 0 }, { cpl: 3 }), -1);
  assert.equal(call(m, { eax: 17, ebx: 0 }, { mode: 'vm86' }), -1);
  assert.equal(call(m, { eax: 17, ebx: 0 }, { mode: 'real', cpl: 3 }), 0x00040011);
});

test('guest handles go through the translation when paging is on, page by page', () => {
  const m = new GuestMemory({ ramBytes: 4 * MiB });
  // Linear 0xc0000000.. maps to 0x20000 and the next linear page to 0x50000 (not contiguous).
  const translate = (linear: number) => {
    const page = Math.floor(linear / 4096);
    const off = linear % 4096;
    if (page === 0xc0000) return 0x20000 + off;
    if (page === 0xc0001) return 0x50000 + off;
    return undefined;
  };
  assert.equal(call(m, { eax: 17, ebx: 1, ecx: 0xc0000ff8 }, { translate }), 0);
  assert.equal(ascii(m.read(0x20ff8, 8)), '.0');
  assert.ok(m.read(0x50000, 8).every((b) => b === 0), 'second page got the zero padding');
  assert.equal(call(m, { eax: 17, ebx: 1, ecx: 0xc0001ff8 }, { translate }), -14, 'second half unmapped');
  // get_features reads submap_idx from the first page and writes submap to the second.
  m.writeU32(0x20ffc, 0);
  m.writeU32(0x50000, 0xdeadbeef);
  assert.equal(call(m, { eax: 17, ebx: 6, ecx: 0xc0000ffc }, { translate }), 0);
  assert.equal(m.readU32(0x50000), 0x00010005);
  m.writeU32(0x20ffc, 1);
  assert.equal(call(m, { eax: 17, ebx: 6, ecx: 0xc0000ffc }, { translate }), -22);
});

test('end to end on the software CPU: find Xen by CPUID, install the page by WRMSR, call xen_version through it', () => {
  const m = new GuestMemory({ ramBytes: 4 * MiB });
  const ops = { pioRead: () => 0xffffffff, pioWrite: () => {}, mmioRead: () => 0xffffffff, mmioWrite: () => {}, acknowledgeInterrupt: () => 0 };
  const vcpu = new EmuVcpu(m, ops, new ManualClock());
  vcpu.setCpuid(withXenLeaves(domainCpuidPolicy()));
  const page = 0x8000;
  const code = 0x1000;
  const callAt = code + 0x35;
  const target = page + 17 * 32;
  const rel = (target - (callAt + 5)) >>> 0;
  // prettier-ignore
  const program = [
    0xb8, 0x00, 0x00, 0x00, 0x40,       // mov eax, 0x40000000
    0x0f, 0xa2,                         // cpuid
    0x89, 0x1d, 0x00, 0x50, 0x00, 0x00, // mov [0x5000], ebx
    0x89, 0x0d, 0x04, 0x50, 0x00, 0x00, // mov [0x5004], ecx
    0x89, 0x15, 0x08, 0x50, 0x00, 0x00, // mov [0x5008], edx
    0xb8, 0x02, 0x00, 0x00, 0x40,       // mov eax, 0x40000002
    0x0f, 0xa2,                         // cpuid
    0x89, 0xd9,                         // mov ecx, ebx   (the MSR)
    0xb8, 0x00, 0x80, 0x00, 0x00,       // mov eax, 0x8000 (the page)
    0x31, 0xd2,                         // xor edx, edx
    0x0f, 0x30,                         // wrmsr
    0xbb, 0x01, 0x00, 0x00, 0x00,       // mov ebx, 1 (XENVER_extraversion)
    0xb9, 0x00, 0x60, 0x00, 0x00,       // mov ecx, 0x6000
    0xe8, rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, rel >>> 24, // call page + 17*32
    0xa3, 0x0c, 0x50, 0x00, 0x00,       // mov [0x500c], eax
    0xf4,                               // hlt
  ];
  assert.equal(program.indexOf(0xe8), callAt - code);
  m.write(code, Uint8Array.from(program));
  m.fill(0x500c, 4, 0xee);
  vcpu.setSpecialRegisters(multibootEntrySpecialRegisters(0));
  vcpu.setRegisters({ eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0x7000, ebp: 0, eip: code, eflags: 2 });
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) {
    const exit = vcpu.run();
    if (exit.kind === 'interrupted') continue;
    seen.push(exit.kind);
    if (exit.kind === 'msr') {
      const r = handleXenMsr(exit.write, exit.index, exit.value, m);
      assert.ok(r.handled && !r.gp);
      vcpu.completeMsr(r.value ?? 0n);
    } else if (exit.kind === 'hypercall') {
      dispatchHypercall({ regs: { get: () => vcpu.getRegisters(), set: (r) => vcpu.setRegisters(r) }, memory: m });
    } else {
      break;
    }
  }
  assert.deepEqual(seen, ['msr', 'hypercall', 'hlt']);
  assert.equal(ascii(m.read(0x5000, 12)), 'XenVMMXenVMM');
  assert.equal(m.readU32(0x500c), 0, 'xen_version returned 0 through the stub');
  assert.equal(ascii(m.read(0x6000, 16)), '.0');
  assert.equal(vcpu.getRegisters().esp, 0x7000, 'the stub returned (RET popped the call)');
});
