import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as W from '../../abi/xs-wire.js';
import { XenStore, bytesToLatin1, latin1ToBytes } from './store.js';
import { XsClient } from './client.js';
import { encodeMessage, XsFrameReader, type XsMessage } from './protocol.js';
import { XenStoreRingConnection } from './ring-connection.js';

/** The guest's half of the ring, written the way Linux's xenbus_comms does it. */
class GuestSide {
  readonly dv: DataView;
  private readonly reader = new XsFrameReader();
  received: XsMessage[] = [];
  constructor(readonly page: Uint8Array) {
    this.dv = new DataView(page.buffer, page.byteOffset, page.length);
  }
  u32(off: number): number {
    return this.dv.getUint32(off, true);
  }
  set(off: number, v: number): void {
    this.dv.setUint32(off, v >>> 0, true);
  }
  /** Writes as much of `bytes` as fits; returns how many. */
  write(bytes: Uint8Array): number {
    const cons = this.u32(W.XS_RING_REQ_CONS);
    const prod = this.u32(W.XS_RING_REQ_PROD);
    const n = Math.min(bytes.length, W.XENSTORE_RING_SIZE - ((prod - cons) >>> 0));
    for (let i = 0; i < n; i++) this.page[W.XS_RING_REQ + ((prod + i) & 1023)] = bytes[i];
    this.set(W.XS_RING_REQ_PROD, prod + n);
    return n;
  }
  read(): void {
    const cons = this.u32(W.XS_RING_RSP_CONS);
    const prod = this.u32(W.XS_RING_RSP_PROD);
    const n = (prod - cons) >>> 0;
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.page[W.XS_RING_RSP + ((cons + i) & 1023)];
    this.set(W.XS_RING_RSP_CONS, cons + n);
    this.received.push(...this.reader.push(b));
  }
}

function setup(startIndex = 0) {
  const store = new XenStore();
  const dom0 = new XsClient(store, 0);
  dom0.mkdir('/local/domain/3');
  dom0.setPerms('/local/domain/3', ['n3']);
  const mem = new Uint8Array(3 * 4096);
  const page = mem.subarray(4096, 8192);
  W.initXenStoreInterface(page, 7);
  const g = new GuestSide(page);
  for (const off of [W.XS_RING_REQ_CONS, W.XS_RING_REQ_PROD, W.XS_RING_RSP_CONS, W.XS_RING_RSP_PROD]) g.set(off, startIndex);
  let notified = 0;
  const ring = new XenStoreRingConnection(store, 3, page, () => notified++);
  return { store, dom0, mem, page, g, ring, notified: () => notified };
}

const req = (type: number, payload: string, reqId = 1, txId = 0): Uint8Array => encodeMessage({ type, reqId, txId, payload: latin1ToBytes(payload) });
const text = (m: XsMessage): string => bytesToLatin1(m.payload);

test('initPage lays out struct xenstore_domain_interface', () => {
  const { g } = setup();
  assert.equal(g.u32(W.XS_RING_SERVER_FEATURES), W.XENSTORE_SERVER_FEATURE_ERROR);
  assert.equal(g.u32(W.XS_RING_CONNECTION), W.XENSTORE_CONNECTED);
  assert.equal(g.u32(W.XS_RING_EVTCHN_PORT), 7);
  assert.equal(g.u32(W.XS_RING_ERROR), 0);
});

test('requests and replies over the ring, req_id/tx_id echoed, notify after moving indices', () => {
  const { g, ring, dom0, notified } = setup();
  g.write(req(W.XS_WRITE, 'data/k\0value', 42));
  ring.process();
  assert.equal(notified(), 1);
  g.read();
  assert.equal(g.received.length, 1);
  assert.deepEqual({ ...g.received[0], payload: text(g.received[0]) }, { type: W.XS_WRITE, reqId: 42, txId: 0, payload: 'OK\0' });
  assert.equal(dom0.read('/local/domain/3/data/k'), 'value');
  g.write(req(W.XS_READ, 'data/none\0', 43));
  ring.process();
  g.read();
  assert.equal(g.received[1].type, W.XS_ERROR);
  assert.equal(text(g.received[1]), 'ENOENT\0');
  assert.equal(g.received[1].reqId, 43);
  // Transaction id echoed.
  g.write(req(W.XS_TRANSACTION_START, '\0', 44));
  ring.process();
  g.read();
  const tx = Number(text(g.received[2]).slice(0, -1));
  g.write(req(W.XS_READ, 'data/k\0', 45, tx));
  ring.process();
  g.read();
  assert.equal(g.received[3].txId, tx);
  assert.equal(text(g.received[3]), 'value');
});

test('a request split across process() calls and ring wrap-around, replies larger than the ring', () => {
  const { g, ring, dom0 } = setup(0xfffffff0); // indices wrap past 2^32 too
  const big = 'v'.repeat(3000);
  dom0.write('/local/domain/3/big', big);
  dom0.setPerms('/local/domain/3/big', ['n3']);
  const msg = req(W.XS_READ, 'big\0', 9);
  g.write(msg.subarray(0, 7));
  ring.process();
  assert.equal(g.received.length, 0);
  g.write(msg.subarray(7));
  ring.process();
  // 3016 bytes of reply come out 1024 at a time as the guest drains.
  for (let i = 0; i < 5 && g.received.length === 0; i++) {
    g.read();
    ring.process();
  }
  assert.equal(g.received.length, 1);
  assert.equal(text(g.received[0]), big);
  assert.equal(ring.backlog, 0);
  // A 2000-byte write (the guest's node-size quota is 2048) needs two ring-fulls.
  const w = req(W.XS_WRITE, `big2\0${'w'.repeat(2000)}`, 10);
  let off = 0;
  while (off < w.length) {
    off += g.write(w.subarray(off));
    ring.process();
    g.read();
  }
  assert.equal(text(g.received[1]), 'OK\0');
  assert.equal(dom0.read('/local/domain/3/big2').length, 2000);
  assert.ok(g.u32(W.XS_RING_REQ_PROD) < 0x1000, 'request index wrapped');
});

test('watch events reach the guest through the ring, after the WATCH reply; dom0 sees guest writes', () => {
  const { g, ring, dom0, notified } = setup();
  g.write(req(W.XS_WATCH, 'control/shutdown\0sd\0', 5));
  ring.process();
  g.read();
  assert.deepEqual(g.received.map((m) => [m.type, text(m)]), [
    [W.XS_WATCH, 'OK\0'],
    [W.XS_WATCH_EVENT, 'control/shutdown\0sd\0'],
  ]);
  const before = notified();
  dom0.write('/local/domain/3/control/shutdown', 'poweroff');
  assert.equal(notified(), before + 1, 'an event caused by dom0 is pushed and signalled at once');
  g.read();
  assert.equal(text(g.received[2]), 'control/shutdown\0sd\0');
  assert.equal(g.received[2].reqId, 0);
  const seen: string[] = [];
  dom0.onWatch((e) => seen.push(e.path));
  dom0.watch('/local/domain/3/device', 'fe');
  g.write(req(W.XS_WRITE, 'device/vif/0/state\x004', 6));
  ring.process();
  assert.deepEqual(seen, ['/local/domain/3/device', '/local/domain/3/device/vif/0/state']);
});

test('garbage indices mark the connection bad without throwing', () => {
  for (const [off, v] of [
    [W.XS_RING_REQ_PROD, 5000],
    [W.XS_RING_REQ_CONS, 0x80000000],
  ] as const) {
    const { g, ring } = setup();
    g.set(off, v);
    assert.doesNotThrow(() => ring.process());
    assert.equal(ring.isBad, true);
    assert.equal(ring.connectionClosed, true);
    assert.equal(g.u32(W.XS_RING_ERROR), W.XENSTORE_ERROR_RINGIDX);
  }
  // rsp_cons beyond rsp_prod: detected when replying.
  const { g, ring } = setup();
  g.set(W.XS_RING_RSP_CONS, 0x80000000);
  g.write(req(W.XS_READ, 'x\0'));
  assert.doesNotThrow(() => ring.process());
  assert.equal(ring.isBad, true);
  // A bad ring ignores further work.
  assert.doesNotThrow(() => ring.process());
});

test('an oversized payload length is a protocol error (connection dropped)', () => {
  const { g, ring, store } = setup();
  const h = new Uint8Array(16);
  new DataView(h.buffer).setUint32(12, W.XENSTORE_PAYLOAD_MAX + 1, true);
  g.write(h);
  ring.process();
  assert.equal(ring.isBad, true);
  assert.equal(g.u32(W.XS_RING_ERROR), W.XENSTORE_ERROR_PROTO);
  // The store keeps working for everyone else.
  const c = new XsClient(store, 0);
  c.write('/still', 'ok');
  assert.equal(c.read('/still'), 'ok');
});

test('a guest that never drains rsp[] gets backpressure, not unbounded memory', () => {
  const { g, ring, dom0 } = setup();
  dom0.write('/local/domain/3/v', 'x'.repeat(2000));
  const one = req(W.XS_READ, 'v\0');
  for (let i = 0; i < 200; i++) {
    if (g.write(one) === 0) break;
    ring.process();
  }
  assert.ok(ring.backlog < 16 * 1024, `backlog ${ring.backlog}`);
  // Watch events beyond the cap are dropped.
  g.write(req(W.XS_WATCH, 'v\0t\0'));
  for (let i = 0; i < 200; i++) dom0.write('/local/domain/3/v', String(i));
  assert.ok(ring.backlog <= 64 * 1024);
  assert.equal(ring.isBad, false);
});
