// Issue 4 acceptance: firmware boot with no drive at all. hvmloader hands over to
// SeaBIOS, which finds Xen by CPUID (its log moves to debugcon port 0xE9,
// pc-platform-and-firmware.md §1), copies hvmloader's tables into the F segment,
// runs the std-vga option ROM and, with nothing to boot, says so on the screen.
// One boot; the test ends it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logDirectory } from '../../../src/toolstack/log-paths.js';
import { BOOT_TIMEOUT_MS, startObjectGuest, waitForScreen } from './firmware-guests.js';

test('SeaBIOS with no disk: banner and "No bootable device" on screen, Xen detection and table copies in its 0xE9 log', { timeout: BOOT_TIMEOUT_MS + 120_000 }, async () => {
  const g = await startObjectGuest({
    name: 'test-fw-nodisk',
    type: 'hvm',
    memory: 128,
    vga: 'stdvga',
    serial: 'pty',
    boot: 'cd',
    // The harness collects the port's bytes (debugconOutput); the file is for people.
    debugcon: [`port=0xe9,file=${join(logDirectory(), 'test-fw-nodisk.debugcon-e9.log')}`],
    on_poweroff: 'destroy',
    on_reboot: 'destroy',
    on_crash: 'destroy',
  });
  let screen: string;
  try {
    // The banner SeaBIOS prints once the VGA ROM has run, then the boot attempt.
    screen = await waitForScreen(g, [/SeaBIOS \(version [^)]+\)/, /No bootable device/], BOOT_TIMEOUT_MS);
  } finally {
    await g.destroy();
  }
  const text = g.debugconOutput(0xe9);
  try {
    mkdirSync(logDirectory(), { recursive: true });
    writeFileSync(join(logDirectory(), 'test-fw-nodisk.debugcon-e9.log'), text);
  } catch {
    // Only a copy for people; the assertions use the text.
  }
  assert.match(screen, /Booting from (Hard Disk|DVD\/CD)/, `SeaBIOS tried the boot order:\n${screen}`);
  assert.doesNotMatch(screen, /Booting from ROM/, screen);

  assert.match(text, /SeaBIOS \(version [^)]+\)/, 'banner repeated on 0xE9 after Xen detection');
  assert.match(text, /Found Xen hypervisor signature at 40000000/, 'CPUID leaf 0x40000000 says XenVMMXenVMM');
  assert.doesNotMatch(text, /Bad Xen info (signature|length|checksum)|Xen info corrupted/, 'the XenHVMSeaBIOS info block at 0x1000 is valid');
  assert.match(text, /xen: copy BIOS tables/, 'tables listed in the info block');
  assert.match(text, /Copying [^\n]*RSDP[^\n]* from 0x[0-9a-f]+ to 0x[0-9a-f]+/i, 'the ACPI RSDP moved into the F segment');
  assert.match(text, /Detected Xen v\d+\.\d+/, 'the xen_version hypercall through the hypercall page answered');
  assert.match(text, /Found \d+ PCI devices/);
});
