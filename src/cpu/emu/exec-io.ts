// Port I/O: IN/OUT with imm8 and DX ports, 8/16/32 bits, and the protected-mode
// I/O permission check (SDM vol. 1 §19.5: CPL > IOPL or V86 => TSS I/O bitmap).

import { CpuException, CR0_PE, EAX, EDX, EXC_GP, FLAG_IOPL, FLAG_VM, TR, type CpuState } from './state.js';
import type { Insn } from './insn.js';
import { setReg } from './operands.js';
import type { AccessSize } from '../../hypervisor/types.js';
import { recordEvent, EV_PIO_IN, EV_PIO_OUT } from './diagnostics.js';

/**
 * #GP(0) unless `size` bytes at `port` are accessible: always in real mode and at
 * CPL <= IOPL; otherwise every bit for those ports in the 32-bit TSS's bitmap
 * must be 0, and the bitmap bytes must lie inside the TSS limit.
 */
export function checkIoPermission(cpu: CpuState, port: number, size: number): void {
  if ((cpu.cr0 & CR0_PE) === 0) return;
  if ((cpu.flags & FLAG_VM) === 0 && cpu.cpl <= (cpu.flags & FLAG_IOPL) >> 12) return;
  const type = cpu.segAttr[TR] & 0xf;
  const limit = cpu.segLimit[TR];
  if ((type !== 9 && type !== 0xb) || limit < 0x67) throw new CpuException(EXC_GP, 0);
  const base = cpu.segBase[TR];
  const mapBase = cpu.mmu.readSys8((base + 0x66) | 0) | (cpu.mmu.readSys8((base + 0x67) | 0) << 8);
  const byteOff = mapBase + (port >>> 3);
  if (byteOff + 1 > limit) throw new CpuException(EXC_GP, 0);
  const bits = cpu.mmu.readSys8((base + byteOff) | 0) | (cpu.mmu.readSys8((base + byteOff + 1) | 0) << 8);
  const mask = ((1 << size) - 1) << (port & 7);
  if (bits & mask) throw new CpuException(EXC_GP, 0);
}

export function portIn(cpu: CpuState, port: number, size: number): number {
  checkIoPermission(cpu, port, size);
  const v = cpu.ops.pioRead(port, size as AccessSize);
  recordEvent(cpu, EV_PIO_IN, port, v, size);
  return v;
}

export function portOut(cpu: CpuState, port: number, size: number, v: number): void {
  checkIoPermission(cpu, port, size);
  const value = size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  recordEvent(cpu, EV_PIO_OUT, port, value, size);
  cpu.ops.pioWrite(port, size as AccessSize, value);
}

/** E4/E5 IN acc, imm8. */
export function execInImm(cpu: CpuState, i: Insn): void {
  setReg(cpu, EAX, i.osz, portIn(cpu, i.imm & 0xff, i.osz));
}
/** EC/ED IN acc, DX. */
export function execInDx(cpu: CpuState, i: Insn): void {
  setReg(cpu, EAX, i.osz, portIn(cpu, cpu.regs[EDX] & 0xffff, i.osz));
}
/** E6/E7 OUT imm8, acc. */
export function execOutImm(cpu: CpuState, i: Insn): void {
  portOut(cpu, i.imm & 0xff, i.osz, cpu.regs[EAX]);
}
/** EE/EF OUT DX, acc. */
export function execOutDx(cpu: CpuState, i: Insn): void {
  portOut(cpu, cpu.regs[EDX] & 0xffff, i.osz, cpu.regs[EAX]);
}
