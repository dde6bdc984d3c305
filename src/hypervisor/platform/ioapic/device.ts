// The IOAPIC at 0xFEC00000 (Intel 82093AA datasheet §3; fact sheet pc-platform §8),
// with Xen's 48 pins so GSIs 16..47 of Xen's _PRT exist. IOREGSEL at +0x00 selects a
// register, IOWIN at +0x10 reads or writes it; version 0x11 has no EOI register, the
// LAPIC's EOI of a level vector comes back through eoi().
//
// Pin inputs are logical levels (Xen's vIOAPIC ignores polarity; the fabric counts
// the sources of a shared pin). Edge RTEs deliver on a 0→1 input; level RTEs deliver
// while the input is high and remote IRR is clear, set remote IRR, and redeliver on
// EOI if the input is still high. Masked edges are lost, as on the 82093AA.

import type { MmioDevice } from '../../../devices/bus/io-bus.js';
import type { AccessSize } from '../../types.js';
import type { IoapicState } from './state.js';

export const IOAPIC_ADDRESS = 0xfec00000;
/** Xen's vIOAPIC decodes 0x100 bytes: IOREGSEL, IOWIN (and EOI for version ≥ 0x20). */
export const IOAPIC_MMIO_LENGTH = 0x100;
export const IOAPIC_PINS = 48;
/** Version 0x11, maximum redirection entry 47 (bits 23:16). */
export const IOAPIC_VERSION = 0x11 | ((IOAPIC_PINS - 1) << 16);

const REG_ID = 0x00;
const REG_VERSION = 0x01;
const REG_ARBITRATION = 0x02;
const REG_RTE_BASE = 0x10;

export const RTE_MASKED = 1 << 16;
export const RTE_LEVEL = 1 << 15;
export const RTE_REMOTE_IRR = 1 << 14;
export const RTE_LOGICAL = 1 << 11;
/** Writable RTE low bits: vector, mode, destination mode, polarity, trigger, mask. */
const RTE_LOW_WRITABLE = 0x1afff;

const ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

/** One interrupt message as an RTE sends it to the LAPICs. */
export interface IoapicMessage {
  pin: number;
  vector: number;
  /** Delivery mode, bits 10:8 (DM_* in lapic/registers). */
  mode: number;
  logical: boolean;
  dest: number;
  level: boolean;
}

export interface IoapicHost {
  /** Send a message to the LAPIC(s) it names. */
  deliver(msg: IoapicMessage): void;
  /** An RTE changed (the fabric re-checks the ExtINT route of pin 0). */
  changed(): void;
}

export class Ioapic implements MmioDevice {
  private id = 0;
  private ioregsel = 0;
  private readonly rteLow = new Uint32Array(IOAPIC_PINS).fill(RTE_MASKED);
  private readonly rteHigh = new Uint32Array(IOAPIC_PINS);
  private readonly inputs = new Uint8Array(IOAPIC_PINS);

  constructor(private readonly host: IoapicHost) {}

  /** RTE `pin` as [low, high] words, for the fabric and diagnostics. */
  rte(pin: number): [number, number] {
    return [this.rteLow[pin] ?? RTE_MASKED, this.rteHigh[pin] ?? 0];
  }

  /** Drive input `pin` (0..47) to a logical level. */
  setPin(pin: number, level: boolean): void {
    if (!Number.isInteger(pin) || pin < 0 || pin >= IOAPIC_PINS) return;
    const was = this.inputs[pin] !== 0;
    this.inputs[pin] = level ? 1 : 0;
    const lo = this.rteLow[pin];
    if (lo & RTE_LEVEL) {
      if (level) this.serviceLevel(pin);
    } else if (level && !was && !(lo & RTE_MASKED)) {
      this.send(pin);
    }
  }

  /** The LAPIC finished a level-triggered `vector`: clear remote IRR, redeliver if still asserted. */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.rteLow[pin];
      if ((lo & 0xff) !== (vector & 0xff) || !(lo & RTE_REMOTE_IRR)) continue;
      this.rteLow[pin] = lo & ~RTE_REMOTE_IRR;
      this.serviceLevel(pin);
    }
  }

  private serviceLevel(pin: number): void {
    const lo = this.rteLow[pin];
    if (!this.inputs[pin] || lo & (RTE_MASKED | RTE_REMOTE_IRR) || !(lo & RTE_LEVEL)) return;
    this.rteLow[pin] = lo | RTE_REMOTE_IRR;
    this.send(pin);
  }

  private send(pin: number): void {
    const lo = this.rteLow[pin];
    this.host.deliver({
      pin,
      vector: lo & 0xff,
      mode: lo & 0x700,
      logical: (lo & RTE_LOGICAL) !== 0,
      dest: this.rteHigh[pin] >>> 24,
      level: (lo & RTE_LEVEL) !== 0,
    });
  }

  // ---- registers -------------------------------------------------------------

  private readRegister(reg: number): number {
    if (reg === REG_ID || reg === REG_ARBITRATION) return this.id;
    if (reg === REG_VERSION) return IOAPIC_VERSION;
    const pin = (reg - REG_RTE_BASE) >> 1;
    if (reg >= REG_RTE_BASE && pin < IOAPIC_PINS) return (reg & 1 ? this.rteHigh[pin] : this.rteLow[pin]) >>> 0;
    return 0;
  }

  private writeRegister(reg: number, value: number): void {
    if (reg === REG_ID) {
      this.id = value & 0x0f000000;
      return;
    }
    const pin = (reg - REG_RTE_BASE) >> 1;
    if (reg < REG_RTE_BASE || pin >= IOAPIC_PINS) return; // version, arbitration: read-only
    if (reg & 1) {
      this.rteHigh[pin] = value & 0xff000000;
      this.host.changed();
      return;
    }
    const old = this.rteLow[pin];
    let lo = (value & RTE_LOW_WRITABLE) | (old & RTE_REMOTE_IRR);
    // Remote IRR means nothing for an edge RTE (fact sheet §8, Xen vioapic.c).
    if (!(lo & RTE_LEVEL)) lo &= ~RTE_REMOTE_IRR;
    this.rteLow[pin] = lo >>> 0;
    this.host.changed();
    // An unmasked level RTE whose input is high delivers now.
    this.serviceLevel(pin);
  }

  // ---- MMIO --------------------------------------------------------------------

  mmioRead(offset: number, size: AccessSize): number {
    const within = offset & 3;
    let value: number;
    if ((offset & ~3) === 0x00) value = this.ioregsel;
    else if ((offset & ~3) === 0x10) value = this.readRegister(this.ioregsel);
    else return 0;
    return within + size > 4 ? 0 : ((value >>> (within * 8)) & ONES[size]) >>> 0;
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    const within = offset & 3;
    if (within + size > 4) return;
    if ((offset & ~3) === 0x00) {
      if (within === 0) this.ioregsel = value & 0xff;
      return;
    }
    if ((offset & ~3) !== 0x10) return;
    if (size !== 4) {
      const shift = within * 8;
      const mask = (ONES[size] << shift) >>> 0;
      value = (this.readRegister(this.ioregsel) & ~mask) | ((value << shift) & mask);
    }
    this.writeRegister(this.ioregsel, value >>> 0);
  }

  // ---- save/restore --------------------------------------------------------------

  save(): IoapicState {
    return { version: 1, id: this.id, ioregsel: this.ioregsel, rteLow: Array.from(this.rteLow), rteHigh: Array.from(this.rteHigh) };
  }

  restore(s: IoapicState): void {
    const u = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) ? n >>> 0 : 0);
    this.id = u(s.id) & 0x0f000000;
    this.ioregsel = u(s.ioregsel) & 0xff;
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      this.rteLow[pin] = Array.isArray(s.rteLow) ? u(s.rteLow[pin]) & (RTE_LOW_WRITABLE | RTE_REMOTE_IRR) : RTE_MASKED;
      this.rteHigh[pin] = Array.isArray(s.rteHigh) ? u(s.rteHigh[pin]) & 0xff000000 : 0;
    }
    this.host.changed();
  }
}
