// Placing a system BIOS image in the guest, the two ways a PC can start:
// - Xen's way (hvmloader, pc-platform §1 "Placement"): the image is copied into plain
//   RAM so that it ends at 1 MiB, and the vCPU starts at F000:FFF0 in real mode with
//   CS.base = 0xF0000. Nothing exists at 0xFFFC0000.
// - A machine's way (xl `bios_path_override`, QEMU -bios): the image is a ROM at the
//   top of the 4 GiB space, its last 128 KiB also visible below 1 MiB, and the vCPU
//   starts at the architectural reset vector, CS.base = 0xFFFF0000, EIP = 0xFFF0
//   (SDM vol. 3A §9.1.4).

import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { SegmentRegister, VcpuRegisters, VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';

export const BIOS_SIZES = [64 << 10, 128 << 10, 256 << 10] as const;
const ONE_MIB = 0x100000;
/** The low alias of a ROM BIOS covers at most the E/F segments (0xE0000-0xFFFFF). */
const LOW_ALIAS_MAX = 128 << 10;

export class BiosImageError extends Error {
  override name = 'BiosImageError';
}

function checkSize(image: Uint8Array, what: string): void {
  if (!(BIOS_SIZES as readonly number[]).includes(image.length)) {
    throw new BiosImageError(`${what}: a BIOS image must be 64, 128 or 256 KiB, this one is ${image.length} bytes`);
  }
}

/** Xen's placement: copy into RAM so it ends at 1 MiB. Returns the base address. */
export function copyBiosToLowRam(memory: GuestMemory, image: Uint8Array): number {
  checkSize(image, 'system BIOS');
  const base = ONE_MIB - image.length;
  memory.write(base, image);
  return base;
}

/** bios_path_override: map as ROM below 4 GiB and alias its top below 1 MiB. */
export function mapBiosRom(memory: GuestMemory, image: Uint8Array): void {
  checkSize(image, 'bios_path_override');
  const offset = memory.loadRom(image);
  memory.mapBacking(0x100000000 - image.length, offset, image.length, true);
  const low = Math.min(image.length, LOW_ALIAS_MAX);
  memory.mapBacking(ONE_MIB - low, offset + image.length - low, low, true, true);
}

function realModeSegment(s: SegmentRegister, selector: number, base: number): SegmentRegister {
  return { ...s, selector, base, limit: 0xffff, type: s.type, present: 1, s: 1, dpl: 0, db: 0, g: 0, l: 0, unusable: 0 };
}

/**
 * The vCPU state for entering a BIOS: real mode, CR0 = 0 apart from ET, interrupts
 * off, data segments base 0 limit 0xFFFF, CS:IP = F000:FFF0 with `csBase`.
 */
export function biosEntryState(regs: VcpuRegisters, sregs: VcpuSpecialRegisters, csBase: number): { regs: VcpuRegisters; sregs: VcpuSpecialRegisters } {
  const data = (s: SegmentRegister) => ({ ...realModeSegment(s, 0, 0), type: 3 });
  return {
    regs: { ...regs, eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: 0, eip: 0xfff0, eflags: 0x2 },
    sregs: {
      ...sregs,
      cs: { ...realModeSegment(sregs.cs, 0xf000, csBase >>> 0), type: 11 },
      ds: data(sregs.ds),
      es: data(sregs.es),
      fs: data(sregs.fs),
      gs: data(sregs.gs),
      ss: data(sregs.ss),
      cr0: sregs.cr0 & 0x10,
      idt: { base: 0, limit: 0x3ff },
    },
  };
}
