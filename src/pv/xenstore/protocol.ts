// The xenstored wire protocol (xs_wire.h struct xsd_sockmsg): a 16-byte little-endian
// header {type, req_id, tx_id, len} then `len` payload bytes (≤ XENSTORE_PAYLOAD_MAX).
// XsSession binds a byte stream (a guest ring or a Unix socket) to one XsConnection.

import * as W from '../../abi/xs-wire.js';
import { latin1ToBytes, type XenStore, type XsConnection } from './store.js';

export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Uint8Array;
}

export function encodeMessage(m: XsMessage): Uint8Array {
  const out = new Uint8Array(W.XSD_SOCKMSG_SIZE + m.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(W.XSD_SOCKMSG_TYPE, m.type >>> 0, true);
  dv.setUint32(W.XSD_SOCKMSG_REQ_ID, m.reqId >>> 0, true);
  dv.setUint32(W.XSD_SOCKMSG_TX_ID, m.txId >>> 0, true);
  dv.setUint32(W.XSD_SOCKMSG_LEN, m.payload.length, true);
  out.set(m.payload, W.XSD_SOCKMSG_SIZE);
  return out;
}

/** Raised by XsFrameReader for a header announcing more than XENSTORE_PAYLOAD_MAX bytes. */
export class XsProtocolError extends Error {}

/** Reassembles messages from arbitrary byte chunks; holds at most one message. */
export class XsFrameReader {
  private readonly buf = new Uint8Array(W.XSD_SOCKMSG_SIZE + W.XENSTORE_PAYLOAD_MAX);
  private used = 0;

  /** Bytes the reader still needs to finish the current message. */
  wanted(): number {
    if (this.used < W.XSD_SOCKMSG_SIZE) return W.XSD_SOCKMSG_SIZE - this.used;
    return W.XSD_SOCKMSG_SIZE + this.payloadLength() - this.used;
  }

  private payloadLength(): number {
    return new DataView(this.buf.buffer).getUint32(W.XSD_SOCKMSG_LEN, true);
  }

  /** Feeds `data`, returning every message completed; throws XsProtocolError on an oversized header. */
  push(data: Uint8Array): XsMessage[] {
    const out: XsMessage[] = [];
    let off = 0;
    while (off < data.length) {
      const n = Math.min(this.wanted(), data.length - off);
      this.buf.set(data.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === W.XSD_SOCKMSG_SIZE && this.payloadLength() > W.XENSTORE_PAYLOAD_MAX) throw new XsProtocolError('payload too long');
      if (this.used >= W.XSD_SOCKMSG_SIZE && this.wanted() === 0) {
        const dv = new DataView(this.buf.buffer);
        out.push({
          type: dv.getUint32(W.XSD_SOCKMSG_TYPE, true),
          reqId: dv.getUint32(W.XSD_SOCKMSG_REQ_ID, true),
          txId: dv.getUint32(W.XSD_SOCKMSG_TX_ID, true),
          payload: this.buf.slice(W.XSD_SOCKMSG_SIZE, this.used),
        });
        this.used = 0;
      }
    }
    return out;
  }
}

export function watchEventMessage(path: string, token: string): XsMessage {
  return { type: W.XS_WATCH_EVENT, reqId: 0, txId: 0, payload: latin1ToBytes(`${path}\0${token}\0`) };
}

/** One client's stream: requests in, replies and watch events out, in order. */
export class XsSession {
  readonly conn: XsConnection;
  private readonly reader = new XsFrameReader();

  constructor(
    private readonly store: XenStore,
    domid: number,
    /** Sends bytes to the client. */
    private readonly send: (bytes: Uint8Array) => void,
    /** The client broke the protocol; the transport must drop it. */
    private readonly drop: (reason: string) => void,
  ) {
    this.conn = store.connect(domid, (ev) => this.send(encodeMessage(watchEventMessage(ev.path, ev.token))));
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  /** Handles bytes from the client. Never throws. */
  receive(data: Uint8Array): void {
    if (this.conn.closed) return;
    let msgs: XsMessage[];
    try {
      msgs = this.reader.push(data);
    } catch {
      this.close('payload longer than XENSTORE_PAYLOAD_MAX');
      return;
    }
    for (const m of msgs) this.handle(m);
  }

  /** Handles one already-framed message. */
  handle(m: XsMessage): void {
    if (this.conn.closed) return;
    const r = this.conn.request(m.type, m.txId, m.payload);
    this.send(encodeMessage({ type: r.type, reqId: m.reqId, txId: m.txId, payload: r.payload }));
    // Events (including a new watch's first fire) follow the reply.
    this.store.flushAll();
  }

  close(reason: string): void {
    if (this.conn.closed) return;
    this.conn.close();
    this.drop(reason);
  }
}
