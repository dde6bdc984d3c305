// Host keystrokes waiting for room in the guest's in[] ring. A guest that never
// reads its console must not make the host buffer without limit: past `capacity`
// bytes new input is dropped and counted (like a UART overrun).

export class ConsoleInputQueue {
  private readonly buf: Uint8Array;
  private head = 0;
  private count = 0;
  /** Bytes dropped because the queue was full. */
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`console input capacity ${capacity} is not a non-negative integer`);
    this.buf = new Uint8Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Appends what fits; returns how many bytes were dropped. */
  push(bytes: Uint8Array): number {
    const room = this.capacity - this.count;
    const n = Math.min(room, bytes.length);
    for (let i = 0; i < n; i++) this.buf[(this.head + this.count + i) % this.capacity] = bytes[i];
    this.count += n;
    const lost = bytes.length - n;
    this.dropped += lost;
    return lost;
  }

  /** Removes and returns up to `max` bytes from the front. */
  take(max: number): Uint8Array {
    const n = Math.max(0, Math.min(max, this.count));
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.buf[(this.head + i) % this.capacity];
    this.head = n === this.count ? 0 : (this.head + n) % this.capacity;
    this.count -= n;
    return out;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }
}
