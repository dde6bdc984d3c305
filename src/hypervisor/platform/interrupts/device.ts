// The PC interrupt fabric the Domain wires instead of a bare 8259 pair: ISA lines
// feed the 8259s and (in APIC mode) the IOAPIC, PCI GSIs feed the IOAPIC, the IOAPIC
// and IPIs reach the LAPIC, and the vCPU's INTR pin is the OR of "the LAPIC has a
// vector above its PPR" and "the 8259 has INT and reaches this CPU" (fact sheet
// pc-platform §2.5 and §8; Xen hvm/irq.c, vlapic_accept_pic_intr).
//
// The 8259 reaches the CPU when the LAPIC is hardware-disabled (a PC without an
// APIC), when LVT0 is unmasked ExtINT ("virtual wire A"), or when IOAPIC RTE0 is
// unmasked ExtINT to this software-enabled LAPIC ("virtual wire B", as hvmloader
// leaves it). INTA asks the 8259 first in that case, as Xen does.
//
// With `apic: false` there is no LAPIC or IOAPIC and INTR is the 8259's INT: the
// same wiring as a PicPair connected straight to the CPU.
//
// Every isaLine()/gsiLine() call makes a new source with its own level (wired-OR
// on the pin), so a caller must keep the line it got: calling isaLine(n).set(false)
// on a fresh line does not lower an earlier one.
//
// Domain wiring: construct with { apic, setIntr: (l) => vcpu.setIrqLine(l) };
// register(bus) instead of the PIC ports; acknowledgeInterrupt = acknowledge();
// update() and nextDeadlineNs() beside the PIT's; MSR 0x1B through apicBaseMsr.

import type { IoBus, PioDevice } from '../../../devices/bus/io-bus.js';
import type { IrqLine } from '../../../devices/bus/irq.js';
import type { Clock } from '../../clock.js';
import type { AccessSize } from '../../types.js';
import { PicPair } from '../pic/device.js';
import type { PicState } from '../pic/state.js';
import { Ioapic, IOAPIC_ADDRESS, IOAPIC_MMIO_LENGTH, IOAPIC_PINS, RTE_LOGICAL, RTE_MASKED, type IoapicMessage } from '../ioapic/device.js';
import type { IoapicState } from '../ioapic/state.js';
import { Lapic, type Ipi } from '../lapic/device.js';
import { DM_EXTINT, DM_FIXED, DM_LOWEST, DM_MASK, DM_NMI, LAPIC_ADDRESS, LAPIC_MMIO_LENGTH, LVT_MASKED, SHORTHAND_ALL, SHORTHAND_OTHERS, SHORTHAND_SELF } from '../lapic/registers.js';
import type { LapicState } from '../lapic/state.js';
import { SharedPins, sourceLine } from './lines.js';

export interface PlatformInterruptOptions {
  /** A LAPIC per vCPU and an IOAPIC exist (Xen apic=1). */
  apic: boolean;
  /** The vCPU's INTR pin. */
  setIntr(level: boolean): void;
  /** vCPUs, each with a LAPIC (ID = 2 × index). Default 1. */
  vcpus?: number;
}

/** MSR 0x1B as the Domain answers it for the vCPU. */
export interface ApicBaseMsr {
  read(): bigint;
  /** False: the value is invalid, inject #GP. */
  write(value: bigint): boolean;
}

export interface PlatformInterruptsState {
  version: 1;
  pic: PicState;
  ioapic: IoapicState | null;
  lapics: LapicState[];
}

/** ISA IRQ n is IOAPIC GSI n, except the timer: IRQ0 → GSI 2 (MADT override, Xen hvm_isa_irq_to_gsi). */
export function isaIrqToGsi(irq: number): number {
  return irq === 0 ? 2 : irq;
}

/** PIIX3 ELCR at 0x4D0/0x4D1, one byte per 8259. */
class ElcrPorts implements PioDevice {
  constructor(private readonly pic: PicPair) {}
  pioRead(offset: number, size: AccessSize): number {
    return (this.pic.elcr >>> (8 * offset)) & (size === 1 ? 0xff : 0xffff);
  }
  pioWrite(offset: number, size: AccessSize, value: number): void {
    let elcr = this.pic.elcr;
    for (let i = 0; i < size && offset + i < 2; i++) {
      const shift = 8 * (offset + i);
      elcr = (elcr & ~(0xff << shift)) | (((value >>> (8 * i)) & 0xff) << shift);
    }
    this.pic.elcr = elcr;
  }
}

export class PlatformInterrupts {
  readonly pic: PicPair;
  readonly ioapic: Ioapic | null = null;
  /** vCPU 0's LAPIC. */
  readonly lapic: Lapic | null = null;
  readonly lapics: readonly Lapic[] = [];
  /** vCPU 0's IA32_APIC_BASE, or null without an APIC (then MSR 0x1B is #GP). */
  readonly apicBaseMsr: ApicBaseMsr | null = null;

  private readonly setIntr: (level: boolean) => void;
  private picInt = false;
  private intr = false;
  private readonly isaPins: SharedPins;
  private readonly gsiPins: SharedPins;

  constructor(clock: Clock, opts: PlatformInterruptOptions) {
    this.setIntr = opts.setIntr;
    this.pic = new PicPair((level) => {
      this.picInt = level;
      this.refresh();
    });
    this.isaPins = new SharedPins(16, (irq, level) => this.pic.line(irq).set(level));
    this.gsiPins = new SharedPins(IOAPIC_PINS, (gsi, level) => this.ioapic?.setPin(gsi, level));
    if (!opts.apic) return;

    const vcpus = opts.vcpus ?? 1;
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 128) throw new RangeError(`interrupts: ${vcpus} vCPUs is not 1..128`);
    const lapicHost = {
      changed: () => this.refresh(),
      levelEoi: (vector: number) => this.ioapic?.eoi(vector),
      sendIpi: (from: Lapic, ipi: Ipi) => this.sendIpi(from, ipi),
    };
    const lapics: Lapic[] = [];
    for (let i = 0; i < vcpus; i++) lapics.push(new Lapic(clock, i, lapicHost));
    this.lapics = lapics;
    this.lapic = lapics[0];
    const bsp = lapics[0];
    this.apicBaseMsr = { read: () => bsp.readApicBase(), write: (v) => bsp.writeApicBase(v) };
    this.ioapic = new Ioapic({
      deliver: (msg) => this.deliverMessage(msg),
      changed: () => this.refresh(),
    });
  }

  /** ISA IRQ `irq` (0..15): a new source on the 8259 input and on IOAPIC GSI isaIrqToGsi(irq). */
  isaLine(irq: number): IrqLine {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) throw new RangeError(`interrupts: no ISA IRQ ${irq}`);
    const gsi = isaIrqToGsi(irq);
    return sourceLine((asserted) => {
      this.isaPins.change(irq, asserted);
      this.gsiPins.change(gsi, asserted);
    });
  }

  /** IOAPIC pin `gsi` (0..47) only, e.g. a PCI INTx GSI 16..47: a new source. Without an IOAPIC it goes nowhere. */
  gsiLine(gsi: number): IrqLine {
    if (!Number.isInteger(gsi) || gsi < 0 || gsi >= IOAPIC_PINS) throw new RangeError(`interrupts: no GSI ${gsi}`);
    return sourceLine((asserted) => this.gsiPins.change(gsi, asserted));
  }

  /** Register the 8259s, ELCR and (APIC mode) the LAPIC and IOAPIC MMIO windows. */
  register(bus: IoBus): void {
    bus.registerPio(0x20, 2, this.pic.master, 'pic-master');
    bus.registerPio(0xa0, 2, this.pic.slave, 'pic-slave');
    bus.registerPio(0x4d0, 2, new ElcrPorts(this.pic), 'elcr');
    // One vCPU: its LAPIC answers the shared 0xFEE00000 page. SMP needs per-vCPU dispatch.
    if (this.lapic) bus.registerMmio(LAPIC_ADDRESS, LAPIC_MMIO_LENGTH, this.lapic, 'lapic');
    if (this.ioapic) bus.registerMmio(IOAPIC_ADDRESS, IOAPIC_MMIO_LENGTH, this.ioapic, 'ioapic');
  }

  /**
   * The vCPU's INTA cycle: the 8259's vector when it reaches the CPU and has INT,
   * else the LAPIC's highest deliverable vector; -1 when nothing is pending.
   */
  acknowledge(): number {
    let vector = -1;
    if (this.picInt && this.picReachesCpu()) vector = this.pic.acknowledge();
    else if (this.lapic && this.lapic.pendingVector() >= 0) vector = this.lapic.acknowledge();
    this.refresh();
    return vector;
  }

  /** Domain time of the next LAPIC timer expiry. */
  nextDeadlineNs(): number {
    let t = Infinity;
    for (const l of this.lapics) t = Math.min(t, l.nextDeadlineNs());
    return t;
  }

  /** Deliver LAPIC timer expiries that are due. */
  update(): void {
    for (const l of this.lapics) l.update();
  }

  /** Current level of the vCPU's INTR pin. */
  get intrLevel(): boolean {
    return this.intr;
  }

  /** Does the 8259's INT reach vCPU 0 (Xen vlapic_accept_pic_intr + vioapic ExtINT)? */
  picReachesCpu(): boolean {
    const lapic = this.lapic;
    if (!lapic || !lapic.hardwareEnabled) return true;
    if ((lapic.lint0 & (LVT_MASKED | DM_MASK)) === DM_EXTINT) return true;
    const [lo, hi] = this.ioapic!.rte(0);
    return (lo & (RTE_MASKED | DM_MASK)) === DM_EXTINT && lapic.softwareEnabled && lapic.matches((lo & RTE_LOGICAL) !== 0, hi >>> 24);
  }

  private refresh(): void {
    const level = (this.picInt && this.picReachesCpu()) || (this.lapic !== null && this.lapic.pendingVector() >= 0);
    if (level === this.intr) return;
    this.intr = level;
    this.setIntr(level);
  }

  /** The LAPICs a physical/logical destination names (SDM §10.6.2). */
  private targets(logical: boolean, dest: number): Lapic[] {
    return this.lapics.filter((l) => l.matches(logical, dest));
  }

  /** Lowest priority: the target with the lowest arbitration priority (SDM §10.6.2.4). */
  private lowest(targets: Lapic[]): Lapic | undefined {
    let best: Lapic | undefined;
    for (const l of targets) if (l.hardwareEnabled && (!best || l.apr < best.apr)) best = l;
    return best;
  }

  private deliverMessage(msg: IoapicMessage): void {
    const targets = this.targets(msg.logical, msg.dest);
    switch (msg.mode) {
      case DM_FIXED:
        for (const l of targets) l.accept(msg.vector, msg.level);
        return;
      case DM_LOWEST:
        this.lowest(targets)?.accept(msg.vector, msg.level);
        return;
      case DM_NMI:
        for (const l of targets) l.acceptNmi();
        return;
      case DM_EXTINT:
        // Pin 0's ExtINT is a route for the 8259's INT (picReachesCpu), not a message.
        this.refresh();
        return;
    }
    // SMI, INIT, STARTUP from an RTE: nothing models them.
  }

  private sendIpi(from: Lapic, ipi: Ipi): void {
    let targets: Lapic[];
    switch (ipi.shorthand) {
      case SHORTHAND_SELF:
        targets = [from];
        break;
      case SHORTHAND_ALL:
        targets = this.lapics.slice();
        break;
      case SHORTHAND_OTHERS:
        targets = this.lapics.filter((l) => l !== from);
        break;
      default:
        targets = this.targets(ipi.logical, ipi.dest);
    }
    switch (ipi.mode) {
      case DM_FIXED:
        for (const l of targets) l.accept(ipi.vector, false);
        return;
      case DM_LOWEST: {
        const l = ipi.shorthand === SHORTHAND_SELF ? from : this.lowest(targets);
        l?.accept(ipi.vector, false);
        return;
      }
      case DM_NMI:
        for (const l of targets) l.acceptNmi();
        return;
    }
    // INIT and STARTUP start application processors; there are none yet (one vCPU),
    // so they are ignored like those to absent CPUs. SMI is not modelled.
  }

  save(): PlatformInterruptsState {
    return { version: 1, pic: this.pic.save(), ioapic: this.ioapic?.save() ?? null, lapics: this.lapics.map((l) => l.save()) };
  }

  restore(s: PlatformInterruptsState): void {
    this.pic.restore(s.pic);
    if (this.ioapic && s.ioapic) this.ioapic.restore(s.ioapic);
    this.lapics.forEach((l, i) => {
      const ls = Array.isArray(s.lapics) ? s.lapics[i] : undefined;
      if (ls) l.restore(ls);
    });
    this.refresh();
  }
}
