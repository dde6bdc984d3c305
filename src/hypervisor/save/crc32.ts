// CRC-32 as zlib/PNG/Ethernet define it (reflected polynomial 0xEDB88320, initial
// and final XOR 0xFFFFFFFF): each save-image record carries one, so a flipped bit
// anywhere is reported as a corrupt record rather than restored into a guest.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = ~seed;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
