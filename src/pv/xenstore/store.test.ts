import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore, latin1ToBytes, type XsWatchEvent } from './store.js';
import { XsClient } from './client.js';
import { XsError } from './path.js';
import * as W from '../../abi/xs-wire.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof XsError) return e.code;
    throw e;
  }
  return 'OK';
};

function setup() {
  const store = new XenStore();
  const dom0 = new XsClient(store, 0);
  dom0.mkdir('/local/domain/5');
  dom0.setPerms('/local/domain/5', ['n5']);
  dom0.mkdir('/local/domain/6');
  dom0.setPerms('/local/domain/6', ['n6']);
  const g5 = new XsClient(store, 5);
  const g6 = new XsClient(store, 6);
  return { store, dom0, g5, g6 };
}

test('write creates parents with empty values; read, directory, rm of subtrees', () => {
  const { dom0 } = setup();
  dom0.write('/a/b/c', 'hello');
  assert.equal(dom0.read('/a/b/c'), 'hello');
  assert.equal(dom0.read('/a/b'), '');
  assert.deepEqual(dom0.directory('/a'), ['b']);
  dom0.write('/a/b/d', '');
  assert.deepEqual(dom0.directory('/a/b').sort(), ['c', 'd']);
  assert.deepEqual(dom0.directory('/a/b/c'), []);
  dom0.rm('/a/b');
  assert.equal(code(() => dom0.read('/a/b/c')), 'ENOENT');
  assert.deepEqual(dom0.directory('/a'), []);
  assert.equal(code(() => dom0.rm('/a/b')), 'OK', 'missing node with existing parent');
  assert.equal(code(() => dom0.rm('/x/y')), 'ENOENT', 'missing parent');
  assert.equal(code(() => dom0.rm('/')), 'EINVAL');
  assert.equal(code(() => dom0.read('/nope')), 'ENOENT');
});

test('values are byte-exact, including NULs', () => {
  const { dom0 } = setup();
  const v = new Uint8Array([0, 1, 255, 0, 7]);
  dom0.write('/bin', v);
  assert.deepEqual(dom0.readBytes('/bin'), v);
});

test('mkdir: creates parents, existing node is fine and keeps its value', () => {
  const { dom0 } = setup();
  dom0.mkdir('/m/n/o');
  assert.equal(dom0.read('/m/n/o'), '');
  dom0.write('/m/n', 'v');
  dom0.mkdir('/m/n');
  assert.equal(dom0.read('/m/n'), 'v');
});

test('illegal paths give EINVAL', () => {
  const { dom0 } = setup();
  for (const p of ['', '/a//b', '/a/', 'a b', '/a\u00e9', '/' + 'x'.repeat(3072)]) assert.equal(code(() => dom0.write(p, 'v')), 'EINVAL', p);
  assert.equal(code(() => dom0.read('/')), 'OK');
});

test('relative paths resolve under /local/domain/<caller>', () => {
  const { dom0, g5 } = setup();
  g5.write('data/x', '1');
  assert.equal(dom0.read('/local/domain/5/data/x'), '1');
  assert.equal(g5.getDomainPath(5), '/local/domain/5');
  assert.equal(code(() => g5.getDomainPath(0x8000)), 'EINVAL');
});

test('permissions: a guest cannot read or write another domain, dom0 can', () => {
  const { dom0, g5, g6 } = setup();
  g5.write('secret', 's');
  assert.equal(code(() => g6.read('/local/domain/5/secret')), 'EACCES');
  assert.equal(code(() => g6.write('/local/domain/5/secret', 'x')), 'EACCES');
  assert.equal(code(() => g6.write('/local/domain/5/new', 'x')), 'EACCES');
  assert.equal(code(() => g6.rm('/local/domain/5/secret')), 'EACCES');
  assert.equal(code(() => g6.directory('/local/domain/5')), 'EACCES');
  assert.equal(code(() => g6.read('/local/domain/5/missing')), 'EACCES', 'no existence leak');
  assert.equal(dom0.read('/local/domain/5/secret'), 's');
  // A node created by a guest is owned by it and inherits the parent's other entries.
  assert.deepEqual(dom0.getPerms('/local/domain/5/secret'), ['n5']);
  // The owner grants read to 6; 6 still may not write.
  g5.setPerms('secret', ['n5', 'r6']);
  assert.equal(g6.read('/local/domain/5/secret'), 's');
  assert.equal(code(() => g6.write('/local/domain/5/secret', 'x')), 'EACCES');
  // Only dom0 may change the owner; only the owner may change perms.
  assert.equal(code(() => g5.setPerms('secret', ['n6'])), 'EPERM');
  assert.equal(code(() => g6.setPerms('/local/domain/5/secret', ['b6'])), 'EACCES');
  dom0.setPerms('/local/domain/5/secret', ['b6']);
  assert.equal(code(() => g5.read('secret')), 'OK', 'default access b');
  assert.equal(code(() => dom0.setPerms('/local/domain/5/secret', ['x5'])), 'EINVAL');
  assert.equal(code(() => dom0.setPerms('/nope', ['n0'])), 'ENOENT');
  // Guests cannot write outside their tree (root is n0).
  assert.equal(code(() => g5.write('/evil', 'x')), 'EACCES');
  assert.equal(code(() => g5.introduce(7, 1, 1)), 'EACCES');
});

test('transactions: isolation, commit, abort, conflict EAGAIN and retry', () => {
  const { dom0, g5 } = setup();
  dom0.write('/t/a', '1');
  const tx = dom0.transactionStart();
  dom0.write('/t/a', '2', tx);
  dom0.write('/t/new', 'n', tx);
  assert.equal(dom0.read('/t/a', tx), '2');
  assert.equal(dom0.read('/t/a'), '1', 'not visible outside before commit');
  assert.equal(dom0.tryRead('/t/new'), null);
  dom0.transactionEnd(tx);
  assert.equal(dom0.read('/t/a'), '2');
  assert.equal(dom0.read('/t/new'), 'n');

  const ab = dom0.transactionStart();
  dom0.write('/t/a', 'aborted', ab);
  dom0.transactionEnd(ab, false);
  assert.equal(dom0.read('/t/a'), '2');
  assert.equal(code(() => dom0.read('/t/a', ab)), 'ENOENT', 'ended transaction is gone');

  // Conflict: the transaction read /t/a, someone else wrote it before commit.
  let attempts = 0;
  for (;;) {
    attempts++;
    const t = g5.transactionStart();
    const v = Number(dom0.read('/t/a', 0));
    g5.read('/local/domain/5', t);
    const seen = dom0.read('/t/a');
    const t2 = dom0.transactionStart();
    const cur = Number(dom0.read('/t/a', t2));
    dom0.write('/t/a', String(cur + 1), t2);
    if (attempts === 1) dom0.write('/t/a', '100'); // concurrent writer
    const r = code(() => dom0.transactionEnd(t2));
    g5.transactionEnd(t, false);
    if (r === 'EAGAIN') {
      assert.equal(attempts, 1);
      assert.equal(dom0.read('/t/a'), '100');
      continue;
    }
    assert.equal(r, 'OK');
    assert.ok(v >= 0 && seen !== '');
    break;
  }
  assert.equal(attempts, 2);
  assert.equal(dom0.read('/t/a'), '101');

  // Unrelated changes do not conflict.
  const t3 = dom0.transactionStart();
  dom0.write('/t/a', 'x', t3);
  dom0.write('/other', 'y');
  assert.equal(code(() => dom0.transactionEnd(t3)), 'OK');

  // Creating a node a transaction also creates conflicts.
  const t4 = dom0.transactionStart();
  dom0.write('/t/race', '1', t4);
  dom0.write('/t/race', '2');
  assert.equal(code(() => dom0.transactionEnd(t4)), 'EAGAIN');

  assert.equal(code(() => dom0.transactionEnd(9999)), 'ENOENT');
  const conn = dom0.conn;
  const r = conn.request(W.XS_TRANSACTION_START, 5, latin1ToBytes('\0'));
  assert.equal(r.type, W.XS_ERROR);
});

test('watches: initial fire, descendants, removal of ancestors, relative paths, order, unwatch', () => {
  const { dom0, g5 } = setup();
  const e0: XsWatchEvent[] = [];
  const e5: XsWatchEvent[] = [];
  dom0.onWatch((e) => e0.push(e));
  g5.onWatch((e) => e5.push(e));
  dom0.write('/w/x', '');
  dom0.watch('/w', 'tok');
  assert.deepEqual(e0, [{ path: '/w', token: 'tok' }]);
  dom0.write('/w/x/y', '1');
  dom0.write('/w2', 'not under /w');
  dom0.write('/w', 'self');
  assert.deepEqual(e0.slice(1), [{ path: '/w/x/y', token: 'tok' }, { path: '/w', token: 'tok' }]);
  e0.length = 0;
  dom0.watch('/w/x/y/z', 'deep');
  e0.length = 0;
  dom0.rm('/w/x');
  assert.deepEqual(e0, [{ path: '/w/x', token: 'tok' }, { path: '/w/x/y/z', token: 'deep' }]);

  g5.watch('control/shutdown', 'sd');
  assert.deepEqual(e5, [{ path: 'control/shutdown', token: 'sd' }]);
  dom0.write('/local/domain/5/control/shutdown', 'poweroff');
  assert.deepEqual(e5[1], { path: 'control/shutdown', token: 'sd' }, 'relative watch reports a relative path');
  assert.equal(code(() => g5.watch('control/shutdown', 'sd')), 'EEXIST');
  g5.unwatch('control/shutdown', 'sd');
  assert.equal(code(() => g5.unwatch('control/shutdown', 'sd')), 'ENOENT');
  dom0.write('/local/domain/5/control/shutdown', 'reboot');
  assert.equal(e5.length, 2);

  // Cross-domain: dom0 watches a guest node and sees the guest's write; and vice versa.
  e0.length = 0;
  dom0.watch('/local/domain/5/device', 'fe');
  g5.write('device/vbd/768/state', '1');
  assert.deepEqual(e0.at(-1), { path: '/local/domain/5/device/vbd/768/state', token: 'fe' });
});

test('watches fire only at commit for transactional changes; none for aborted ones', () => {
  const { dom0 } = setup();
  const ev: XsWatchEvent[] = [];
  dom0.onWatch((e) => ev.push(e));
  dom0.watch('/q', 't');
  ev.length = 0;
  const tx = dom0.transactionStart();
  dom0.write('/q/a', '1', tx);
  assert.equal(ev.length, 0);
  dom0.transactionEnd(tx);
  assert.deepEqual(ev, [{ path: '/q/a', token: 't' }]);
  const ab = dom0.transactionStart();
  dom0.write('/q/b', '1', ab);
  dom0.transactionEnd(ab, false);
  assert.equal(ev.length, 1);
});

test('a guest does not see events for nodes it cannot read', () => {
  const store = new XenStore();
  const dom0 = new XsClient(store, 0);
  dom0.mkdir('/local/domain/5');
  dom0.setPerms('/local/domain/5', ['n5']);
  const g6 = new XsClient(store, 6);
  const ev: XsWatchEvent[] = [];
  g6.onWatch((e) => ev.push(e));
  g6.watch('/local/domain/5', 'spy');
  ev.length = 0;
  dom0.write('/local/domain/5/x', 'secret');
  assert.equal(ev.length, 0);
});

test('special watches, INTRODUCE, RELEASE, IS_DOMAIN_INTRODUCED, RESET_WATCHES', () => {
  const { store, dom0, g5 } = setup();
  const ev: XsWatchEvent[] = [];
  const introduced: number[] = [];
  store.onIntroduce = (d) => introduced.push(d.domid);
  dom0.onWatch((e) => ev.push(e));
  dom0.watch('@introduceDomain', 'i');
  dom0.watch('@releaseDomain', 'r');
  assert.equal(ev.length, 2);
  assert.equal(dom0.isDomainIntroduced(5), false);
  dom0.introduce(5, 0xfeffc, 3);
  assert.deepEqual(introduced, [5]);
  assert.equal(dom0.isDomainIntroduced(5), true);
  assert.deepEqual(ev[2], { path: '@introduceDomain', token: 'i' });
  assert.equal(code(() => dom0.introduce(5, 1, 1)), 'EEXIST');
  dom0.write('/x', '1');
  assert.equal(ev.length, 3, 'special watches do not fire on writes');
  dom0.release(5);
  assert.deepEqual(ev[3], { path: '@releaseDomain', token: 'r' });
  assert.equal(g5.conn.closed, true, "the released domain's connections are closed");
  assert.equal(code(() => dom0.release(5)), 'ENOENT');
  // Special paths: dom0 grants domain 5 read, then 5 hears @releaseDomain too.
  assert.deepEqual(dom0.getPerms('@releaseDomain'), ['n0']);
  const g8 = new XsClient(store, 8);
  const e8: XsWatchEvent[] = [];
  g8.onWatch((e) => e8.push(e));
  g8.watch('@releaseDomain', 'gr');
  e8.length = 0;
  dom0.introduce(8, 1, 1);
  dom0.introduce(9, 1, 1);
  dom0.release(9);
  assert.equal(e8.length, 0, 'not readable by 8');
  assert.equal(code(() => g8.setPerms('@releaseDomain', ['n0', 'r8'])), 'EACCES');
  dom0.setPerms('@releaseDomain', ['n0', 'r8']);
  dom0.introduce(9, 1, 1);
  dom0.release(9);
  assert.deepEqual(e8, [{ path: '@releaseDomain', token: 'gr' }]);
  assert.equal(code(() => dom0.getPerms('@other')), 'ENOENT');
  assert.equal(code(() => dom0.read('@releaseDomain')), 'EINVAL');
  ev.length = 4;
  dom0.resetWatches();
  dom0.write('/x', '2');
  dom0.introduce(6, 1, 1);
  assert.equal(ev.length, 4);
});

test("RELEASE removes the domain's own nodes and drops permission entries naming it", () => {
  const { dom0, g5 } = setup();
  dom0.introduce(5, 1, 1);
  dom0.write('/local/domain/5/name', 'five');
  dom0.setPerms('/local/domain/5/name', ['n0', 'r5', 'r6']);
  g5.write('device/vif/0/state', '1');
  dom0.write('/local/domain/0/backend/vif/5/0/state', '1');
  dom0.setPerms('/local/domain/0/backend/vif/5/0/state', ['n0', 'b5']);
  const ev: XsWatchEvent[] = [];
  dom0.onWatch((e) => ev.push(e));
  dom0.watch('/local/domain/5/device', 'fe');
  ev.length = 0;
  dom0.release(5);
  // /local/domain/5 itself is owned by 5 (setup), so the whole home goes.
  assert.equal(dom0.tryRead('/local/domain/5/device/vif/0/state'), null);
  assert.equal(dom0.tryRead('/local/domain/5'), null);
  assert.deepEqual(ev, [{ path: '/local/domain/5/device', token: 'fe' }]);
  assert.deepEqual(dom0.getPerms('/local/domain/0/backend/vif/5/0/state'), ['n0']);
  assert.equal(dom0.read('/local/domain/0/backend/vif/5/0/state'), '1');
});

test('quotas: entries, value size, watches, transactions, perms per node (ENOSPC)', () => {
  const store = new XenStore({ nodes: 10, watches: 3, transactions: 2, nodePerms: 2, nodeSize: 16 });
  const dom0 = new XsClient(store, 0);
  dom0.mkdir('/local/domain/5');
  dom0.setPerms('/local/domain/5', ['n5']);
  const g5 = new XsClient(store, 5);
  assert.equal(code(() => g5.write('big', 'x'.repeat(17))), 'ENOSPC');
  g5.write('ok', 'x'.repeat(16));
  // Its home directory counts too: 1 + 1 + 8 = the quota of 10.
  for (let i = 0; i < 8; i++) g5.write(`n${i}`, '');
  assert.equal(code(() => g5.write('n8', '')), 'ENOSPC');
  assert.equal(code(() => g5.write('a/b', '')), 'ENOSPC');
  g5.rm('n0');
  g5.write('n8', '');
  for (let i = 0; i < 3; i++) g5.watch(`w${i}`, 't');
  assert.equal(code(() => g5.watch('w3', 't')), 'ENOSPC');
  g5.transactionStart();
  g5.transactionStart();
  assert.equal(code(() => g5.transactionStart()), 'ENOSPC');
  assert.equal(code(() => g5.setPerms('ok', ['n5', 'r1', 'r2'])), 'ENOSPC');
  // dom0 is exempt.
  for (let i = 0; i < 20; i++) dom0.write(`/d${i}`, 'y'.repeat(100));
  // A quota failure at commit leaves the tree untouched.
  const q = new XenStore({ nodes: 4, watches: 3, transactions: 2, nodePerms: 2, nodeSize: 16 });
  const q0 = new XsClient(q, 0);
  q0.mkdir('/local/domain/7');
  q0.setPerms('/local/domain/7', ['n7']);
  const g7 = new XsClient(q, 7);
  g7.mkdir('sub');
  const tx = g7.transactionStart();
  g7.write('a', '1', tx);
  g7.write('b', '1', tx);
  g7.write('sub/x', '1'); // no conflict (the transaction never saw sub), but uses the quota

  assert.equal(code(() => g7.transactionEnd(tx)), 'ENOSPC');
  assert.equal(q0.tryRead('/local/domain/7/a'), null);
});

test('unsupported and malformed requests give error replies', () => {
  const store = new XenStore();
  const c = store.connect(0);
  const err = (type: number, payload: string, tx = 0) => {
    const r = c.request(type, tx, latin1ToBytes(payload));
    return r.type === W.XS_ERROR ? String.fromCharCode(...r.payload) : 'OK';
  };
  assert.equal(err(W.XS_READ, '/local'), 'EINVAL\0', 'missing NUL');
  assert.equal(err(W.XS_READ, '/local\0extra\0'), 'EINVAL\0');
  assert.equal(err(W.XS_WRITE, '/nonul'), 'EINVAL\0');
  assert.equal(err(W.XS_SET_TARGET, '1\0'), 'ENOSYS\0');
  assert.equal(err(W.XS_GET_QUOTA, '\0'), 'ENOSYS\0');
  assert.equal(err(W.XS_WATCH_EVENT, 'a\0b\0'), 'EINVAL\0');
  assert.equal(err(999, ''), 'EINVAL\0');
  assert.equal(err(W.XS_TRANSACTION_END, 'T\0', 1), 'ENOENT\0');
  assert.equal(err(W.XS_TRANSACTION_END, 'X\0', 1), 'EINVAL\0');
  assert.equal(err(W.XS_INTRODUCE, 'x\0y\0z\0'), 'EINVAL\0');
  // A directory reply larger than XENSTORE_PAYLOAD_MAX is E2BIG.
  const dom0 = new XsClient(store, 0);
  for (let i = 0; i < 300; i++) dom0.write(`/big/child-with-a-long-name-${i}`, '');
  assert.equal(code(() => dom0.directory('/big')), 'E2BIG');
});

test('error cases of every operation not covered above', () => {
  const { dom0, g5, g6 } = setup();
  dom0.write('/local/domain/5/data/v', '1');
  // MKDIR
  assert.equal(code(() => g6.mkdir('/local/domain/5/x')), 'EACCES');
  assert.equal(code(() => dom0.mkdir('/a//b')), 'EINVAL');
  // DIRECTORY / GET_PERMS
  assert.equal(code(() => dom0.directory('/missing')), 'ENOENT');
  assert.equal(code(() => g6.getPerms('/local/domain/5/data/v')), 'EACCES');
  assert.equal(code(() => dom0.getPerms('/missing')), 'ENOENT');
  // WATCH / UNWATCH
  assert.equal(code(() => dom0.watch('bad//path', 't')), 'EINVAL');
  assert.equal(code(() => dom0.unwatch('/never', 't')), 'ENOENT');
  // Dom0-only operations from a guest.
  assert.equal(code(() => g5.isDomainIntroduced(5)), 'EACCES');
  assert.equal(code(() => g5.release(5)), 'EACCES');
  assert.equal(code(() => dom0.introduce(0, 1, 1)), 'EINVAL');
  assert.equal(code(() => dom0.isDomainIntroduced(0x8000)), 'EINVAL');
  assert.equal(dom0.isDomainIntroduced(0), true);
  // GET_DOMAIN_PATH works for anyone, about any domain.
  assert.equal(g5.getDomainPath(6), '/local/domain/6');
  // Transactions: operations on an unknown transaction id.
  assert.equal(code(() => dom0.write('/x', '1', 77)), 'ENOENT');
  // RESET_WATCHES also ends the caller's transactions.
  const tx = g5.transactionStart();
  g5.resetWatches();
  assert.equal(code(() => g5.read('data/v', tx)), 'ENOENT');
  // SET_PERMS with no permission at all.
  assert.equal(dom0.conn.request(W.XS_SET_PERMS, 0, latin1ToBytes('/local\0')).type, W.XS_ERROR);
});
