import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as W from '../../abi/xs-wire.js';
import { XenStore, bytesToLatin1, latin1ToBytes } from './store.js';
import { XsClient } from './client.js';
import { encodeMessage, XsFrameReader, XsSession, type XsMessage } from './protocol.js';
import { XenStoreRingConnection } from './ring-connection.js';
import { xorshift32 } from '../../../test/support/fuzz.js';

/** A reproducible stream for the fuzzers, with the helpers they use. */
function rng(seed: number) {
  const next = xorshift32(seed);
  return { next, below: (n: number) => next() % n, pick: <T>(a: readonly T[]): T => a[next() % a.length] };
}

test('frame reader: header/payload split anywhere, several messages in one chunk', () => {
  const a = encodeMessage({ type: W.XS_READ, reqId: 1, txId: 2, payload: latin1ToBytes('/a\0') });
  const b = encodeMessage({ type: W.XS_WRITE, reqId: 3, txId: 0, payload: latin1ToBytes('/b\0v') });
  const all = new Uint8Array([...a, ...b]);
  for (let cut = 0; cut <= all.length; cut++) {
    const r = new XsFrameReader();
    const got = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))];
    assert.deepEqual(got.map((m) => [m.type, m.reqId, m.txId, bytesToLatin1(m.payload)]), [
      [W.XS_READ, 1, 2, '/a\0'],
      [W.XS_WRITE, 3, 0, '/b\0v'],
    ]);
  }
  const r = new XsFrameReader();
  const zero = encodeMessage({ type: W.XS_RESET_WATCHES, reqId: 7, txId: 0, payload: new Uint8Array(0) });
  assert.equal(r.push(zero).length, 1, 'empty payload');
});

test('session: replies echo type/req_id/tx_id; errors as "ENAME\\0"; oversized length drops the client', () => {
  const store = new XenStore();
  const sent: XsMessage[] = [];
  const reader = new XsFrameReader();
  let dropped = '';
  const s = new XsSession(store, 0, (b) => sent.push(...reader.push(b)), (why) => (dropped = why));
  s.receive(encodeMessage({ type: W.XS_WRITE, reqId: 11, txId: 0, payload: latin1ToBytes('/x\0y') }));
  s.receive(encodeMessage({ type: W.XS_READ, reqId: 12, txId: 0, payload: latin1ToBytes('/nope\0') }));
  s.receive(encodeMessage({ type: W.XS_WATCH, reqId: 13, txId: 0, payload: latin1ToBytes('/x\0tk\0') }));
  assert.deepEqual(sent.map((m) => [m.type, m.reqId, bytesToLatin1(m.payload)]), [
    [W.XS_WRITE, 11, 'OK\0'],
    [W.XS_ERROR, 12, 'ENOENT\0'],
    [W.XS_WATCH, 13, 'OK\0'],
    [W.XS_WATCH_EVENT, 0, '/x\0tk\0'],
  ]);
  const h = new Uint8Array(16);
  new DataView(h.buffer).setUint32(12, 5000, true);
  s.receive(h);
  assert.match(dropped, /XENSTORE_PAYLOAD_MAX/);
  assert.equal(s.closed, true);
});

const WORDS = ['/', '/local', '/local/domain', '/local/domain/4', 'data', 'data/a', 'device/vbd/768', 'control/shutdown', '@introduceDomain', '@releaseDomain', '/tool', 'x//y', '', 'a/', '/local/domain/0/backend', '4', '0', 'T', 'F', 'r4', 'b0', 'n4', 'w9', 'zz', '99999'];

function randomPayload(r: ReturnType<typeof rng>): Uint8Array {
  switch (r.below(4)) {
    case 0: {
      // Random bytes.
      const b = new Uint8Array(r.below(64));
      for (let i = 0; i < b.length; i++) b[i] = r.below(256);
      return b;
    }
    case 1:
      return new Uint8Array(r.below(4097));
    default: {
      // Plausible strings, NUL separated, sometimes unterminated.
      const parts = Array.from({ length: 1 + r.below(4) }, () => r.pick(WORDS));
      return latin1ToBytes(parts.join('\0') + (r.below(4) ? '\0' : ''));
    }
  }
}

test('protocol fuzz: 5000 random messages from dom0 and a guest never throw and always get a reply', () => {
  const r = rng(0x5eed);
  const store = new XenStore();
  const admin = new XsClient(store, 0);
  admin.mkdir('/local/domain/4');
  admin.setPerms('/local/domain/4', ['n4']);
  for (const domid of [0, 4]) {
    const sent: XsMessage[] = [];
    const reader = new XsFrameReader();
    const s = new XsSession(store, domid, (b) => sent.push(...reader.push(b)), () => {});
    for (let i = 0; i < 2500; i++) {
      const type = r.below(10) === 0 ? r.next() : r.below(W.XS_TYPE_COUNT + 2);
      const txId = r.below(3) === 0 ? r.below(5) : 0;
      const reqId = i + 1;
      const before = sent.filter((m) => m.type !== W.XS_WATCH_EVENT).length;
      assert.doesNotThrow(() => s.receive(encodeMessage({ type, reqId, txId, payload: randomPayload(r) })));
      const replies = sent.filter((m) => m.type !== W.XS_WATCH_EVENT);
      assert.equal(replies.length, before + 1, `one reply to message ${i}`);
      const last = replies.at(-1)!;
      assert.equal(last.reqId, reqId);
      assert.ok(last.type === (type >>> 0) || last.type === W.XS_ERROR);
      if (last.type === W.XS_ERROR) assert.ok((W.XSD_ERRORS as readonly string[]).includes(bytesToLatin1(last.payload).replace(/\0$/, '')), bytesToLatin1(last.payload));
      assert.ok(last.payload.length <= W.XENSTORE_PAYLOAD_MAX);
    }
    assert.equal(s.closed, false);
  }
  // The store is still coherent afterwards.
  admin.write('/after', 'fuzz');
  assert.equal(admin.read('/after'), 'fuzz');
});

test('ring fuzz: random bytes and random index values never throw out of the ring', () => {
  const r = rng(0xbad);
  for (let round = 0; round < 300; round++) {
    const store = new XenStore();
    const page = new Uint8Array(4096);
    W.initXenStoreInterface(page, 0);
    const ring = new XenStoreRingConnection(store, 4, page, () => {});
    const dv = new DataView(page.buffer);
    for (let step = 0; step < 10; step++) {
      if (r.below(3) === 0) dv.setUint32(W.XS_RING_REQ_CONS + 4 * r.below(4), r.below(3) ? r.below(2048) : r.next(), true);
      for (let i = 0; i < 64; i++) page[r.below(2048)] = r.below(256);
      const prod = dv.getUint32(W.XS_RING_REQ_PROD, true);
      dv.setUint32(W.XS_RING_REQ_PROD, prod + r.below(64), true);
      assert.doesNotThrow(() => ring.process());
    }
  }
});
