// Event channels across threads (ARCHITECTURE.md "Events cross threads through shared
// memory"): a domain's worker plays Xen for that domain, while dom0's backends
// (xenstored, the PV console, later blkback/netback) run in the main thread. An
// interdomain channel between the guest and dom0 therefore crosses threads here:
//
//   guest EVTCHNOP_send → worker: dom0's port pending → notifyDom0(port) sets a bit and
//     bumps DOM0_BELL (dom0 waits on it with Atomics.waitAsync, never blocking);
//   dom0 backend notify → sendFromDom0(port) sets a bit and bumps GUEST_BELL; the worker
//     polls GUEST_BELL between vCPU slices (one Atomics.load) and does dom0's
//     EVTCHNOP_send on that port, which raises the guest's end as usual. dom0 also rings
//     the worker's doorbell so an idle (halted) guest wakes at once.
//
// No postMessage on this path. Ports are dom0's port numbers in the domain's
// EventChannels for dom0 (1024 of them: the 2-level ABI's 32-bit limit).

/** dom0 ports the link can carry. */
export const DOM0_LINK_PORTS = 1024;

const BITMAP_WORDS = DOM0_LINK_PORTS / 32;
/** Bumped by the worker when it sets a bit in TO_DOM0; dom0 waits on it. */
const DOM0_BELL = 0;
/** Bumped by dom0 when it sets a bit in TO_GUEST; the worker polls it. */
const GUEST_BELL = 1;
const TO_DOM0 = 2;
const TO_GUEST = TO_DOM0 + BITMAP_WORDS;
const WORDS = TO_GUEST + BITMAP_WORDS;

export class Dom0Link {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  /** GUEST_BELL value the worker last drained at. */
  private guestSeen = 0;

  constructor(existing?: SharedArrayBuffer) {
    if (existing && existing.byteLength !== WORDS * 4) throw new RangeError(`dom0 link buffer has ${existing.byteLength} bytes, expected ${WORDS * 4}`);
    this.buffer = existing ?? new SharedArrayBuffer(WORDS * 4);
    this.words = new Int32Array(this.buffer);
  }

  // ---- the worker's side (the domain's "Xen") ----

  /** dom0's `port` became pending: tell dom0's backends. */
  notifyDom0(port: number): void {
    if (!validPort(port)) return;
    Atomics.or(this.words, TO_DOM0 + (port >>> 5), 1 << (port & 31));
    Atomics.add(this.words, DOM0_BELL, 1);
    Atomics.notify(this.words, DOM0_BELL);
  }

  /** True when dom0 sent on a port since the last takeGuestSends() (cheap: one load). */
  get guestSendsPending(): boolean {
    return Atomics.load(this.words, GUEST_BELL) !== this.guestSeen;
  }

  /** The dom0 ports dom0 sent on since the last call, each once. */
  takeGuestSends(): number[] {
    this.guestSeen = Atomics.load(this.words, GUEST_BELL);
    return this.takeBits(TO_GUEST);
  }

  // ---- dom0's side (main thread) ----

  /** A backend notifies the guest through dom0's `port`. The caller also wakes the worker. */
  sendFromDom0(port: number): void {
    if (!validPort(port)) return;
    Atomics.or(this.words, TO_GUEST + (port >>> 5), 1 << (port & 31));
    Atomics.add(this.words, GUEST_BELL, 1);
  }

  /** dom0's ports the guest raised since the last call, each once. */
  takeDom0Ports(): number[] {
    return this.takeBits(TO_DOM0);
  }

  /** The DOM0_BELL value; pass it to waitForDom0(). */
  get dom0Bell(): number {
    return Atomics.load(this.words, DOM0_BELL);
  }

  /**
   * Resolves when DOM0_BELL moves past `seen` (or after `timeoutMs`), without
   * blocking the thread: Atomics.waitAsync. A pending wait does not keep Node's
   * event loop alive by itself (dom0's worker handles do).
   */
  waitForDom0(seen: number, timeoutMs: number): Promise<unknown> {
    const r = Atomics.waitAsync(this.words, DOM0_BELL, seen, timeoutMs);
    return r.async ? r.value : Promise.resolve(r.value);
  }

  /** Wakes a pending waitForDom0 (dom0 shutting the backends down). */
  wakeDom0(): void {
    Atomics.add(this.words, DOM0_BELL, 1);
    Atomics.notify(this.words, DOM0_BELL);
  }

  private takeBits(base: number): number[] {
    const ports: number[] = [];
    for (let w = 0; w < BITMAP_WORDS; w++) {
      if (Atomics.load(this.words, base + w) === 0) continue;
      let bits = Atomics.exchange(this.words, base + w, 0);
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits & -bits);
        ports.push(w * 32 + bit);
        bits &= bits - 1;
      }
    }
    return ports;
  }
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port < DOM0_LINK_PORTS;
}
