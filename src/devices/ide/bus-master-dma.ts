// SFF-8038i bus-master IDE, one channel's 8-byte register block (pc-platform §6.5):
// command (START, direction), status (active, error, interrupt, drive DMA capable),
// and the PRD table pointer. The transfer starts once both the drive has a DMA
// command and the guest has set START (Linux issues the command first, then START;
// either order works), and only while PCI COMMAND.BUS_MASTER is set.
//
// The PRD walk reads guest memory through GuestMemory's bounds-checked views: a PRD
// table or region outside RAM, or a table that ends before the data, sets the error
// bit and aborts the command; nothing throws.

import type { AccessSize } from '../../hypervisor/types.js';
import type { PioDevice } from '../bus/io-bus.js';
import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { DmaTransfer } from './ide-drive.js';
import type { IdeChannel } from './ide-channel.js';
import { bool, int, type BusMasterState } from './state.js';

export const BM_CMD_START = 0x01;
/** Direction: 1 = the bus master writes memory (a disk read). */
export const BM_CMD_WRITE_MEMORY = 0x08;
export const BM_ST_ACTIVE = 0x01;
export const BM_ST_ERROR = 0x02;
export const BM_ST_INTERRUPT = 0x04;
/** Drive 0/1 DMA capable: plain read/write bits for the BIOS. */
const BM_ST_DRIVE_CAPABLE = 0x60;
/** A PRD table may not cross 64 KiB: at most 8192 entries (SFF-8038i §2.1). */
const MAX_PRD_ENTRIES = 0x2000;
const PRD_EOT = 0x80000000;

export class BusMasterDma implements PioDevice {
  private command = 0;
  private statusBits = 0;
  private active = false;
  private prdTable = 0;
  // PRD walker state for the current START.
  private prdNext = 0;
  private entries = 0;
  private regionAddr = 0;
  private regionLeft = 0;
  private eot = false;
  private failed = false;

  private readonly transfer: DmaTransfer = {
    toGuest: (src) => this.move(src, true),
    fromGuest: (dst) => this.move(dst, false),
  };

  constructor(
    private readonly memory: GuestMemory,
    private readonly channel: IdeChannel,
    private readonly busMasterEnabled: () => boolean = () => true,
  ) {
    channel.onInterrupt = () => {
      this.statusBits |= BM_ST_INTERRUPT;
    };
    channel.onDmaReady = () => this.tryStart();
  }

  get statusRegister(): number {
    return this.statusBits | (this.active ? BM_ST_ACTIVE : 0);
  }

  reset(): void {
    this.command = 0;
    this.statusBits = 0;
    this.active = false;
    this.prdTable = 0;
  }

  save(): BusMasterState {
    return {
      command: this.command,
      statusBits: this.statusBits,
      active: this.active,
      prdTable: this.prdTable,
      prdNext: this.prdNext,
      entries: this.entries,
      regionAddr: this.regionAddr,
      regionLeft: this.regionLeft,
      eot: this.eot,
      failed: this.failed,
    };
  }

  restore(s: BusMasterState): void {
    this.command = int(s.command, 0xff) & (BM_CMD_START | BM_CMD_WRITE_MEMORY);
    this.statusBits = int(s.statusBits, 0xff) & (BM_ST_ERROR | BM_ST_INTERRUPT | BM_ST_DRIVE_CAPABLE);
    this.active = bool(s.active);
    this.prdTable = int(s.prdTable, 0xffffffff) & 0xfffffffc;
    this.prdTable >>>= 0;
    // Walker addresses are only ever used through bounds-checked guest-memory reads.
    this.prdNext = int(s.prdNext, 0xffffffff);
    this.entries = int(s.entries, MAX_PRD_ENTRIES);
    this.regionAddr = int(s.regionAddr, 0xffffffff);
    this.regionLeft = int(s.regionLeft, 0x10000);
    this.eot = bool(s.eot);
    this.failed = bool(s.failed);
  }

  pioRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(offset + i) << (8 * i);
    return v >>> 0;
  }

  pioWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte(offset + i, (value >>> (8 * i)) & 0xff);
  }

  readByte(offset: number): number {
    switch (offset) {
      case 0:
        return this.command;
      case 2:
        return this.statusRegister;
      case 4:
      case 5:
      case 6:
      case 7:
        return (this.prdTable >>> (8 * (offset - 4))) & 0xff;
      default:
        return 0;
    }
  }

  writeByte(offset: number, v: number): void {
    switch (offset) {
      case 0:
        return this.writeCommand(v);
      case 2:
        // Error and interrupt are write-1-to-clear; the drive-capable bits are plain storage.
        this.statusBits = (this.statusBits & ~(v & (BM_ST_ERROR | BM_ST_INTERRUPT)) & ~BM_ST_DRIVE_CAPABLE) | (v & BM_ST_DRIVE_CAPABLE);
        return;
      case 4:
      case 5:
      case 6:
      case 7: {
        const shift = 8 * (offset - 4);
        const mask = 0xff << shift;
        this.prdTable = ((this.prdTable & ~mask) | (v << shift)) & 0xfffffffc; // dword aligned
        this.prdTable >>>= 0;
        return;
      }
    }
  }

  private writeCommand(v: number): void {
    const wasStarted = (this.command & BM_CMD_START) !== 0;
    // The direction cannot change under a running transfer.
    const dir = this.active ? this.command & BM_CMD_WRITE_MEMORY : v & BM_CMD_WRITE_MEMORY;
    this.command = (v & BM_CMD_START) | dir;
    if (v & BM_CMD_START && !wasStarted) {
      this.active = true;
      this.prdNext = this.prdTable;
      this.entries = 0;
      this.regionLeft = 0;
      this.eot = false;
      this.failed = false;
      this.tryStart();
    } else if (!(v & BM_CMD_START)) {
      this.active = false; // stopping the engine abandons whatever is left
    }
  }

  /** Run the selected drive's DMA command if START is set and bus mastering is allowed. */
  tryStart(): void {
    if (!this.active || !this.busMasterEnabled()) return;
    const drive = this.channel.selectedDrive;
    if (!drive || !drive.dmaPending) return;
    drive.runDma(this.transfer);
    if (this.failed) {
      this.statusBits |= BM_ST_ERROR;
      this.active = false;
    } else if (this.eot && this.regionLeft === 0) {
      this.active = false;
    }
    // else the PRDs describe more than the data: active stays set (SFF-8038i §3.1.2).
  }

  /** Copy between `data` and the guest regions the PRD table lists. */
  private move(data: Uint8Array, toGuest: boolean): boolean {
    let pos = 0;
    while (pos < data.length) {
      if (this.regionLeft === 0 && !this.nextRegion()) {
        this.failed = true;
        return false;
      }
      const n = Math.min(this.regionLeft, data.length - pos);
      try {
        const view = this.memory.view(this.regionAddr, n, toGuest);
        if (toGuest) view.set(data.subarray(pos, pos + n));
        else data.set(view, pos);
      } catch {
        this.failed = true;
        return false;
      }
      this.regionAddr += n;
      this.regionLeft -= n;
      pos += n;
    }
    return true;
  }

  private nextRegion(): boolean {
    if (this.eot || this.entries >= MAX_PRD_ENTRIES) return false;
    let addr: number;
    let control: number;
    try {
      addr = this.memory.readU32(this.prdNext);
      control = this.memory.readU32(this.prdNext + 4);
    } catch {
      return false;
    }
    this.prdNext += 8;
    this.entries++;
    this.regionAddr = addr & 0xfffffffe;
    this.regionLeft = control & 0xfffe || 0x10000; // byte count 0 means 64 KiB
    this.eot = (control & PRD_EOT) !== 0;
    return true;
  }
}
