// An ATA hard disk (ATA/ATAPI-6 §8; pc-platform §6.3-6.4): IDENTIFY, PIO and DMA
// reads and writes in LBA28, LBA48 and CHS addressing, MULTIPLE blocks, SET
// FEATURES, FLUSH CACHE (a real flush of the backend), and the housekeeping
// commands firmware and Linux send. Unknown opcodes abort.

import type { BlockBackend } from '../block/block-backend.js';
import { CMD, ER_ABRT, ER_IDNF, ER_UNC, SECTOR_SIZE, ST_DRDY, ST_DRQ, ST_DSC } from './ata-registers.js';
import { IdeDrive, type DmaTransfer } from './ide-drive.js';
import {
  MAX_MULTIPLE_SECTORS,
  defaultGeometry,
  diskIdentify,
  identifyBytes,
  transferModeValid,
  type Geometry,
} from './identify.js';
import { bool, int, type AtaDiskState } from './state.js';

/** Sectors moved per bus-master chunk (64 KiB, the largest PRD region). */
const DMA_CHUNK_SECTORS = 128;
const LBA28_SECTORS = 0x10000000;
/** PIO steps (IdeDrive.pioPhase). */
const PHASE_READ_BLOCK = 1;
const PHASE_WRITE_BLOCK = 2;

export interface DriveStrings {
  serial?: string;
  model?: string;
  firmware?: string;
}

export class AtaDisk extends IdeDrive {
  readonly kind = 'disk' as const;
  protected readonly readyStatus = ST_DRDY | ST_DSC;
  readonly totalSectors: number;
  private readonly geometry: Geometry;
  private current: Geometry;
  private multipleSectors = MAX_MULTIPLE_SECTORS;
  private mwdmaMode = -1;
  private udmaMode = -1;
  private writeCache = true;
  private readonly strings: Required<DriveStrings>;
  private readonly dmaBuf = new Uint8Array(DMA_CHUNK_SECTORS * SECTOR_SIZE);
  // The command in progress.
  private lba = 0;
  private remaining = 0;
  private ext = false;
  private blockSectors = 1;
  private writing = false;

  constructor(
    readonly backend: BlockBackend,
    strings: DriveStrings = {},
  ) {
    super();
    this.totalSectors = Math.floor(backend.sizeBytes / SECTOR_SIZE);
    this.geometry = defaultGeometry(this.totalSectors);
    this.current = { ...this.geometry };
    this.strings = { serial: strings.serial ?? 'TSXEN0001', model: strings.model ?? 'TSXEN HARDDISK', firmware: strings.firmware ?? '0.1' };
    this.reset();
  }

  reset(): void {
    this.cancelTransfer();
    this.tf.loadSignature(0x00, 0x00);
    this.error = 0x01;
    this.status = this.readyStatus;
    this.irqPending = false;
  }

  identifyWords(): Uint16Array {
    return diskIdentify({
      ...this.strings,
      totalSectors: this.totalSectors,
      geometry: this.geometry,
      current: this.current,
      multipleSectors: this.multipleSectors,
      mwdmaMode: this.mwdmaMode,
      udmaMode: this.udmaMode,
      writeCache: this.writeCache,
    });
  }

  save(): AtaDiskState {
    return {
      kind: 'disk',
      common: this.saveCommon(),
      lba: this.lba,
      remaining: this.remaining,
      ext: this.ext,
      blockSectors: this.blockSectors,
      writing: this.writing,
      multipleSectors: this.multipleSectors,
      mwdmaMode: this.mwdmaMode,
      udmaMode: this.udmaMode,
      writeCache: this.writeCache,
      heads: this.current.heads,
      sectors: this.current.sectors,
    };
  }

  restore(s: AtaDiskState): void {
    this.restoreCommon(s.common, PHASE_WRITE_BLOCK);
    // Positions are re-checked by the backend on every access; only keep them finite.
    this.lba = int(s.lba, Number.MAX_SAFE_INTEGER);
    this.remaining = int(s.remaining, 0x10000);
    this.ext = bool(s.ext);
    this.blockSectors = Math.max(1, int(s.blockSectors, MAX_MULTIPLE_SECTORS, 1));
    this.writing = bool(s.writing);
    const mult = int(s.multipleSectors, MAX_MULTIPLE_SECTORS, MAX_MULTIPLE_SECTORS);
    this.multipleSectors = (mult & (mult - 1)) === 0 ? mult : MAX_MULTIPLE_SECTORS;
    this.mwdmaMode = int(s.mwdmaMode, 2, -1);
    this.udmaMode = int(s.udmaMode, 5, -1);
    this.writeCache = s.writeCache !== false;
    const heads = Math.max(1, int(s.heads, 16, this.geometry.heads));
    const sectors = Math.max(1, int(s.sectors, 255, this.geometry.sectors));
    this.current = { heads, sectors, cylinders: Math.max(1, Math.min(65535, Math.floor(this.totalSectors / (heads * sectors)))) };
  }

  execute(command: number): void {
    this.cancelTransfer();
    this.error = 0;
    switch (command) {
      case CMD.READ_SECTORS:
      case CMD.READ_SECTORS_NORETRY:
        return this.startPio(false, false, 1);
      case CMD.READ_SECTORS_EXT:
        return this.startPio(true, false, 1);
      case CMD.READ_MULTIPLE:
      case CMD.READ_MULTIPLE_EXT:
        if (this.multipleSectors === 0) return this.fail();
        return this.startPio(command === CMD.READ_MULTIPLE_EXT, false, this.multipleSectors);
      case CMD.WRITE_SECTORS:
      case CMD.WRITE_SECTORS_NORETRY:
        return this.startPio(false, true, 1);
      case CMD.WRITE_SECTORS_EXT:
        return this.startPio(true, true, 1);
      case CMD.WRITE_MULTIPLE:
      case CMD.WRITE_MULTIPLE_EXT:
        if (this.multipleSectors === 0) return this.fail();
        return this.startPio(command === CMD.WRITE_MULTIPLE_EXT, true, this.multipleSectors);
      case CMD.READ_DMA:
      case CMD.READ_DMA_NORETRY:
        return this.startDma(false, false);
      case CMD.READ_DMA_EXT:
        return this.startDma(true, false);
      case CMD.WRITE_DMA:
      case CMD.WRITE_DMA_NORETRY:
        return this.startDma(false, true);
      case CMD.WRITE_DMA_EXT:
        return this.startDma(true, true);
      case CMD.SET_MULTIPLE_MODE:
        return this.setMultiple();
      case CMD.SET_FEATURES:
        return this.setFeatures();
      case CMD.FLUSH_CACHE:
      case CMD.FLUSH_CACHE_EXT:
        return this.flushCache();
      case CMD.IDENTIFY_DEVICE:
        identifyBytes(this.identifyWords(), this.buf);
        return this.startPioIn(512, 0, true);
      case CMD.INITIALIZE_DEVICE_PARAMETERS:
        return this.initializeParameters();
      case CMD.CHECK_POWER_MODE:
        this.tf.count = 0xff; // active or idle
        return this.complete();
      case CMD.READ_NATIVE_MAX:
        this.tf.setLba28(Math.min(this.totalSectors, LBA28_SECTORS) - 1);
        return this.complete();
      case CMD.READ_NATIVE_MAX_EXT:
        this.tf.setLba48(this.totalSectors - 1);
        return this.complete();
      case CMD.VERIFY:
      case CMD.VERIFY_NORETRY:
      case CMD.VERIFY_EXT:
      case CMD.STANDBY_IMMEDIATE:
      case CMD.IDLE_IMMEDIATE:
      case CMD.STANDBY:
      case CMD.IDLE:
        return this.complete();
      default:
        // RECALIBRATE 1xh and SEEK 7xh succeed at once (ATA-1 legacy, still sent by old BIOSes).
        if ((command & 0xf0) === 0x10 || (command & 0xf0) === 0x70) return this.complete();
        return this.fail(); // incl. PACKET, IDENTIFY PACKET and DEVICE RESET (§6.2: a disk aborts A1)
    }
  }

  /** First sector of the command, or null for a CHS address that does not exist. */
  private startAddress(ext: boolean): number | null {
    const tf = this.tf;
    if (ext) return tf.lba48();
    if (tf.lbaMode) return tf.lba28();
    // CHS (§6.4): LBA = (cyl × heads + head) × spt + sector − 1 in the current translation.
    const cyl = (tf.lbaHigh << 8) | tf.lbaMid;
    const head = tf.device & 0x0f;
    const sector = tf.lbaLow;
    const g = this.current;
    if (sector === 0 || sector > g.sectors || head >= g.heads) return null;
    return (cyl * g.heads + head) * g.sectors + sector - 1;
  }

  /** Leave `lba` in the address registers in the command's own addressing form. */
  private setPosition(lba: number): void {
    const tf = this.tf;
    if (lba < 0) lba = 0;
    if (this.ext) tf.setLba48(lba);
    else if (tf.lbaMode) tf.setLba28(lba);
    else {
      const g = this.current;
      const cyl = Math.floor(lba / (g.heads * g.sectors));
      const rest = lba % (g.heads * g.sectors);
      tf.lbaMid = cyl & 0xff;
      tf.lbaHigh = (cyl >>> 8) & 0xff;
      tf.device = (tf.device & 0xf0) | Math.floor(rest / g.sectors);
      tf.lbaLow = (rest % g.sectors) + 1;
    }
  }

  /** Check and latch the command's range; false (command failed) when it is out of the disk. */
  private begin(ext: boolean, writing: boolean): boolean {
    this.ext = ext;
    if (writing && this.backend.readOnly) {
      this.fail(ER_ABRT);
      return false;
    }
    const start = this.startAddress(ext);
    const count = this.tf.sectorCount(ext);
    if (start === null || start + count > this.totalSectors) {
      this.fail(ER_IDNF | ER_ABRT);
      return false;
    }
    this.lba = start;
    this.remaining = count;
    this.writing = writing;
    return true;
  }

  private startPio(ext: boolean, writing: boolean, blockSectors: number): void {
    if (!this.begin(ext, writing)) return;
    this.blockSectors = blockSectors;
    const n = Math.min(this.remaining, blockSectors);
    // PIO out: the first DRQ comes without an interrupt (ATA-6 §9.8).
    if (writing) this.startPioOut(n * SECTOR_SIZE, PHASE_WRITE_BLOCK, false);
    else this.readBlock();
  }

  private readBlock(): void {
    const n = Math.min(this.remaining, this.blockSectors);
    const data = this.buf.subarray(0, n * SECTOR_SIZE);
    if (!this.backendRead(this.lba, data)) return;
    this.startPioIn(data.length, PHASE_READ_BLOCK, true);
  }

  protected pioPhaseDone(phase: number): void {
    // The block just moved is min(remaining, blockSectors) sectors, as when it started.
    const n = Math.min(this.remaining, this.blockSectors);
    if (phase === PHASE_READ_BLOCK) this.readBlockDone(n);
    else if (phase === PHASE_WRITE_BLOCK) this.writeBlockDone(n);
  }

  private readBlockDone(n: number): void {
    this.lba += n;
    this.remaining -= n;
    if (this.remaining > 0) return this.readBlock();
    this.setPosition(this.lba - 1);
    this.complete(false); // PIO in: no interrupt after the last block is read
  }

  private writeBlockDone(n: number): void {
    if (!this.backendWrite(this.lba, this.buf.subarray(0, n * SECTOR_SIZE))) return;
    this.lba += n;
    this.remaining -= n;
    if (this.remaining > 0) {
      const next = Math.min(this.remaining, this.blockSectors);
      this.startPioOut(next * SECTOR_SIZE, PHASE_WRITE_BLOCK, true);
      return;
    }
    this.setPosition(this.lba - 1);
    this.complete(true);
  }

  private startDma(ext: boolean, writing: boolean): void {
    if (!this.begin(ext, writing)) return;
    this.dmaPending = true;
    this.status = this.readyStatus | ST_DRQ;
    this.host.dmaReady();
  }

  runDma(transfer: DmaTransfer): void {
    if (!this.dmaPending) return;
    this.dmaPending = false;
    while (this.remaining > 0) {
      const n = Math.min(this.remaining, DMA_CHUNK_SECTORS);
      const chunk = this.dmaBuf.subarray(0, n * SECTOR_SIZE);
      if (this.writing) {
        if (!transfer.fromGuest(chunk)) return this.dmaAborted();
        if (!this.backendWrite(this.lba, chunk)) return;
      } else {
        if (!this.backendRead(this.lba, chunk)) return;
        if (!transfer.toGuest(chunk)) return this.dmaAborted();
      }
      this.lba += n;
      this.remaining -= n;
    }
    this.setPosition(this.lba - 1);
    this.complete(true);
  }

  private dmaAborted(): void {
    this.setPosition(this.lba);
    this.fail(ER_ABRT);
  }

  private backendRead(lba: number, dest: Uint8Array): boolean {
    try {
      this.backend.read(lba * SECTOR_SIZE, dest);
      return true;
    } catch {
      this.setPosition(lba);
      this.fail(ER_UNC | ER_ABRT);
      return false;
    }
  }

  private backendWrite(lba: number, src: Uint8Array): boolean {
    try {
      this.backend.write(lba * SECTOR_SIZE, src);
      return true;
    } catch {
      this.setPosition(lba);
      this.fail(ER_ABRT);
      return false;
    }
  }

  private setMultiple(): void {
    const n = this.tf.count;
    // A power of two up to word 47's maximum; 0 disables MULTIPLE commands (§6.4).
    if (n > MAX_MULTIPLE_SECTORS || (n & (n - 1)) !== 0) return this.fail();
    this.multipleSectors = n;
    this.complete();
  }

  private setFeatures(): void {
    const tf = this.tf;
    switch (tf.features) {
      case 0x03: {
        const kind = transferModeValid(tf.count);
        if (kind === null) return this.fail();
        if (kind === 'mwdma') {
          this.mwdmaMode = tf.count & 7;
          this.udmaMode = -1;
        } else if (kind === 'udma') {
          this.udmaMode = tf.count & 7;
          this.mwdmaMode = -1;
        }
        return this.complete();
      }
      case 0x02:
        this.writeCache = true;
        return this.complete();
      case 0x82:
        this.writeCache = false;
        return this.complete();
      case 0x55: // look-ahead off / on, reverting to defaults off / on: accepted, nothing to change
      case 0xaa:
      case 0x66:
      case 0xcc:
        return this.complete();
      default:
        return this.fail();
    }
  }

  private flushCache(): void {
    if (!this.backend.readOnly) {
      try {
        this.backend.flush();
      } catch {
        return this.fail(ER_ABRT);
      }
    }
    this.complete();
  }

  private initializeParameters(): void {
    const sectors = this.tf.count;
    const heads = (this.tf.device & 0x0f) + 1;
    if (sectors === 0) return this.fail();
    const cylinders = Math.max(1, Math.min(65535, Math.floor(this.totalSectors / (heads * sectors))));
    this.current = { cylinders, heads, sectors };
    this.complete();
  }
}
