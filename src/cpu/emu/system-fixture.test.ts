// Test fixture for the system parts of cpu/emu: a CpuState with real guest memory,
// a recording VmOps, an MMU, and helpers to build descriptors and page tables in
// guest RAM. Used by mmu/segmentation/interrupts/system tests (no tests here).

import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import { Mmu } from './mmu.js';
import { ATTR_DB, ATTR_G, ATTR_P, ATTR_S, CS, CpuException, CpuState, DS, ES, FS, GS, SS, TR } from './state.js';

export interface MmioAccess {
  write: boolean;
  address: number;
  size: number;
  value: number;
}

export function makeCpu(ramMiB = 8): { cpu: CpuState; memory: GuestMemory; mmio: MmioAccess[]; clock: ManualClock } {
  const memory = new GuestMemory({ ramBytes: ramMiB << 20, romBytes: 64 << 10 });
  const mmio: MmioAccess[] = [];
  const ops: VmOps = {
    pioRead: () => 0xffffffff,
    pioWrite: () => {},
    mmioRead: (address, size) => {
      mmio.push({ write: false, address, size, value: 0 });
      return size === 4 ? 0xdeadbeef : size === 2 ? 0xbeef : 0xef;
    },
    mmioWrite: (address, size, value) => {
      mmio.push({ write: true, address, size, value });
    },
    acknowledgeInterrupt: () => 0x30,
  };
  const clock = new ManualClock();
  const cpu = new CpuState(memory, ops, clock);
  cpu.mmu = new Mmu(cpu);
  return { cpu, memory, mmio, clock };
}

/** An 8-byte code/data/system descriptor as [lo, hi]. `type` includes S (0x10) for code/data. */
export function descriptor(base: number, limit: number, type: number, dpl: number, opts: { g?: boolean; db?: boolean; present?: boolean } = {}): [number, number] {
  const g = opts.g ?? limit > 0xfffff;
  const raw = g ? limit >>> 12 : limit;
  const lo = ((base & 0xffff) << 16) | (raw & 0xffff);
  const hi =
    ((base >>> 16) & 0xff) |
    ((type & 0x1f) << 8) |
    (dpl << 13) |
    ((opts.present ?? true) ? 1 << 15 : 0) |
    (raw & 0xf0000) |
    ((opts.db ?? true) ? 1 << 22 : 0) |
    (g ? 1 << 23 : 0) |
    (base & 0xff000000);
  return [lo | 0, hi | 0];
}

/** A gate descriptor (call/interrupt/trap/task) as [lo, hi]. */
export function gate(selector: number, offset: number, type: number, dpl: number, params = 0, present = true): [number, number] {
  const lo = ((selector & 0xffff) << 16) | (offset & 0xffff);
  const hi = (offset & 0xffff0000) | (present ? 1 << 15 : 0) | (dpl << 13) | ((type & 0x1f) << 8) | (params & 0x1f);
  return [lo | 0, hi | 0];
}

export const FLAT_CODE = 0x1b; // S=1, execute/read, accessed
export const FLAT_DATA = 0x13; // S=1, read/write, accessed

/** Standard GDT used by the tests: Linux-like selectors. */
export const SEL_KCODE = 0x08, SEL_KDATA = 0x10, SEL_UCODE = 0x1b, SEL_UDATA = 0x23, SEL_TSS = 0x28, SEL_TSS2 = 0x30;
export const GDT_BASE = 0x1000, IDT_BASE = 0x2000, TSS_BASE = 0x3000, TSS2_BASE = 0x3200;

export function writeDescriptor(memory: GuestMemory, tableBase: number, index: number, d: [number, number]): void {
  memory.writeU32(tableBase + index * 8, d[0] >>> 0);
  memory.writeU32(tableBase + index * 8 + 4, d[1] >>> 0);
}

/** Flat 32-bit protected mode at CPL 0 with a GDT, an empty IDT and a 32-bit TSS loaded in TR. */
export function protectedMode(cpu: CpuState, memory: GuestMemory): void {
  writeDescriptor(memory, GDT_BASE, 1, descriptor(0, 0xffffffff, FLAT_CODE, 0));
  writeDescriptor(memory, GDT_BASE, 2, descriptor(0, 0xffffffff, FLAT_DATA, 0));
  writeDescriptor(memory, GDT_BASE, 3, descriptor(0, 0xffffffff, FLAT_CODE, 3));
  writeDescriptor(memory, GDT_BASE, 4, descriptor(0, 0xffffffff, FLAT_DATA, 3));
  writeDescriptor(memory, GDT_BASE, 5, descriptor(TSS_BASE, 0x67, 0x0b, 0, { db: false })); // busy 32-bit TSS
  cpu.gdtBase = GDT_BASE;
  cpu.gdtLimit = 16 * 8 - 1;
  cpu.idtBase = IDT_BASE;
  cpu.idtLimit = 256 * 8 - 1;
  cpu.cr0 = 0x11; // PE ET
  cpu.cpl = 0;
  flatCache(cpu, CS, SEL_KCODE, 0xb, 0);
  for (const s of [SS, DS, ES, FS, GS]) flatCache(cpu, s, SEL_KDATA, 3, 0);
  cpu.segSel[TR] = SEL_TSS;
  cpu.segBase[TR] = TSS_BASE;
  cpu.segLimit[TR] = 0x67;
  cpu.segAttr[TR] = 0x0b | ATTR_P;
  cpu.modeChanged();
}

export function flatCache(cpu: CpuState, seg: number, sel: number, type: number, dpl: number): void {
  cpu.segSel[seg] = sel;
  cpu.segBase[seg] = 0;
  cpu.segLimit[seg] = 0xffffffff;
  cpu.segAttr[seg] = type | ATTR_S | (dpl << 5) | ATTR_P | ATTR_DB | ATTR_G;
}

/** Run `f` and return the CpuException it throws (fails if it does not throw one). */
export function catchFault(f: () => void): CpuException {
  try {
    f();
  } catch (e) {
    if (e instanceof CpuException) return e;
    throw e;
  }
  throw new Error('expected a CpuException, none was thrown');
}
