import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuidLookup, readCr, reloadPagingState, readDr, readMsr, readTsc, sysenter, sysexit, writeCr, writeDr, writeMsr } from './system.js';
import { readEflags, writeEflags } from './flags.js';
import { CR4_DE, CR4_PAE, CR4_PGE, CR4_VME, CS, ECX, EDX, ESP, EXC_GP, EXC_UD, FLAG_IF, SS } from './state.js';
import { catchFault, makeCpu, protectedMode, SEL_KCODE } from './system-fixture.test.js';

function pm() {
  const { cpu, memory, clock } = makeCpu();
  protectedMode(cpu, memory);
  return { cpu, memory, clock };
}
function fault(f: () => void): [number, number] {
  const e = catchFault(f);
  return [e.vector, e.errorCode];
}

test('CR0: ET reads 1, PG without PE and NW without CD => #GP(0), CPL 3 => #GP(0)', () => {
  const { cpu } = makeCpu();
  writeCr(cpu, 0, 0x00000001);
  assert.equal(readCr(cpu, 0), 0x11);
  assert.equal(cpu.protectedMode, true);
  assert.deepEqual(fault(() => writeCr(cpu, 0, 0x80000000 | 0)), [EXC_GP, 0]);
  assert.deepEqual(fault(() => writeCr(cpu, 0, 0x20000001)), [EXC_GP, 0]);
  writeCr(cpu, 0, 0x60000011); // CD NW allowed together
  assert.equal(readCr(cpu, 0) >>> 0, 0x60000011);
  cpu.cpl = 3;
  assert.deepEqual(fault(() => readCr(cpu, 0)), [EXC_GP, 0]);
  assert.deepEqual(fault(() => writeCr(cpu, 3, 0)), [EXC_GP, 0]);
  cpu.cpl = 0;
  assert.equal(catchFault(() => readCr(cpu, 1)).vector, EXC_UD);
  assert.equal(catchFault(() => writeCr(cpu, 5, 0)).vector, EXC_UD);
});

test('CR4: unsupported bits (VME, bit 11+) => #GP(0); supported ones stick', () => {
  const { cpu } = makeCpu();
  assert.deepEqual(fault(() => writeCr(cpu, 4, CR4_VME)), [EXC_GP, 0]);
  assert.deepEqual(fault(() => writeCr(cpu, 4, 1 << 20)), [EXC_GP, 0]);
  writeCr(cpu, 4, 0x7fc); // TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT
  assert.equal(readCr(cpu, 4), 0x7fc);
});

test('TLB flush rules: CR3 keeps global entries, CR4.PGE toggle drops them, CR0.WP change drops cached rights', () => {
  const { cpu, memory } = makeCpu(16);
  const PD = 0x10000, PT = 0x11000;
  memory.writeU32(PD + 4, PT | 7);
  memory.writeU32(PT, 0x200000 | 0x103); // 0x400000 global, RW
  memory.writeU32(PT + 4, 0x201000 | 0x003); // 0x401000 not global
  memory.writeU32(0x200000, 1);
  memory.writeU32(0x201000, 2);
  memory.writeU32(0x202000, 3);
  writeCr(cpu, 3, PD);
  writeCr(cpu, 4, CR4_PGE);
  writeCr(cpu, 0, 0x80000011);
  assert.equal(cpu.mmu.read32(0x400000), 1);
  assert.equal(cpu.mmu.read32(0x401000), 2);
  memory.writeU32(PT, 0x202000 | 0x103);
  memory.writeU32(PT + 4, 0x202000 | 0x003);
  writeCr(cpu, 3, PD);
  assert.equal(cpu.mmu.read32(0x400000), 1, 'global survives MOV CR3');
  assert.equal(cpu.mmu.read32(0x401000), 3);
  writeCr(cpu, 4, 0);
  writeCr(cpu, 4, CR4_PGE);
  assert.equal(cpu.mmu.read32(0x400000), 3, 'PGE toggle flushed it (Linux __flush_tlb_global)');
  // Read-only page: writable at CPL 0 while WP=0, faults once WP=1 is written.
  memory.writeU32(PT + 8, 0x203000 | 0x001);
  cpu.mmu.write8(0x402000, 1);
  writeCr(cpu, 0, 0x80010011);
  assert.equal(catchFault(() => cpu.mmu.write8(0x402000, 1)).errorCode, 3);
});

test('PAE: MOV CR3 loads PDPTEs (reserved bit => #GP(0), CR3 unchanged); enabling PG loads them too', () => {
  const { cpu, memory } = makeCpu(16);
  memory.writeU32(0x20000, 0x21000 | 1);
  memory.writeU32(0x20020, 0x21000 | 1 | 4); // second PDPT at 0x20020 with reserved bit 2
  writeCr(cpu, 3, 0x20000);
  writeCr(cpu, 4, CR4_PAE);
  assert.equal(cpu.pdpte[0], 0, 'not loaded while paging is off');
  writeCr(cpu, 0, 0x80000011);
  assert.equal(cpu.pdpte[0], 0x21001);
  assert.deepEqual(fault(() => writeCr(cpu, 3, 0x20020)), [EXC_GP, 0]);
  assert.equal(cpu.cr3, 0x20000);
  memory.writeU32(0x20040, 0x22000 | 1);
  writeCr(cpu, 3, 0x20040); // 32-byte aligned, not page aligned (Linux without PTI)
  assert.equal(cpu.pdpte[0], 0x22001);
  // A register restore that sets CR3 directly reloads them through reloadPagingState.
  cpu.cr3 = 0x20000;
  assert.equal(reloadPagingState(cpu), true);
  assert.equal(cpu.pdpte[0], 0x21001);
  cpu.cr3 = 0x20020;
  assert.equal(reloadPagingState(cpu), false);
  assert.equal(cpu.pdpte[0], 0x21001);
});

test('debug registers: store, DR4/5 alias DR6/7 unless CR4.DE, fixed bits', () => {
  const { cpu } = makeCpu();
  writeDr(cpu, 0, 0x1234);
  assert.equal(readDr(cpu, 0), 0x1234);
  writeDr(cpu, 5, 0);
  assert.equal(readDr(cpu, 7), 0x400);
  assert.equal(readDr(cpu, 4) >>> 0, 0xffff0ff0);
  cpu.cr4 = CR4_DE;
  assert.equal(catchFault(() => readDr(cpu, 4)).vector, EXC_UD);
  cpu.cpl = 3;
  assert.deepEqual(fault(() => readDr(cpu, 0)), [EXC_GP, 0]);
});

test('MSRs owned by the CPU; unknown ones go to the hypervisor', () => {
  const { cpu, clock } = pm();
  clock.ns = 1000;
  assert.equal(readMsr(cpu, 0x10), 1000n);
  writeMsr(cpu, 0x10, 5000n);
  assert.equal(readTsc(cpu), 5000n);
  clock.ns = 1500;
  assert.equal(readMsr(cpu, 0x10), 5500n, 'WRMSR TSC moves the offset, time keeps running');
  // IA32_APIC_BASE belongs to the platform's LAPIC (the hypervisor), as on VT.
  assert.equal(readMsr(cpu, 0x1b), undefined);
  assert.equal(readMsr(cpu, 0x8b), 0n);
  assert.equal(readMsr(cpu, 0x17), 0n);
  assert.equal(readMsr(cpu, 0xfe), 0n);
  writeMsr(cpu, 0x174, 0x60n);
  writeMsr(cpu, 0x175, 0xc1234000n);
  assert.equal(readMsr(cpu, 0x175), 0xc1234000n);
  assert.equal(cpu.sysenterEsp >>> 0, 0xc1234000);
  // PAT: every byte must be a valid memory type (2 and 3 are reserved).
  assert.equal(readMsr(cpu, 0x277), 0x0007040600070406n);
  assert.equal(writeMsr(cpu, 0x277, 0x0007010600070106n), true);
  assert.deepEqual(fault(() => writeMsr(cpu, 0x277, 0x0007040600070402n)), [EXC_GP, 0]);
  assert.equal(readMsr(cpu, 0x277), 0x0007010600070106n);
  // EFER: only NXE.
  writeMsr(cpu, 0xc0000080, 0x800n);
  assert.equal(cpu.efer, 0x800);
  assert.deepEqual(fault(() => writeMsr(cpu, 0xc0000080, 0x1n)), [EXC_GP, 0]);
  // MTRRs are stored.
  assert.equal(readMsr(cpu, 0x2ff), 0n);
  writeMsr(cpu, 0x2ff, 0xc06n);
  writeMsr(cpu, 0x200, 0x6n);
  writeMsr(cpu, 0x268, 0x0606060606060606n);
  assert.equal(readMsr(cpu, 0x2ff), 0xc06n);
  assert.equal(readMsr(cpu, 0x268), 0x0606060606060606n);
  // Not ours: an msr exit.
  assert.equal(readMsr(cpu, 0x1a0), undefined);
  assert.equal(writeMsr(cpu, 0x1a0, 0n), false);
  cpu.cpl = 3;
  assert.deepEqual(fault(() => readMsr(cpu, 0x10)), [EXC_GP, 0]);
});

test('CPUID: KVM_SET_CPUID2 lookups, indexed subleaves, above-max leaves return the top basic leaf', () => {
  const { cpu } = makeCpu();
  cpu.cpuid = [
    { leaf: 0, subleaf: 0, indexed: false, eax: 4, ebx: 0x756e6547, ecx: 0x6c65746e, edx: 0x49656e69 },
    { leaf: 1, subleaf: 0, indexed: false, eax: 0x652, ebx: 0, ecx: 0, edx: 0x8151 },
    { leaf: 4, subleaf: 0, indexed: true, eax: 0x11, ebx: 1, ecx: 2, edx: 3 },
    { leaf: 4, subleaf: 1, indexed: true, eax: 0x22, ebx: 4, ecx: 5, edx: 6 },
    { leaf: 0x80000000, subleaf: 0, indexed: false, eax: 0x80000001, ebx: 0, ecx: 0, edx: 0 },
    { leaf: 0x80000001, subleaf: 0, indexed: false, eax: 0, ebx: 0, ecx: 0, edx: 0x100000 },
  ];
  assert.deepEqual(cpuidLookup(cpu, 1, 99), [0x652, 0, 0, 0x8151], 'non-indexed leaf ignores ECX');
  assert.deepEqual(cpuidLookup(cpu, 4, 1), [0x22, 4, 5, 6]);
  assert.deepEqual(cpuidLookup(cpu, 4, 7), [0, 0, 0, 0], 'missing subleaf inside the range');
  assert.deepEqual(cpuidLookup(cpu, 2, 0), [0, 0, 0, 0], 'missing leaf inside the range');
  assert.deepEqual(cpuidLookup(cpu, 9, 1), [0x22, 4, 5, 6], 'above max basic => leaf 4 with the same subleaf');
  assert.deepEqual(cpuidLookup(cpu, 0x80000001, 0), [0, 0, 0, 0x100000]);
  assert.deepEqual(cpuidLookup(cpu, 0x80000008, 0), [0x11, 1, 2, 3], 'above max extended => top basic');
  cpu.cpuid = [];
  assert.deepEqual(cpuidLookup(cpu, 0, 0), [0, 0, 0, 0]);
});

test('SYSENTER / SYSEXIT: flat ring-0 / ring-3 segments from IA32_SYSENTER_CS', () => {
  const { cpu } = pm();
  assert.deepEqual(fault(() => sysenter(cpu)), [EXC_GP, 0], 'CS MSR 0');
  writeMsr(cpu, 0x174, 0x60n);
  writeMsr(cpu, 0x175, 0xc1800000n);
  writeMsr(cpu, 0x176, 0xc1001000n);
  cpu.cpl = 3;
  writeEflags(cpu, 0x246);
  sysenter(cpu);
  assert.equal(cpu.cpl, 0);
  assert.deepEqual([cpu.segSel[CS], cpu.segSel[SS]], [0x60, 0x68]);
  assert.equal(cpu.regs[ESP] >>> 0, 0xc1800000);
  assert.equal(cpu.eip >>> 0, 0xc1001000);
  assert.equal(readEflags(cpu) & FLAG_IF, 0);
  assert.equal(cpu.code32, true);
  cpu.regs[EDX] = 0xb7f00000 | 0;
  cpu.regs[ECX] = 0xbfff0000 | 0;
  writeEflags(cpu, 0x246);
  sysexit(cpu);
  assert.equal(cpu.cpl, 3);
  assert.deepEqual([cpu.segSel[CS], cpu.segSel[SS]], [0x73, 0x7b]);
  assert.equal((cpu.segAttr[CS] >> 5) & 3, 3);
  assert.equal(cpu.eip >>> 0, 0xb7f00000);
  assert.equal(cpu.regs[ESP] >>> 0, 0xbfff0000);
  assert.deepEqual(fault(() => sysexit(cpu)), [EXC_GP, 0], 'SYSEXIT at CPL 3');
  cpu.cpl = 0;
  cpu.cr0 = 0x10;
  assert.deepEqual(fault(() => sysenter(cpu)), [EXC_GP, 0], 'real mode');
  void SEL_KCODE;
});
