// A tiny PVH kernel through the whole Domain on the software CPU: it is entered at
// its PHYS32_ENTRY note in flat 32-bit mode with EBX = the hvm_start_info, finds
// the magic and its command line there, and sees Xen's CPUID leaves.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Domain } from '../../hypervisor/domain.js';
import type { Clock } from '../../hypervisor/clock.js';
import type { DomainSpec } from '../../hypervisor/domain-spec.js';
import { makeSyntheticElf, u32Desc } from '../elf/synthetic-elf.js';

const ENTRY = 0x200010;
// mov eax,[ebx]; cmp eax,0x336ec578; jne fail; 'P' -> 0xe9; mov esi,[ebx+24]; first
// command-line byte -> 0xe9; cpuid 0x40000000; low byte of EBX ("XenV") -> 0xe9; cli; hlt.
// fail: 'F' -> 0xe9; cli; hlt.
const CODE = [
  0x8b, 0x03, 0x3d, 0x78, 0xc5, 0x6e, 0x33, 0x75, 0x19, 0xb0, 0x50, 0xe6, 0xe9, 0x8b, 0x73, 0x18, 0x8a, 0x06, 0xe6, 0xe9,
  0xb8, 0x00, 0x00, 0x00, 0x40, 0x0f, 0xa2, 0x89, 0xd8, 0xe6, 0xe9, 0xfa, 0xf4, 0xb0, 0x46, 0xe6, 0xe9, 0xfa, 0xf4,
];

function pvhSpec(xen: boolean): DomainSpec {
  const text = new Uint8Array(0x10 + CODE.length);
  text.set(CODE, 0x10);
  const kernel = makeSyntheticElf({ entry: 0x200000, segments: [{ paddr: 0x200000, data: text }], notes: [{ name: 'Xen', type: 18, desc: u32Desc(ENTRY) }] });
  return { name: 'pvh', memoryBytes: 8 << 20, vcpus: 1, serialPorts: 1, debugconPorts: [0xe9], xen, pvh: { kernel, cmdline: 'hello' } };
}

test('a PVH kernel starts at PHYS32_ENTRY with EBX = hvm_start_info and the Xen CPUID leaves', () => {
  let ns = 0;
  const clock: Clock = { nowNs: () => (ns += 10_000) };
  const d = new Domain(pvhSpec(true), { clock });
  const out: number[] = [];
  d.events.on('debugcon.tx', (e) => out.push(...e.bytes));
  let r = d.run(1);
  for (let i = 0; i < 100 && r.kind !== 'shutdown'; i++) r = d.run(1);
  assert.equal(String.fromCharCode(...out), 'PhX');
  assert.equal(r.kind === 'shutdown' && r.reason, 'poweroff');
});

test('PVH without the Xen interface is refused when the domain is built', () => {
  assert.throws(() => new Domain(pvhSpec(false), { clock: { nowNs: () => 0 } }), /pvh: a PVH kernel needs the Xen interface/);
});
