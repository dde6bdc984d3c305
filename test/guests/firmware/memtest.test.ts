// Issue 4 acceptance: memtest86+ 6.10 (Debian's ia32 ISO, El Torito floppy
// emulation) boots through SeaBIOS and tests memory: its VGA text screen shows a
// running test ("Status: Testing", "Test #N [name]") and no errors, and still none
// some seconds later. memtest86+ probes PCI, ACPI (RSDP/FADT/MADT/HPET), the PM
// timer or PIT for TSC calibration and the PIIX4 SMBus (pc-platform-and-firmware.md §9).
// One boot; the test ends the domain, memtest never stops by itself.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOOT_TIMEOUT_MS, firmwareGuestsMissing, screenText, startFirmwareGuest, waitForScreen } from './firmware-guests.js';

const missing = firmwareGuestsMissing();

const RUNNING = [/Time:\s+\d+:\d\d:\d\d/, /Memtest86\+ v6\.\d+/, /Status: Testing/, /Test #\s*\d+\s+\[[A-Z][^\]]+\]/, /Pass:?\s+\d+/, /Errors:\s+0\b/];
const MEMORY_MIB = 64;

/** memtest's "Time:  H:MM:SS" field in seconds (-1 when absent). */
function elapsed(screen: string): number {
  const m = /Time:\s+(\d+):(\d\d):(\d\d)/.exec(screen);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : -1;
}
const BROKEN = /Status: Failed|Errors:\s+[1-9]|!!|PANIC|Unexpected interrupt|Exception/i;

test('memtest86+ boots from its CD and runs tests without errors', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 300_000 }, async () => {
  // 64 MiB instead of memtest.cfg's 256: memtest's first passes over RAM cost emulated time.
  const g = await startFirmwareGuest('memtest.cfg', ['name="test-fw-memtest"', `memory=${MEMORY_MIB}`, 'on_poweroff="destroy"', 'on_reboot="destroy"', 'on_crash="destroy"']);
  try {
    const first = await waitForScreen(g, RUNNING, BOOT_TIMEOUT_MS);
    assert.doesNotMatch(first, BROKEN, first);
    // memtest sized the RAM from the E820 map: close to the configured size.
    const mem = /Memory\s*:\s*(\d+)\s*([MG])B/.exec(first);
    assert.ok(mem, `no memory size on the screen:\n${first}`);
    const mib = Number(mem[1]) * (mem[2] === 'G' ? 1024 : 1);
    assert.ok(mib >= MEMORY_MIB - 16 && mib <= MEMORY_MIB, `memtest sees ${mib} MiB of ${MEMORY_MIB}:\n${first}`);

    // Some seconds on, still testing and still no errors.
    await new Promise((r) => setTimeout(r, 20_000));
    const later = await screenText(g);
    assert.match(later, /Status: Testing/, later);
    assert.match(later, /Errors:\s+0\b/, later);
    assert.doesNotMatch(later, BROKEN, later);
    // Its elapsed-time field moved on: the tests are running, not a frozen screen.
    assert.ok(elapsed(later) > elapsed(first), `memtest's Time did not advance:\n${first}\n---\n${later}`);
  } finally {
    await g.destroy();
  }
  const exit = await g.waitForExit({ timeoutMs: 30_000 });
  assert.equal(exit.reason, 'destroyed', 'memtest ran until the test ended it');
});

if (missing) console.error(`\n*** SKIPPED firmware memtest test: ${missing} ***\n`);
