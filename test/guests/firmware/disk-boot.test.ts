// Issue 4 acceptance: firmware boot from a partitioned hard disk. SeaBIOS runs the
// MBR (syslinux mbr.bin), which chains to the FAT16 partition's syslinux; the 686
// kernel + storage initramfs come off the disk through INT 13h. Linux mounts the
// partition with ata_piix + vfat, writes /written.txt, syncs and powers off; the
// file must then be in the host's image file. One boot, on a private copy of the image.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BOOT_TIMEOUT_MS, fact, firmwareGuestsMissing, guestDir, saveSerial, scratchDir, startFirmwareGuest } from './firmware-guests.js';

const missing = firmwareGuestsMissing();

/** What /init writes: `seq 1 20000` (md5 e071f707df7bbeee2a6a1eb48011ddd0, as guests/init.sh). */
const WRITTEN = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('');

/** The partition starts at LBA 2048 (guests/firmware-images.sh). */
const PARTITION_OFFSET = 2048 * 512;

test('syslinux disk boots through SeaBIOS; the guest writes a file, syncs, powers off; the image holds it', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 300_000 }, async () => {
  const scratch = scratchDir('fw-disk');
  const image = join(scratch.dir, 'disk.img');
  try {
    copyFileSync(join(guestDir, 'disk-686.img'), image);
    const g = await startFirmwareGuest('disk.cfg', [
      'name="test-fw-disk"',
      `disk=[ 'format=raw, vdev=hda, access=rw, target=${image}' ]`,
      'on_poweroff="destroy"',
      'on_reboot="destroy"',
      'on_crash="destroy"',
    ]);
    let out: string;
    let exit: Awaited<ReturnType<typeof g.waitForExit>>;
    try {
      // syslinux echoes to COM1 (`serial 0` in syslinux.cfg): MBR -> VBR -> ldlinux ran.
      await g.waitForSerial(/SYSLINUX \d+\.\d+/, { timeoutMs: BOOT_TIMEOUT_MS });
      await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
      // The host presses the ACPI power button (xl trigger power) once the guest waits for it.
      await g.waitForSerial('PWRBTN-READY', { timeoutMs: 600_000 });
      await g.pressPowerButton();
      await g.waitForSerial('GUEST-END', { timeoutMs: 600_000 });
      out = g.output.replace(/\r/g, '');
      exit = await g.waitForExit({ timeoutMs: 120_000 });
    } finally {
      console.error(`test-fw-disk serial output: ${saveSerial(g)}`);
      await g.destroy().catch(() => undefined);
    }
    assert.equal(exit.reason, 'poweroff', `poweroff -f ends the domain (ACPI S5): ${exit.reason}: ${exit.detail}`);
    assert.match(fact(out, 'cmdline'), /^BOOT_IMAGE=\/vmlinuz initrd=\/initrd\.gz console=ttyS0 .*guest\.test=disk/);
    assert.match(out, /^TEST disk PASS$/m, 'the guest wrote, synced and read back its file');
    assert.equal(fact(out, 'disk.md5'), 'e071f707df7bbeee2a6a1eb48011ddd0');
    assert.match(out, /^TEST pwrbtn PASS$/m, 'the power button pressed from the host reached Linux as an ACPI event');

    // The host's image file has the file, found through the FAT by mtools.
    const fromImage = execFileSync('mcopy', ['-n', '-i', `${image}@@${PARTITION_OFFSET}`, '::/written.txt', '-'], {
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
      maxBuffer: 1 << 24,
    });
    assert.equal(fromImage.length, WRITTEN.length);
    assert.equal(createHash('md5').update(fromImage).digest('hex'), 'e071f707df7bbeee2a6a1eb48011ddd0');
    assert.equal(fromImage.toString('latin1'), WRITTEN);
  } finally {
    scratch.remove();
  }
});

if (missing) console.error(`\n*** SKIPPED firmware disk test: ${missing} ***\n`);
