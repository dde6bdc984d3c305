// One IDE channel (ATA/ATAPI-6 §7; pc-platform §6.1-6.2): the command block at
// 0x1F0-0x1F7 / 0x170-0x177 and the control block port 0x3F6 / 0x376 (0x3F7 is the
// floppy controller's), a master and a slave that both latch register writes while
// only the DEV-selected one answers, SRST, nIEN, and INTRQ on ISA IRQ 14 / 15.
//
// INTRQ is a level the selected device drives while nIEN is clear; the PIC sees the
// rising edge, and reading the status register drops it (ATA-6 §5.2.9).
//
// Absent devices (§6.2, QEMU's behaviour that SeaBIOS and libata expect): on an empty
// channel every register reads 0; an absent slave beside a master latches the task
// file like a real device would, reads status 0 and ignores commands.

import type { AccessSize } from '../../hypervisor/types.js';
import type { PioDevice } from '../bus/io-bus.js';
import { NO_IRQ, type IrqLine } from '../bus/irq.js';
import {
  CMD,
  DC_HOB,
  DC_NIEN,
  DC_SRST,
  DEV_SLAVE,
  REG_COUNT,
  REG_DATA,
  REG_DEVICE,
  REG_ERROR_FEATURES,
  REG_LBA_HIGH,
  REG_LBA_LOW,
  REG_LBA_MID,
  REG_STATUS_COMMAND,
  ST_BSY,
} from './ata-registers.js';
import { intrqAsserted, type IdeDrive } from './ide-drive.js';
import { TaskFile } from './task-file.js';
import { int, restoreTaskFile, saveTaskFile, type ChannelState, type DriveState } from './state.js';
import { AtaDisk } from './ata-disk.js';
import { AtapiCdrom } from './atapi-cdrom.js';

export class IdeChannel {
  /** Master (0) and slave (1); null = no device at that position. */
  readonly drives: [IdeDrive | null, IdeDrive | null];
  /** Per position: the drive's task file, or the latches of an absent slave. */
  private readonly latches: [TaskFile, TaskFile];
  private selected = 0;
  private deviceControl = 0;
  private lineLevel = false;
  /** Told whenever a device asserts INTRQ (the bus master's interrupt bit, SFF-8038i §3.1.2). */
  onInterrupt: () => void = () => {};
  /** Told when the selected device has a DMA command waiting for the bus master. */
  onDmaReady: () => void = () => {};

  /** The command block (8 ports). */
  readonly commandBlock: PioDevice = {
    pioRead: (offset: number, size: AccessSize) => this.readCommandBlock(offset, size),
    pioWrite: (offset: number, size: AccessSize, value: number) => this.writeCommandBlock(offset, size, value),
  };
  /** The control block (1 port): alternate status / device control. */
  readonly controlBlock: PioDevice = {
    pioRead: (offset: number) => (offset === 0 ? this.alternateStatus() : 0xff),
    pioWrite: (offset: number, _size: AccessSize, value: number) => {
      if (offset === 0) this.writeDeviceControl(value & 0xff);
    },
  };

  constructor(
    master: IdeDrive | null,
    slave: IdeDrive | null,
    private readonly irq: IrqLine = NO_IRQ,
  ) {
    this.drives = [master, slave];
    this.latches = [master?.tf ?? new TaskFile(), slave?.tf ?? new TaskFile()];
    for (const d of this.drives) {
      if (!d) continue;
      d.host = {
        interrupt: () => this.driveInterrupt(d),
        dmaReady: () => {
          if (d === this.selectedDrive) this.onDmaReady();
        },
      };
    }
  }

  /**
   * Detach the drive at `index` (0 master, 1 slave): the Xen unplug protocol takes
   * emulated disks away once PV drivers own them. The position then reads as absent.
   */
  detach(index: 0 | 1): void {
    const d = this.drives[index];
    if (!d) return;
    d.host = { interrupt: () => {}, dmaReady: () => {} };
    this.drives[index] = null;
    this.updateIrq();
  }

  get selectedDrive(): IdeDrive | null {
    return this.drives[this.selected];
  }

  get empty(): boolean {
    return this.drives[0] === null && this.drives[1] === null;
  }

  /** Power-on / hardware reset of both devices. */
  reset(): void {
    this.deviceControl = 0;
    this.selected = 0;
    for (const tf of this.latches) tf.device = 0;
    for (const d of this.drives) d?.reset();
    this.updateIrq();
  }

  /**
   * A device raised INTRQ. With nIEN set the interrupt is dropped rather than held
   * (QEMU's behaviour, which SeaBIOS and libata are tested against): polled commands
   * must not leave a stale interrupt that fires when nIEN is cleared.
   */
  private driveInterrupt(d: IdeDrive): void {
    if (this.deviceControl & DC_NIEN) {
      d.irqPending = false;
      return;
    }
    d.irqPending = true;
    this.onInterrupt();
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = intrqAsserted(this.selectedDrive, this.deviceControl);
    if (level !== this.lineLevel) {
      this.lineLevel = level;
      this.irq.set(level);
    }
  }

  private readCommandBlock(offset: number, size: AccessSize): number {
    if (offset === REG_DATA) {
      const d = this.selectedDrive;
      return d ? d.readData(size) : 0;
    }
    // Task-file registers are 8 bits wide: a wider access reads consecutive registers.
    let v = 0;
    for (let i = 0; i < size && offset + i < 8; i++) v |= this.readRegister(offset + i) << (8 * i);
    return v >>> 0;
  }

  private readRegister(reg: number): number {
    if (this.empty) return 0;
    const d = this.selectedDrive;
    const tf = this.latches[this.selected];
    const hob = (this.deviceControl & DC_HOB) !== 0;
    switch (reg) {
      case REG_ERROR_FEATURES:
        return d ? d.error : 0;
      case REG_COUNT:
        return hob ? tf.countHob : tf.count;
      case REG_LBA_LOW:
        return hob ? tf.lbaLowHob : tf.lbaLow;
      case REG_LBA_MID:
        return hob ? tf.lbaMidHob : tf.lbaMid;
      case REG_LBA_HIGH:
        return hob ? tf.lbaHighHob : tf.lbaHigh;
      case REG_DEVICE:
        return tf.device;
      case REG_STATUS_COMMAND: {
        if (!d) return 0;
        const status = d.status;
        // Reading status acknowledges the interrupt (ATA-6 §7.15).
        if (d.irqPending) {
          d.irqPending = false;
          this.updateIrq();
        }
        return status;
      }
      default:
        return 0;
    }
  }

  private alternateStatus(): number {
    const d = this.selectedDrive;
    return d ? d.status : 0;
  }

  private writeCommandBlock(offset: number, size: AccessSize, value: number): void {
    if (offset === REG_DATA) {
      this.selectedDrive?.writeData(size, value);
      return;
    }
    for (let i = 0; i < size && offset + i < 8; i++) this.writeRegister(offset + i, (value >>> (8 * i)) & 0xff);
  }

  private writeRegister(reg: number, v: number): void {
    if (reg === REG_STATUS_COMMAND) return this.command(v);
    // A command-block write clears HOB (ATA-6 §7.9).
    this.deviceControl &= ~DC_HOB;
    for (const tf of this.latches) {
      switch (reg) {
        case REG_ERROR_FEATURES:
          tf.featuresHob = tf.features;
          tf.features = v;
          break;
        case REG_COUNT:
          tf.countHob = tf.count;
          tf.count = v;
          break;
        case REG_LBA_LOW:
          tf.lbaLowHob = tf.lbaLow;
          tf.lbaLow = v;
          break;
        case REG_LBA_MID:
          tf.lbaMidHob = tf.lbaMid;
          tf.lbaMid = v;
          break;
        case REG_LBA_HIGH:
          tf.lbaHighHob = tf.lbaHigh;
          tf.lbaHigh = v;
          break;
        case REG_DEVICE:
          tf.device = v | 0xa0; // bits 7 and 5 are obsolete "always one" bits
          break;
      }
    }
    if (reg === REG_DEVICE) {
      this.selected = v & DEV_SLAVE ? 1 : 0;
      this.updateIrq();
    }
  }

  private command(code: number): void {
    const d = this.selectedDrive;
    if (!d || this.deviceControl & DC_SRST) return;
    if (code === CMD.EXECUTE_DEVICE_DIAGNOSTIC) {
      // Both devices run diagnostics and load signatures; device 0 reports for both (§6.4).
      for (const x of this.drives) x?.reset();
      this.selected = 0;
      const master = this.drives[0];
      if (master) this.driveInterrupt(master);
      this.updateIrq();
      return;
    }
    d.execute(code);
    this.updateIrq();
  }

  private writeDeviceControl(v: number): void {
    const old = this.deviceControl;
    this.deviceControl = v;
    if (v & DC_SRST && !(old & DC_SRST)) {
      // SRST asserted: both devices go busy until it is released.
      for (const d of this.drives) if (d) d.status = ST_BSY;
    } else if (!(v & DC_SRST) && old & DC_SRST) {
      // SRST released: signatures, device 0 selected (ATA-6 §9.2), no interrupt.
      this.selected = 0;
      for (const tf of this.latches) tf.device = 0;
      for (const d of this.drives) d?.reset();
    }
    this.updateIrq();
  }

  save(): ChannelState {
    const drive = (d: IdeDrive | null): DriveState | null =>
      d instanceof AtaDisk ? d.save() : d instanceof AtapiCdrom ? d.save() : null;
    return {
      selected: this.selected,
      deviceControl: this.deviceControl,
      latches: [saveTaskFile(this.latches[0]), saveTaskFile(this.latches[1])],
      drives: [drive(this.drives[0]), drive(this.drives[1])],
    };
  }

  /** Restore into a channel built from the same drive configuration (a kind mismatch is a config error). */
  restore(s: ChannelState): void {
    this.selected = int(s.selected, 1);
    this.deviceControl = int(s.deviceControl, 0xff) & ~DC_SRST;
    for (let i = 0; i < 2; i++) {
      const d = this.drives[i];
      const ds = s.drives?.[i] ?? null;
      if (d === null) {
        restoreTaskFile(this.latches[i], s.latches?.[i]);
        continue;
      }
      if (ds === null || ds.kind !== d.kind) {
        throw new RangeError(`IDE save record has ${ds ? `a ${ds.kind}` : 'no drive'} where this domain has a ${d.kind}`);
      }
      if (d instanceof AtaDisk && ds.kind === 'disk') d.restore(ds);
      else if (d instanceof AtapiCdrom && ds.kind === 'cdrom') d.restore(ds);
    }
    this.lineLevel = intrqAsserted(this.selectedDrive, this.deviceControl);
    this.irq.set(this.lineLevel);
  }

  /** For tests and diagnostics. */
  get deviceControlValue(): number {
    return this.deviceControl;
  }
  get irqLevel(): boolean {
    return this.lineLevel;
  }
}
