// tsxen save/restore keeps PCI configuration space and PIIX4 PM state of a
// firmware-booted guest: the 686-pae CD (the CD guest whose /init ends in a shell)
// through hvmloader and SeaBIOS, with `xen_nopv` typed at isolinux's prompt so Linux
// runs it as a plain PC (ACPI, PIIX, no Xen PV), booted to its shell. There the guest
// changes what firmware never sets: the VGA function's interrupt-line register (a
// sysfs config write) and GPE0_EN (an outb through /dev/port); Linux itself left
// SCI_EN, bus mastering on the IDE function and its own config writes. The domain is
// saved to a file, destroyed, and restored as a new domain: its shell then prints the
// same digest of every function's config space, the same PM1/GPE0 registers, and
// `poweroff -f` still ends the domain through ACPI S5 at the PM base the guest uses.
// One boot and one restore.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GuestSession } from '../../../src/toolstack/harness.js';
import { saveDomainImage } from '../../../src/toolstack/save-domain.js';
import { readSaveImage } from '../../../src/toolstack/save-image.js';
import { BOOT_TIMEOUT_MS, firmwareGuestsMissing, guestDir, saveSerial, scratchDir } from './firmware-guests.js';

const iso = join(guestDir, 'cd-686-pae.iso');
const missing = firmwareGuestsMissing() ?? (existsSync(iso) ? null : `firmware test guest ${iso} is missing: run bash guests/build.sh`);
const NAME = 'test-fw-pci-save';

const OVERRIDES = [
  `name="${NAME}"`,
  `disk=[ 'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=${iso}' ]`,
  'on_poweroff="destroy"',
  'on_reboot="destroy"',
  'on_crash="destroy"',
];

/** Bytes at I/O port `port` read through /dev/port, as hex pairs. */
const inb = (port: number, count: number): string => `$(dd if=/dev/port bs=1 skip=${port} count=${count} 2>/dev/null | od -An -tx1 | tr -d ' ')`;

/**
 * The state a restore must keep, as shell questions: each prints `TAG key=value`;
 * the typed line echoes with `"X""Y"` split so only the answer matches.
 */
const QUESTIONS: Array<[string, string]> = [
  ['pci', 'cat /sys/bus/pci/devices/*/config | md5sum | cut -c1-32'],
  ['vga.line', 'od -An -tx1 -j60 -N1 /sys/bus/pci/devices/0000:00:02.0/config | tr -d " "'],
  ['ide.cmd', 'od -An -tx1 -j4 -N2 /sys/bus/pci/devices/0000:00:01.1/config | tr -d " "'],
  // PM1_EN (0xB002) and PM1_CNT (0xB004) at hvmloader's PM base (FADT), GPE0_STS/EN at 0xAFE0.
  ['pm1', `echo ${inb(0xb002, 4)}`],
  ['gpe0', `echo ${inb(0xafe0, 4)}`],
];

async function ask(g: GuestSession, tag: string): Promise<Map<string, string>> {
  const answers = new Map<string, string>();
  for (const [key, command] of QUESTIONS) {
    g.type(`echo "${tag[0]}""${tag.slice(1)} ${key}=$(${command})"\n`);
    const line = await g.waitForSerial(new RegExp(`\\n${tag} ${key.replace(/\./g, '\\.')}=[^\\r\\n]*`), { timeoutMs: 120_000 });
    answers.set(key, line.slice(line.indexOf('=') + 1).trim());
  }
  return answers;
}

test('686-pae CD through SeaBIOS: PCI config space and PIIX4 PM state survive save/restore; ACPI S5 after restore', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 600_000 }, async () => {
  const scratch = scratchDir('fw-pci-save');
  const file = join(scratch.dir, 'guest.save');
  const log: string[] = [];
  let before: Map<string, string>;
  try {
    const g = await GuestSession.start(join(guestDir, 'cd-pae.cfg'), OVERRIDES);
    g.handle.on('log', (e) => log.push(`${e.level} ${e.source}: ${e.message}`));
    try {
      await g.waitForSerial(/ISOLINUX \d+\.\d+/, { timeoutMs: BOOT_TIMEOUT_MS });
      await g.waitForSerial('boot: ', { timeoutMs: BOOT_TIMEOUT_MS });
      g.type('linux xen_nopv\r');
      await g.waitForSerial('GUEST-END', { timeoutMs: BOOT_TIMEOUT_MS });
      await g.waitForSerial('# ', { timeoutMs: 120_000 });
      // What firmware never writes: VGA interrupt line 0x5a, GPE0_EN bit 2 (no GPE source asserts it).
      g.type("printf '\\132' | dd of=/sys/bus/pci/devices/0000:00:02.0/config bs=1 seek=60 conv=notrunc 2>/dev/null; echo \"W\"\"ROTE\"\n");
      await g.waitForSerial('\nWROTE', { timeoutMs: 60_000 });
      g.type(`printf '\\004' | dd of=/dev/port bs=1 seek=${0xafe2} conv=notrunc 2>/dev/null; echo "G""PE-SET"\n`);
      await g.waitForSerial('\nGPE-SET', { timeoutMs: 60_000 });
      before = await ask(g, 'B1');
      const bytes = await saveDomainImage(g.handle, file, { checkpoint: false, paused: true });
      assert.ok(bytes > 1 << 20, `image of ${bytes} bytes`);
    } finally {
      console.error(`${NAME} serial output before the save: ${saveSerial(g)}`);
      await g.destroy().catch(() => undefined);
    }
    assert.equal(before.get('vga.line'), '5a', 'the guest wrote the VGA interrupt line');
    assert.equal(before.get('gpe0'), '00000400', 'GPE0_EN bit 2 as the guest set it');
    assert.equal(parseInt(before.get('pm1')!.slice(4, 6), 16) & 1, 1, 'SCI_EN: Linux runs in ACPI mode');
    assert.ok((parseInt(before.get('ide.cmd')!.slice(0, 2), 16) & 0x05) === 0x05, `IDE COMMAND ${before.get('ide.cmd')}: I/O decode and bus mastering`);
    assert.doesNotMatch(log.join('\n'), /have no save records/);

    const image = readSaveImage(file);
    const names = image.state.devices.map((d) => d.name);
    assert.ok(names.includes('pci') && names.includes('pm'), `records in the image: ${names.join(', ')}`);

    const restoreLog: string[] = [];
    const r = await GuestSession.start(join(guestDir, 'cd-pae.cfg'), OVERRIDES, { spec: image.spec, restore: image.state });
    r.handle.on('log', (e) => restoreLog.push(`${e.level} ${e.source}: ${e.message}`));
    let after: Map<string, string>;
    let exit: Awaited<ReturnType<typeof r.waitForExit>>;
    try {
      r.type('echo typed-$((6*7))-ok\n');
      await r.waitForSerial('typed-42-ok', { timeoutMs: 120_000 });
      after = await ask(r, 'A1');
      // busybox poweroff -f: Linux's acpi_power_off writes SLP_TYP|SLP_EN to PM1a_CNT.
      r.type('poweroff -f\n');
      exit = await r.waitForExit({ timeoutMs: 120_000 });
    } finally {
      console.error(`${NAME} serial output after the restore: ${saveSerial(r)}`);
      await r.destroy().catch(() => undefined);
    }
    assert.doesNotMatch(r.output, /Linux version/, 'the restored domain booted again instead of continuing');
    // Guest time continues exactly: the TSC and the ACPI PM timer stay in step across the restore.
    assert.doesNotMatch(r.output, /Marking clocksource 'tsc' as unstable/, 'the TSC and the PM timer disagree after the restore (guest time skipped)');
    assert.deepEqual(Object.fromEntries(after), Object.fromEntries(before), 'config spaces and PM registers after the restore');
    assert.equal(exit.reason, 'poweroff', `exit ${exit.reason}: ${exit.detail}`);
    assert.match(exit.detail, /S5/);
    assert.doesNotMatch(restoreLog.join('\n'), /device (pci|pm) (is not in the image|in the image does not exist)/);
  } finally {
    scratch.remove();
  }
});

if (missing) console.error(`\n*** SKIPPED firmware PCI/chipset save test: ${missing} ***\n`);
