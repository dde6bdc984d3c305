import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XenStore } from './store.js';
import { XsClient } from './client.js';
import { XsError } from './path.js';
import { writeGuestPaths } from './guest-paths.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'OK';
  } catch (e) {
    return (e as XsError).code;
  }
};

test('writeGuestPaths: the nodes a Linux HVM guest reads, with libxl-style permissions', () => {
  const store = new XenStore();
  const dom0 = new XsClient(store, 0);
  writeGuestPaths(dom0, 3, { name: 'deb', memoryKiB: 262144, vcpus: 2, storeGfn: 0xfeffc, storeEvtchn: 1, consoleGfn: 0xfeffd, consoleEvtchn: 2 });
  const guest = new XsClient(store, 3);
  const other = new XsClient(store, 4);
  assert.equal(guest.read('name'), 'deb');
  assert.equal(guest.read('domid'), '3');
  assert.equal(guest.read('memory/target'), '262144');
  assert.equal(guest.read('vm'), '/vm/3');
  assert.deepEqual(guest.directory('cpu'), ['0', '1']);
  assert.equal(guest.read('cpu/1/availability'), 'online');
  assert.equal(guest.read('control/platform-feature-xs_reset_watches'), '1');
  assert.equal(guest.read('store/ring-ref'), String(0xfeffc));
  assert.equal(guest.read('console/port'), '2');
  assert.deepEqual(dom0.getPerms('/local/domain/3'), ['n0', 'r3']);
  assert.deepEqual(dom0.getPerms('/local/domain/3/control/shutdown'), ['n3']);
  // Read-only for the guest: name, memory, control/ itself.
  assert.equal(code(() => guest.write('name', 'evil')), 'EACCES');
  assert.equal(code(() => guest.write('memory/target', '1')), 'EACCES');
  assert.equal(code(() => guest.write('control/new', '1')), 'EACCES');
  // Guest-writable: Linux's feature flags, shutdown ack, device/ and data/.
  guest.write('control/feature-poweroff', '1');
  guest.write('control/shutdown', '');
  guest.write('device/vbd/768/state', '1');
  guest.write('data/x', 'y');
  // Another guest sees nothing.
  assert.equal(code(() => other.read('/local/domain/3/name')), 'EACCES');
  assert.equal(code(() => other.read('/local/domain/3/device/vbd/768/state')), 'EACCES');
  // The shutdown handshake: dom0 writes, the guest's watch fires and it acks in a transaction.
  const seen: string[] = [];
  guest.onWatch((e) => seen.push(`${e.path}=${guest.read(e.path)}`));
  guest.watch('control/shutdown', 'sd');
  dom0.write('/local/domain/3/control/shutdown', 'poweroff');
  assert.deepEqual(seen, ['control/shutdown=', 'control/shutdown=poweroff']);
  const tx = guest.transactionStart();
  assert.equal(guest.read('control/shutdown', tx), 'poweroff');
  guest.write('control/shutdown', '', tx);
  guest.transactionEnd(tx);
  assert.equal(dom0.read('/local/domain/3/control/shutdown'), '');
});
