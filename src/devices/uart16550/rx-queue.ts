// Bytes received from the host and not yet read by the guest. The first 16 (the
// 16550A's RX FIFO, 1 in 16450 mode) are what the guest can see; the rest wait
// on the host side, which the guest cannot tell apart from bytes still arriving
// on the wire. The capacity bounds what a host (or a guest in loopback) can queue.

export class RxQueue {
  private readonly buf: Uint8Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** False (byte dropped) when full. */
  push(byte: number): boolean {
    if (this.count >= this.capacity) return false;
    this.buf[(this.head + this.count) % this.capacity] = byte;
    this.count++;
    return true;
  }

  /** Oldest byte, or -1 when empty. */
  shift(): number {
    if (this.count === 0) return -1;
    const v = this.buf[this.head];
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return v;
  }

  /** Drop up to `n` oldest bytes. */
  drop(n: number): void {
    const k = Math.min(n, this.count);
    this.head = (this.head + k) % this.capacity;
    this.count -= k;
  }

  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.buf[(this.head + i) % this.capacity]);
    return out;
  }
}
