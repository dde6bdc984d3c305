// dom0's side of a guest's primary PV console (what xenconsoled does for Linux's
// hvc_xen; Xen public/io/console.h, docs/misc/console.txt, xen-abi.md §16).
//
// The guest writes console output into out[] and bumps out_prod, then signals the
// console event channel; process() drains out[] to the domain's console and moves
// out_cons. Host keystrokes go the other way through in[]. Everything the guest
// controls (the four indices, the frame itself) is checked: a ring that claims more
// bytes than it holds marks the console broken (logged once) and is left alone; no
// guest value makes this code throw or touch memory outside the ring page.

import { PAGE_SIZE, type GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { hex, type Gfn } from '../../hypervisor/types.js';
import { ConsoleInputQueue } from './input-queue.js';
import { restorePvConsoleState, type PvConsoleState } from './state.js';
import {
  XENCONS_IN,
  XENCONS_IN_CONS,
  XENCONS_IN_SIZE,
  XENCONS_OUT,
  XENCONS_OUT_SIZE,
} from './ring-layout.js';

/** Host input kept while in[] is full; beyond this keystrokes are dropped. */
export const CONSOLE_INPUT_CAPACITY = 4096;
/**
 * out[] refills drained per process() call: a guest refilling the ring as fast as
 * we empty it cannot keep dom0 here; the rest waits for the next signal or tick.
 */
const MAX_DRAIN_ROUNDS = 4;

// Slots of the four XENCONS_RING_IDX words in an Int32Array starting at in_cons.
const IN_CONS = 0;
const IN_PROD = 1;
const OUT_CONS = 2;
const OUT_PROD = 3;

export interface PvConsoleOptions {
  /** One line for the domain's log (e.g. the EventBus 'log' event); called once when the ring breaks. */
  log?: (message: string) => void;
  /** Bytes of host input queued while in[] is full (default CONSOLE_INPUT_CAPACITY). */
  inputCapacity?: number;
}

/** The ring page as bytes plus its index words (read and written atomically for ordering). */
interface RingView {
  bytes: Uint8Array;
  idx: Int32Array;
}

export class PvConsoleBackend {
  private readonly queue: ConsoleInputQueue;
  private readonly log: (message: string) => void;
  private broken = false;
  private outputTotal = 0;
  /** Set while servicing: notify() may loop back through the event channels into process(). */
  private busy = false;

  /**
   * @param gfn the ring frame (HVM_PARAM_CONSOLE_PFN)
   * @param notify signals the guest's console event channel (dom0's EVTCHNOP_send on its end)
   * @param out receives the guest's console output, in order
   */
  constructor(
    private readonly memory: GuestMemory,
    readonly gfn: Gfn | number,
    private readonly notify: () => void,
    private readonly out: (bytes: Uint8Array) => void,
    options: PvConsoleOptions = {},
  ) {
    this.queue = new ConsoleInputQueue(options.inputCapacity ?? CONSOLE_INPUT_CAPACITY);
    this.log = options.log ?? (() => {});
  }

  /** True once the guest corrupted the ring (or the frame is not RAM); nothing is serviced after. */
  get isBroken(): boolean {
    return this.broken;
  }

  /** Host input waiting for room in in[]. */
  get pendingInput(): number {
    return this.queue.length;
  }

  /** Host input dropped: the queue was full, or the console is broken. */
  get droppedInput(): number {
    return this.queue.dropped;
  }

  /** Bytes the guest has written to the console so far (> 0: hvc0 is in use, route keystrokes here). */
  get outputBytes(): number {
    return this.outputTotal;
  }

  save(): PvConsoleState {
    const queued = this.queue.take(this.queue.length);
    this.queue.push(queued);
    return { version: 1, broken: this.broken, pendingInput: [...queued], droppedInput: this.queue.dropped, outputBytes: this.outputTotal };
  }

  restore(state: PvConsoleState): void {
    const s = restorePvConsoleState(state, this.queue.capacity);
    this.broken = s.broken;
    this.outputTotal = s.outputBytes;
    this.queue.clear();
    this.queue.push(Uint8Array.from(s.pendingInput));
    this.queue.dropped = s.droppedInput;
  }

  /**
   * Zeroes the ring page (the domain builder, before the guest runs; Xen's toolstack
   * clears its special pages the same way). connection = 0 is XENCONSOLE_CONNECTED:
   * this backend services the ring from the start. Also forgets a previous breakage.
   */
  initPage(): void {
    this.broken = false;
    this.queue.clear();
    const ring = this.map(true);
    if (ring) ring.bytes.fill(0);
  }

  /**
   * Drains out[] to `out` and moves queued input into in[]; call when the guest
   * signals the console event channel and on a timer (a lost signal must not hang
   * the console). Notifies the guest if any index moved. Never throws on guest data.
   */
  process(): void {
    if (this.broken || this.busy) return;
    this.busy = true;
    try {
      this.service();
    } finally {
      this.busy = false;
    }
  }

  /** Host → guest bytes: into in[] while there is room, the rest queued (capped), then notify. */
  input(bytes: Uint8Array): void {
    if (this.broken) {
      this.queue.dropped += bytes.length;
      return;
    }
    if (this.busy) {
      this.queue.push(bytes); // process() in progress fills in[] before it returns
      return;
    }
    this.busy = true;
    try {
      const ring = this.map(true);
      if (!ring) {
        this.queue.dropped += bytes.length;
        return;
      }
      // Queued bytes go first (order); room freed since the last call is used before the cap applies.
      let moved = this.fillInput(ring);
      if (this.broken) return;
      let rest = bytes;
      if (this.queue.length === 0) {
        const room = this.inputRoom(ring);
        if (room < 0) return;
        const n = Math.min(room, bytes.length);
        if (n > 0) this.writeInput(ring, bytes.subarray(0, n));
        moved ||= n > 0;
        rest = bytes.subarray(n);
      }
      this.queue.push(rest);
      if (moved) this.notify();
    } finally {
      this.busy = false;
    }
  }

  private service(): void {
    const peek = this.map(false);
    if (!peek) return;
    const pending = (Atomics.load(peek.idx, OUT_PROD) - Atomics.load(peek.idx, OUT_CONS)) >>> 0;
    if (pending === 0 && this.queue.length === 0) return; // idle tick: do not dirty the page
    const ring = this.map(true);
    if (!ring) return;
    const chunks: Uint8Array[] = [];
    for (let round = 0; round < MAX_DRAIN_ROUNDS; round++) {
      const chunk = this.drainOutput(ring);
      if (!chunk || chunk.length === 0) break;
      chunks.push(chunk);
    }
    // Output first (even bytes taken before a later pass found the ring corrupted): input
    // the host queues from inside out() (an echo) still reaches in[] in this call.
    for (const bytes of chunks) {
      this.outputTotal += bytes.length;
      this.out(bytes);
    }
    if (this.broken) return;
    const refilled = this.fillInput(ring);
    if (this.broken) return;
    if (chunks.length > 0 || refilled) this.notify();
  }

  /** One pass over out[]: the bytes between out_cons and out_prod, with out_cons moved past them. */
  private drainOutput(ring: RingView): Uint8Array | undefined {
    // Read prod before the data (acquire): bytes the guest wrote before bumping out_prod are visible.
    const prod = Atomics.load(ring.idx, OUT_PROD) >>> 0;
    const cons = Atomics.load(ring.idx, OUT_CONS) >>> 0;
    const used = (prod - cons) >>> 0;
    if (used > XENCONS_OUT_SIZE) {
      this.markBroken(`out_prod ${hex(prod)} - out_cons ${hex(cons)} = ${used} exceeds out[${XENCONS_OUT_SIZE}]`);
      return undefined;
    }
    const chunk = new Uint8Array(used);
    for (let i = 0; i < used; i++) chunk[i] = ring.bytes[XENCONS_OUT + ((cons + i) & (XENCONS_OUT_SIZE - 1))];
    // Publish out_cons only after the copy (release): the guest may then overwrite those bytes.
    if (used > 0) Atomics.store(ring.idx, OUT_CONS, (cons + used) | 0);
    return chunk;
  }

  /** Moves queued input into in[] as room allows; true if in_prod moved. */
  private fillInput(ring: RingView): boolean {
    if (this.queue.length === 0) return false;
    const room = this.inputRoom(ring);
    if (room <= 0) return false;
    this.writeInput(ring, this.queue.take(room));
    return true;
  }

  /** Free bytes in in[], or -1 (console now broken) when the guest's in_cons is garbage. */
  private inputRoom(ring: RingView): number {
    const cons = Atomics.load(ring.idx, IN_CONS) >>> 0;
    const prod = Atomics.load(ring.idx, IN_PROD) >>> 0;
    const used = (prod - cons) >>> 0;
    if (used > XENCONS_IN_SIZE) {
      this.markBroken(`in_prod ${hex(prod)} - in_cons ${hex(cons)} = ${used} exceeds in[${XENCONS_IN_SIZE}]`);
      return -1;
    }
    return XENCONS_IN_SIZE - used;
  }

  /** Appends bytes (which fit: see inputRoom) at in_prod and publishes them. */
  private writeInput(ring: RingView, bytes: Uint8Array): void {
    const prod = Atomics.load(ring.idx, IN_PROD) >>> 0;
    for (let i = 0; i < bytes.length; i++) ring.bytes[XENCONS_IN + ((prod + i) & (XENCONS_IN_SIZE - 1))] = bytes[i];
    // Data before index (release): the guest reads in_prod, then the bytes.
    Atomics.store(ring.idx, IN_PROD, (prod + bytes.length) | 0);
  }

  /** The ring page through GuestMemory's bounds checks; a frame that is not RAM breaks the console. */
  private map(forWrite: boolean): RingView | undefined {
    let bytes: Uint8Array;
    try {
      // A fractional frame number would still multiply to an in-RAM address: refuse it here.
      if (!Number.isInteger(this.gfn)) throw new RangeError(`frame number ${this.gfn} is not an integer`);
      bytes = this.memory.view(this.gfn * PAGE_SIZE, PAGE_SIZE, forWrite);
    } catch (e) {
      this.markBroken(`ring frame ${hex(this.gfn)} is not ${forWrite ? 'writable ' : ''}guest RAM (${(e as Error).message})`);
      return undefined;
    }
    // Frames sit page-aligned in the backing store, so the index words are 4-byte aligned.
    return { bytes, idx: new Int32Array(bytes.buffer, bytes.byteOffset + XENCONS_IN_CONS, 4) };
  }

  private markBroken(reason: string): void {
    if (this.broken) return;
    this.broken = true;
    this.queue.dropped += this.queue.length;
    this.queue.clear();
    this.log(`pv console (ring frame ${hex(this.gfn)}): ${reason}; console disabled until the domain is rebuilt`);
  }
}
