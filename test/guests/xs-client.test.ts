// guests/xs/xs.c (the initramfs's /bin/xs) against tsxen's own xenstored, on the
// host: built the way guests/build.sh builds it (gcc -m32 -static; CI installs
// gcc-multilib) and pointed at dom0's xenstore socket with XENSTORED_PATH. The
// socket speaks the same xs_wire messages as the guest's /dev/xen/xenbus, so this
// checks the client's encoding, reply parsing, watches, errors and timeouts
// without booting a guest.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { XenStore } from '../../src/pv/xenstore/store.js';
import { XsClient } from '../../src/pv/xenstore/client.js';
import { XenStoreSocketServer } from '../../src/pv/xenstore/socket-server.js';

const run = promisify(execFile);
// dist/test/guests/ → the repository root.
const source = fileURLToPath(new URL('../../../guests/xs/xs.c', import.meta.url));

let dir: string;
let xsBin: string;
let store: XenStore;
let dom0: XsClient;
let server: XenStoreSocketServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsxen-xs-client-'));
  xsBin = join(dir, 'xs');
  await run('gcc', ['-m32', '-static', '-Os', '-Wall', '-Werror', '-o', xsBin, source]);
  store = new XenStore();
  dom0 = new XsClient(store, 0);
  server = await XenStoreSocketServer.listen(store, join(dir, 'store.sock'));
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs xs asynchronously (the store answers from this same event loop). */
function xs(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(xsBin, args, { env: { XENSTORED_PATH: server.path }, encoding: 'latin1', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? -1) : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

test('read prints the value; relative paths are under the caller’s /local/domain/<domid>', async () => {
  dom0.write('/local/domain/7/name', 'guest-seven');
  dom0.write('/local/domain/0/memory/target', '262144');
  assert.deepEqual(await xs('read', '/local/domain/7/name'), { code: 0, stdout: 'guest-seven\n', stderr: '' });
  assert.deepEqual(await xs('read', 'memory/target'), { code: 0, stdout: '262144\n', stderr: '' });
  // An empty node reads as an empty line.
  dom0.write('/local/domain/7/empty', '');
  assert.deepEqual(await xs('read', '/local/domain/7/empty'), { code: 0, stdout: '\n', stderr: '' });
});

test('write stores the value exactly (no trailing NUL) and creates parents', async () => {
  const r = await xs('write', '/local/domain/7/data/tsxen-test', 'hello from xs');
  assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
  assert.equal(dom0.read('/local/domain/7/data/tsxen-test'), 'hello from xs');
  assert.equal(dom0.read('/local/domain/7/data'), '', 'parent created empty');
  await xs('write', 'data/rel', 'v');
  assert.equal(dom0.read('/local/domain/0/data/rel'), 'v');
  // A value with spaces and an empty value.
  await xs('write', '/local/domain/7/data/e', '');
  assert.equal(dom0.read('/local/domain/7/data/e'), '');
});

test('ls prints one child per line; rm removes a subtree', async () => {
  dom0.write('/tool/ls-test/a', '1');
  dom0.write('/tool/ls-test/b/c', '2');
  dom0.write('/tool/ls-test/zz', '3');
  const r = await xs('ls', '/tool/ls-test');
  assert.equal(r.code, 0);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['a', 'b', 'zz']);
  assert.equal(r.stdout.endsWith('\n'), true);
  // A leaf lists nothing.
  assert.deepEqual(await xs('ls', '/tool/ls-test/a'), { code: 0, stdout: '', stderr: '' });
  assert.deepEqual(await xs('rm', '/tool/ls-test/b'), { code: 0, stdout: '', stderr: '' });
  assert.equal(dom0.tryRead('/tool/ls-test/b'), null);
  assert.equal(dom0.tryRead('/tool/ls-test/b/c'), null);
  assert.equal(dom0.read('/tool/ls-test/a'), '1');
});

test('an XS_ERROR reply prints its name and exits 1', async () => {
  const r = await xs('read', '/tool/does-not-exist');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'xs: read /tool/does-not-exist: ENOENT\n');
  const bad = await xs('write', '/tool/bad//path', 'x');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /EINVAL/);
  const ls = await xs('ls', '/tool/nope');
  assert.equal(ls.code, 1);
  assert.match(ls.stderr, /ENOENT/);
});

test('watch prints the initial fire and later changes, "PATH TOKEN" each, then exits', async () => {
  dom0.write('/local/domain/7/data/from-dom0', '');
  const child = spawn(xsBin, ['-t', '20', 'watch', '/local/domain/7/data/from-dom0', 'tok', '3'], { env: { XENSTORED_PATH: server.path } });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait for the initial fire before changing anything, so the watch is registered.
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve();
    }),
  );
  assert.equal(out, '/local/domain/7/data/from-dom0 tok\n');
  dom0.write('/local/domain/7/data/other', 'not watched');
  dom0.write('/local/domain/7/data/from-dom0', 'hello');
  dom0.write('/local/domain/7/data/from-dom0/child', 'below');
  assert.equal(await exited, 0, err);
  assert.equal(out, ['/local/domain/7/data/from-dom0 tok', '/local/domain/7/data/from-dom0 tok', '/local/domain/7/data/from-dom0/child tok', ''].join('\n'));
});

test('-t bounds the wait: a watch that never fires enough exits 2 with "timed out"', async () => {
  const started = performance.now();
  const r = await xs('-t', '1', 'watch', '/tool/quiet', 't', '2');
  const ms = performance.now() - started;
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '/tool/quiet t\n', 'the initial fire still comes');
  assert.match(r.stderr, /timed out/);
  assert.ok(ms >= 900 && ms < 10_000, `took ${ms} ms`);
});

test('bad usage and oversized requests exit 2 with a message', async () => {
  for (const args of [[], ['read'], ['write', 'p'], ['watch', 'p', 't'], ['watch', 'p', 't', '0'], ['watch', 'p', 't', 'x'], ['-t', 'abc', 'read', 'p'], ['frob', 'p']]) {
    const r = await xs(...args);
    assert.equal(r.code, 2, `xs ${args.join(' ')}`);
    assert.equal(r.stdout, '');
    assert.notEqual(r.stderr, '');
  }
  const long = await xs('write', '/tool/long', 'x'.repeat(5000));
  assert.equal(long.code, 2);
  assert.match(long.stderr, /XENSTORE_PAYLOAD_MAX/);
});
