// std-vga BAR2, the 4 KiB MMIO register window (pc-platform §7; QEMU ≥ 1.3's
// standard-vga layout, which Linux's bochs-drm prefers over port I/O):
//   0x000-0x3FF  EDID blob (edid.ts: one 128-byte block, zeros after it)
//   0x400-0x41F  VGA ports 0x3C0-0x3DF, byte-wise (a word write = index, data)
//   0x500-0x515  DISPI register i at 0x500 + 2i, 16 bits
//   0x600-0x607  QEMU extended registers: region size, then the framebuffer
//                byte order (0x1E1E1E1E = little endian)

import type { AccessSize } from '../../hypervisor/types.js';
import type { MmioDevice } from '../bus/io-bus.js';
import { DISPI_REGISTER_COUNT, type BochsDispi } from './dispi.js';
import type { VgaPorts } from './ports.js';
import { stdVgaEdid } from './edid.js';

export const MMIO_BAR_SIZE = 0x1000;
const VGA_PORTS = 0x400;
const VGA_PORTS_END = 0x420;
const DISPI = 0x500;
const DISPI_END = DISPI + 2 * DISPI_REGISTER_COUNT;
const QEXT = 0x600;
const QEXT_SIZE = 8;
const QEXT_LITTLE_ENDIAN = 0x1e1e1e1e;

export class StdVgaMmio implements MmioDevice {
  private readonly edid = stdVgaEdid();

  constructor(
    private readonly ports: VgaPorts,
    private readonly dispi: BochsDispi,
  ) {}

  mmioRead(offset: number, size: AccessSize): number {
    if (offset >= DISPI && offset + size <= DISPI_END && size === 2 && (offset & 1) === 0) {
      return this.dispi.read((offset - DISPI) >> 1);
    }
    if (offset === QEXT && size === 4) return QEXT_SIZE;
    if (offset === QEXT + 4 && size === 4) return QEXT_LITTLE_ENDIAN;
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(offset + i) << (8 * i);
    return v >>> 0;
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    if (offset >= DISPI && offset + size <= DISPI_END && size === 2 && (offset & 1) === 0) {
      this.dispi.write((offset - DISPI) >> 1, value & 0xffff);
      return;
    }
    for (let i = 0; i < size; i++) this.writeByte(offset + i, (value >>> (8 * i)) & 0xff);
  }

  private readByte(o: number): number {
    if (o >= 0 && o < this.edid.length) return this.edid[o];
    if (o >= VGA_PORTS && o < VGA_PORTS_END) return this.ports.readPort(0x3c0 + o - VGA_PORTS);
    if (o >= DISPI && o < DISPI_END) {
      const reg = this.dispi.read((o - DISPI) >> 1);
      return o & 1 ? reg >> 8 : reg & 0xff;
    }
    if (o >= QEXT && o < QEXT + 8) {
      const word = o < QEXT + 4 ? QEXT_SIZE : QEXT_LITTLE_ENDIAN;
      return (word >>> (8 * (o & 3))) & 0xff;
    }
    return 0;
  }

  private writeByte(o: number, v: number): void {
    if (o >= VGA_PORTS && o < VGA_PORTS_END) {
      this.ports.writePort(0x3c0 + o - VGA_PORTS, v);
    } else if (o >= DISPI && o < DISPI_END) {
      // A byte write replaces that half of the 16-bit register.
      const index = (o - DISPI) >> 1;
      const old = this.dispi.read(index);
      this.dispi.write(index, o & 1 ? (old & 0xff) | (v << 8) : (old & 0xff00) | v);
    }
  }
}
