// EmuVcpu.translate: the hypervisor's linear → physical walk for hypercall guest
// handles. It follows the guest's page tables as a supervisor access and never
// leaves a trace of a failed walk (CR2 unchanged, no exception).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine } from './emu-test-machine.test.js';
import { reloadPagingState } from './system.js';

const PD = 0x10000;
const PT = 0x11000;

test('translate follows the page tables, refuses unmapped and read-only-for-write pages, keeps CR2', () => {
  const m = machine(new Uint8Array([0xf4]), 'flat32');
  const { memory, vcpu } = m;
  memory.writeU32(PD + 1 * 4, PT | 0x7); // linear 4 MiB-8 MiB
  memory.writeU32(PT + 0 * 4, 0x180000 | 0x3); // 0x400000 -> 0x180000, RW
  memory.writeU32(PT + 1 * 4, 0x181000 | 0x1); // 0x401000 -> 0x181000, read-only
  assert.equal(vcpu.translate(0x400123, false), 0x400123, 'paging off: identity');
  const cpu = vcpu.cpu;
  cpu.cr3 = PD;
  cpu.cr0 = (cpu.cr0 | 0x80010001) >>> 0 | 0; // PG, WP, PE
  reloadPagingState(cpu);
  cpu.cr2 = 0x1234;
  assert.equal(vcpu.translate(0x400123, false), 0x180123);
  assert.equal(vcpu.translate(0x400123, true), 0x180123);
  assert.equal(vcpu.translate(0x401010, false), 0x181010);
  assert.equal(vcpu.translate(0x401010, true), undefined, 'CR0.WP: a supervisor write to a read-only page faults');
  assert.equal(vcpu.translate(0x402000, false), undefined, 'not present');
  assert.equal(vcpu.translate(0x00001000, false), undefined, 'no page table');
  assert.equal(cpu.cr2, 0x1234, 'a failed hypervisor walk leaves CR2 alone');
});
