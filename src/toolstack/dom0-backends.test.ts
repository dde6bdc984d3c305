// dom0's backends against a guest simulated on the other side of the Dom0Link: the
// store ring answers a guest request and notifies back, hvc0 output is drained and
// input delivered, and the domain's xenstore home appears and goes with it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as W from '../abi/xs-wire.js';
import { Dom0Link } from '../hypervisor/dom0-link.js';
import { XENCONS_IN, XENCONS_IN_PROD, XENCONS_OUT, XENCONS_OUT_CONS, XENCONS_OUT_PROD } from '../pv/console/ring-layout.js';
import { XsClient } from '../pv/xenstore/client.js';
import { encodeMessage } from '../pv/xenstore/protocol.js';
import { XenStore } from '../pv/xenstore/store.js';
import { Dom0Backends } from './dom0-backends.js';

const MEM = 1 << 20;
const BACKING = 64 << 10;
const STORE_OFF = MEM + 0x1000;
const CONSOLE_OFF = MEM + 0x2000;
const rings = { domid: 7, storeGfn: 0xfeffc, storeOffset: STORE_OFF, storeGuestPort: 1, storeDom0Port: 1, consoleGfn: 0xfefff, consoleOffset: CONSOLE_OFF, consoleGuestPort: 2, consoleDom0Port: 2 };

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ok(), what);
}

test('dom0 serves a guest store ring and hvc0 through the link, and releases the domain', async () => {
  const ram = new SharedArrayBuffer(MEM + BACKING);
  const dv = new DataView(ram);
  const bytes = new Uint8Array(ram);
  W.initXenStoreInterface(bytes.subarray(STORE_OFF, STORE_OFF + 4096), rings.storeGuestPort);
  const store = new XenStore();
  const guestSide = new Dom0Link();
  const out: number[] = [];
  let wakes = 0;
  const backends = new Dom0Backends({
    store, name: 'guest-x', memoryBytes: MEM, backingBytes: BACKING, vcpus: 1, rings, ram, link: new Dom0Link(guestSide.buffer),
    wakeWorker: () => wakes++, consoleOutput: (b) => out.push(...b), log: () => {},
  });
  const dom0 = new XsClient(store);
  try {
    assert.equal(dom0.read('/local/domain/7/name'), 'guest-x');
    assert.equal(dom0.isDomainIntroduced(7), true);

    // The guest asks for its own name (relative path) and rings dom0's store port.
    const req = encodeMessage({ type: W.XS_READ, reqId: 9, txId: 0, payload: new TextEncoder().encode('name\0') });
    bytes.set(req, STORE_OFF + W.XS_RING_REQ);
    dv.setUint32(STORE_OFF + W.XS_RING_REQ_PROD, req.length, true);
    guestSide.notifyDom0(rings.storeDom0Port);
    await until('the reply arrives in rsp[]', () => dv.getUint32(STORE_OFF + W.XS_RING_RSP_PROD, true) > 0);
    const rspLen = dv.getUint32(STORE_OFF + W.XS_RING_RSP_PROD, true);
    assert.equal(dv.getUint32(STORE_OFF + W.XS_RING_RSP, true), W.XS_READ);
    assert.equal(dv.getUint32(STORE_OFF + W.XS_RING_RSP + 4, true), 9);
    assert.equal(new TextDecoder().decode(bytes.subarray(STORE_OFF + W.XS_RING_RSP + 16, STORE_OFF + W.XS_RING_RSP + rspLen)), 'guest-x');
    assert.equal(dv.getUint32(STORE_OFF + W.XS_RING_REQ_CONS, true), req.length, 'request consumed');
    assert.deepEqual(guestSide.takeGuestSends(), [rings.storeDom0Port], 'dom0 notified the guest');
    assert.ok(wakes > 0, 'the worker was woken');

    // hvc0: output drained, then keystrokes go to in[].
    assert.equal(backends.consoleInUse, false);
    bytes.set(new TextEncoder().encode('hello'), CONSOLE_OFF + XENCONS_OUT);
    dv.setUint32(CONSOLE_OFF + XENCONS_OUT_PROD, 5, true);
    guestSide.notifyDom0(rings.consoleDom0Port);
    await until('console output drained', () => out.length === 5);
    assert.equal(new TextDecoder().decode(Uint8Array.from(out)), 'hello');
    assert.equal(dv.getUint32(CONSOLE_OFF + XENCONS_OUT_CONS, true), 5);
    assert.equal(backends.consoleInUse, true);
    backends.consoleInput(new TextEncoder().encode('ls\n'));
    assert.equal(dv.getUint32(CONSOLE_OFF + XENCONS_IN_PROD, true), 3);
    assert.equal(new TextDecoder().decode(bytes.subarray(CONSOLE_OFF + XENCONS_IN, CONSOLE_OFF + XENCONS_IN + 3)), 'ls\n');

    // A lost notification is covered by the fallback poll.
    bytes.set(new TextEncoder().encode('!'), CONSOLE_OFF + XENCONS_OUT + 5);
    dv.setUint32(CONSOLE_OFF + XENCONS_OUT_PROD, 6, true);
    await until('polled without a notification', () => out.length === 6);
  } finally {
    backends.close();
  }
  assert.equal(dom0.isDomainIntroduced(7), false);
  assert.equal(dom0.tryRead('/local/domain/7'), null, 'the home is gone');
  assert.equal(dom0.tryRead('/vm/7'), null, 'and its /vm entry');
});

test('ring offsets outside the domain memory are refused with the reason', () => {
  const ram = new SharedArrayBuffer(MEM + BACKING);
  assert.throws(
    () => new Dom0Backends({ store: new XenStore(), name: 'g', memoryBytes: MEM, backingBytes: BACKING, vcpus: 1, rings: { ...rings, storeOffset: MEM + BACKING }, ram, link: new Dom0Link(), wakeWorker: () => {}, consoleOutput: () => {}, log: () => {} }),
    /store ring at backing offset .* outside/,
  );
});

test('a snapshot carries the guest\'s nodes and watches to a restored domain (even under another domid)', async () => {
  const keepAlive = setInterval(() => {}, 1000);
  const make = (domid: number, restore?: ReturnType<Dom0Backends['snapshot']>) => {
    const ram = new SharedArrayBuffer(MEM + BACKING);
    W.initXenStoreInterface(new Uint8Array(ram, STORE_OFF, 4096), 1);
    const guestSide = new Dom0Link();
    const b = new Dom0Backends({
      store, name: 'guest-s', memoryBytes: MEM, backingBytes: BACKING, vcpus: 1, rings: { ...rings, domid }, ram, link: new Dom0Link(guestSide.buffer),
      wakeWorker: () => {}, consoleOutput: () => {}, log: () => {}, ...(restore ? { restore } : {}),
    });
    return { b, ram, dv: new DataView(ram), guestSide };
  };
  const store = new XenStore();
  const dom0 = new XsClient(store);
  const first = make(7);
  let reqProd = 0;
  const send = async (g: typeof first, type: number, text: string) => {
    const m = encodeMessage({ type, reqId: 1, txId: 0, payload: new TextEncoder().encode(text) });
    new Uint8Array(g.ram).set(m, STORE_OFF + W.XS_RING_REQ + reqProd);
    reqProd += m.length;
    const before = g.dv.getUint32(STORE_OFF + W.XS_RING_RSP_PROD, true);
    g.dv.setUint32(STORE_OFF + W.XS_RING_REQ_PROD, reqProd, true);
    g.guestSide.notifyDom0(rings.storeDom0Port);
    await until('answered', () => g.dv.getUint32(STORE_OFF + W.XS_RING_RSP_PROD, true) > before);
  };
  try {
    await send(first, W.XS_WRITE, 'data/note\0hello');
    await send(first, W.XS_WATCH, 'control/shutdown\0tok\0');
    assert.equal(dom0.read('/local/domain/7/data/note'), 'hello');
    const snap = first.b.snapshot();
    assert.deepEqual(snap.watches, [{ path: 'control/shutdown', token: 'tok' }]);
    first.b.close();

    const second = make(9, snap);
    try {
      assert.equal(dom0.read('/local/domain/9/data/note'), 'hello', 'the guest\'s node is back');
      assert.deepEqual(dom0.getPerms('/local/domain/9/data/note'), ['n9'], 'owned by the new domid');
      assert.equal(dom0.read('/local/domain/9/name'), 'guest-s');
      assert.equal(second.dv.getUint32(STORE_OFF + W.XS_RING_RSP_PROD, true), 0, 'no initial fire on restore');
      dom0.write('/local/domain/9/control/shutdown', 'poweroff');
      await until('the restored watch fires into the ring', () => second.dv.getUint32(STORE_OFF + W.XS_RING_RSP_PROD, true) > 0);
      assert.equal(second.dv.getUint32(STORE_OFF + W.XS_RING_RSP, true), W.XS_WATCH_EVENT);
    } finally {
      second.b.close();
    }
  } finally {
    clearInterval(keepAlive);
  }
});
