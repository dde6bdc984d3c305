// xl save / xl restore of a real guest: Debian's 686 kernel, booted directly on the
// software CPU to its busybox shell, saved to a file (memory, vCPU with FPU and
// SYSENTER MSRs, PIC/PIT/RTC, the UART), destroyed, and restored as a new domain
// from that file: the shell answers a command typed afterwards, and the restored
// domain never boots again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestsMissing, guestFile, startGuest, BOOT_TIMEOUT_MS } from './guest-cache.js';
import { GuestSession } from '../../src/toolstack/harness.js';
import { saveDomainImage } from '../../src/toolstack/save-domain.js';
import { readSaveImage } from '../../src/toolstack/save-image.js';

const missing = guestsMissing();
const NAME = 'test-686-save';
const CMDLINE = 'console=ttyS0 nokaslr cryptomgr.notests guest.shell';

test('686 guest saved at its shell and restored from the file answers a typed command', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-save-686-'));
  const file = join(dir, 'guest.save');
  try {
    const g = await startGuest('default.cfg', NAME, CMDLINE, ['on_crash="destroy"']);
    try {
      await g.waitForSerial('GUEST-END', { timeoutMs: BOOT_TIMEOUT_MS });
      g.type('echo before-$((2*3))-save\n');
      await g.waitForSerial('before-6-save', { timeoutMs: 60_000 });
      // xl save -p: paused and kept until destroyed below (the default would destroy it at once).
      const bytes = await saveDomainImage(g.handle, file, { checkpoint: false, paused: true });
      assert.ok(bytes > 1 << 20 && bytes < 256 << 20, `image of ${bytes} bytes`);
    } finally {
      await g.destroy();
    }

    const image = readSaveImage(file);
    assert.equal(image.header.name, NAME);
    assert.equal(image.header.cpuBackend, 'emu');
    const r = await GuestSession.start(guestFile('default.cfg'), [`name="${NAME}"`, `cmdline="${CMDLINE}"`, 'on_crash="destroy"'], { spec: image.spec, restore: image.state });
    try {
      r.type('echo typed-$((6*7))-ok\n');
      await r.waitForSerial('typed-42-ok', { timeoutMs: 120_000 });
      // An arithmetic-heavy command after the restore: the FPU/SSE state and syscalls (SYSENTER) work.
      r.type('echo $((123456789 % 97)) restored-after-save\n');
      await r.waitForSerial('restored-after-save', { timeoutMs: 60_000 });
      assert.doesNotMatch(r.output, /Linux version/, 'the restored domain booted again instead of continuing');
    } finally {
      await r.destroy();
    }
    const exit = await r.waitForExit({ timeoutMs: 30_000 });
    assert.equal(exit.reason, 'destroyed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

if (missing) console.error(`\n*** SKIPPED real-guest save/restore test: ${missing} ***\n`);
