// 00:01.3, PIIX4-style ACPI power management (82371AB datasheet §3.4, §7; ACPI 6.x
// §4.8 fixed hardware; pc-platform §2.2): PM1a event/control blocks, the 32-bit PM
// timer (FADT TMR_VAL_EXT, as Xen), GPE0, the SCI on ISA IRQ 9, the power button, and
// S5: writing SLP_EN with SLP_TYP 0 (our DSDT's \_S5) powers the domain off.
//
// The PM I/O block appears at PMBA (config 0x40) once PMREGMISC bit 0 (config 0x80)
// enables it, as hvmloader programs it (0xB000). APM control at 0xB2 toggles SCI_EN
// (QEMU-style ACPI enable/disable), GPE0 sits at a fixed 0xAFE0 as on Xen.

import type { IoBus, PioDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import type { Clock } from '../../hypervisor/clock.js';
import type { AccessSize } from '../../hypervisor/types.js';
import { PciFunction } from '../pci/pci-function.js';
import { parsePiix4PmState, type Piix4PmState } from './piix4-pm-state.js';

export const PM_TIMER_HZ = 3_579_545;
/** Default PM I/O base hvmloader assigns (Xen's ACPI_PM1A_EVT_BLK_ADDRESS_V1). */
export const PM_IO_BASE = 0xb000;
export const GPE0_BASE = 0xafe0;
const PM_IO_SIZE = 64;
const PMBA = 0x40;
const PMREGMISC = 0x80;

// PM1 status/enable bits (ACPI 6.x Table 4.11/4.12).
export const PM1_TMR = 1 << 0;
export const PM1_GBL = 1 << 5;
export const PM1_PWRBTN = 1 << 8;
export const PM1_SLPBTN = 1 << 9;
export const PM1_RTC = 1 << 10;
export const PM1_WAK = 1 << 15;
const PM1_STS_BITS = PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC | PM1_WAK;
const PM1_SCI_SOURCES = PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC;
// PM1 control bits (ACPI 6.x Table 4.13).
export const PM1_SCI_EN = 1 << 0;
const PM1_SLP_EN = 1 << 13;
const PM1_CNT_WRITABLE = 0x1c07; // SCI_EN, BM_RLD, GBL_RLS, SLP_TYP

export interface PmEvents {
  /** SLP_EN with the S5 type: the guest powered itself off. */
  powerOff(): void;
  log(message: string): void;
}

export class Piix4Pm extends PciFunction {
  private sts = 0;
  private en = 0;
  private cnt = 0;
  private gpeSts = 0;
  private gpeEn = 0;
  private apmStatus = 0;
  /** Half-periods of the timer's bit 31 seen so far: a change sets TMR_STS. */
  private timerEpoch = 0;
  private mappedBase = -1;
  private sciLevel = false;
  private readonly pmIo: PioDevice = {
    pioRead: (offset: number, size: AccessSize) => this.pmRead(offset, size),
    pioWrite: (offset: number, size: AccessSize, value: number) => this.pmWrite(offset, size, value),
  };

  constructor(
    private readonly io: IoBus,
    private readonly clock: Clock,
    private readonly sci: IrqLine,
    private readonly events: PmEvents,
  ) {
    super('piix4-pm', { vendorId: 0x8086, deviceId: 0x7113, classCode: 0x068000, revision: 0x03, interruptPin: 0 });
    this.set32(PMBA, 1); // bit 0: I/O space indicator
    this.setMask32(PMBA, 0x0000ffc0);
    for (let o = 0x44; o < 0x80; o++) this.writeMask[o] = 0xff; // CNTA..DEVRESJ: stored
    this.writeMask[PMREGMISC] = 0x01;
    this.writeMask[0xd2] = 0x0f; // SMBHSTCFG stored; SMBBA (0x90) reads 0: no SMBus
    this.timerEpoch = this.timerHalfPeriods();
    // GPE0 block and APM control are fixed ports (not behind PMBA).
    io.registerPio(GPE0_BASE, 4, { pioRead: (o, s) => this.gpeRead(o, s), pioWrite: (o, s, v) => this.gpeWrite(o, s, v) }, 'acpi-gpe0');
    io.registerPio(0xb2, 2, { pioRead: (o, s) => this.apmRead(o, s), pioWrite: (o, s, v) => this.apmWrite(o, s, v) }, 'apm-control');
  }

  /** The host pressed the power button (xl trigger power): PWRBTN_STS, SCI if enabled. */
  pressPowerButton(): void {
    this.sts |= PM1_PWRBTN;
    this.updateSci();
  }

  /** Whether the guest has ACPI mode on (SCI_EN). */
  get acpiEnabled(): boolean {
    return (this.cnt & PM1_SCI_EN) !== 0;
  }

  /** hvmloader's acpi_enable_sci: firmware leaves the chipset in ACPI mode. */
  enableAcpiMode(): void {
    this.cnt |= PM1_SCI_EN;
    this.updateSci();
  }

  /** PM timer value: 3.579545 MHz from guest time, 32 bits. */
  timerValue(): number {
    return Math.floor(this.clock.nowNs() * (PM_TIMER_HZ / 1e9)) >>> 0;
  }

  /** Guest time (ns) at which the timer's bit 31 next flips, if that raises an SCI; else Infinity. */
  nextDeadlineNs(): number {
    if ((this.en & PM1_TMR) === 0 || (this.cnt & PM1_SCI_EN) === 0) return Infinity;
    return Math.ceil(((this.timerHalfPeriods() + 1) * 2 ** 31 * 1e9) / PM_TIMER_HZ);
  }

  /** Poll timers (called by the domain loop like the PIT's update). */
  update(): void {
    const epoch = this.timerHalfPeriods();
    if (epoch !== this.timerEpoch) {
      this.timerEpoch = epoch;
      this.sts |= PM1_TMR;
      this.updateSci();
    }
  }

  /** PM1/GPE0/APM registers and the timer's epoch; PMBA and PMREGMISC are in the PCI record. */
  save(): Piix4PmState {
    return { version: 1, pm1Status: this.sts, pm1Enable: this.en, pm1Control: this.cnt, gpe0Status: this.gpeSts, gpe0Enable: this.gpeEn, apmStatus: this.apmStatus, timerEpoch: this.timerEpoch };
  }

  /** Load a saved record (validated whole first), then drive the SCI to the level it implies. */
  restore(raw: unknown): void {
    const s = parsePiix4PmState(raw, { status: PM1_STS_BITS, enable: PM1_SCI_SOURCES, control: PM1_CNT_WRITABLE }, this.timerHalfPeriods());
    this.sts = s.pm1Status;
    this.en = s.pm1Enable;
    this.cnt = s.pm1Control;
    this.gpeSts = s.gpe0Status;
    this.gpeEn = s.gpe0Enable;
    this.apmStatus = s.apmStatus;
    this.timerEpoch = s.timerEpoch;
    this.updateSci();
  }

  protected override configWritten(offset: number, size: number): void {
    if (offset < PMBA + 4 && offset + size > PMBA) this.remapPmIo();
    if (offset <= PMREGMISC && offset + size > PMREGMISC) this.remapPmIo();
  }

  private timerHalfPeriods(): number {
    return Math.floor((this.clock.nowNs() * (PM_TIMER_HZ / 1e9)) / 2 ** 31);
  }

  private remapPmIo(): void {
    const base = (this.config[PMREGMISC] & 1) !== 0 ? this.get32(PMBA) & 0xffc0 : 0;
    const want = base === 0 ? -1 : base;
    if (want === this.mappedBase) return;
    if (this.mappedBase >= 0) this.io.unregisterPio(this.mappedBase, this.pmIo);
    this.mappedBase = -1;
    if (want < 0) return;
    try {
      this.io.registerPio(want, PM_IO_SIZE, this.pmIo, 'acpi-pm');
      this.mappedBase = want;
    } catch (e) {
      this.events.log(`piix4-pm: PM I/O at 0x${want.toString(16)} not decoded: ${(e as Error).message}`);
    }
  }

  private pmRead(offset: number, size: AccessSize): number {
    this.update();
    let v = 0;
    if (offset >= 8 && offset < 12) {
      v = this.timerValue();
      return size === 4 && offset === 8 ? v : (v >>> (8 * (offset - 8))) & (size === 1 ? 0xff : 0xffff);
    }
    const regs = [this.sts & 0xff, this.sts >>> 8, this.en & 0xff, this.en >>> 8, this.cnt & 0xff, this.cnt >>> 8, 0, 0];
    for (let i = 0; i < size; i++) v |= (regs[offset + i] ?? 0) << (8 * i);
    return v >>> 0;
  }

  private pmWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (o === 0 || o === 1) this.sts &= ~((b << (8 * o)) & PM1_STS_BITS); // write 1 to clear
      else if (o === 2 || o === 3) this.en = ((this.en & ~(0xff << (8 * (o - 2)))) | (b << (8 * (o - 2)))) & PM1_SCI_SOURCES;
    }
    // PM1a_CNT is acted on as a whole register: SLP_EN and SLP_TYP travel in one write.
    if (offset <= 5 && offset + size > 4) {
      let cnt = this.cnt;
      for (let i = 0; i < size; i++) {
        const o = offset + i;
        if (o === 4 || o === 5) cnt = (cnt & ~(0xff << (8 * (o - 4)))) | (((value >>> (8 * i)) & 0xff) << (8 * (o - 4)));
      }
      this.cnt = cnt & PM1_CNT_WRITABLE;
      if (cnt & PM1_SLP_EN) this.sleep((cnt >>> 10) & 7);
    }
    this.updateSci();
  }

  private sleep(type: number): void {
    if (type === 0) {
      this.events.powerOff();
      return;
    }
    // Only \_S5 is published in the DSDT; other sleep states are not offered.
    this.events.log(`piix4-pm: guest asked for sleep type ${type}, which is not offered; ignored`);
  }

  private gpeRead(offset: number, size: AccessSize): number {
    const regs = [this.gpeSts & 0xff, this.gpeSts >>> 8, this.gpeEn & 0xff, this.gpeEn >>> 8];
    let v = 0;
    for (let i = 0; i < size; i++) v |= (regs[offset + i] ?? 0) << (8 * i);
    return v >>> 0;
  }

  private gpeWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const b = (value >>> (8 * i)) & 0xff;
      if (o < 2) this.gpeSts &= ~(b << (8 * o));
      else if (o < 4) this.gpeEn = (this.gpeEn & ~(0xff << (8 * (o - 2)))) | (b << (8 * (o - 2)));
    }
    this.updateSci();
  }

  private apmRead(offset: number, _size: AccessSize): number {
    return offset === 1 ? this.apmStatus : 0;
  }

  private apmWrite(offset: number, size: AccessSize, value: number): void {
    if (offset === 1) {
      this.apmStatus = value & 0xff;
      return;
    }
    // APMC: the QEMU/Xen convention, 0xF1 enables ACPI mode (SCI_EN), 0xF0 disables it.
    const cmd = value & 0xff;
    if (cmd === 0xf1) this.cnt |= PM1_SCI_EN;
    else if (cmd === 0xf0) this.cnt &= ~PM1_SCI_EN;
    if (size > 1) this.apmStatus = (value >>> 8) & 0xff;
    this.updateSci();
  }

  private updateSci(): void {
    const level = (this.cnt & PM1_SCI_EN) !== 0 && ((this.sts & this.en & PM1_SCI_SOURCES) !== 0 || (this.gpeSts & this.gpeEn) !== 0);
    if (level !== this.sciLevel) {
      this.sciLevel = level;
      this.sci.set(level);
    }
  }
}
