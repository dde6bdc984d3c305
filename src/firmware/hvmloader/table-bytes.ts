// Little-endian byte writer for the firmware tables hvmloader builds (ACPI, MP,
// $PIR, SMBIOS, the SeaBIOS info block): every one of them is a packed
// little-endian structure that ends up checksummed.

export class TableBytes {
  readonly bytes: Uint8Array;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }

  get length(): number {
    return this.bytes.length;
  }

  u8(offset: number, value: number): this {
    this.bytes[offset] = value & 0xff;
    return this;
  }

  u16(offset: number, value: number): this {
    this.bytes[offset] = value & 0xff;
    this.bytes[offset + 1] = (value >>> 8) & 0xff;
    return this;
  }

  u32(offset: number, value: number): this {
    for (let i = 0; i < 4; i++) this.bytes[offset + i] = (value >>> (8 * i)) & 0xff;
    return this;
  }

  /** A u64 from a JS number (exact below 2^53; tables here never need more). */
  u64(offset: number, value: number): this {
    this.u32(offset, value >>> 0);
    return this.u32(offset + 4, Math.floor(value / 0x100000000) >>> 0);
  }

  /** ASCII text, truncated or NUL-padded to `width` bytes when given. */
  ascii(offset: number, text: string, width = text.length): this {
    for (let i = 0; i < width; i++) this.bytes[offset + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0;
    return this;
  }

  set(offset: number, data: ArrayLike<number>): this {
    this.bytes.set(data, offset);
    return this;
  }

  /** Store at `at` the byte that makes [start, end) sum to 0 mod 256. */
  checksum(at: number, start = 0, end = this.bytes.length): this {
    this.bytes[at] = 0;
    this.bytes[at] = (0x100 - byteSum(this.bytes, start, end)) & 0xff;
    return this;
  }
}

/** Sum of bytes [start, end) mod 256; a valid firmware table sums to 0. */
export function byteSum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]) & 0xff;
  return sum;
}
