// A guest's-eye view of the PIIX3 IDE function for unit tests: port I/O through a
// real IoBus, BAR4 mapped by a real PciBus, IRQ 14/15 edges counted, and disks whose
// every byte is predictable. No Node APIs, so it compiles with the pure layers.

import { IoBus } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import { PciBus, bdfOf } from '../pci/pci-bus.js';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { MemoryBlockBackend } from './memory-block-backend.js';
import { PiixIde, type IdeDrives } from './piix-ide.js';

export class IrqRecorder implements IrqLine {
  level = false;
  edges = 0;
  set(level: boolean): void {
    if (level && !this.level) this.edges++;
    this.level = level;
  }
}

export const BM_BASE = 0xc000;
export const IDE_BDF = bdfOf(1, 1);

/** Byte i of sector s of a pattern disk. */
export function patternByte(sector: number, i: number): number {
  return (sector * 7 + i * 13 + (sector >>> 8)) & 0xff;
}

export function patternBackend(blocks: number, blockSize = 512, readOnly = false): MemoryBlockBackend {
  const bytes = new Uint8Array(blocks * blockSize);
  for (let s = 0; s < (blocks * blockSize) / 512; s++) for (let i = 0; i < 512; i++) bytes[s * 512 + i] = patternByte(s, i);
  return new MemoryBlockBackend(bytes, readOnly);
}

export class IdeRig {
  readonly io = new IoBus();
  readonly memory = new GuestMemory({ ramBytes: 4 << 20 });
  readonly pci = new PciBus(this.io, this.memory, () => ({ set() {} }));
  readonly irq14 = new IrqRecorder();
  readonly irq15 = new IrqRecorder();
  readonly ide: PiixIde;

  constructor(drives: IdeDrives) {
    this.ide = new PiixIde(this.memory, drives, this.irq14, this.irq15);
    this.ide.registerLegacy(this.io);
    this.pci.attach(1, 1, this.ide);
  }

  /** hvmloader's job: BAR4 at BM_BASE, I/O decode and bus mastering on. */
  enableBusMaster(master = true): void {
    this.pci.writeConfig(IDE_BDF, 0x20, 4, BM_BASE);
    this.pci.writeConfig(IDE_BDF, 0x04, 2, master ? 0x05 : 0x01);
  }

  inb(port: number): number {
    return this.io.pioRead(port, 1);
  }
  inw(port: number): number {
    return this.io.pioRead(port, 2);
  }
  inl(port: number): number {
    return this.io.pioRead(port, 4);
  }
  outb(port: number, v: number): void {
    this.io.pioWrite(port, 1, v);
  }
  outw(port: number, v: number): void {
    this.io.pioWrite(port, 2, v);
  }
  outl(port: number, v: number): void {
    this.io.pioWrite(port, 4, v);
  }

  /** Read `bytes` through the 16-bit data port. */
  readData(base: number, bytes: number): Uint8Array {
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 2) {
      const w = this.inw(base);
      out[i] = w & 0xff;
      if (i + 1 < bytes) out[i + 1] = w >>> 8;
    }
    return out;
  }

  writeData(base: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i += 2) this.outw(base, data[i] | ((data[i + 1] ?? 0) << 8));
  }

  /** Select a device and load an LBA28 address and count, as SeaBIOS does. */
  lba28(base: number, slave: boolean, lba: number, count: number, features = 0): void {
    this.outb(base + 6, 0xe0 | (slave ? 0x10 : 0) | ((lba >>> 24) & 0x0f));
    this.outb(base + 1, features);
    this.outb(base + 2, count & 0xff);
    this.outb(base + 3, lba & 0xff);
    this.outb(base + 4, (lba >>> 8) & 0xff);
    this.outb(base + 5, (lba >>> 16) & 0xff);
  }

  /** LBA48: previous (high) bytes first, then current (ATA-6 §6.20). */
  lba48(base: number, slave: boolean, lba: number, count: number): void {
    this.outb(base + 6, 0x40 | (slave ? 0x10 : 0));
    const hi = Math.floor(lba / 0x1000000);
    this.outb(base + 2, (count >>> 8) & 0xff);
    this.outb(base + 3, hi & 0xff);
    this.outb(base + 4, (hi >>> 8) & 0xff);
    this.outb(base + 5, (hi >>> 16) & 0xff);
    this.outb(base + 2, count & 0xff);
    this.outb(base + 3, lba & 0xff);
    this.outb(base + 4, (lba >>> 8) & 0xff);
    this.outb(base + 5, (lba >>> 16) & 0xff);
  }

  /** Build a PRD table at `table` from [address, byteCount] regions; the last gets EOT. */
  prdTable(table: number, regions: Array<[number, number]>): void {
    regions.forEach(([addr, len], i) => {
      this.memory.writeU32(table + 8 * i, addr);
      this.memory.writeU32(table + 8 * i + 4, (len & 0xffff) | (i === regions.length - 1 ? 0x80000000 : 0));
    });
  }
}
