// The command block registers one device latches (ATA-6 §7). Both devices on a
// channel latch every write; only the selected one answers reads. For LBA48 the
// features, count and LBA registers are two-deep: a write pushes the current byte
// into the "previous" (HOB) slot, which reads back with DEVICE CONTROL.HOB = 1
// (ATA-6 §6.20).

import { DEV_LBA } from './ata-registers.js';

export class TaskFile {
  features = 0;
  featuresHob = 0;
  count = 0;
  countHob = 0;
  lbaLow = 0;
  lbaLowHob = 0;
  lbaMid = 0;
  lbaMidHob = 0;
  lbaHigh = 0;
  lbaHighHob = 0;
  device = 0;

  /** The ATA signature (count 1, LBA low 1, mid/high) a device loads after reset (§6.2). */
  loadSignature(mid: number, high: number): void {
    this.count = 1;
    this.lbaLow = 1;
    this.lbaMid = mid;
    this.lbaHigh = high;
    this.device &= ~0x0f;
  }

  get lbaMode(): boolean {
    return (this.device & DEV_LBA) !== 0;
  }

  /** LBA28 address: device 3:0, high, mid, low. */
  lba28(): number {
    return (this.device & 0x0f) * 0x1000000 + (this.lbaHigh << 16) + (this.lbaMid << 8) + this.lbaLow;
  }

  /** LBA48 address: previous high/mid/low are bits 47:24. */
  lba48(): number {
    const upper = (this.lbaHighHob << 16) | (this.lbaMidHob << 8) | this.lbaLowHob;
    return upper * 0x1000000 + ((this.lbaHigh << 16) | (this.lbaMid << 8) | this.lbaLow);
  }

  /** Sector count: 0 means 256 (28-bit) or 65536 (48-bit). */
  sectorCount(ext: boolean): number {
    if (ext) return ((this.countHob << 8) | this.count) || 0x10000;
    return this.count || 0x100;
  }

  setLba28(lba: number): void {
    this.lbaLow = lba & 0xff;
    this.lbaMid = (lba >>> 8) & 0xff;
    this.lbaHigh = (lba >>> 16) & 0xff;
    this.device = (this.device & 0xf0) | (Math.floor(lba / 0x1000000) & 0x0f);
  }

  setLba48(lba: number): void {
    const low = lba % 0x1000000;
    const high = Math.floor(lba / 0x1000000);
    this.lbaLow = low & 0xff;
    this.lbaMid = (low >>> 8) & 0xff;
    this.lbaHigh = (low >>> 16) & 0xff;
    this.lbaLowHob = high & 0xff;
    this.lbaMidHob = (high >>> 8) & 0xff;
    this.lbaHighHob = (high >>> 16) & 0xff;
  }

  /** ATAPI byte-count limit / actual count in LBA mid (low byte) and high. */
  get byteCount(): number {
    return (this.lbaHigh << 8) | this.lbaMid;
  }
  set byteCount(n: number) {
    this.lbaMid = n & 0xff;
    this.lbaHigh = (n >>> 8) & 0xff;
  }
}
