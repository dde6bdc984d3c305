// The PC/AT pair of 8259As: master at 0x20-0x21, slave at 0xA0-0xA1, the slave's
// INT output on master IR2 (fact sheet pc-platform §8; 8259A datasheet "Cascade
// Mode"). The vCPU's INTR pin is `setIntr`; the CPU's INTA cycle is acknowledge().
//
// Modelling choices:
// - ISA devices pulse edge lines, so an edge request stays latched in IRR after the
//   line drops (a real 8259A would want the line held until INTA); level lines
//   (ICW1 LTIM or ELCR) withdraw their request when they drop.
// - The cascade input follows the slave's output as a level: a slave request that
//   is masked or withdrawn disappears from the master too, so no spurious IRQ is
//   raised for it. acknowledge() still answers IR7/IR15 (with no ISR bit) when the
//   CPU acknowledges after the request vanished, as the hardware does.
// - The PC/AT bus pin IRQ2 is wired to slave IR1, so line(2) drives IRQ9.

import type { PioDevice } from '../../../devices/bus/io-bus.js';
import type { IrqLine } from '../../../devices/bus/irq.js';
import type { AccessSize } from '../../types.js';
import { I8259 } from './i8259.js';
import type { PicState } from './state.js';

const CASCADE_IRQ = 2;
/** PIIX ELCR: IRQ 0, 1, 2, 8 and 13 are always edge (reserved bits read 0). */
const ELCR_MASK = 0xdef8;

class PicPorts implements PioDevice {
  constructor(private readonly pair: PicPair, private readonly chip: I8259) {}
  pioRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.pair.readChip(this.chip, (offset + i) & 1) << (8 * i);
    return v >>> 0;
  }
  pioWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.pair.writeChip(this.chip, (offset + i) & 1, (value >>> (8 * i)) & 0xff);
  }
}

export class PicPair {
  private readonly masterChip = new I8259(true);
  private readonly slaveChip = new I8259(false);
  private readonly lines: IrqLine[] = [];
  private intr = false;

  /** Register at 0x20 (length 2). */
  readonly master: PioDevice;
  /** Register at 0xA0 (length 2). */
  readonly slave: PioDevice;

  constructor(private readonly setIntr: (level: boolean) => void) {
    this.master = new PicPorts(this, this.masterChip);
    this.slave = new PicPorts(this, this.slaveChip);
    for (let irq = 0; irq < 16; irq++) {
      const input = irq === CASCADE_IRQ ? 9 : irq;
      this.lines.push({ set: (level: boolean) => this.setInput(input, level) });
    }
  }

  /** The ISA interrupt line `irq` (0..15). */
  line(irq: number): IrqLine {
    const l = this.lines[irq];
    if (!Number.isInteger(irq) || !l) throw new RangeError(`8259: no IRQ line ${irq}`);
    return l;
  }

  /** PIIX3 ELCR (0x4D0 low byte = IRQ0-7, 0x4D1 = IRQ8-15): 1 = level-triggered. */
  set elcr(value: number) {
    this.masterChip.setElcr(value & ELCR_MASK & 0xff);
    this.slaveChip.setElcr((value & ELCR_MASK) >>> 8);
    this.update();
  }
  get elcr(): number {
    return this.masterChip.elcr | (this.slaveChip.elcr << 8);
  }

  /** Current level of the INTR pin. */
  get intrLevel(): boolean {
    return this.intr;
  }

  /**
   * The INTA cycle: returns the vector and moves the request into service. With no
   * request left (it was masked or withdrawn after INTR rose), the chip answers its
   * IR7 vector and sets no ISR bit — Linux's "spurious 8259A interrupt".
   */
  acknowledge(): number {
    const m = this.masterChip;
    const irq = m.highest();
    let vector: number;
    if (irq < 0) {
      vector = m.vectorBase | 7;
    } else {
      m.accept(irq);
      if (m.cascadeLines & (1 << irq)) {
        const s = this.slaveChip;
        const sirq = s.highest();
        if (sirq < 0) {
          vector = s.vectorBase | 7;
        } else {
          s.accept(sirq);
          vector = s.vectorBase | sirq;
        }
      } else {
        vector = m.vectorBase | irq;
      }
    }
    this.update();
    return vector;
  }

  readChip(chip: I8259, offset: number): number {
    const v = chip.readPort(offset);
    // A poll read is an acknowledge: outputs may change.
    this.update();
    return v;
  }

  writeChip(chip: I8259, offset: number, value: number): void {
    chip.writePort(offset, value);
    this.update();
  }

  private setInput(irq: number, level: boolean): void {
    if (irq < 8) this.masterChip.setInput(irq, level);
    else this.slaveChip.setInput(irq - 8, level);
    this.update();
  }

  /** Propagate slave INT to master IR2 and master INT to the vCPU. */
  private update(): void {
    this.masterChip.setCascadeInput(CASCADE_IRQ, this.slaveChip.output());
    const level = this.masterChip.output();
    if (level !== this.intr) {
      this.intr = level;
      this.setIntr(level);
    }
  }

  save(): PicState {
    return { version: 1, master: this.masterChip.save(), slave: this.slaveChip.save() };
  }

  restore(state: PicState): void {
    this.masterChip.restore(state.master);
    this.slaveChip.restore(state.slave);
    this.masterChip.setElcr(this.masterChip.elcr & ELCR_MASK);
    this.slaveChip.setElcr(this.slaveChip.elcr & (ELCR_MASK >>> 8));
    this.masterChip.setCascadeInput(CASCADE_IRQ, this.slaveChip.output());
    this.intr = this.masterChip.output();
    this.setIntr(this.intr);
  }
}
