// PCI bus 0 behind the host bridge: configuration mechanism #1 at 0xCF8/0xCFC (PCI
// 3.0 §3.2.2.3.2; pc-platform §5) and the mapping of every function's BARs into the
// same IoBus (ports, MMIO) and GuestMemory (RAM-like BARs, ROMs) the CPU uses, so
// there is one dispatch path for all three spaces.
//
// The guest owns BAR placement. A BAR the guest puts on top of another device, on
// RAM, or across the top of the address space is simply not decoded (and logged):
// a guest's mistake never throws out of the bus or reaches another device's range.

import { BusError, ONES, type IoBus, type PioDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import { NO_IRQ } from '../bus/irq.js';
import { PAGE_SHIFT, PAGE_SIZE, type GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { hex, type AccessSize } from '../../hypervisor/types.js';
import { PCI_INTERRUPT_PIN, type PciBar, type PciFunction } from './pci-function.js';
import { configToHex, parsePciBusState, type PciBusState } from './pci-bus-state.js';

/** CONFIG_ADDRESS bit 31: configuration cycles enabled. */
const CONFIG_ENABLE = 0x80000000;
const ROM_INDEX = 6;

/** What one BAR (or the ROM, index 6) currently decodes to. */
interface Mapping {
  address: number;
  size: number;
  kind: 'pio' | 'mmio' | 'backing';
}

interface Slot {
  bdf: number;
  fn: PciFunction;
  mapped: (Mapping | null)[];
  romOffset: number;
}

export function bdfOf(device: number, fn: number): number {
  return ((device & 0x1f) << 3) | (fn & 7);
}

export function formatBdf(bdf: number): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${h((bdf >>> 8) & 0xff, 2)}:${h((bdf >>> 3) & 0x1f, 2)}.${bdf & 7}`;
}

export class PciBus {
  private readonly slots = new Map<number, Slot>();
  private address = 0;
  /** Byte 0xCF9 (PIIX reset control) shares the 0xCF8 dword; the chipset supplies it. */
  private resetControl: PioDevice | null = null;

  /** The PioDevice for ports 0xCF8-0xCFF (register it with length 8). */
  readonly configPorts: PioDevice = {
    pioRead: (offset: number, size: AccessSize) => this.portRead(offset, size),
    pioWrite: (offset: number, size: AccessSize, value: number) => this.portWrite(offset, size, value),
  };

  constructor(
    private readonly io: IoBus,
    private readonly memory: GuestMemory,
    private readonly intx: (device: number, pin: number) => IrqLine,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /** PIIX reset control register at 0xCF9 (byte accesses only, §5). */
  setResetControl(dev: PioDevice): void {
    this.resetControl = dev;
  }

  /** Bus 0 only. BARs are remapped whenever COMMAND, a BAR or the ROM BAR changes. */
  attach(device: number, fn: number, f: PciFunction): void {
    if (!Number.isInteger(device) || device < 0 || device > 31 || !Number.isInteger(fn) || fn < 0 || fn > 7) {
      throw new RangeError(`${f.name}: no PCI slot ${device}.${fn}`);
    }
    const bdf = bdfOf(device, fn);
    const existing = this.slots.get(bdf);
    if (existing) throw new BusError(`${f.name}: PCI ${formatBdf(bdf)} already holds ${existing.fn.name}`);
    const pin = f.config[PCI_INTERRUPT_PIN];
    f.intx = pin >= 1 && pin <= 4 ? this.intx(device, pin) : NO_IRQ;
    const slot: Slot = { bdf, fn: f, mapped: new Array<Mapping | null>(7).fill(null), romOffset: -1 };
    if (f.rom) {
      slot.romOffset = this.memory.allocateBacking(f.rom.length);
      this.memory.bytes.set(f.rom, slot.romOffset);
    }
    f.decodeChanged = () => this.remap(slot);
    this.slots.set(bdf, slot);
  }

  /** Host-side config access (hvmloader): the same path as the guest's 0xCF8/0xCFC. */
  readConfig(bdf: number, offset: number, size: AccessSize): number {
    const slot = this.slots.get(bdf & 0xffff);
    if (!slot || (offset & 0xff) + size > 256) return ONES[size];
    return slot.fn.readConfig(offset, size);
  }

  writeConfig(bdf: number, offset: number, size: AccessSize, value: number): void {
    const slot = this.slots.get(bdf & 0xffff);
    if (!slot || (offset & 0xff) + size > 256) return;
    slot.fn.writeConfig(offset, size, value);
  }

  /** bdfs (bus << 8 | dev << 3 | fn) of attached functions, ascending. */
  functions(): number[] {
    return [...this.slots.keys()].sort((a, b) => a - b);
  }

  function(bdf: number): PciFunction | undefined {
    return this.slots.get(bdf)?.fn;
  }

  /** Every function's configuration space and the 0xCF8/0xCF9 latches (pci-bus-state.ts). */
  save(): PciBusState {
    return {
      version: 1,
      configAddress: this.address,
      resetControl: this.resetControl ? this.resetControl.pioRead(0, 1) & 0xff : 0,
      functions: this.functions().map((bdf) => {
        const fn = this.slots.get(bdf)!.fn;
        return { bdf, name: fn.name, config: configToHex(fn.config) };
      }),
    };
  }

  /**
   * Load a saved record into a freshly built bus of the same device set, after the
   * image's frame map and memory (applyDomainState's order). The whole record is
   * checked first (same bdfs, same hard-wired bits per function) and a mismatch
   * throws naming the function, with nothing applied. Then every decoding is dropped,
   * all configuration spaces load (their write hooks rebuild PIRQ routes, the PM I/O
   * base…), and every function's BARs and ROM are decoded again from the new bytes.
   */
  restore(raw: unknown): void {
    const s = parsePciBusState(raw);
    const saved = new Set<number>();
    for (const f of s.functions) {
      const slot = this.slots.get(f.bdf);
      if (!slot) throw new RangeError(`pci record: PCI ${formatBdf(f.bdf)} (${f.name}) does not exist in this domain`);
      const why = slot.fn.configMismatch(f.config);
      if (why) throw new RangeError(`pci record: PCI ${formatBdf(f.bdf)} ${slot.fn.name} is not the saved ${f.name}: ${why}`);
      saved.add(f.bdf);
    }
    for (const [bdf, slot] of this.slots) {
      if (!saved.has(bdf)) throw new RangeError(`pci record: this domain's PCI ${formatBdf(bdf)} ${slot.fn.name} is not in the image`);
    }
    const slots = this.functions().map((bdf) => this.slots.get(bdf)!);
    // All at once, so a BAR moved onto a range another function held at build is free.
    for (const slot of slots) this.release(slot);
    for (const f of s.functions) this.slots.get(f.bdf)!.fn.loadConfig(f.config);
    for (const slot of slots) this.remap(slot);
    this.address = (s.configAddress & 0x80fffffc) >>> 0;
    // Bit 1 only: writing bit 2 would reset the machine.
    this.resetControl?.pioWrite(0, 1, s.resetControl & 0x02);
  }

  private portRead(offset: number, size: AccessSize): number {
    if (offset < 4) {
      if (offset === 0 && size === 4) return this.address >>> 0;
      if (offset === 1 && size === 1 && this.resetControl) return this.resetControl.pioRead(0, 1);
      return ONES[size];
    }
    const target = this.target(offset - 4);
    if (target < 0) return ONES[size];
    return this.readConfig(target >>> 8, target & 0xff, size);
  }

  private portWrite(offset: number, size: AccessSize, value: number): void {
    if (offset < 4) {
      // CONFIG_ADDRESS decodes only dword accesses (§3.2.2.3.2); 0xCF9 is reset control.
      if (offset === 0 && size === 4) this.address = (value & 0x80fffffc) >>> 0;
      else if (offset === 1 && size === 1 && this.resetControl) this.resetControl.pioWrite(0, 1, value);
      return;
    }
    const target = this.target(offset - 4);
    if (target >= 0) this.writeConfig(target >>> 8, target & 0xff, size, value);
  }

  /** (bdf << 8 | register) of the current CONFIG_ADDRESS plus a byte lane, or -1. */
  private target(lane: number): number {
    const a = this.address;
    if ((a & CONFIG_ENABLE) === 0) return -1;
    if (((a >>> 16) & 0xff) !== 0) return -1; // only bus 0 exists
    const bdf = (a >>> 8) & 0xff;
    return (bdf << 8) | ((a & 0xfc) + lane);
  }

  private remap(slot: Slot): void {
    for (let i = 0; i <= ROM_INDEX; i++) {
      const want = this.desired(slot, i);
      const have = slot.mapped[i];
      if (have && want && have.address === want.address && have.size === want.size && have.kind === want.kind) continue;
      if (have) this.unmap(slot, i, have);
      slot.mapped[i] = null;
      if (want && this.map(slot, i, want)) slot.mapped[i] = want;
    }
  }

  private desired(slot: Slot, i: number): Mapping | null {
    const f = slot.fn;
    if (i === ROM_INDEX) {
      const a = f.romAddress();
      if (a === null || !f.rom) return null;
      return { address: a, size: f.rom.length, kind: 'backing' };
    }
    const bar = f.bars[i];
    const a = f.barAddress(i);
    if (!bar || a === null) return null;
    const kind = bar.kind === 'io' ? 'pio' : bar.backingOffset !== undefined ? 'backing' : 'mmio';
    if (kind === 'pio' && !bar.pio) return null;
    if (kind === 'mmio' && !bar.mmio) return null;
    return { address: a, size: bar.size, kind };
  }

  private map(slot: Slot, i: number, m: Mapping): boolean {
    const f = slot.fn;
    const what = `${f.name} ${i === ROM_INDEX ? 'ROM' : `BAR${i}`} at ${hex(m.address)}+${hex(m.size)}`;
    const limit = m.kind === 'pio' ? 0x10000 : 0x100000000;
    if (m.address + m.size > limit) {
      this.log(`PCI ${formatBdf(slot.bdf)}: ${what} crosses the top of its address space; not decoded`);
      return false;
    }
    const bar = i === ROM_INDEX ? null : (f.bars[i] as PciBar);
    try {
      if (m.kind === 'pio') {
        this.io.registerPio(m.address, m.size, bar!.pio!, `${f.name} BAR${i}`);
      } else if (m.kind === 'mmio') {
        this.io.registerMmio(m.address, m.size, bar!.mmio!, `${f.name} BAR${i}`);
      } else {
        if (this.overlapsRam(m.address, m.size)) {
          this.log(`PCI ${formatBdf(slot.bdf)}: ${what} overlaps guest RAM; not decoded`);
          return false;
        }
        const offset = i === ROM_INDEX ? slot.romOffset : bar!.backingOffset!;
        this.memory.mapBacking(m.address, offset, m.size, i === ROM_INDEX);
      }
      return true;
    } catch (e) {
      if (!(e instanceof BusError) && !(e instanceof RangeError)) throw e;
      this.log(`PCI ${formatBdf(slot.bdf)}: ${what} not decoded: ${e.message}`);
      return false;
    }
  }

  private unmap(slot: Slot, i: number, m: Mapping): void {
    const f = slot.fn;
    const bar = i === ROM_INDEX ? null : f.bars[i];
    if (m.kind === 'pio') this.io.unregisterPio(m.address, bar!.pio!);
    else if (m.kind === 'mmio') this.io.unregisterMmio(m.address, bar!.mmio!);
    else this.memory.unmapBacking(m.address, m.size);
  }

  /**
   * Drop a slot's decoding before a restore. Ports and MMIO leave the IoBus. A
   * RAM-like BAR or ROM is unmapped only on frames that still show its own backing:
   * the image's frame map, applied before devices, is the truth for memory, so a
   * frame the image gave to something else (or to nothing) is left as it says.
   */
  private release(slot: Slot): void {
    for (let i = 0; i <= ROM_INDEX; i++) {
      const have = slot.mapped[i];
      if (!have) continue;
      slot.mapped[i] = null;
      if (have.kind !== 'backing') {
        this.unmap(slot, i, have);
        continue;
      }
      const offset = i === ROM_INDEX ? slot.romOffset : (slot.fn.bars[i]?.backingOffset ?? -1);
      const first = have.address >>> PAGE_SHIFT;
      const count = have.size >>> PAGE_SHIFT;
      let run = -1;
      for (let k = 0; k <= count; k++) {
        const own = k < count && this.memory.frameOffset[first + k] === offset + k * PAGE_SIZE;
        if (own && run < 0) run = k;
        if (!own && run >= 0) {
          this.memory.unmapBacking(((first + run) << PAGE_SHIFT) >>> 0, (k - run) * PAGE_SIZE);
          run = -1;
        }
      }
    }
  }

  private overlapsRam(address: number, size: number): boolean {
    return address < this.memory.ramBytes && address + size > 0;
  }
}
