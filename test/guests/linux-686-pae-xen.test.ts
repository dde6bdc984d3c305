// Debian's unmodified 686-pae kernel as a Xen PV-on-HVM guest (issue 5): with the
// Xen interface presented (CPUID leaves, hypercall page, hypercalls), Linux finds
// Xen by itself, places shared_info, registers its vcpu_info, takes the 2-level
// event-channel ABI and reports /sys/hypervisor/type = xen — exactly as on Xen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestsMissing, startGuest, BOOT_TIMEOUT_MS, fact } from './guest-cache.js';

const missing = guestsMissing();

test('686-pae detects Xen HVM and boots as a paravirtualized kernel on it', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 60_000 }, async () => {
  const g = await startGuest('default-pae.cfg', 'test-686-pae-xen', 'console=ttyS0 nokaslr cryptomgr.notests guest.test=dmesg guest.poweroff', ['xen_interface = 1', 'on_poweroff="destroy"', 'on_crash="destroy"']);
  try {
    await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-END', { timeoutMs: 120_000 });
    const out = g.output;
    assert.equal(fact(out, 'hypervisor'), 'xen', '/sys/hypervisor/type');
    assert.match(fact(out, 'cpu.flags'), /\bhypervisor\b/);
    assert.match(out, /Hypervisor detected: Xen HVM/);
    assert.match(out, /Xen version 4\.17\./);
    assert.match(out, /Booting paravirtualized kernel on Xen HVM/);
    assert.match(out, /xen:events: Using 2-level ABI/);
    assert.match(out, /TEST dmesg PASS/);
    const exit = await g.waitForExit({ timeoutMs: 120_000 });
    assert.equal(exit.reason, 'poweroff', `${exit.reason}: ${exit.detail}`);
  } finally {
    await g.destroy();
  }
});

if (missing) console.error(`\n*** SKIPPED real-guest tests: ${missing} ***\n`);
