// A guest's xenstore ring (xs_wire.h struct xenstore_domain_interface, one page at
// HVM_PARAM_STORE_PFN; docs/misc/xenstore-ring.txt): the guest produces requests in
// req[], we produce replies and watch events in rsp[]. Indices are free-running u32,
// byte i lives at i mod 1024. Every index is checked: a guest that claims more than a
// ring's worth of data gets its connection marked bad, never a host exception.

import * as W from '../../abi/xs-wire.js';
import type { XenStore, XsConnection } from './store.js';
import { XsSession } from './protocol.js';

/** Replies waiting for ring space; past this we stop taking requests (backpressure). */
const REQUEST_BACKLOG = 8 * 1024;
/** Watch events beyond this backlog are dropped (the guest is not draining its ring). */
const EVENT_BACKLOG = 64 * 1024;

export class XenStoreRingConnection {
  private readonly dv: DataView;
  private readonly session: XsSession;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private bad = false;
  private pumping = false;
  /** Watch events dropped because the guest did not drain its ring. */
  droppedEvents = 0;

  /**
   * @param page the guest's xenstore page (≥ 2080 bytes, e.g. GuestMemory.view(gfn << 12, 4096, true))
   * @param notify signals the guest (the store event channel) after we moved an index
   */
  constructor(
    store: XenStore,
    readonly domid: number,
    private readonly page: Uint8Array,
    private readonly notify: () => void,
  ) {
    if (page.length < W.XS_RING_INTERFACE_SIZE) throw new RangeError('xenstore page too small');
    this.dv = new DataView(page.buffer, page.byteOffset, W.XS_RING_INTERFACE_SIZE);
    this.session = new XsSession(store, domid, (b) => this.enqueue(b), () => {});
  }

  get isBad(): boolean {
    return this.bad;
  }

  /** The store connection the guest's requests run on (its watches, for save/restore). */
  get connection(): XsConnection {
    return this.session.conn;
  }

  get connectionClosed(): boolean {
    return this.session.closed;
  }

  /** Bytes of replies/events waiting for room in rsp[]. */
  get backlog(): number {
    return this.outBytes;
  }

  /** Call when the guest signals the store event channel. Never throws. */
  process(): void {
    if (this.bad || this.session.closed) return;
    let moved = this.drainOutput();
    while (!this.bad && !this.session.closed && this.outBytes < REQUEST_BACKLOG) {
      const cons = this.dv.getUint32(W.XS_RING_REQ_CONS, true);
      const prod = this.dv.getUint32(W.XS_RING_REQ_PROD, true);
      const avail = (prod - cons) >>> 0;
      if (avail > W.XENSTORE_RING_SIZE) return this.markBad(W.XENSTORE_ERROR_RINGIDX);
      if (avail === 0) break;
      const chunk = new Uint8Array(avail);
      for (let i = 0; i < avail; i++) chunk[i] = this.page[W.XS_RING_REQ + ((cons + i) & (W.XENSTORE_RING_SIZE - 1))];
      this.dv.setUint32(W.XS_RING_REQ_CONS, (cons + avail) >>> 0, true);
      moved = true;
      this.pumping = true; // replies queue up; one drain after the batch
      this.session.receive(chunk);
      this.pumping = false;
      if (this.session.closed) return this.markBad(W.XENSTORE_ERROR_PROTO);
      if (this.drainOutput()) moved = true;
    }
    if (moved && !this.bad) this.notify();
  }

  private enqueue(bytes: Uint8Array): void {
    if (this.bad) return;
    const isEvent = bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) === W.XS_WATCH_EVENT;
    if (isEvent && this.outBytes + bytes.length > EVENT_BACKLOG) {
      this.droppedEvents++;
      return;
    }
    this.out.push(bytes);
    this.outBytes += bytes.length;
    // Events raised by other clients' requests must reach the guest now.
    if (!this.pumping && this.drainOutput() && !this.bad) this.notify();
  }

  /** Copies queued output into rsp[] as space allows; true if rsp_prod moved. */
  private drainOutput(): boolean {
    if (this.bad || this.outBytes === 0) return false;
    const cons = this.dv.getUint32(W.XS_RING_RSP_CONS, true);
    const prod = this.dv.getUint32(W.XS_RING_RSP_PROD, true);
    const used = (prod - cons) >>> 0;
    if (used > W.XENSTORE_RING_SIZE) {
      this.markBad(W.XENSTORE_ERROR_RINGIDX);
      return false;
    }
    let space = W.XENSTORE_RING_SIZE - used;
    let p = prod;
    while (space > 0 && this.out.length > 0) {
      const head = this.out[0];
      const n = Math.min(space, head.length);
      for (let i = 0; i < n; i++) this.page[W.XS_RING_RSP + ((p + i) & (W.XENSTORE_RING_SIZE - 1))] = head[i];
      p = (p + n) >>> 0;
      space -= n;
      this.outBytes -= n;
      if (n === head.length) this.out.shift();
      else this.out[0] = head.subarray(n);
    }
    if (p === prod) return false;
    this.dv.setUint32(W.XS_RING_RSP_PROD, p, true);
    return true;
  }

  /** Gives up on the guest's ring: reports why in the page's error field and closes the connection. */
  private markBad(error: number): void {
    if (this.bad) return;
    this.bad = true;
    this.out = [];
    this.outBytes = 0;
    this.dv.setUint32(W.XS_RING_ERROR, error, true);
    this.session.close('bad ring');
    this.notify();
  }
}
