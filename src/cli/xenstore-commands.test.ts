// The xenstore-* commands run as real `tsxen` children against a xenstored socket
// served by this test process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XenStore } from '../pv/xenstore/store.js';
import { XsClient } from '../pv/xenstore/client.js';
import { XenStoreSocketServer, xenstoreSocketPath } from '../pv/xenstore/socket-server.js';
import { writeGuestPaths } from '../pv/xenstore/guest-paths.js';
import { escapeValue } from './xenstore-commands.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');

function tsxen(runDir: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, TSXEN_RUN_DIR: runDir } }, (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('xenstore-ls, -read and -write against a running store', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'tsxen-xscli-'));
  process.env.TSXEN_RUN_DIR = runDir; // xenstoreSocketPath() here and in the children
  const store = new XenStore();
  const dom0 = new XsClient(store, 0);
  writeGuestPaths(dom0, 1, { name: 'deb', memoryKiB: 131072, vcpus: 1 });
  dom0.write('/local/domain/1/data/odd', 'a"b\\c\n');
  const server = await XenStoreSocketServer.listen(store, xenstoreSocketPath('deb'));
  try {
    // The only running domain is used without -d.
    const r = await tsxen(runDir, ['xenstore-read', '/local/domain/1/name', '/local/domain/1/memory/target']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'deb\n131072\n');
    const w = await tsxen(runDir, ['xenstore-write', '-d', 'deb', '/local/domain/1/data/new/x', 'hello', '/tool/t', '2']);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(dom0.read('/local/domain/1/data/new/x'), 'hello');
    assert.equal(dom0.read('/tool/t'), '2');
    const ls = await tsxen(runDir, ['xenstore-ls', '-d', 'deb', '/local/domain/1/cpu']);
    assert.equal(ls.stdout, '0 = ""\n availability = "online"\n');
    const full = await tsxen(runDir, ['xenstore-ls', '-f', '-p', '-S', xenstoreSocketPath('deb'), '/local/domain/1/data']);
    assert.match(full.stdout, /^\/local\/domain\/1\/data\/odd = "a"b\\\\c\\x0a"  \(n1\)\n/m);
    assert.match(full.stdout, /^\/local\/domain\/1\/data\/new\/x = "hello"  \(n1\)\n/m);
    const whole = await tsxen(runDir, ['xenstore-ls']);
    assert.match(whole.stdout, /^local = ""\n domain = ""\n  1 = ""\n/);
    const missing = await tsxen(runDir, ['xenstore-read', '/nope']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'tsxen xenstore-read: ENOENT\n');
    const odd = await tsxen(runDir, ['xenstore-write', '/a']);
    assert.equal(odd.status, 2, 'usage error');
    const none = await tsxen(runDir, ['xenstore-read', '-d', 'ghost', '/x']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /cannot reach xenstored/);
  } finally {
    await server.close();
  }
  const gone = await tsxen(runDir, ['xenstore-ls']);
  assert.equal(gone.stderr, 'tsxen xenstore-ls: no running domain has a xenstore (see tsxen list)\n');
  rmSync(runDir, { recursive: true, force: true });
});

test('escapeValue escapes backslashes and non-printable bytes as xenstore-ls does', () => {
  assert.equal(escapeValue('ab'), 'ab');
  assert.equal(escapeValue('a\\b'), 'a\\\\b');
  assert.equal(escapeValue('\x00\x7f\xff'), '\\x00\\x7f\\xff');
});
