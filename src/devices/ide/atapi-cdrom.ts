// An ATAPI CD-ROM (ATA/ATAPI-6 §8.21 PACKET, MMC-3 commands; pc-platform §6.6):
// the PACKET protocol in PIO (DRQ blocks bounded by the byte-count limit) and DMA,
// IDENTIFY PACKET, sense data with UNIT ATTENTION after a medium change, and a tray
// the guest can lock and eject and the host can load (insertMedium).

import type { BlockBackend } from '../block/block-backend.js';
import { CMD, ER_ABRT, IR_COD, IR_IO, ST_DRDY, ST_DRQ, ST_ERR } from './ata-registers.js';
import { IdeDrive, type DmaTransfer } from './ide-drive.js';
import { identifyBytes, packetIdentify, transferModeValid } from './identify.js';
import type { DriveStrings } from './ata-disk.js';
import {
  SENSE_INVALID_FIELD,
  SENSE_INVALID_OPCODE,
  SENSE_LBA_OUT_OF_RANGE,
  SENSE_MEDIUM_CHANGED,
  SENSE_NONE,
  SENSE_NO_MEDIUM_TRAY_CLOSED,
  SENSE_NO_MEDIUM_TRAY_OPEN,
  SENSE_REMOVAL_PREVENTED,
  SENSE_SAVING_NOT_SUPPORTED,
  senseBytes,
  type Sense,
} from './atapi-sense.js';
import {
  CD_BLOCK,
  discInformation,
  eventStatus,
  getConfiguration,
  inquiry,
  mechanismStatus,
  modeSense10,
  readCapacity,
  tocFormat0,
  tocFormat1,
  tocFormat2,
} from './atapi-replies.js';
import { bool, byteArray, int, type AtapiState } from './state.js';

// MMC/SPC operation codes (pc-platform §6.6 table).
const OP = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  INQUIRY: 0x12,
  START_STOP_UNIT: 0x1b,
  PREVENT_ALLOW: 0x1e,
  READ_CAPACITY: 0x25,
  READ_10: 0x28,
  READ_TOC: 0x43,
  GET_CONFIGURATION: 0x46,
  GET_EVENT_STATUS: 0x4a,
  READ_DISC_INFORMATION: 0x51,
  MODE_SENSE_10: 0x5a,
  READ_12: 0xa8,
  MECHANISM_STATUS: 0xbd,
} as const;

/** Commands that report rather than fail with a pending UNIT ATTENTION (SPC-3 §5.8.7; MMC GESN/GET CONFIGURATION). */
const UA_EXEMPT = new Set<number>([OP.INQUIRY, OP.REQUEST_SENSE, OP.GET_EVENT_STATUS, OP.GET_CONFIGURATION]);
/** GESN media events (MMC-3 Table 113). */
const EVENT_NEW_MEDIA = 2;
const EVENT_MEDIA_REMOVAL = 3;
/** PIO steps (IdeDrive.pioPhase). */
const PHASE_CDB = 1;
const PHASE_DATA_BLOCK = 2;
/** Bytes moved per DMA chunk. */
const DMA_CHUNK = 0x10000;

const be16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const be32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

export class AtapiCdrom extends IdeDrive {
  readonly kind = 'cdrom' as const;
  protected readonly readyStatus = ST_DRDY;
  private medium: BlockBackend | null = null;
  private blocks = 0;
  private trayOpen = false;
  private locked = false;
  private sense: Sense = SENSE_NONE;
  private unitAttention = false;
  private mediaEvent = 0;
  private mwdmaMode = -1;
  private udmaMode = -1;
  private readonly strings: Required<DriveStrings>;
  /** Told when the guest ejects the disc (START STOP UNIT with LoEj), so the host can forget it. */
  onEject: (() => void) | null = null;
  // The data phase of the current packet command.
  private dmaRequested = false;
  private byteLimit = 0;
  private reply: Uint8Array | null = null;
  private readLba = 0;
  private dataTotal = 0;
  private dataPos = 0;
  private readonly dmaBuf = new Uint8Array(DMA_CHUNK);

  constructor(medium: BlockBackend | null, strings: DriveStrings = {}) {
    super();
    this.strings = { serial: strings.serial ?? 'TSXEN0003', model: strings.model ?? 'TSXEN DVD-ROM', firmware: strings.firmware ?? '0.1' };
    this.setMedium(medium);
    this.reset();
  }

  get hasMedium(): boolean {
    return this.medium !== null;
  }
  get isLocked(): boolean {
    return this.locked;
  }
  get isTrayOpen(): boolean {
    return this.trayOpen;
  }

  /** The host loads a disc (or removes it with null): the guest sees UNIT ATTENTION and a GESN media event. */
  insertMedium(backend: BlockBackend | null): void {
    this.setMedium(backend);
    this.trayOpen = false;
    this.unitAttention = true;
    this.mediaEvent = backend ? EVENT_NEW_MEDIA : EVENT_MEDIA_REMOVAL;
  }

  private setMedium(backend: BlockBackend | null): void {
    this.medium = backend;
    this.blocks = backend ? Math.floor(backend.sizeBytes / CD_BLOCK) : 0;
  }

  save(): AtapiState {
    return {
      kind: 'cdrom',
      common: this.saveCommon(),
      hasMedium: this.medium !== null,
      trayOpen: this.trayOpen,
      locked: this.locked,
      sense: [this.sense.key, this.sense.asc, this.sense.ascq],
      unitAttention: this.unitAttention,
      mediaEvent: this.mediaEvent,
      mwdmaMode: this.mwdmaMode,
      udmaMode: this.udmaMode,
      dmaRequested: this.dmaRequested,
      byteLimit: this.byteLimit,
      reply: this.reply ? Array.from(this.reply) : null,
      readLba: this.readLba,
      dataTotal: this.dataTotal,
      dataPos: this.dataPos,
    };
  }

  /**
   * Restore into a drive built from the same configuration. A disc the guest had
   * ejected stays ejected; a disc the record had but the configuration lacks is
   * reported as a medium change.
   */
  restore(s: AtapiState): void {
    this.restoreCommon(s.common, PHASE_DATA_BLOCK);
    if (!bool(s.hasMedium)) this.setMedium(null);
    this.trayOpen = bool(s.trayOpen);
    this.locked = bool(s.locked);
    const sense = Array.isArray(s.sense) ? s.sense : [];
    this.sense = { key: int(sense[0], 0x0f), asc: int(sense[1], 0xff), ascq: int(sense[2], 0xff) };
    this.unitAttention = bool(s.unitAttention) || (bool(s.hasMedium) && this.medium === null);
    this.mediaEvent = int(s.mediaEvent, 0x0f);
    this.mwdmaMode = int(s.mwdmaMode, 2, -1);
    this.udmaMode = int(s.udmaMode, 5, -1);
    this.dmaRequested = bool(s.dmaRequested);
    this.byteLimit = int(s.byteLimit, 0xffff);
    this.reply = s.reply === null || s.reply === undefined ? null : byteArray(s.reply, 0x10000);
    this.readLba = int(s.readLba, 0xffffffff);
    this.dataTotal = int(s.dataTotal, Number.MAX_SAFE_INTEGER);
    this.dataPos = Math.min(int(s.dataPos, Number.MAX_SAFE_INTEGER), this.dataTotal);
  }

  reset(): void {
    this.cancelTransfer();
    this.tf.loadSignature(0x14, 0xeb);
    this.error = 0x01;
    this.status = 0; // DRDY clear on a packet device after reset (§6.2)
    this.irqPending = false;
  }

  execute(command: number): void {
    this.cancelTransfer();
    this.error = 0;
    switch (command) {
      case CMD.PACKET:
        this.dmaRequested = (this.tf.features & 1) !== 0;
        this.byteLimit = this.tf.byteCount;
        this.tf.count = IR_COD;
        // DRQ for the CDB without an interrupt (IDENTIFY PACKET word 0 bits 6:5 = 10b).
        return this.startPioOut(12, PHASE_CDB, false);
      case CMD.IDENTIFY_PACKET_DEVICE:
        identifyBytes(packetIdentify({ ...this.strings, mwdmaMode: this.mwdmaMode, udmaMode: this.udmaMode }), this.buf);
        return this.startPioIn(512, 0, true);
      case CMD.IDENTIFY_DEVICE:
        // A packet device aborts IDENTIFY and shows its signature, so the host retries with A1 (§6.2).
        this.tf.loadSignature(0x14, 0xeb);
        return this.fail();
      case CMD.DEVICE_RESET:
        return this.reset();
      case CMD.SET_FEATURES:
        return this.setFeatures();
      case CMD.CHECK_POWER_MODE:
        this.tf.count = 0xff;
        return this.complete();
      case CMD.STANDBY_IMMEDIATE:
      case CMD.IDLE_IMMEDIATE:
      case CMD.STANDBY:
      case CMD.IDLE:
        return this.complete();
      default:
        return this.fail();
    }
  }

  private setFeatures(): void {
    const tf = this.tf;
    if (tf.features === 0x03) {
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
    if ([0x02, 0x82, 0x55, 0xaa, 0x66, 0xcc].includes(tf.features)) return this.complete();
    this.fail();
  }

  /** The 12-byte CDB arrived: run the command. */
  private packet(): void {
    const cdb = this.buf.slice(0, 12);
    const op = cdb[0];
    if (op === OP.REQUEST_SENSE) return this.requestSense(cdb);
    this.sense = SENSE_NONE;
    if (this.unitAttention && !UA_EXEMPT.has(op)) {
      this.unitAttention = false;
      return this.checkCondition(SENSE_MEDIUM_CHANGED);
    }
    switch (op) {
      case OP.TEST_UNIT_READY:
        if (!this.needMedium()) return;
        return this.good();
      case OP.INQUIRY:
        if (cdb[1] & 1) return this.checkCondition(SENSE_INVALID_FIELD); // no vital product data pages
        return this.sendReply(inquiry('TSXEN', this.strings.model, this.strings.firmware), be16(cdb, 3));
      case OP.START_STOP_UNIT:
        return this.startStop(cdb[4]);
      case OP.PREVENT_ALLOW:
        this.locked = (cdb[4] & 1) !== 0;
        return this.good();
      case OP.READ_CAPACITY:
        if (!this.needMedium()) return;
        return this.sendReply(readCapacity(this.blocks), 8);
      case OP.READ_10:
        return this.read(be32(cdb, 2), be16(cdb, 7));
      case OP.READ_12:
        return this.read(be32(cdb, 2), be32(cdb, 6));
      case OP.READ_TOC:
        return this.readToc(cdb);
      case OP.GET_CONFIGURATION:
        return this.sendReply(
          getConfiguration({ hasMedium: this.medium !== null, blocks: this.blocks, locked: this.locked }, cdb[1] & 3, be16(cdb, 2)),
          be16(cdb, 7),
        );
      case OP.GET_EVENT_STATUS: {
        if ((cdb[1] & 1) === 0) return this.checkCondition(SENSE_INVALID_FIELD); // only polled mode
        const reply = eventStatus(cdb[4], this.mediaEvent, this.medium !== null, this.trayOpen);
        if (cdb[4] & 0x10) this.mediaEvent = 0; // reported, so consumed
        return this.sendReply(reply, be16(cdb, 7));
      }
      case OP.MODE_SENSE_10: {
        if (cdb[2] >>> 6 === 3) return this.checkCondition(SENSE_SAVING_NOT_SUPPORTED);
        const reply = modeSense10(cdb[2] & 0x3f, this.medium !== null, this.locked);
        if (!reply) return this.checkCondition(SENSE_INVALID_FIELD);
        return this.sendReply(reply, be16(cdb, 7));
      }
      case OP.READ_DISC_INFORMATION:
        if (!this.needMedium()) return;
        return this.sendReply(discInformation(), be16(cdb, 7));
      case OP.MECHANISM_STATUS:
        return this.sendReply(mechanismStatus(this.trayOpen), be16(cdb, 8));
      default:
        return this.checkCondition(SENSE_INVALID_OPCODE);
    }
  }

  private requestSense(cdb: Uint8Array): void {
    let s = this.sense;
    if (this.unitAttention) {
      s = SENSE_MEDIUM_CHANGED;
      this.unitAttention = false;
    }
    this.sense = SENSE_NONE;
    this.sendReply(senseBytes(s), cdb[4]);
  }

  private needMedium(): boolean {
    if (this.medium) return true;
    this.checkCondition(this.trayOpen ? SENSE_NO_MEDIUM_TRAY_OPEN : SENSE_NO_MEDIUM_TRAY_CLOSED);
    return false;
  }

  private startStop(flags: number): void {
    const start = (flags & 1) !== 0;
    const loadEject = (flags & 2) !== 0;
    if (loadEject && !start) {
      if (this.locked) return this.checkCondition(SENSE_REMOVAL_PREVENTED);
      const had = this.medium !== null;
      this.setMedium(null);
      this.trayOpen = true;
      if (had) {
        this.mediaEvent = EVENT_MEDIA_REMOVAL;
        this.onEject?.();
      }
    } else if (loadEject && start) {
      this.trayOpen = false;
    }
    this.good();
  }

  private read(lba: number, count: number): void {
    if (!this.needMedium()) return;
    if (lba + count > this.blocks) return this.checkCondition(SENSE_LBA_OUT_OF_RANGE);
    this.reply = null;
    this.readLba = lba;
    this.startData(count * CD_BLOCK);
  }

  private readToc(cdb: Uint8Array): void {
    if (!this.needMedium()) return;
    const msf = (cdb[1] & 2) !== 0;
    // Format in byte 2 (MMC) or, from older hosts, byte 9 bits 7:6 (SFF-8020).
    const format = cdb[2] & 0x0f || cdb[9] >>> 6;
    let reply: Uint8Array | null;
    if (format === 0) reply = tocFormat0(this.blocks, msf, cdb[6]);
    else if (format === 1) reply = tocFormat1(msf);
    else if (format === 2) reply = tocFormat2(this.blocks, msf);
    else reply = null;
    if (!reply) return this.checkCondition(SENSE_INVALID_FIELD);
    this.sendReply(reply, be16(cdb, 7));
  }

  private sendReply(data: Uint8Array, allocation: number): void {
    this.reply = data.subarray(0, Math.min(data.length, allocation));
    this.startData(this.reply.length);
  }

  private startData(total: number): void {
    this.dataTotal = total;
    this.dataPos = 0;
    if (total === 0) return this.good();
    if (this.dmaRequested) {
      this.dmaPending = true;
      this.tf.count = IR_IO;
      this.status = ST_DRDY | ST_DRQ;
      this.host.dmaReady();
      return;
    }
    this.pioBlock();
  }

  /** Bytes [offset, offset+dst.length) of the reply or of the disc area being read. */
  private produce(offset: number, dst: Uint8Array): boolean {
    if (this.reply) {
      dst.set(this.reply.subarray(offset, offset + dst.length));
      return true;
    }
    if (!this.medium) return false;
    try {
      this.medium.read(this.readLba * CD_BLOCK + offset, dst);
      return true;
    } catch {
      return false;
    }
  }

  /** One PIO DRQ block: min(byte-count limit, remaining), even unless it is the last (§6.6). */
  private pioBlock(): void {
    const remaining = this.dataTotal - this.dataPos;
    let limit = this.byteLimit;
    if (limit === 0 || limit === 0xffff) limit = 0xfffe;
    let n = Math.min(limit, remaining, this.buf.length);
    if (n < remaining && n & 1) n = Math.max(2, n - 1);
    if (!this.produce(this.dataPos, this.buf.subarray(0, n))) return this.abortData();
    this.tf.byteCount = n;
    this.tf.count = IR_IO;
    this.startPioIn(n, PHASE_DATA_BLOCK, true);
  }

  protected pioPhaseDone(phase: number): void {
    if (phase === PHASE_CDB) return this.packet();
    if (phase !== PHASE_DATA_BLOCK) return;
    this.dataPos += this.bufEnd; // the block just read
    if (this.dataPos < this.dataTotal) this.pioBlock();
    else this.good();
  }

  runDma(transfer: DmaTransfer): void {
    if (!this.dmaPending) return;
    this.dmaPending = false;
    while (this.dataPos < this.dataTotal) {
      const n = Math.min(DMA_CHUNK, this.dataTotal - this.dataPos);
      const chunk = this.dmaBuf.subarray(0, n);
      if (!this.produce(this.dataPos, chunk)) return this.abortData();
      if (!transfer.toGuest(chunk)) return this.abortData();
      this.dataPos += n;
    }
    this.good();
  }

  /** The data phase could not finish (bad PRDs, unreadable image): ABRT with the status phase. */
  private abortData(): void {
    this.cancelTransfer();
    this.error = ER_ABRT;
    this.tf.count = IR_IO | IR_COD;
    this.status = ST_DRDY | ST_ERR;
    this.raiseIrq();
  }

  /** Status phase, GOOD. */
  private good(): void {
    this.cancelTransfer();
    this.reply = null;
    this.tf.count = IR_IO | IR_COD;
    this.status = ST_DRDY;
    this.raiseIrq();
  }

  /** Status phase, CHECK CONDITION: sense key in error bits 7:4, kept for REQUEST SENSE. */
  private checkCondition(s: Sense): void {
    this.cancelTransfer();
    this.reply = null;
    this.sense = s;
    this.error = (s.key << 4) | (s === SENSE_INVALID_OPCODE ? ER_ABRT : 0);
    this.tf.count = IR_IO | IR_COD;
    this.status = ST_DRDY | ST_ERR;
    this.raiseIrq();
  }
}
