// CMOS bytes hvmloader and the device model leave for SeaBIOS
// (reference/pc-platform-and-firmware.md §2.3, §1 "Disks and boot order").

export interface CmosWriter {
  setCmos(index: number, value: number): void;
}

const ONE_MIB = 0x100000;
const SIXTEEN_MIB = 0x1000000;

/** 0x15/0x16 base KiB, 0x17/0x18 and 0x30/0x31 KiB above 1 MiB, 0x34/0x35 64 KiB units above 16 MiB. */
export function writeCmosMemorySizes(cmos: CmosWriter, lowRamEnd: number): void {
  const set16 = (index: number, value: number): void => {
    cmos.setCmos(index, value & 0xff);
    cmos.setCmos(index + 1, (value >>> 8) & 0xff);
  };
  const extKiB = Math.min(0xffff, Math.max(0, Math.floor((lowRamEnd - ONE_MIB) / 1024)));
  const above16 = Math.min(0xffff, Math.max(0, Math.floor((lowRamEnd - SIXTEEN_MIB) / 0x10000)));
  set16(0x15, 640);
  set16(0x17, extKiB);
  set16(0x30, extKiB);
  set16(0x34, above16);
}

/** SeaBIOS boot device codes: 1 floppy, 2 hard disk, 3 CD-ROM, 4 network (BEV). */
const BOOT_DEVICE: Record<string, number> = { a: 1, c: 2, d: 3, n: 4 };

/**
 * xl's `boot` string ('c', 'd', 'dc', 'cdn'...) as CMOS 0x3D (first in bits 3:0,
 * second in 7:4) and 0x38 bits 7:4 (third). 0x38 bit 0 = skip the floppy boot
 * signature check, which QEMU leaves clear. Unknown letters are dropped.
 */
export function bootOrderCmos(boot: string): { reg3d: number; reg38: number; devices: number[]; ignored: string } {
  const devices: number[] = [];
  let ignored = '';
  for (const ch of boot.toLowerCase()) {
    const code = BOOT_DEVICE[ch];
    if (code === undefined || devices.includes(code)) ignored += ch;
    else if (devices.length < 3) devices.push(code);
    else ignored += ch;
  }
  return { reg3d: (devices[0] ?? 0) | ((devices[1] ?? 0) << 4), reg38: (devices[2] ?? 0) << 4, devices, ignored };
}

export function writeCmosBootOrder(cmos: CmosWriter, boot: string): { ignored: string } {
  const o = bootOrderCmos(boot);
  cmos.setCmos(0x3d, o.reg3d);
  cmos.setCmos(0x38, o.reg38);
  return { ignored: o.ignored };
}
