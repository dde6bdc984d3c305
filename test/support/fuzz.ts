// Deterministic streams and fingerprints for the fuzz and random-state tests: a fixed
// seed replays a failure exactly. Marsaglia's xorshift32 (shifts 13, 17, 5).

/** A stream of uint32 values from `seed` (0 is replaced by 1: xorshift has no zero state). */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** FNV-1a (32-bit) of `bytes`: a cheap fingerprint to show memory was left untouched. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
