// One Intel 8259A programmable interrupt controller (8259A datasheet, order no.
// 231468). The pair in device.ts wires two of them the PC/AT way. This file knows
// nothing about the pair: it resolves priorities, runs the ICW/OCW state machine
// and answers INTA cycles for its own eight lines.

import { copyI8259State, initialI8259State, restoreI8259State, type I8259State } from './state.js';

export class I8259 {
  private s: I8259State = initialI8259State();

  /** `isMaster`: special fully nested mode only means something on the master. */
  constructor(private readonly isMaster: boolean) {}

  get state(): Readonly<I8259State> {
    return this.s;
  }
  save(): I8259State {
    return copyI8259State(this.s);
  }
  restore(state: I8259State): void {
    this.s = restoreI8259State(state);
  }

  get vectorBase(): number {
    return this.s.vectorBase;
  }
  /** Lines that have a slave behind them (master's ICW3), 0 in single mode. */
  get cascadeLines(): number {
    return this.s.single ? 0 : this.s.icw3;
  }

  private isLevel(irq: number): boolean {
    return this.s.levelAll || ((this.s.elcr >> irq) & 1) === 1;
  }

  /**
   * Drive input IRn. Edge lines latch a request on the rising edge only (a line
   * held high asks once; devices pulse). Level lines request while high and
   * withdraw the request when they drop (datasheet: "level triggered mode").
   */
  setInput(irq: number, level: boolean): void {
    const bit = 1 << irq;
    const s = this.s;
    if (level) {
      if (this.isLevel(irq) || !(s.inputs & bit)) s.irr |= bit;
      s.inputs |= bit;
    } else {
      s.inputs &= ~bit;
      if (this.isLevel(irq)) s.irr &= ~bit;
    }
  }

  /** The master's cascade input follows the slave's INT output as a level, edge mode or not. */
  setCascadeInput(irq: number, level: boolean): void {
    const bit = 1 << irq;
    if (level) {
      this.s.irr |= bit;
      this.s.inputs |= bit;
    } else {
      this.s.irr &= ~bit;
      this.s.inputs &= ~bit;
    }
  }

  setElcr(value: number): void {
    this.s.elcr = value & 0xff;
    // Lines that became level-triggered now request exactly while their input is high.
    for (let irq = 0; irq < 8; irq++) {
      const bit = 1 << irq;
      if (this.isLevel(irq)) this.s.irr = (this.s.irr & ~bit) | (this.s.inputs & bit);
    }
  }
  get elcr(): number {
    return this.s.elcr;
  }

  /** Priority rank of IRn: 0 is the highest (datasheet "Priority Resolver", rotation). */
  private rank(irq: number): number {
    return (irq - this.s.priorityBase) & 7;
  }

  private highestOf(mask: number): number {
    for (let i = 0; i < 8; i++) {
      const irq = (this.s.priorityBase + i) & 7;
      if (mask & (1 << irq)) return irq;
    }
    return -1;
  }

  /** The line an INTA would serve now, or -1. Nothing is delivered mid-initialisation. */
  highest(): number {
    const s = this.s;
    if (s.initStep !== 0) return -1;
    const pending = s.irr & ~s.imr;
    if (!pending) return -1;
    if (s.specialMask) {
      // Special mask mode: every unmasked level not in service may interrupt, lower ones too.
      return this.highestOf(pending & ~s.isr);
    }
    const candidate = this.highestOf(pending);
    if (!s.isr) return candidate;
    const inService = this.highestOf(s.isr);
    if (this.rank(candidate) < this.rank(inService)) return candidate;
    // Special fully nested mode: the slave's line may interrupt its own in-service level,
    // so higher-priority slave requests get through (ICW4 bit 4).
    if (this.isMaster && s.specialFullyNested && candidate === inService && this.cascadeLines & (1 << candidate)) {
      return candidate;
    }
    return -1;
  }

  /** INT output pin. */
  output(): boolean {
    return this.highest() >= 0;
  }

  /** INTA (or poll read) for line `irq`: move it from IRR to ISR (or not, with AEOI). */
  accept(irq: number): void {
    const s = this.s;
    const bit = 1 << irq;
    if (!this.isLevel(irq)) s.irr &= ~bit;
    if (s.autoEoi) {
      if (s.rotateOnAutoEoi) s.priorityBase = (irq + 1) & 7;
    } else {
      s.isr |= bit;
    }
  }

  readPort(offset: number): number {
    const s = this.s;
    if (offset & 1) return s.imr;
    if (s.poll) {
      // OCW3 poll: this read is the acknowledge; bit 7 = request, bits 2:0 = its level.
      s.poll = false;
      const irq = this.highest();
      if (irq < 0) return 0;
      this.accept(irq);
      return 0x80 | irq;
    }
    return s.readIsr ? s.isr : s.irr;
  }

  writePort(offset: number, value: number): void {
    value &= 0xff;
    if (offset & 1) this.writeData(value);
    else if (value & 0x10) this.writeIcw1(value);
    else if (value & 0x08) this.writeOcw3(value);
    else this.writeOcw2(value);
  }

  private writeIcw1(value: number): void {
    const s = this.s;
    s.needIcw4 = (value & 0x01) !== 0;
    s.single = (value & 0x02) !== 0;
    s.levelAll = (value & 0x08) !== 0;
    s.initStep = 2;
    // Datasheet, ICW1: IMR cleared, IR7 lowest priority, special mask off, status read
    // = IRR, edge sense reset (a line already high must go low and high again to ask).
    s.imr = 0;
    s.isr = 0;
    s.irr = 0;
    for (let irq = 0; irq < 8; irq++) if (this.isLevel(irq)) s.irr |= s.inputs & (1 << irq);
    s.priorityBase = 0;
    s.specialMask = false;
    s.readIsr = false;
    s.poll = false;
    s.rotateOnAutoEoi = false;
    if (!s.needIcw4) {
      s.autoEoi = false;
      s.specialFullyNested = false;
      s.icw4Raw = 0;
    }
  }

  private writeData(value: number): void {
    const s = this.s;
    switch (s.initStep) {
      case 2: // ICW2: T7-T3 of the vector (8086 mode)
        s.vectorBase = value & 0xf8;
        s.initStep = s.single ? (s.needIcw4 ? 4 : 0) : 3;
        return;
      case 3: // ICW3: slave lines (master) or cascade id (slave)
        s.icw3 = value;
        s.initStep = s.needIcw4 ? 4 : 0;
        return;
      case 4: // ICW4: bit 0 uPM, 1 AEOI, 2 M/S, 3 BUF, 4 SFNM
        s.autoEoi = (value & 0x02) !== 0;
        s.specialFullyNested = (value & 0x10) !== 0;
        s.icw4Raw = value & 0x0d;
        s.initStep = 0;
        return;
      default: // OCW1
        s.imr = value;
    }
  }

  /** OCW2: bits 7:5 = R, SL, EOI; bits 2:0 = level for the specific forms. */
  private writeOcw2(value: number): void {
    const s = this.s;
    const level = value & 7;
    switch (value >> 5) {
      case 0b001: // non-specific EOI
        this.endOfInterrupt(this.highestOf(s.isr), false);
        return;
      case 0b011: // specific EOI
        this.endOfInterrupt(level, false);
        return;
      case 0b101: // rotate on non-specific EOI
        this.endOfInterrupt(this.highestOf(s.isr), true);
        return;
      case 0b111: // rotate on specific EOI
        this.endOfInterrupt(level, true);
        return;
      case 0b100: // rotate in AEOI mode (set)
        s.rotateOnAutoEoi = true;
        return;
      case 0b000: // rotate in AEOI mode (clear)
        s.rotateOnAutoEoi = false;
        return;
      case 0b110: // set priority: `level` becomes the lowest
        s.priorityBase = (level + 1) & 7;
        return;
      default: // 0b010: no operation
        return;
    }
  }

  private endOfInterrupt(irq: number, rotate: boolean): void {
    if (irq < 0) return;
    this.s.isr &= ~(1 << irq);
    if (rotate) this.s.priorityBase = (irq + 1) & 7;
  }

  /** OCW3: bit 6 ESMM, 5 SMM, 2 poll, 1 RR, 0 RIS. */
  private writeOcw3(value: number): void {
    const s = this.s;
    if (value & 0x40) s.specialMask = (value & 0x20) !== 0;
    if (value & 0x04) s.poll = true;
    if (value & 0x02) s.readIsr = (value & 0x01) !== 0;
  }
}
