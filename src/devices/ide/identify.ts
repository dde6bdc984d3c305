// IDENTIFY DEVICE (disk) and IDENTIFY PACKET DEVICE (CD) data, 256 words
// (ATA/ATAPI-6 §8.15-8.16; the word list in pc-platform §6.3 and §6.6).

export const MAX_MULTIPLE_SECTORS = 16;
const LBA28_LIMIT = 0x0fffffff;

/** Identity strings: two chars per word, the first in bits 15:8, space padded (ATA-6 §8.15.10). */
export function putString(words: Uint16Array, first: number, wordCount: number, text: string): void {
  for (let i = 0; i < wordCount; i++) {
    const a = text.charCodeAt(2 * i);
    const b = text.charCodeAt(2 * i + 1);
    const hi = Number.isNaN(a) ? 0x20 : a & 0x7f;
    const lo = Number.isNaN(b) ? 0x20 : b & 0x7f;
    words[first + i] = (hi << 8) | lo;
  }
}

/** The logical CHS geometry a disk reports (words 1/3/6): 16 heads, 63 sectors. */
export interface Geometry {
  cylinders: number;
  heads: number;
  sectors: number;
}

export function defaultGeometry(totalSectors: number): Geometry {
  const heads = 16;
  const sectors = 63;
  const cylinders = Math.max(1, Math.min(16383, Math.floor(totalSectors / (heads * sectors))));
  return { cylinders, heads, sectors };
}

export interface DiskIdentity {
  serial: string;
  model: string;
  firmware: string;
  totalSectors: number;
  geometry: Geometry;
  /** Current CHS translation (INITIALIZE DEVICE PARAMETERS). */
  current: Geometry;
  multipleSectors: number;
  /** Selected transfer modes: MWDMA n (-1 none), UDMA n (-1 none). */
  mwdmaMode: number;
  udmaMode: number;
  writeCache: boolean;
}

export function diskIdentify(id: DiskIdentity): Uint16Array {
  const w = new Uint16Array(256);
  w[0] = 0x0040; // ATA device, fixed
  w[1] = id.geometry.cylinders;
  w[3] = id.geometry.heads;
  w[6] = id.geometry.sectors;
  putString(w, 10, 10, id.serial);
  putString(w, 23, 4, id.firmware);
  putString(w, 27, 20, id.model);
  w[47] = 0x8000 | MAX_MULTIPLE_SECTORS;
  w[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
  w[50] = 0x4000;
  w[51] = 0x0200; // PIO timing mode 2 (obsolete field, as drives fill it)
  w[53] = 0x0007; // words 54-58, 64-70 and 88 valid
  const cur = id.current;
  const curCyl = Math.max(1, Math.min(65535, Math.floor(Math.min(id.totalSectors, LBA28_LIMIT) / (cur.heads * cur.sectors))));
  w[54] = curCyl;
  w[55] = cur.heads;
  w[56] = cur.sectors;
  const curCap = curCyl * cur.heads * cur.sectors;
  w[57] = curCap & 0xffff;
  w[58] = Math.floor(curCap / 0x10000) & 0xffff;
  w[59] = id.multipleSectors > 0 ? 0x0100 | id.multipleSectors : 0;
  const lba28 = Math.min(id.totalSectors, LBA28_LIMIT);
  w[60] = lba28 & 0xffff;
  w[61] = Math.floor(lba28 / 0x10000);
  w[63] = 0x0007 | (id.mwdmaMode >= 0 ? 1 << (8 + id.mwdmaMode) : 0); // MWDMA 0-2
  w[64] = 0x0003; // PIO 3-4
  w[65] = w[66] = w[67] = w[68] = 120;
  w[80] = 0x00f0; // ATA-4 .. ATA-7
  w[82] = (1 << 14) | (1 << 5); // NOP, write cache
  w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH EXT, FLUSH, LBA48
  w[84] = 1 << 14;
  w[85] = (1 << 14) | (id.writeCache ? 1 << 5 : 0);
  w[86] = (1 << 13) | (1 << 12) | (1 << 10);
  w[87] = 1 << 14;
  w[88] = 0x003f | (id.udmaMode >= 0 ? 1 << (8 + id.udmaMode) : 0);
  w[93] = 0x6001;
  let n = id.totalSectors;
  for (let i = 100; i <= 103; i++) {
    w[i] = n % 0x10000;
    n = Math.floor(n / 0x10000);
  }
  return w;
}

export interface PacketIdentity {
  serial: string;
  model: string;
  firmware: string;
  mwdmaMode: number;
  udmaMode: number;
}

export function packetIdentify(id: PacketIdentity): Uint16Array {
  const w = new Uint16Array(256);
  // ATAPI, CD-ROM (type 5), removable, DRQ within 50 us (bits 6:5 = 10b), 12-byte CDBs.
  w[0] = 0x85c0;
  putString(w, 10, 10, id.serial);
  putString(w, 23, 4, id.firmware);
  putString(w, 27, 20, id.model);
  w[49] = (1 << 9) | (1 << 8); // LBA, DMA
  w[53] = 0x0007;
  w[62] = 0x0007;
  w[63] = 0x0007 | (id.mwdmaMode >= 0 ? 1 << (8 + id.mwdmaMode) : 0);
  w[64] = 0x0003;
  w[65] = w[66] = w[67] = w[68] = 120;
  w[71] = 30;
  w[72] = 30;
  w[80] = 0x001e; // ATA-1 .. ATA-4
  w[82] = (1 << 14) | (1 << 4); // NOP, PACKET
  w[83] = 1 << 14;
  w[84] = 1 << 14;
  w[85] = (1 << 14) | (1 << 4);
  w[87] = 1 << 14;
  w[88] = 0x003f | (id.udmaMode >= 0 ? 1 << (8 + id.udmaMode) : 0);
  w[93] = 0x6001;
  return w;
}

/** Copy identify words into a byte buffer, little endian, as the data register delivers them. */
export function identifyBytes(words: Uint16Array, dest: Uint8Array): void {
  for (let i = 0; i < 256; i++) {
    dest[2 * i] = words[i] & 0xff;
    dest[2 * i + 1] = words[i] >>> 8;
  }
}

/** SET FEATURES 03h (set transfer mode): the mode value in the count register (ATA-6 §8.37.10). */
export function transferModeValid(value: number): 'pio' | 'mwdma' | 'udma' | null {
  const mode = value >>> 3;
  const n = value & 7;
  if (value === 0 || value === 1) return 'pio';
  if (mode === 1 && n <= 4) return 'pio';
  if (mode === 4 && n <= 2) return 'mwdma';
  if (mode === 8 && n <= 5) return 'udma';
  return null;
}
