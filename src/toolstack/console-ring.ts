// A single-producer single-consumer byte ring in a SharedArrayBuffer: console input
// from dom0 (main thread) to a domain's worker. The worker's event loop is busy
// running the guest, so a postMessage per keystroke would sit unread; the worker
// drains this ring between run() slices instead. The capacity is fixed: a writer
// that finds it full gets a short count and keeps the rest (nothing is overwritten).

const HEAD = 0; // total bytes written (wraps at 2^32), written by the producer only
const TAIL = 1; // total bytes read (wraps at 2^32), written by the consumer only
const HEADER_BYTES = 8;

export class ConsoleRing {
  readonly buffer: SharedArrayBuffer;
  private readonly index: Int32Array;
  private readonly data: Uint8Array;
  readonly capacity: number;

  /** `capacity` must be a power of two. Pass `existing` to view a ring made elsewhere. */
  constructor(capacityOrBuffer: number | SharedArrayBuffer) {
    if (typeof capacityOrBuffer === 'number') {
      const cap = capacityOrBuffer;
      if (!Number.isInteger(cap) || cap < 16 || (cap & (cap - 1)) !== 0) throw new RangeError(`ring capacity ${cap} is not a power of two >= 16`);
      this.buffer = new SharedArrayBuffer(HEADER_BYTES + cap);
    } else {
      this.buffer = capacityOrBuffer;
    }
    this.capacity = this.buffer.byteLength - HEADER_BYTES;
    if (this.capacity < 16 || (this.capacity & (this.capacity - 1)) !== 0) throw new RangeError(`ring buffer of ${this.buffer.byteLength} bytes has a bad size`);
    this.index = new Int32Array(this.buffer, 0, 2);
    this.data = new Uint8Array(this.buffer, HEADER_BYTES);
  }

  /** Bytes waiting to be read. */
  get length(): number {
    return (Atomics.load(this.index, HEAD) - Atomics.load(this.index, TAIL)) >>> 0;
  }

  /** Producer: copies as much of `bytes` as fits; returns how many bytes were taken. */
  write(bytes: Uint8Array): number {
    const head = Atomics.load(this.index, HEAD) >>> 0;
    const tail = Atomics.load(this.index, TAIL) >>> 0;
    const free = this.capacity - ((head - tail) >>> 0);
    const n = Math.min(free, bytes.length);
    const mask = this.capacity - 1;
    for (let i = 0; i < n; i++) this.data[(head + i) & mask] = bytes[i];
    // The store to HEAD publishes the bytes (Atomics are sequentially consistent).
    Atomics.store(this.index, HEAD, (head + n) | 0);
    return n;
  }

  /** Consumer: takes up to `max` waiting bytes (a new array), or null when empty. */
  read(max = this.capacity): Uint8Array | null {
    const head = Atomics.load(this.index, HEAD) >>> 0;
    const tail = Atomics.load(this.index, TAIL) >>> 0;
    const n = Math.min((head - tail) >>> 0, max);
    if (n === 0) return null;
    const out = new Uint8Array(n);
    const mask = this.capacity - 1;
    for (let i = 0; i < n; i++) out[i] = this.data[(tail + i) & mask];
    Atomics.store(this.index, TAIL, (tail + n) | 0);
    return out;
  }
}
