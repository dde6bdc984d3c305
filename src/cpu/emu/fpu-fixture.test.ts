// Test fixture for the x87: a CpuState with 1 MiB of RAM, a flat segmented
// memory (optionally faulting at one address), and helpers that execute x87
// instructions by their bytes and move 80-bit values in and out of memory.
// No tests here.

import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import { Mmu } from './mmu.js';
import { Fpu } from './fpu.js';
import { CR0_ET, CR0_MP, CR0_NE, CR0_PE, CS, CpuException, CpuState, DS, EXC_PF, type SegmentedMemory } from './state.js';

export interface FpuRig {
  cpu: CpuState;
  fpu: Fpu;
  /** Linear addresses whose access throws #PF (to test atomicity). */
  faultAt: Set<number>;
  /** Run one x87 instruction: [opcode, modrm] for register forms, or a memory form with `addr`. */
  x(opcode: number, modrm: number): void;
  m(opcode: number, reg: number, addr: number, operand32?: boolean): void;
  put80(addr: number, hex: string): void;
  get80(addr: number): string;
  putHex(addr: number, hex: string): void;
  getHex(addr: number, bytes: number): string;
}

export function makeFpuRig(): FpuRig {
  const memory = new GuestMemory({ ramBytes: 1 << 20 });
  const ops: VmOps = {
    pioRead: () => 0xffffffff,
    pioWrite: () => {},
    mmioRead: () => 0xffffffff,
    mmioWrite: () => {},
    acknowledgeInterrupt: () => 0,
  };
  const cpu = new CpuState(memory, ops, new ManualClock());
  cpu.mmu = new Mmu(cpu);
  const faultAt = new Set<number>();
  const lin = (seg: number, off: number, n: number): number => {
    const a = (cpu.segBase[seg] + off) | 0;
    for (let i = 0; i < n; i++) if (faultAt.has(a + i)) throw new CpuException(EXC_PF, 2);
    return a;
  };
  const smem: SegmentedMemory = {
    read8: (s, o) => cpu.mmu.read8(lin(s, o, 1)),
    read16: (s, o) => cpu.mmu.read16(lin(s, o, 2)),
    read32: (s, o) => cpu.mmu.read32(lin(s, o, 4)),
    write8: (s, o, v) => cpu.mmu.write8(lin(s, o, 1), v),
    write16: (s, o, v) => cpu.mmu.write16(lin(s, o, 2), v),
    write32: (s, o, v) => cpu.mmu.write32(lin(s, o, 4), v),
  };
  cpu.smem = smem;
  cpu.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
  cpu.protectedMode = true;
  cpu.segSel[CS] = 0x23;
  cpu.segSel[DS] = 0x2b;
  const fpu = new Fpu(cpu);
  cpu.fpu = fpu;
  const bytes = memory.bytes;
  return {
    cpu,
    fpu,
    faultAt,
    x: (opcode, modrm) => fpu.execute(opcode, modrm, DS, 0, true),
    m: (opcode, reg, addr, operand32 = true) => fpu.execute(opcode, (reg << 3) | 5, DS, addr, operand32),
    put80: (addr, hex) => {
      for (let i = 0; i < 10; i++) bytes[addr + i] = parseInt(hex.substr(18 - 2 * i, 2), 16);
    },
    get80: (addr) => {
      let s = '';
      for (let i = 9; i >= 0; i--) s += bytes[addr + i].toString(16).padStart(2, '0');
      return s;
    },
    putHex: (addr, hex) => {
      const n = hex.length / 2;
      for (let i = 0; i < n; i++) bytes[addr + i] = parseInt(hex.substr(hex.length - 2 - 2 * i, 2), 16);
    },
    getHex: (addr, n) => {
      let s = '';
      for (let i = n - 1; i >= 0; i--) s += bytes[addr + i].toString(16).padStart(2, '0');
      return s;
    },
  };
}

/** 80-bit hex (sign/exponent first) → approximate double, for tolerance checks. */
export function hex80ToNumber(hex: string): number {
  const se = parseInt(hex.slice(0, 4), 16);
  const mant = BigInt('0x' + hex.slice(4));
  const exp = se & 0x7fff;
  const sign = se & 0x8000 ? -1 : 1;
  if (exp === 0x7fff) return (mant << 1n) & ((1n << 64n) - 1n) ? NaN : sign * Infinity;
  if (mant === 0n) return sign * 0;
  return sign * Number(mant) * 2 ** ((exp || 1) - 16383 - 63);
}
