// The interactive shell over Xen's PV console (issue 5 acceptance): with
// console=hvc0 last on the command line, /dev/console is Linux's hvc_xen, so /init's
// output and its shell (setsid cttyhack sh opens hvc0) run on the console ring that
// dom0's backend drains; the harness's serial text carries it and g.type() feeds it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestsMissing, startGuest, BOOT_TIMEOUT_MS, fact, keepSerialLog } from './guest-cache.js';

const missing = guestsMissing();

test('686-pae shell works over hvc0 (the Xen PV console)', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 10 * 60_000 }, async () => {
  const g = await startGuest('default-pae.cfg', 'test-686-pae-hvc0', 'console=ttyS0 console=hvc0 nokaslr cryptomgr.notests guest.test=hvc guest.shell', [
    'xen_interface = 1',
    'on_poweroff="destroy"',
    'on_crash="destroy"',
  ]);
  try {
    await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-END', { timeoutMs: 300_000 });
    const out = g.output.replace(/\r/g, '');
    assert.match(out, /^TEST hvc PASS$/m);
    assert.match(fact(out, 'hvc0.sysfs'), /^\d+:\d+$/, '/sys/class/tty/hvc0/dev');
    assert.match(fact(out, 'tty.drivers.hvc'), /^hvc \/dev\/hvc /);
    // /dev/console is the last console= (hvc0); ttyS0 still gets kernel messages.
    assert.match(fact(out, 'console.active'), /\bhvc0\b/);
    assert.match(fact(out, 'consoles'), /hvc0/);

    // The shell's prompt ("/ # ", then busybox's cursor query ESC[6n), then commands typed
    // into hvc0; each answer is awaited up to its newline (output arrives in pieces).
    await g.waitForSerial('/ # ', { timeoutMs: 120_000 });
    g.type('tty\n');
    await g.waitForSerial(/^\/dev\/hvc0\r?\n/m, { timeoutMs: 120_000 });
    g.type('echo $((6*7))\n');
    await g.waitForSerial(/^42\r?\n/m, { timeoutMs: 120_000 });
    g.type('cat /proc/consoles; echo CONSOLES-DONE\n');
    await g.waitForSerial(/^CONSOLES-DONE\r?\n/m, { timeoutMs: 120_000 });
    const consoles = g.output.replace(/\r/g, '').split('cat /proc/consoles; echo CONSOLES-DONE').pop() ?? '';
    assert.match(consoles, /^hvc0\s+-W-\s+\(E?C/m, 'hvc0 is a console and /dev/console (C)');
    assert.match(consoles, /^ttyS0\s/m);
    g.type('poweroff -f\n');
    const exit = await g.waitForExit({ timeoutMs: 120_000 });
    assert.equal(exit.reason, 'poweroff', `${exit.reason}: ${exit.detail}`);
  } finally {
    keepSerialLog(g);
    await g.destroy();
  }
});

if (missing) console.error(`\n*** SKIPPED real-guest tests: ${missing} ***\n`);
