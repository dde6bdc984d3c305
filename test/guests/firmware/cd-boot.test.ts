// Issue 4 acceptance: firmware boot from an isolinux CD. SeaBIOS (after hvmloader)
// reads the El Torito boot image over ATAPI, isolinux loads the 686 kernel and the
// storage initramfs through INT 13h, and Linux then finds the PIIX3 IDE disk and CD
// with ata_piix, reads the CD's 1 MiB data file, and reports what the platform gave
// it. One boot; a blank disk on hda so ata_piix has both kinds of drive.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { assertCdFacts } from './cd-facts.js';
import { BOOT_TIMEOUT_MS, checkBinSha256, firmwareGuestsMissing, guestDir, saveSerial, scratchDir, startFirmwareGuest } from './firmware-guests.js';

const missing = firmwareGuestsMissing();

test('isolinux CD boots through SeaBIOS; ata_piix finds disk + CD, the data file checks out, ACPI/IO-APIC/PCI facts', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 300_000 }, async () => {
  const scratch = scratchDir('fw-cd');
  // A 16 MiB blank disk (sparse) as the primary master: ata_piix must find a disk too.
  const blank = join(scratch.dir, 'blank.img');
  const fd = openSync(blank, 'w');
  ftruncateSync(fd, 16 << 20);
  closeSync(fd);
  const g = await startFirmwareGuest('cd.cfg', [
    'name="test-fw-cd"',
    `disk=[ 'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=${join(guestDir, 'cd-686.iso')}', 'format=raw, vdev=hda, access=rw, target=${blank}' ]`,
    'on_poweroff="destroy"',
    'on_reboot="destroy"',
    'on_crash="destroy"',
  ]);
  let out: string;
  let exit: Awaited<ReturnType<typeof g.waitForExit>>;
  try {
    // isolinux echoes to COM1 too (`serial 0` in isolinux.cfg): the El Torito image ran.
    await g.waitForSerial(/ISOLINUX \d+\.\d+/, { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-END', { timeoutMs: 600_000 });
    out = g.output.replace(/\r/g, '');
    // guest.poweroff: ACPI S5 through the PIIX4 PM function ends the domain.
    exit = await g.waitForExit({ timeoutMs: 120_000 });
  } finally {
    console.error(`test-fw-cd serial output: ${saveSerial(g)}`);
    await g.destroy().catch(() => undefined);
    scratch.remove();
  }
  assert.equal(exit.reason, 'poweroff', `exit ${exit.reason}: ${exit.detail}`);

  assertCdFacts(out, checkBinSha256());
});

if (missing) console.error(`\n*** SKIPPED firmware CD test: ${missing} ***\n`);
