// Debian's 686 kernel + the busybox initramfs, booted by direct bzImage entry on the
// software CPU: the marker, the facts the guest reports, an interactive command on
// the serial console, and `reboot -f` handled per on_reboot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CPU_BRAND_STRING } from '../../src/hypervisor/cpuid-policy.js';
import { guestsMissing, startGuest, BOOT_TIMEOUT_MS, fact } from './guest-cache.js';

const missing = guestsMissing();

test('686 kernel boots to a shell; facts, a typed command, reboot restarts', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 60_000 }, async () => {
  const g = await startGuest('default.cfg', 'test-686', 'console=ttyS0 nokaslr cryptomgr.notests guest.test=cpu,fs guest.shell', ['on_reboot="restart"', 'on_crash="destroy"']);
  try {
    await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-END', { timeoutMs: 120_000 });
    const out = g.output;
    assert.equal(fact(out, 'uname.m'), 'i686');
    assert.match(fact(out, 'uname.r'), /-686$/);
    assert.equal(fact(out, 'cpu.model'), CPU_BRAND_STRING, '/proc/cpuinfo shows tsxen CPUID brand');
    assert.equal(fact(out, 'cpu.vendor'), 'AuthenticAMD');
    assert.equal(fact(out, 'cpu.family'), '6');
    assert.match(fact(out, 'cpu.flags'), /\bfpu\b.*\btsc\b.*\bcx8\b.*\bcmov\b/);
    assert.match(fact(out, 'paging'), /2-level/);
    assert.match(out, /TEST cpu PASS/, 'x87 FDIV check and shell arithmetic');
    assert.match(out, /TEST fs PASS/);

    // A command typed on the serial console runs and its output comes back.
    g.type('echo typed-$((6*7))-ok\n');
    await g.waitForSerial('typed-42-ok', { timeoutMs: 60_000 });

    // reboot -f: Linux resets the machine (i8042 pulse / triple fault); on_reboot=restart re-creates the domain.
    const restarted = new Promise<number>((resolve) => g.handle.on('restart', (n) => resolve(n)));
    g.type('reboot -f\n');
    const n = await Promise.race([restarted, new Promise<number>((_, rej) => setTimeout(() => rej(new Error('no restart after reboot -f')), 120_000))]);
    assert.equal(n, 1);
  } finally {
    await g.destroy();
  }
  const exit = await g.waitForExit({ timeoutMs: 30_000 });
  assert.equal(exit.reason, 'destroyed');
  assert.equal(exit.restarts, 1);
});

test('reboot -f with on_reboot="destroy" ends the domain with reason reboot', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 60_000 }, async () => {
  const g = await startGuest('default.cfg', 'test-686-reboot', 'console=ttyS0 nokaslr cryptomgr.notests guest.reboot', ['on_reboot="destroy"']);
  await g.waitForSerial('GUEST-END', { timeoutMs: BOOT_TIMEOUT_MS });
  const exit = await g.waitForExit({ timeoutMs: 120_000 });
  assert.equal(exit.reason, 'reboot');
  assert.equal(exit.restarts, 0);
});

if (missing) console.error(`\n*** SKIPPED real-guest tests: ${missing} ***\n`);
