// One PCI function's type-0 configuration space (PCI Local Bus 3.0 §6.1-6.2) and its
// BARs. The bus (pci-bus.ts) maps BARs into the I/O and memory spaces whenever the
// guest changes COMMAND, a BAR or the expansion ROM BAR; the function itself only
// keeps the 256 bytes with the right read-only, writable and write-1-to-clear bits.
//
// BAR sizing falls out of the write masks: a BAR's address bits below its size are
// read-only zero, so writing all ones reads back ~(size - 1) | type bits (§6.2.5.1).

import type { PioDevice, MmioDevice } from '../bus/io-bus.js';
import { NO_IRQ, type IrqLine } from '../bus/irq.js';
import type { AccessSize } from '../../hypervisor/types.js';

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  /** class << 16 | subclass << 8 | prog-if, e.g. 0x030000 VGA, 0x010180 PIIX IDE. */
  classCode: number;
  revision: number;
  /** Bit 7 = multi-function (set on function 0 of a multi-function device). */
  headerType?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** INTx pin 1..4 (A..D), 0 = none. */
  interruptPin?: number;
}

/** What a BAR decodes to once the guest assigns an address and enables COMMAND.IO / MEM. */
export interface PciBar {
  kind: 'io' | 'mem32' | 'mem64';
  /** Power of two; io >= 4, mem >= 16. */
  size: number;
  prefetchable?: boolean;
  /** Port-I/O BAR: accesses arrive with offsets from the BAR base. */
  pio?: PioDevice;
  /** MMIO BAR: accesses arrive with offsets from the BAR base. */
  mmio?: MmioDevice;
  /**
   * RAM-like BAR (VRAM): byte offset of `size` bytes in GuestMemory's backing store
   * (memory.allocateBacking); the bus maps those frames straight into the guest's
   * physical space so the CPU reaches them at RAM speed.
   */
  backingOffset?: number;
}

// Configuration header offsets (PCI 3.0 Figure 6-1).
export const PCI_VENDOR_ID = 0x00;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 1 << 0;
export const PCI_COMMAND_MEMORY = 1 << 1;
export const PCI_COMMAND_MASTER = 1 << 2;
/** COMMAND bits a guest may set: I/O, memory, master, parity, SERR, INTx disable. */
const COMMAND_WRITABLE = 0x0547;
/** STATUS bits that are write-1-to-clear: data parity, target/master aborts, SERR, parity. */
const STATUS_W1C = 0xf900;
/** Smallest ROM BAR we decode: one page, so it can be mapped by frames. */
const ROM_MIN_SIZE = 0x1000;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export class PciFunction {
  readonly config = new Uint8Array(256);
  protected readonly writeMask = new Uint8Array(256);
  protected readonly w1cMask = new Uint8Array(256);
  /** The INTx line of this function's pin; set by the bus at attach (NO_IRQ if pin 0). */
  intx: IrqLine = NO_IRQ;
  /** Set by the bus: re-evaluate BAR mappings. */
  decodeChanged: () => void = () => {};
  readonly bars: ReadonlyArray<PciBar | null>;
  /** The expansion ROM image, padded to its power-of-two BAR size. */
  readonly rom: Uint8Array | null;

  constructor(
    readonly name: string,
    id: PciIdentity,
    bars: ReadonlyArray<PciBar | null> = [],
    rom?: Uint8Array,
  ) {
    if (bars.length > 6) throw new RangeError(`${name}: a type-0 function has at most 6 BARs`);
    const all: (PciBar | null)[] = [...bars];
    while (all.length < 6) all.push(null);
    this.bars = all;
    this.set16(PCI_VENDOR_ID, id.vendorId);
    this.set16(0x02, id.deviceId);
    this.config[PCI_REVISION] = id.revision;
    this.config[0x09] = id.classCode & 0xff;
    this.config[0x0a] = (id.classCode >>> 8) & 0xff;
    this.config[0x0b] = (id.classCode >>> 16) & 0xff;
    this.config[PCI_HEADER_TYPE] = id.headerType ?? 0;
    this.set16(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId ?? 0);
    this.set16(0x2e, id.subsystemId ?? 0);
    this.config[PCI_INTERRUPT_PIN] = id.interruptPin ?? 0;
    this.set16(PCI_STATUS, 0x0200); // DEVSEL medium timing
    this.setMask16(PCI_COMMAND, COMMAND_WRITABLE);
    this.w1cMask[PCI_STATUS] = STATUS_W1C & 0xff;
    this.w1cMask[PCI_STATUS + 1] = STATUS_W1C >>> 8;
    this.writeMask[0x0c] = 0xff; // cache line size
    this.writeMask[0x0d] = 0xff; // latency timer
    this.writeMask[PCI_INTERRUPT_LINE] = 0xff;

    for (let i = 0; i < 6; i++) {
      const bar = all[i];
      if (!bar) continue;
      const off = PCI_BAR0 + 4 * i;
      const min = bar.kind === 'io' ? 4 : 16;
      if (!isPowerOfTwo(bar.size) || bar.size < min) throw new RangeError(`${name}: BAR${i} size ${bar.size} is not a power of two >= ${min}`);
      if (bar.kind === 'io' && bar.size > 256) throw new RangeError(`${name}: I/O BAR${i} larger than 256 bytes`);
      const typeBits = bar.kind === 'io' ? 1 : (bar.kind === 'mem64' ? 4 : 0) | (bar.prefetchable ? 8 : 0);
      this.set32(off, typeBits);
      this.setMask32(off, ~(bar.size - 1) & (bar.kind === 'io' ? 0xfffffffc : 0xfffffff0));
      if (bar.kind === 'mem64') {
        if (i === 5 || all[i + 1]) throw new RangeError(`${name}: 64-bit BAR${i} needs BAR${i + 1} free for its upper half`);
        this.setMask32(off + 4, 0xffffffff);
      }
    }
    if (rom && rom.length > 0) {
      let size = ROM_MIN_SIZE;
      while (size < rom.length) size *= 2;
      const padded = new Uint8Array(size);
      padded.set(rom);
      this.rom = padded;
      this.setMask32(PCI_ROM_ADDRESS, (~(size - 1) & 0xfffff800) | 1);
    } else {
      this.rom = null;
    }
  }

  readConfig(offset: number, size: AccessSize): number {
    offset &= 0xff;
    if (offset + size > 256) size = (256 - offset) as AccessSize;
    this.configRead(offset, size);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.config[offset + i] << (8 * i);
    return v >>> 0;
  }

  writeConfig(offset: number, size: AccessSize, value: number): void {
    offset &= 0xff;
    if (offset + size > 256) size = (256 - offset) as AccessSize;
    let changed = false;
    let decode = false;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const b = (value >>> (8 * i)) & 0xff;
      const old = this.config[o];
      const next = ((old & ~this.writeMask[o]) | (b & this.writeMask[o])) & ~(b & this.w1cMask[o]) & 0xff;
      if (next !== old) {
        this.config[o] = next;
        changed = true;
        if (o === PCI_COMMAND || (o >= PCI_BAR0 && o < PCI_BAR0 + 24) || (o >= PCI_ROM_ADDRESS && o < PCI_ROM_ADDRESS + 4)) decode = true;
      }
    }
    if (decode) this.decodeChanged();
    if (changed || size > 0) this.configWritten(offset, size);
  }

  /**
   * Why a saved configuration space cannot belong to this function, or null: its
   * hard-wired header bits (IDs, class, header type, BAR type and size bits, ROM size,
   * pin) differ. STATUS is left out: its read-only bits report device state.
   */
  configMismatch(saved: Uint8Array): string | null {
    for (let o = 0; o < 0x40; o++) {
      if (o === PCI_STATUS || o === PCI_STATUS + 1) continue;
      const fixed = ~this.writeMask[o] & 0xff;
      if ((saved[o] & fixed) !== (this.config[o] & fixed)) {
        return `config byte 0x${o.toString(16).padStart(2, '0')} has read-only bits 0x${(saved[o] & fixed).toString(16)}, this function 0x${(this.config[o] & fixed).toString(16)}`;
      }
    }
    return null;
  }

  /**
   * Take a saved configuration space (restore): the bits a guest can write and the
   * write-1-to-clear status bits come from `saved`, the hard-wired ones stay ours;
   * then the function's own write hook runs over all 256 bytes so state derived from
   * config (PIRQ routes, PM I/O decode…) follows. BAR decoding is the bus's job.
   */
  loadConfig(saved: Uint8Array): void {
    for (let o = 0; o < 256; o++) {
      const m = this.writeMask[o] | this.w1cMask[o];
      this.config[o] = (this.config[o] & ~m) | (saved[o] & m);
    }
    this.configWritten(0, 256);
  }

  /** Hook: after a guest write to config bytes [offset, offset+size). */
  protected configWritten(_offset: number, _size: number): void {}
  /** Hook: before a read, so dynamic registers can be refreshed. */
  protected configRead(_offset: number, _size: number): void {}

  get command(): number {
    return this.config[PCI_COMMAND] | (this.config[PCI_COMMAND + 1] << 8);
  }

  /** COMMAND.BUS_MASTER: a DMA-capable device must not touch guest memory while clear. */
  get busMaster(): boolean {
    return (this.command & PCI_COMMAND_MASTER) !== 0;
  }

  /** Current guest-assigned base of BAR i if its decoding is enabled, else null. */
  barAddress(index: number): number | null {
    const bar = this.bars[index];
    if (!bar) return null;
    const reg = this.get32(PCI_BAR0 + 4 * index);
    if (bar.kind === 'io') {
      if ((this.command & PCI_COMMAND_IO) === 0) return null;
      const a = reg & 0xfffc;
      return a === 0 || reg >>> 16 !== 0 ? null : a;
    }
    if ((this.command & PCI_COMMAND_MEMORY) === 0) return null;
    if (bar.kind === 'mem64' && this.get32(PCI_BAR0 + 4 * index + 4) !== 0) return null; // above 4 GiB: not mapped
    const a = (reg & 0xfffffff0) >>> 0;
    return a === 0 ? null : a;
  }

  /** Base of the expansion ROM if enabled (ROM bit 0 and COMMAND.MEM), else null. */
  romAddress(): number | null {
    if (!this.rom || (this.command & PCI_COMMAND_MEMORY) === 0) return null;
    const reg = this.get32(PCI_ROM_ADDRESS);
    if ((reg & 1) === 0) return null;
    const a = (reg & 0xfffff800) >>> 0;
    return a === 0 ? null : a;
  }

  protected get32(o: number): number {
    const c = this.config;
    return (c[o] | (c[o + 1] << 8) | (c[o + 2] << 16) | (c[o + 3] << 24)) >>> 0;
  }
  protected set16(o: number, v: number): void {
    this.config[o] = v & 0xff;
    this.config[o + 1] = (v >>> 8) & 0xff;
  }
  protected set32(o: number, v: number): void {
    for (let i = 0; i < 4; i++) this.config[o + i] = (v >>> (8 * i)) & 0xff;
  }
  protected setMask16(o: number, v: number): void {
    this.writeMask[o] = v & 0xff;
    this.writeMask[o + 1] = (v >>> 8) & 0xff;
  }
  protected setMask32(o: number, v: number): void {
    for (let i = 0; i < 4; i++) this.writeMask[o + i] = (v >>> (8 * i)) & 0xff;
  }
}
