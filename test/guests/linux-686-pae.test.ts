// Debian's 686-pae kernel (PAE paging, NX) on the software CPU, and a real triple
// fault: `reboot=t` makes Linux reset by loading an empty IDT and executing INT3;
// the domain ends per on_crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestsMissing, startGuest, BOOT_TIMEOUT_MS, fact } from './guest-cache.js';

const missing = guestsMissing();

test('686-pae kernel boots with PAE paging and NX; a triple fault ends it per on_crash', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 60_000 }, async () => {
  const g = await startGuest('default-pae.cfg', 'test-686-pae', 'console=ttyS0 nokaslr cryptomgr.notests reboot=t guest.test=dmesg guest.reboot', ['on_reboot="restart"', 'on_crash="destroy"']);
  try {
    await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-END', { timeoutMs: 120_000 });
    const out = g.output;
    assert.equal(fact(out, 'uname.m'), 'i686');
    assert.match(fact(out, 'uname.r'), /-686-pae$/);
    assert.equal(fact(out, 'paging'), 'PAE');
    assert.match(fact(out, 'cpu.flags'), /\bpae\b/);
    // Only PAE paging can enable NX: Linux reports it from head_32.S's EFER.NXE setup.
    assert.match(out, /NX \(Execute Disable\) protection: active/);
    assert.match(out, /TEST dmesg PASS/);
    const exit = await g.waitForExit({ timeoutMs: 120_000 });
    assert.equal(exit.reason, 'crash', `triple fault => on_crash; got ${exit.reason}: ${exit.detail}`);
    assert.match(exit.detail, /triple fault/);
    assert.equal(exit.restarts, 0);
  } finally {
    await g.destroy();
  }
});

if (missing) console.error(`\n*** SKIPPED real-guest tests: ${missing} ***\n`);
