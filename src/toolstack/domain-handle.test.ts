// Worker lifecycle through the public harness, with the scripted stand-in domain
// (testing/scripted-domain.ts) in place of the CPU.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GuestSession } from './harness.js';
import { makeGuestDir, type GuestDir } from './testing/guest-files.js';
import type { CfgObject } from './config-file.js';

const SCRIPTED = new URL('./testing/scripted-domain.js', import.meta.url).href;

async function withGuest(g: GuestDir, extra: CfgObject, body: (s: GuestSession, log: string) => Promise<void>): Promise<void> {
  const log = join(g.dir, `${String(extra.name ?? 'lc')}.log`);
  const s = await GuestSession.start({ name: 'lc', kernel: 'vmlinuz', memory: 32, ...extra }, [], {
    domainModule: SCRIPTED,
    logFile: log,
    warn: () => {},
    baseDir: g.dir,
  });
  try {
    await body(s, log);
  } finally {
    await s.destroy();
  }
}

test('console: output arrives, typed bytes reach the guest, an idle guest wakes at once', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'echo' }, async (s) => {
      assert.equal(await s.waitForSerial(/boot \d+ echo\r\n/, { timeoutMs: 5000 }), 'boot 1 echo\r\n');
      // The guest is idle with its next timer an hour away: only the doorbell can wake it.
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      s.type('hi');
      assert.equal(await s.waitForSerial('hi', { timeoutMs: 5000 }), 'hi');
      assert.ok(performance.now() - t0 < 400, `echo took ${performance.now() - t0} ms; the worker slept through the doorbell`);
      // More than the ring holds (4 KiB) in one go: the backlog feeds it in over time.
      const big = 'a'.repeat(10_000);
      s.type(big);
      await s.waitForSerial(big, { timeoutMs: 5000 });
      assert.ok(s.output.startsWith('boot 1 echo\r\nhi' + big));
    });
  } finally {
    g.remove();
  }
});

test('waitForSerial times out with the last 2 KiB of console output', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'quiet' }, async (s) => {
      await s.waitForSerial('boot 1');
      s.type('z'.repeat(3000));
      await s.waitForSerial('z'.repeat(3000), { timeoutMs: 5000 });
      await assert.rejects(s.waitForSerial('never', { timeoutMs: 100 }), (e: Error) => {
        assert.match(e.message, /timed out after 100 ms waiting for never on the serial console of quiet; last output:\n/);
        assert.ok(e.message.endsWith('\n' + 'z'.repeat(2048)), 'the tail is the last 2048 characters');
        return true;
      });
    });
  } finally {
    g.remove();
  }
});

test('poweroff with on_poweroff=destroy ends the domain', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'off' }, async (s, log) => {
      await s.waitForSerial('boot 1');
      s.type('p');
      assert.deepEqual(await s.waitForExit({ timeoutMs: 5000 }), { reason: 'poweroff', detail: 'ACPI S5', restarts: 0 });
      assert.match(readFileSync(log, 'utf8'), /domain off shut down: poweroff \(ACPI S5\); on_poweroff=destroy/);
    });
  } finally {
    g.remove();
  }
});

test('reboot with on_reboot=restart re-creates the domain with fresh RAM', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'rb', on_reboot: 'restart' }, async (s) => {
      await s.waitForSerial('boot 1 rb');
      s.type('r');
      // The scripted guest counts boots in RAM[0]: a fresh domain says "boot 1" again.
      await s.waitForSerial('boot 1 rb', { timeoutMs: 5000 });
      assert.equal(s.handle.restartCount, 1);
      s.type('r');
      await s.waitForSerial('boot 1 rb', { timeoutMs: 5000 });
      s.type('p');
      assert.deepEqual(await s.waitForExit({ timeoutMs: 5000 }), { reason: 'poweroff', detail: 'ACPI S5', restarts: 2 });
      assert.equal(s.output, 'boot 1 rb\r\nrboot 1 rb\r\nrboot 1 rb\r\np');
    });
  } finally {
    g.remove();
  }
});

test('crash with on_crash=preserve keeps the domain until destroyed', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'pres', on_crash: 'preserve' }, async (s, log) => {
      await s.waitForSerial('boot 1');
      s.type('c');
      assert.deepEqual(await s.waitForExit({ timeoutMs: 5000 }), { reason: 'crash', detail: 'triple fault', restarts: 0 });
      assert.match(readFileSync(log, 'utf8'), /error toolstack: diagnostic:\nscripted domain pres: ram\[0\]=1\n/);
      // Preserved: still there, input ignored, destroy ends it.
      s.type('x');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(s.output, 'boot 1 pres\r\nc');
      await s.destroy();
      assert.equal((await s.handle.whenStopped()).preserved, true);
    });
  } finally {
    g.remove();
  }
});

test('a JS exception in the domain is on_crash, with the error in the domain log; dom0 lives on', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'boom', on_crash: 'destroy' }, async (s, log) => {
      await s.waitForSerial('boot 1');
      s.type('lx');
      const exit = await s.waitForExit({ timeoutMs: 5000 });
      assert.deepEqual(exit, { reason: 'crash', detail: 'internal error: scripted exception', restarts: 0 });
      const text = readFileSync(log, 'utf8');
      assert.match(text, /info scripted: a log line/);
      assert.match(text, /error toolstack: diagnostic:\nError: scripted exception\n\s+at /);
      assert.match(text, /scripted domain boom: ram\[0\]=1/);
    });
  } finally {
    g.remove();
  }
});

test('a domain that cannot start is a crash that is never restarted, not a dom0 failure', async () => {
  const g = makeGuestDir();
  try {
    const s = await GuestSession.start({ name: 'noload', kernel: 'vmlinuz', memory: 32, on_crash: 'restart' }, [], {
      domainModule: new URL('./no-such-domain.js', import.meta.url).href,
      logFile: join(g.dir, 'noload.log'),
      baseDir: g.dir,
    });
    const exit = await s.waitForExit({ timeoutMs: 5000 });
    assert.equal(exit.reason, 'crash');
    assert.match(exit.detail, /^could not start: Cannot find module/);
    assert.equal(exit.restarts, 0);
    assert.equal((await s.handle.whenStopped()).startFailed, true);
    await s.destroy();
  } finally {
    g.remove();
  }
});

test('destroy stops a busy domain and its worker', async () => {
  const g = makeGuestDir();
  try {
    const s = await GuestSession.start({ name: 'busy', kernel: 'vmlinuz', memory: 32, on_poweroff: 'restart' }, ['memory=40'], {
      domainModule: SCRIPTED,
      logFile: join(g.dir, 'busy.log'),
      baseDir: g.dir,
    });
    assert.equal(s.config.memoryMiB, 40);
    await s.waitForSerial('boot 1');
    s.type('s');
    await s.waitForSerial('s');
    const t0 = performance.now();
    await s.destroy();
    assert.ok(performance.now() - t0 < 1500, 'destroy waited for the grace timeout: the worker ignored the request');
    assert.deepEqual(await s.waitForExit({ timeoutMs: 100 }), { reason: 'destroyed', detail: 'destroyed by the user', restarts: 0 });
  } finally {
    rmSync(g.dir, { recursive: true, force: true });
  }
});

test('a worker thread that ends without a report is a crash', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'gone', on_crash: 'destroy' }, async (s) => {
      await s.waitForSerial('boot 1');
      s.type('e');
      assert.deepEqual(await s.waitForExit({ timeoutMs: 5000 }), { reason: 'crash', detail: 'internal error: domain worker exited with code 7', restarts: 0 });
    });
  } finally {
    g.remove();
  }
});

test('destroy during a restart wins: no new incarnation is started', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'race', on_reboot: 'restart' }, async (s) => {
      await s.waitForSerial('boot 1');
      const shutdown = new Promise((resolve) => s.handle.once('shutdown', resolve));
      s.type('r');
      await shutdown;
      await s.destroy();
      assert.deepEqual(await s.waitForExit({ timeoutMs: 100 }), { reason: 'destroyed', detail: 'destroyed by the user', restarts: 0 });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(s.output, 'boot 1 race\r\nr');
    });
  } finally {
    g.remove();
  }
});

test('pause stops the guest from running until unpause', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'pz' }, async (s) => {
      await s.waitForSerial('boot 1');
      s.handle.pause();
      s.type('k');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(s.output, 'boot 1 pz\r\n', 'a paused domain ran');
      s.handle.unpause();
      await s.waitForSerial('k', { timeoutMs: 2000 });
    });
  } finally {
    g.remove();
  }
});

test('waitForSerial fails at once when the domain stops; debugcon output is collected', async () => {
  const g = makeGuestDir();
  try {
    await withGuest(g, { name: 'early', debugcon: ['port=0x402'] }, async (s) => {
      await s.waitForSerial('boot 1');
      const waiting = s.waitForSerial('never printed', { timeoutMs: 60_000 });
      const t0 = performance.now();
      s.type('ddc');
      await assert.rejects(waiting, {
        message: 'early stopped (crash: triple fault) while waiting for never printed on the serial console; last output:\nboot 1 early\r\nddc',
      });
      assert.ok(performance.now() - t0 < 5000);
      assert.equal(s.debugconOutput(0x402), 'DD');
      assert.equal(s.debugconOutput(), '');
      await assert.rejects(s.waitForSerial('x'), /early stopped \(crash: triple fault\)/);
    });
  } finally {
    g.remove();
  }
});
