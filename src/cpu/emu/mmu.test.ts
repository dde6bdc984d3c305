import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE } from './mmu.js';
import { loadPdptes, PF_FETCH, PF_PRESENT, PF_RSVD, PF_USER, PF_WRITE } from './page-walk.js';
import { CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, EFER_NXE, EXC_GP, EXC_PF, type CpuState } from './state.js';
import { catchFault, makeCpu } from './system-fixture.test.js';
import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';

const PD = 0x10000, PT = 0x11000, PT2 = 0x12000;
const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;

/** 32-bit paging with PD at 0x10000 and one page table at 0x11000 covering linear 0x00400000-0x007FFFFF. */
function paging32(): { cpu: CpuState; memory: GuestMemory; mmio: ReturnType<typeof makeCpu>['mmio'] } {
  const { cpu, memory, mmio } = makeCpu(16);
  memory.writeU32(PD + 1 * 4, PT | P | RW | US);
  cpu.cr3 = PD;
  cpu.cr0 = 0x80000011; // PG PE ET
  return { cpu, memory, mmio };
}
function pte(memory: GuestMemory, linear: number, value: number, table = PT): void {
  memory.writeU32(table + ((linear >>> 12) & 0x3ff) * 4, value >>> 0);
}

test('paging off: linear = physical, RAM fast path, MMIO holes and ROM', () => {
  const { cpu, memory, mmio } = makeCpu();
  cpu.mmu.write32(0x1234, 0x11223344);
  assert.equal(memory.readU32(0x1234), 0x11223344);
  assert.equal(cpu.mmu.read16(0x1236), 0x1122);
  assert.equal(cpu.mmu.read8(0x1235), 0x33);
  // VGA hole: one 4-byte MMIO access, not four byte reads.
  assert.equal(cpu.mmu.read32(0xb8000) >>> 0, 0xdeadbeef);
  cpu.mmu.write16(0xb8002, 0x0741);
  assert.deepEqual(mmio, [
    { write: false, address: 0xb8000, size: 4, value: 0 },
    { write: true, address: 0xb8002, size: 2, value: 0x0741 },
  ]);
  // ROM: readable, writes dropped.
  const off = memory.loadRom(new Uint8Array([0xea, 0x5b, 0xe0, 0x00, 0xf0]));
  memory.mapRom(0xfffff000 as never, off, 0x1000);
  cpu.mmu.flush(true);
  assert.equal(cpu.mmu.read8(0xfffff000 | 0), 0xea);
  cpu.mmu.write8(0xfffff000 | 0, 0x90);
  assert.equal(cpu.mmu.read8(0xfffff000 | 0), 0xea);
});

test('unaligned and page-crossing accesses are split correctly', () => {
  const { cpu, memory } = makeCpu();
  cpu.mmu.write32(0x1ffe, 0xaabbccdd | 0);
  assert.equal(memory.readU16(0x1ffe), 0xccdd);
  assert.equal(memory.readU16(0x2000), 0xaabb);
  assert.equal(cpu.mmu.read32(0x1ffe) >>> 0, 0xaabbccdd);
  assert.equal(cpu.mmu.read16(0x1fff), 0xbbcc);
  cpu.mmu.write16(0x3001, 0x5566);
  assert.equal(cpu.mmu.read32(0x3000) >>> 0, 0x00556600);
});

test('32-bit paging, 4 KiB page: translation, A and D bits', () => {
  const { cpu, memory } = paging32();
  pte(memory, 0x401000, 0x200000 | P | RW | US);
  cpu.mmu.write32(0x401010, 0x12345678);
  assert.equal(memory.readU32(0x200010), 0x12345678);
  assert.equal(cpu.mmu.translate(0x401010, ACCESS_READ, false), 0x200010);
  assert.equal(memory.readU32(PD + 4) & A, A, 'PDE accessed');
  assert.equal(memory.readU32(PT + 4) & (A | D), A | D, 'PTE accessed and dirty');
});

test('D bit: a read fills the TLB with D=0; the first write walks again and sets D', () => {
  const { cpu, memory } = paging32();
  pte(memory, 0x402000, 0x201000 | P | RW);
  assert.equal(cpu.mmu.read32(0x402000), 0);
  assert.equal(memory.readU32(PT + 8) & (A | D), A);
  cpu.mmu.write8(0x402001, 7);
  assert.equal(memory.readU32(PT + 8) & (A | D), A | D);
  assert.equal(memory.readU8(0x201001), 7);
});

test('32-bit paging, 4 MiB page needs CR4.PSE; PS is ignored without it', () => {
  const { cpu, memory } = paging32();
  memory.writeU32(PD + (0xc00 >>> 2) * 4, 0x00400000 | P | RW | PS); // 0xC0000000 -> 4 MiB at 0x400000
  memory.writeU32(0x500000, 0xcafef00d);
  cpu.cr4 = CR4_PSE;
  assert.equal(cpu.mmu.read32(0xc0100000 | 0) >>> 0, 0xcafef00d);
  assert.equal(cpu.mmu.translate(0xc0123456 | 0, ACCESS_READ, false), 0x523456);
  assert.equal(memory.readU32(PD + 0xc00) & (A | D), A);
  cpu.mmu.write8(0xc0000000 | 0, 1);
  assert.equal(memory.readU32(PD + 0xc00) & D, D, 'D set in the 4 MiB PDE');
  // Without PSE the entry points to a page table at 0x400000 (all zero => not present).
  cpu.cr4 = 0;
  cpu.mmu.flush(true);
  const f = catchFault(() => cpu.mmu.read8(0xc0100000 | 0));
  assert.equal(f.vector, EXC_PF);
  assert.equal(f.errorCode, 0);
});

test('4 MiB PDE with reserved bits 21:17 => #PF with RSVD', () => {
  const { cpu, memory } = paging32();
  cpu.cr4 = CR4_PSE;
  memory.writeU32(PD + 0x800, 0x00400000 | (1 << 21) | P | RW | PS);
  const f = catchFault(() => cpu.mmu.read8(0x80000000 | 0));
  assert.equal(f.vector, EXC_PF);
  assert.equal(f.errorCode, PF_PRESENT | PF_RSVD);
});

test('#PF error codes and CR2: not present, write, user, protection', () => {
  const { cpu, memory } = paging32();
  let f = catchFault(() => cpu.mmu.read8(0x403005));
  assert.equal(f.errorCode, 0);
  assert.equal(cpu.cr2, 0x403005);
  f = catchFault(() => cpu.mmu.write8(0x403006, 1));
  assert.equal(f.errorCode, PF_WRITE);
  cpu.cpl = 3;
  f = catchFault(() => cpu.mmu.write16(0x403008, 1));
  assert.equal(f.errorCode, PF_WRITE | PF_USER);
  // Supervisor-only page read from CPL 3.
  pte(memory, 0x404000, 0x204000 | P | RW);
  f = catchFault(() => cpu.mmu.read32(0x404000));
  assert.equal(f.errorCode, PF_PRESENT | PF_USER);
  assert.equal(cpu.cr2, 0x404000);
  // The faulting entry is not marked accessed.
  assert.equal(memory.readU32(PT + 16) & A, 0);
  // Read-only user page written from CPL 3.
  pte(memory, 0x405000, 0x205000 | P | US);
  assert.equal(cpu.mmu.read8(0x405000), 0);
  f = catchFault(() => cpu.mmu.write8(0x405000, 1));
  assert.equal(f.errorCode, PF_PRESENT | PF_WRITE | PF_USER);
});

test('U/S and R/W are ANDed across levels', () => {
  const { cpu, memory } = paging32();
  memory.writeU32(PD + 2 * 4, PT2 | P); // PDE supervisor, read-only
  pte(memory, 0x800000, 0x206000 | P | RW | US, PT2);
  cpu.cpl = 3;
  assert.equal(catchFault(() => cpu.mmu.read8(0x800000)).errorCode, PF_PRESENT | PF_USER);
  cpu.cpl = 0;
  cpu.cr0 |= CR0_WP;
  assert.equal(catchFault(() => cpu.mmu.write8(0x800000, 1)).errorCode, PF_PRESENT | PF_WRITE);
});

test('CR0.WP: supervisor writes to read-only pages succeed only with WP=0', () => {
  const { cpu, memory } = paging32();
  pte(memory, 0x406000, 0x206000 | P | US);
  cpu.mmu.write8(0x406000, 0x5a);
  assert.equal(memory.readU8(0x206000), 0x5a);
  cpu.cr0 |= CR0_WP;
  cpu.mmu.flush(true); // writeCr does this when WP changes
  const f = catchFault(() => cpu.mmu.write8(0x406000, 0x5b));
  assert.equal(f.errorCode, PF_PRESENT | PF_WRITE);
  assert.equal(memory.readU8(0x206000), 0x5a);
});

test('negative walks are never cached: a #PF handler may install the PTE without INVLPG', () => {
  const { cpu, memory } = paging32();
  assert.equal(catchFault(() => cpu.mmu.read32(0x407000)).vector, EXC_PF);
  pte(memory, 0x407000, 0x207000 | P | RW);
  memory.writeU32(0x207000, 99);
  assert.equal(cpu.mmu.read32(0x407000), 99);
});

test('TLB: cached until INVLPG or CR3 reload; page-crossing writes check both pages first', () => {
  const { cpu, memory } = paging32();
  pte(memory, 0x408000, 0x208000 | P | RW);
  memory.writeU32(0x208000, 1);
  memory.writeU32(0x209000, 2);
  assert.equal(cpu.mmu.read32(0x408000), 1);
  pte(memory, 0x408000, 0x209000 | P | RW);
  assert.equal(cpu.mmu.read32(0x408000), 1, 'stale entry still used');
  cpu.mmu.invalidatePage(0x408abc);
  assert.equal(cpu.mmu.read32(0x408000), 2);
  pte(memory, 0x408000, 0x208000 | P | RW);
  cpu.mmu.flush(false);
  assert.equal(cpu.mmu.read32(0x408000), 1);
  // 0x409000 is not present: a write straddling 0x408FFE..0x409001 stores nothing.
  const f = catchFault(() => cpu.mmu.write32(0x408ffe, -1));
  assert.equal(f.vector, EXC_PF);
  assert.equal(cpu.cr2, 0x409000);
  assert.equal(memory.readU16(0x208ffe), 0);
});

test('global pages survive CR3 reloads (flush(false)) but not flush(true) or INVLPG', () => {
  const { cpu, memory } = paging32();
  cpu.cr4 = CR4_PGE;
  pte(memory, 0x40a000, 0x20a000 | P | RW | G);
  pte(memory, 0x40b000, 0x20b000 | P | RW);
  memory.writeU32(0x20a000, 10);
  memory.writeU32(0x20b000, 11);
  memory.writeU32(0x20c000, 12);
  assert.equal(cpu.mmu.read32(0x40a000), 10);
  assert.equal(cpu.mmu.read32(0x40b000), 11);
  pte(memory, 0x40a000, 0x20c000 | P | RW | G);
  pte(memory, 0x40b000, 0x20c000 | P | RW);
  cpu.mmu.flush(false);
  assert.equal(cpu.mmu.read32(0x40a000), 10, 'global entry kept');
  assert.equal(cpu.mmu.read32(0x40b000), 12, 'non-global entry dropped');
  cpu.mmu.flush(true);
  assert.equal(cpu.mmu.read32(0x40a000), 12);
  pte(memory, 0x40a000, 0x20a000 | P | RW | G);
  cpu.mmu.invalidatePage(0x40a000);
  assert.equal(cpu.mmu.read32(0x40a000), 10);
  // G without CR4.PGE is not global.
  cpu.cr4 = 0;
  cpu.mmu.flush(true);
  assert.equal(cpu.mmu.read32(0x40a000), 10);
  pte(memory, 0x40a000, 0x20c000 | P | RW | G);
  cpu.mmu.flush(false);
  assert.equal(cpu.mmu.read32(0x40a000), 12);
});

test('INVLPG inside a large page drops every 4 KiB entry filled from it', () => {
  const { cpu, memory } = paging32();
  cpu.cr4 = CR4_PSE;
  memory.writeU32(PD + 0x800, 0x00400000 | P | RW | PS);
  memory.writeU32(0x400000, 1);
  memory.writeU32(0x7ff000, 2);
  assert.equal(cpu.mmu.read32(0x80000000 | 0), 1);
  assert.equal(cpu.mmu.read32(0x803ff000 | 0), 2);
  memory.writeU32(PD + 0x800, 0);
  cpu.mmu.invalidatePage(0x80000000 | 0);
  assert.equal(catchFault(() => cpu.mmu.read32(0x803ff000 | 0)).vector, EXC_PF);
});

test('more filled pages than the list holds: overflow clears everything, flushes stay correct', () => {
  const { cpu, memory } = paging32();
  cpu.cr4 = CR4_PSE;
  // 64 PDEs (256 MiB of linear space from 0x40000000) all map the 4 MiB page at 0x400000.
  for (let i = 0; i < 64; i++) memory.writeU32(PD + (0x100 + i) * 4, 0x00400000 | P | RW | PS);
  memory.writeU32(0x400000, 1);
  for (let p = 0; p < 40000; p++) cpu.mmu.read8((0x40000000 + p * 4096) | 0);
  assert.equal(cpu.mmu.read32(0x40000000), 1);
  memory.writeU32(PD + 0x100 * 4, 0x00800000 | P | RW | PS);
  memory.writeU32(0x800000, 2);
  cpu.mmu.flush(false);
  assert.equal(cpu.mmu.read32(0x40000000), 2);
  assert.equal(cpu.mmu.read32((0x40000000 + 39999 * 4096) | 0), 0);
});

test('self-modifying code: writes to code frames call onCodeWrite, also after protectCodeFrame', () => {
  const { cpu, memory } = makeCpu();
  const seen: Array<[number, number]> = [];
  cpu.mmu.onCodeWrite = (p, len) => seen.push([p, len]);
  cpu.mmu.write32(0x6000, 1); // fast write entry exists now
  cpu.mmu.codePages[6] = 1;
  cpu.mmu.protectCodeFrame(6);
  cpu.mmu.write32(0x6004, 0x90909090 | 0);
  cpu.mmu.write8(0x6ffe, 0xcc);
  assert.deepEqual(seen, [[0x6004, 4], [0x6ffe, 1]]);
  assert.equal(memory.readU32(0x6004), 0x90909090);
  // A frame marked before its first write never gets a fast write entry.
  cpu.mmu.codePages[7] = 1;
  cpu.mmu.write16(0x7000, 0x1234);
  cpu.mmu.write16(0x7002, 0x5678);
  assert.deepEqual(seen.slice(2), [[0x7000, 2], [0x7002, 2]]);
  // Other frames stay on the fast path.
  cpu.mmu.write32(0x8000, 5);
  assert.equal(seen.length, 4);
});

test('an exec translation of a frame with fast write entries protects it (decode-cache path)', () => {
  const { cpu } = makeCpu();
  const seen: number[] = [];
  cpu.mmu.onCodeWrite = (p) => seen.push(p);
  cpu.mmu.write8(0x9000, 0x90); // fast write entry for frame 9
  assert.equal(cpu.mmu.translate(0x9000, ACCESS_EXEC, false), 0x9000);
  cpu.mmu.codePages[9] = 1; // the core caches decoded code after translating
  cpu.mmu.write8(0x9001, 0xc3);
  assert.deepEqual(seen, [0x9001]);
});

/** PAE: PDPT at 0x20000, PD for 0-1 GiB at 0x21000, PT at 0x22000 (covers 0x00400000-0x005FFFFF). */
function pagingPae(nxe: boolean) {
  const { cpu, memory } = makeCpu(16);
  const PDPT = 0x20000, PDA = 0x21000, PTA = 0x22000;
  memory.writeU32(PDPT, PDA | P);
  memory.writeU32(PDA + 2 * 8, PTA | P | RW | US);
  cpu.cr3 = PDPT;
  cpu.cr4 = CR4_PAE;
  cpu.efer = nxe ? EFER_NXE : 0;
  loadPdptes(cpu, PDPT);
  cpu.cr0 = 0x80000011;
  const setPte = (linear: number, lo: number, hi = 0) => {
    memory.writeU32(PTA + ((linear >>> 12) & 0x1ff) * 8, lo >>> 0);
    memory.writeU32(PTA + ((linear >>> 12) & 0x1ff) * 8 + 4, hi >>> 0);
  };
  return { cpu, memory, setPte, PDA, PTA, PDPT };
}

test('PAE 4 KiB and 2 MiB pages with A/D bits', () => {
  const { cpu, memory, setPte, PDA, PTA } = pagingPae(false);
  setPte(0x401000, 0x301000 | P | RW);
  cpu.mmu.write32(0x401008, 0x0badf00d);
  assert.equal(memory.readU32(0x301008), 0x0badf00d);
  assert.equal(memory.readU32(PTA + 8) & (A | D), A | D);
  assert.equal(memory.readU32(PDA + 16) & A, A);
  memory.writeU32(PDA + 3 * 8, 0x00600000 | P | RW | PS); // 0x600000 -> 2 MiB at 0x600000
  memory.writeU32(0x7ffff0, 0x44556677);
  assert.equal(cpu.mmu.read32(0x7ffff0), 0x44556677);
  assert.equal(cpu.mmu.translate(0x6abcde, ACCESS_READ, false), 0x6abcde);
  // Frames above 4 GiB (PA bits 35:32 in the high dword) are outside RAM: all ones.
  setPte(0x402000, 0x000000 | P | RW, 1);
  assert.equal(cpu.mmu.translate(0x402010, ACCESS_READ, false), 0x100000010);
  assert.equal(cpu.mmu.read32(0x402010), -1);
});

test('PAE reserved bits: XD without NXE, bits above MAXPHYADDR, 2 MiB bits 20:13 => RSVD #PF', () => {
  const { cpu, memory, setPte, PDA } = pagingPae(false);
  setPte(0x403000, 0x303000 | P | RW, 0x80000000);
  let f = catchFault(() => cpu.mmu.read8(0x403000));
  assert.equal(f.errorCode, PF_PRESENT | PF_RSVD);
  setPte(0x404000, 0x304000 | P | RW, 0x10);
  cpu.cpl = 3;
  f = catchFault(() => cpu.mmu.write8(0x404000, 0));
  assert.equal(f.errorCode, PF_PRESENT | PF_RSVD | PF_WRITE | PF_USER);
  cpu.cpl = 0;
  memory.writeU32(PDA + 4 * 8, 0x00800000 | (1 << 13) | P | RW | PS);
  f = catchFault(() => cpu.mmu.read8(0x800000));
  assert.equal(f.errorCode, PF_PRESENT | PF_RSVD);
});

test('PAE NX: fetch from an XD page faults with I/D; data reads are fine', () => {
  const { cpu, memory, setPte } = pagingPae(true);
  setPte(0x405000, 0x305000 | P | RW, 0x80000000);
  memory.writeU8(0x305000, 0xc3);
  assert.equal(cpu.mmu.read8(0x405000), 0xc3);
  const f = catchFault(() => cpu.mmu.fetch8(0x405000));
  assert.equal(f.errorCode, PF_PRESENT | PF_FETCH);
  // Not-present fetch reports I/D too.
  assert.equal(catchFault(() => cpu.mmu.fetch8(0x406000)).errorCode, PF_FETCH);
  setPte(0x407000, 0x307000 | P | RW);
  memory.writeU8(0x307000, 0x90);
  assert.equal(cpu.mmu.fetch8(0x407000), 0x90);
  assert.equal(cpu.mmu.translate(0x407000, ACCESS_EXEC, false), 0x307000);
  assert.equal(cpu.mmu.translate(0x407000, ACCESS_WRITE, false), 0x307000);
});

test('PAE PDPTEs are cached: later PDPT edits count only after a reload; reserved bits => #GP(0)', () => {
  const { cpu, memory, setPte, PDPT } = pagingPae(false);
  setPte(0x401000, 0x301000 | P | RW);
  memory.writeU32(PDPT, 0); // not present in memory, still cached
  cpu.mmu.flush(true);
  assert.equal(cpu.mmu.read32(0x401000), 0);
  memory.writeU32(PDPT, 0x21000 | P | RW); // bit 1 is reserved in a PDPTE
  const before = Array.from(cpu.pdpte);
  const f = catchFault(() => loadPdptes(cpu, PDPT));
  assert.equal(f.vector, EXC_GP);
  assert.equal(f.errorCode, 0);
  assert.deepEqual(Array.from(cpu.pdpte), before, 'nothing loaded');
  // Unused high PDPTEs not present: #PF with P=0.
  assert.equal(catchFault(() => cpu.mmu.read8(0x40000000)).errorCode, 0);
});

test('paging via MMIO: the page-table result routes non-RAM frames to the bus', () => {
  const { cpu, memory, mmio } = paging32();
  pte(memory, 0x409000, 0xfee00000 | P | RW);
  assert.equal(cpu.mmu.read32(0x409020) >>> 0, 0xdeadbeef);
  cpu.mmu.write32(0x409030, 0x100);
  assert.deepEqual(mmio, [
    { write: false, address: 0xfee00020, size: 4, value: 0 },
    { write: true, address: 0xfee00030, size: 4, value: 0x100 },
  ]);
});

test('supervisor (Sys) accesses ignore CPL 3 for the U/S check', () => {
  const { cpu, memory } = paging32();
  pte(memory, 0x40c000, 0x20c000 | P | RW);
  memory.writeU32(0x20c000, 0x77);
  cpu.cpl = 3;
  assert.equal(cpu.mmu.readSys32(0x40c000), 0x77);
  cpu.mmu.writeSys32(0x40c004, 0x88);
  assert.equal(memory.readU32(0x20c004), 0x88);
  assert.equal(catchFault(() => cpu.mmu.read32(0x40c000)).errorCode, PF_PRESENT | PF_USER);
  void CR0_PG;
});
