// The device model's one dispatch path for port I/O and MMIO (PCI configuration
// space joins it through the host bridge's ports). Devices register ranges and
// see offsets into their range, never absolute addresses. Overlapping or empty
// registrations are errors (Firecracker's bus refuses mistakes the same way).
//
// Unclaimed ports and addresses read all ones and drop writes, as on a PC
// (open bus), so a guest probing absent hardware sees "nothing there".

import { hex, type AccessSize } from '../../hypervisor/types.js';

export interface PioDevice {
  /** Read `size` bytes at `offset` within the device's port range. */
  pioRead(offset: number, size: AccessSize): number;
  pioWrite(offset: number, size: AccessSize, value: number): void;
}

export interface MmioDevice {
  mmioRead(offset: number, size: AccessSize): number;
  mmioWrite(offset: number, size: AccessSize, value: number): void;
}

interface PioRange {
  base: number;
  length: number;
  device: PioDevice;
  name: string;
}
interface MmioRange {
  base: number;
  length: number;
  device: MmioDevice;
  name: string;
}

export class BusError extends Error {
  override name = 'BusError';
}

/** All ones for an access of 1, 2 or 4 bytes: what open bus reads (and absent PCI functions). */
export const ONES: readonly number[] = [0, 0xff, 0xffff, 0, 0xffffffff];

export class IoBus {
  /** portOwner[port] = index into pioRanges + 1, 0 = unclaimed. */
  private readonly portOwner = new Uint16Array(0x10000);
  private readonly pioRanges: PioRange[] = [];
  /** Sorted by base, non-overlapping. */
  private readonly mmioRanges: MmioRange[] = [];

  registerPio(base: number, length: number, device: PioDevice, name: string): void {
    if (!Number.isInteger(base) || !Number.isInteger(length) || length <= 0 || base < 0 || base + length > 0x10000) {
      throw new BusError(`${name}: bad port range ${hex(base, 4)}+${length}`);
    }
    for (let p = base; p < base + length; p++) {
      const owner = this.portOwner[p];
      if (owner) throw new BusError(`${name}: port ${hex(p, 4)} already belongs to ${this.pioRanges[owner - 1].name}`);
    }
    this.pioRanges.push({ base, length, device, name });
    const idx = this.pioRanges.length;
    this.portOwner.fill(idx, base, base + length);
  }

  /** Remove a port registration (PCI BAR moves, device unplug). */
  unregisterPio(base: number, device: PioDevice): void {
    const idx = this.pioRanges.findIndex((r) => r.base === base && r.device === device);
    if (idx < 0) throw new BusError(`no port registration at ${hex(base, 4)} for that device`);
    const r = this.pioRanges[idx];
    this.portOwner.fill(0, r.base, r.base + r.length);
    // Keep indices stable: leave a tombstone that no port points at.
    this.pioRanges[idx] = { base: 0, length: 0, device: r.device, name: `${r.name} (removed)` };
  }

  registerMmio(base: number, length: number, device: MmioDevice, name: string): void {
    if (!Number.isInteger(base) || !Number.isInteger(length) || length <= 0 || base < 0 || base + length > 2 ** 52) {
      throw new BusError(`${name}: bad MMIO range ${hex(base)}+${length}`);
    }
    for (const r of this.mmioRanges) {
      if (base < r.base + r.length && r.base < base + length) {
        throw new BusError(`${name}: MMIO range ${hex(base)}+${hex(length)} overlaps ${r.name} at ${hex(r.base)}+${hex(r.length)}`);
      }
    }
    this.mmioRanges.push({ base, length, device, name });
    this.mmioRanges.sort((a, b) => a.base - b.base);
  }

  unregisterMmio(base: number, device: MmioDevice): void {
    const idx = this.mmioRanges.findIndex((r) => r.base === base && r.device === device);
    if (idx < 0) throw new BusError(`no MMIO registration at ${hex(base)} for that device`);
    this.mmioRanges.splice(idx, 1);
  }

  pioRead(port: number, size: AccessSize): number {
    port &= 0xffff;
    const owner = this.portOwner[port];
    if (owner) {
      const r = this.pioRanges[owner - 1];
      if (port + size <= r.base + r.length) return (r.device.pioRead(port - r.base, size) & ONES[size]) >>> 0;
    } else if (size === 1) {
      return 0xff;
    }
    // The access straddles devices (or starts unclaimed): split it into bytes, as the ISA bus would.
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.pioRead((port + i) & 0xffff, 1) << (8 * i);
    return v >>> 0;
  }

  pioWrite(port: number, size: AccessSize, value: number): void {
    port &= 0xffff;
    const owner = this.portOwner[port];
    if (owner) {
      const r = this.pioRanges[owner - 1];
      if (port + size <= r.base + r.length) {
        r.device.pioWrite(port - r.base, size, (value & ONES[size]) >>> 0);
        return;
      }
    } else if (size === 1) {
      return;
    }
    for (let i = 0; i < size; i++) this.pioWrite((port + i) & 0xffff, 1, (value >>> (8 * i)) & 0xff);
  }

  private findMmio(address: number): MmioRange | undefined {
    const rs = this.mmioRanges;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid];
      if (address < r.base) hi = mid - 1;
      else if (address >= r.base + r.length) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  mmioRead(address: number, size: AccessSize): number {
    const r = this.findMmio(address);
    if (!r) return ONES[size];
    if (address + size <= r.base + r.length) return (r.device.mmioRead(address - r.base, size) & ONES[size]) >>> 0;
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.mmioRead(address + i, 1) << (8 * i);
    return v >>> 0;
  }

  mmioWrite(address: number, size: AccessSize, value: number): void {
    const r = this.findMmio(address);
    if (!r) return;
    if (address + size <= r.base + r.length) {
      r.device.mmioWrite(address - r.base, size, (value & ONES[size]) >>> 0);
      return;
    }
    for (let i = 0; i < size; i++) this.mmioWrite(address + i, 1, (value >>> (8 * i)) & 0xff);
  }

  /** Names of the registered ranges, for `tsxen` diagnostics. */
  describe(): string[] {
    const out: string[] = [];
    for (const r of this.pioRanges) if (r.length) out.push(`pio ${hex(r.base, 4)}-${hex(r.base + r.length - 1, 4)} ${r.name}`);
    for (const r of this.mmioRanges) out.push(`mmio ${hex(r.base)}-${hex(r.base + r.length - 1)} ${r.name}`);
    return out;
  }
}
