import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XenStore } from './store.js';
import { XsClient } from './client.js';
import { XenStoreSocketServer } from './socket-server.js';
import { XsSocketClient } from './socket-client.js';

test('the Unix socket speaks the wire protocol as dom0; a garbage client is dropped, the server lives on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-xs-'));
  const path = join(dir, 'd.xenstore');
  const store = new XenStore();
  const local = new XsClient(store, 0);
  local.write('/local/domain/1/name', 'guest');
  const server = await XenStoreSocketServer.listen(store, path);
  try {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const c = await XsSocketClient.connect(path);
    assert.equal(await c.read('/local/domain/1/name'), 'guest');
    assert.equal(await c.write('/local/domain/1/data/k', 'wert ü'), 'OK\0');
    assert.equal(local.read('/local/domain/1/data/k'), Buffer.from('wert ü').toString('latin1'));
    assert.deepEqual(await c.directory('/local/domain/1'), ['name', 'data']);
    assert.deepEqual(await c.getPerms('/local/domain/1'), ['n0']);
    await assert.rejects(c.read('/nope'), (e: Error & { code?: string }) => e.code === 'ENOENT');
    // A client announcing a 1 MiB payload is disconnected.
    const bad = createConnection(path);
    await new Promise<void>((resolve) => bad.once('connect', () => resolve()));
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1 << 20, 12);
    bad.write(h);
    await new Promise<void>((resolve) => bad.once('close', () => resolve()));
    assert.equal(await c.read('/local/domain/1/name'), 'guest', 'other clients unaffected');
    c.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
