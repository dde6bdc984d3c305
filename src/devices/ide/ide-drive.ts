// What an ATA disk and an ATAPI CD-ROM share as devices on an IDE channel: the
// latched task file, status and error registers, INTRQ, the PIO data buffer, and the
// hook through which the bus master moves DMA data (ATA-6 §9 protocols).
//
// Everything runs synchronously: a command completes inside the guest's write to
// the command register (or to the bus master's START bit), so BSY is never seen.

import { DC_NIEN, ST_DRQ, ST_DRDY, ST_ERR, ER_ABRT, PIO_BUFFER_BYTES } from './ata-registers.js';
import { TaskFile } from './task-file.js';
import { bool, byteArray, int, restoreTaskFile, saveTaskFile, type DriveCommonState } from './state.js';

/** The bus master's side of a DMA transfer (bus-master-dma.ts). */
export interface DmaTransfer {
  /** Copy device data into guest memory along the PRD list. False: PRDs ran out or were bad. */
  toGuest(src: Uint8Array): boolean;
  /** Fill `dst` from guest memory along the PRD list. False: PRDs ran out or were bad. */
  fromGuest(dst: Uint8Array): boolean;
}

/** What the channel lets a drive do. */
export interface DriveHost {
  /** The drive asserted INTRQ (the channel decides whether the wire sees it). */
  interrupt(): void;
  /** A DMA command is ready and waits for the bus master's START. */
  dmaReady(): void;
}

export type DriveKind = 'disk' | 'cdrom';

export abstract class IdeDrive {
  abstract readonly kind: DriveKind;
  readonly tf = new TaskFile();
  status = 0;
  error = 0;
  /** INTRQ requested and not yet acknowledged by a status read. */
  irqPending = false;
  /** A DMA command waits for the bus master. */
  dmaPending = false;
  host: DriveHost = { interrupt() {}, dmaReady() {} };

  protected readonly buf = new Uint8Array(PIO_BUFFER_BYTES);
  protected bufPos = 0;
  protected bufEnd = 0;
  protected pioIn = true;
  /**
   * What to do once the host has moved the whole PIO block: 0 = the command is over,
   * other values are the subclass's own steps (a number, not a closure, so a save
   * record can carry it).
   */
  protected pioPhase = 0;

  /** Status after a successful command (ATA: DRDY|DSC; ATAPI: DRDY). */
  protected abstract readonly readyStatus: number;
  /** The host moved the whole PIO block of step `phase` (non-zero). */
  protected abstract pioPhaseDone(phase: number): void;
  /** Run a command written to the command register (this device is selected). */
  abstract execute(command: number): void;
  /** Move the pending DMA command's data through the bus master, then complete it. */
  abstract runDma(transfer: DmaTransfer): void;
  /** Power-on / SRST / DEVICE RESET state: signature in the task file (§6.2). */
  abstract reset(): void;

  /** Stop whatever transfer is in progress (new command, reset). */
  protected cancelTransfer(): void {
    this.bufPos = this.bufEnd = 0;
    this.pioPhase = 0;
    this.dmaPending = false;
    this.status &= ~ST_DRQ;
  }

  protected raiseIrq(): void {
    this.irqPending = true;
    this.host.interrupt();
  }

  /** Offer `len` bytes of `buf` to the host (PIO data in); step `phase` follows once it has read them all. */
  protected startPioIn(len: number, phase: number, irq: boolean, status = this.readyStatus): void {
    this.bufPos = 0;
    this.bufEnd = Math.min(len, this.buf.length);
    this.pioIn = true;
    this.pioPhase = phase;
    this.status = status | ST_DRQ;
    if (irq) this.raiseIrq();
  }

  /** Expect `len` bytes from the host into `buf` (PIO data out); step `phase` follows once they are all written. */
  protected startPioOut(len: number, phase: number, irq: boolean, status = this.readyStatus): void {
    this.bufPos = 0;
    this.bufEnd = Math.min(len, this.buf.length);
    this.pioIn = false;
    this.pioPhase = phase;
    this.status = status | ST_DRQ;
    if (irq) this.raiseIrq();
  }

  /** Successful end of a command. */
  protected complete(irq = true): void {
    this.cancelTransfer();
    this.status = this.readyStatus;
    if (irq) this.raiseIrq();
  }

  /** Failed command: ERR with `error` bits (ABRT by default), INTRQ. */
  protected fail(error = ER_ABRT, irq = true): void {
    this.cancelTransfer();
    this.error = error;
    this.status = ST_DRDY | ST_ERR;
    if (irq) this.raiseIrq();
  }

  /** Data register read of `size` bytes (little endian); 0 when no data is offered. */
  readData(size: number): number {
    if (!this.pioIn || (this.status & ST_DRQ) === 0 || this.bufPos >= this.bufEnd) return 0;
    let v = 0;
    for (let i = 0; i < size && this.bufPos < this.bufEnd; i++) v |= this.buf[this.bufPos++] << (8 * i);
    if (this.bufPos >= this.bufEnd) this.pioFinished();
    return v >>> 0;
  }

  /** Data register write of `size` bytes; ignored when no data is expected. */
  writeData(size: number, value: number): void {
    if (this.pioIn || (this.status & ST_DRQ) === 0 || this.bufPos >= this.bufEnd) return;
    for (let i = 0; i < size && this.bufPos < this.bufEnd; i++) this.buf[this.bufPos++] = (value >>> (8 * i)) & 0xff;
    if (this.bufPos >= this.bufEnd) this.pioFinished();
  }

  private pioFinished(): void {
    const phase = this.pioPhase;
    this.pioPhase = 0;
    this.status &= ~ST_DRQ;
    if (phase !== 0) this.pioPhaseDone(phase);
    else this.status = this.readyStatus;
  }

  protected saveCommon(): DriveCommonState {
    return {
      tf: saveTaskFile(this.tf),
      status: this.status,
      error: this.error,
      irqPending: this.irqPending,
      dmaPending: this.dmaPending,
      pioIn: this.pioIn,
      pioPhase: this.pioPhase,
      pioPos: this.bufPos,
      pioData: Array.from(this.buf.subarray(0, this.bufEnd)),
    };
  }

  /** `phases`: the PIO steps this kind of drive knows (others restore as 0). */
  protected restoreCommon(s: DriveCommonState | undefined, phases: number): void {
    restoreTaskFile(this.tf, s?.tf);
    this.status = int(s?.status, 0xff) & ~0x80; // never stuck busy: nothing runs in the background
    this.error = int(s?.error, 0xff);
    this.irqPending = bool(s?.irqPending);
    this.dmaPending = bool(s?.dmaPending);
    this.pioIn = s?.pioIn !== false;
    this.pioPhase = int(s?.pioPhase, phases);
    const data = byteArray(s?.pioData, this.buf.length);
    this.buf.set(data);
    this.bufEnd = data.length;
    this.bufPos = Math.min(int(s?.pioPos, this.buf.length), this.bufEnd);
  }

  /** For tests and diagnostics: bytes left in the current PIO block. */
  get pioRemaining(): number {
    return (this.status & ST_DRQ) !== 0 ? this.bufEnd - this.bufPos : 0;
  }
}

/** Whether INTRQ reaches the wire: the selected device asserts it and nIEN is clear. */
export function intrqAsserted(drive: IdeDrive | null, deviceControl: number): boolean {
  return drive !== null && drive.irqPending && (deviceControl & DC_NIEN) === 0;
}
