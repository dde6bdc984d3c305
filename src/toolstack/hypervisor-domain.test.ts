// The worker lifecycle on the real hypervisor Domain and software CPU, with a tiny
// guest (testing/echo-guest.ts) booted through the Linux boot path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Domain } from '../hypervisor/domain.js';
import type { DomainConstructor } from './domain-module.js';
import { GuestSession } from './harness.js';
import { echoGuestBzImage } from './testing/echo-guest.js';
import { makeGuestDir } from './testing/guest-files.js';

// The worker drives the hypervisor's Domain through this structural type.
const asDriven: DomainConstructor = Domain;

async function echoGuest(dir: string, name: string, extra: Record<string, string> = {}): Promise<GuestSession> {
  writeFileSync(join(dir, 'echo.bzImage'), echoGuestBzImage());
  return GuestSession.start({ name, kernel: 'echo.bzImage', memory: 32, cmdline: 'console=ttyS0', ...extra }, [], {
    baseDir: dir,
    logFile: join(dir, `${name}.log`),
    warn: () => {},
  });
}

test('a real guest: COM1 both ways, then poweroff', async () => {
  assert.equal(typeof asDriven, 'function');
  const g = makeGuestDir();
  try {
    const s = await echoGuest(g.dir, 'echo-off');
    try {
      await s.waitForSerial('READY\n', { timeoutMs: 10_000 });
      s.type('hello');
      await s.waitForSerial('hello', { timeoutMs: 10_000 });
      // More than the UART queue (64 KiB) at once: flow control loses nothing.
      const paste = 'z'.repeat(100_000);
      s.type(paste);
      await s.waitForSerial(paste, { timeoutMs: 60_000 });
      s.type('q');
      const exit = await s.waitForExit({ timeoutMs: 10_000 });
      assert.equal(exit.reason, 'poweroff');
      assert.equal(exit.restarts, 0);
      assert.equal(s.output, 'READY\nhello' + 'z'.repeat(100_000) + 'q');
    } finally {
      await s.destroy();
    }
  } finally {
    g.remove();
  }
});

test('a real guest: reboot restarts it fresh; a triple fault is on_crash with a diagnostic', async () => {
  const g = makeGuestDir();
  try {
    const s = await echoGuest(g.dir, 'echo-rb', { on_reboot: 'restart', on_crash: 'destroy' });
    try {
      await s.waitForSerial('READY\n', { timeoutMs: 10_000 });
      s.type('r');
      await s.waitForSerial('READY\n', { timeoutMs: 10_000 });
      s.type('t');
      const exit = await s.waitForExit({ timeoutMs: 10_000 });
      assert.equal(exit.reason, 'crash');
      assert.match(exit.detail, /triple fault/);
      assert.equal(exit.restarts, 1);
      assert.equal(s.output, 'READY\nrREADY\nt');
      const log = readFileSync(join(g.dir, 'echo-rb.log'), 'utf8');
      assert.match(log, /shut down: reboot .*on_reboot=restart/);
      assert.match(log, /shut down: crash .*on_crash=destroy/);
      assert.match(log, /error toolstack: diagnostic:\n/);
    } finally {
      await s.destroy();
    }
  } finally {
    g.remove();
  }
});
