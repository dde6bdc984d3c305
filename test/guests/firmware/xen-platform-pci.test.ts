// Issue 5 §7 acceptance: the Xen platform PCI device under a firmware-booted 686-pae.
// SeaBIOS (after hvmloader) boots cd-686-pae.iso; Debian's 686-pae kernel finds Xen
// HVM by itself, very early runs the unplug handshake on ports 0x10/0x12 (Linux
// arch/x86/xen/platform-pci-unplug.c: blkfront and netfront are built as modules, so
// it asks for emulated disks and NICs to go), and later binds xen-platform-pci to
// 5853:0001 at 00:03.0. The emulated IDE disk on hda is then gone before ata_piix
// probes while the CD on hdc stays. With xen_platform_pci=0 there is no device and
// no handshake; with xen_emul_unplug=never (typed at isolinux's prompt) the device
// binds but nothing is unplugged: in both ata_piix finds the disk. Three boots,
// a few minutes apiece.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { GuestSession } from '../../../src/toolstack/harness.js';
import { BOOT_TIMEOUT_MS, checkBinSha256, fact, factLines, factsWithPrefix, firmwareGuestsMissing, guestDir, saveSerial, scratchDir } from './firmware-guests.js';

const missing = firmwareGuestsMissing() ?? (existsSync(join(guestDir, 'cd-686-pae.iso')) ? null : `firmware test guest ${join(guestDir, 'cd-686-pae.iso')} is missing: run bash guests/build.sh`);

/** What one boot of the 686-pae CD left: serial text, the dmesg /init printed, shell answers, the domain log. */
interface PaeBoot {
  out: string;
  dmesg: string;
  shell: Map<string, string>;
  domainLog: string[];
}

/**
 * Shell questions typed on ttyS0 once /init is done. Each prints `SH key=value`; the
 * typed line echoes as `"S""H key=…` so only the answer starts with `SH `.
 */
const QUESTIONS: Array<[string, string]> = [
  ['block', 'ls /sys/block | tr "\\n" " "'],
  ['platform.driver', 'basename "$(readlink /sys/bus/pci/devices/0000:00:03.0/driver)"'],
  ['platform.id', 'cat /sys/bus/pci/devices/0000:00:03.0/vendor /sys/bus/pci/devices/0000:00:03.0/device | tr "\\n" " "'],
  ['platform.bound', 'ls /sys/bus/pci/drivers/xen-platform-pci | tr "\\n" " "'],
  ['hypervisor', 'cat /sys/hypervisor/type'],
  // The regions xen-platform-pci's probe claimed (pci_request_region of BAR1, then BAR0).
  ['platform.mem', 'grep xen-platform-pci /proc/iomem | tr -d " " | tr "\\n" " "'],
  ['platform.io', 'grep xen-platform-pci /proc/ioports | tr -d " " | tr "\\n" " "'],
  // libata's device classes in link order, empty positions (none/unknown) left out.
  ['ata.disks', 'cat /sys/class/ata_device/*/class | grep -vx -e none -e unknown | tr "\\n" " "'],
];

/**
 * Boots cd-686-pae.iso with a blank disk on hda. `extraCmdline`: words typed at
 * isolinux's `boot:` prompt after the label, which isolinux adds to the kernel
 * command line (guests/firmware-images.sh); without it Enter boots the CD's own.
 */
async function bootPaeCd(tag: string, overrides: string[], extraCmdline = ''): Promise<PaeBoot> {
  const scratch = scratchDir(tag);
  // A 16 MiB blank disk (sparse) on the primary master: the disk the unplug takes away.
  const blank = join(scratch.dir, 'blank.img');
  const fd = openSync(blank, 'w');
  ftruncateSync(fd, 16 << 20);
  closeSync(fd);
  const domainLog: string[] = [];
  let g: GuestSession | null = null;
  try {
    g = await GuestSession.start(join(guestDir, 'cd-pae.cfg'), [
      `name="${tag}"`,
      `disk=[ 'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=${join(guestDir, 'cd-686-pae.iso')}', 'format=raw, vdev=hda, access=rw, target=${blank}' ]`,
      'on_poweroff="destroy"',
      'on_reboot="destroy"',
      'on_crash="destroy"',
      ...overrides,
    ]);
    g.handle.on('log', (e) => domainLog.push(`${e.level} ${e.source}: ${e.message}`));
    const session = g;
    await session.waitForSerial(/ISOLINUX \d+\.\d+/, { timeoutMs: BOOT_TIMEOUT_MS });
    await session.waitForSerial('boot: ', { timeoutMs: BOOT_TIMEOUT_MS });
    session.type(extraCmdline ? `linux ${extraCmdline}\r` : '\r');
    await session.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await session.waitForSerial('GUEST-END', { timeoutMs: 600_000 });
    // busybox sh's prompt ("/ # "): typed lines go to the shell, not to a flushed tty.
    await session.waitForSerial('# ', { timeoutMs: 120_000 });
    const shell = new Map<string, string>();
    for (const [key, command] of QUESTIONS) {
      session.type(`echo "S""H ${key}=$(${command})"\n`);
      const line = await session.waitForSerial(new RegExp(`\\nSH ${key.replace(/\./g, '\\.')}=[^\\r\\n]*`), { timeoutMs: 120_000 });
      shell.set(key, line.slice(line.indexOf('=') + 1).trim());
    }
    const out = session.output.replace(/\r/g, '');
    const begin = out.indexOf('\nDMESG-BEGIN\n');
    const end = out.indexOf('\nDMESG-END\n');
    const dmesg = begin >= 0 && end > begin ? out.slice(begin, end) : '';
    return { out, dmesg, shell, domainLog };
  } finally {
    if (g) {
      console.error(`${tag} serial output: ${saveSerial(g)}`);
      console.error(`${tag} domain log (xen, platform):\n  ${domainLog.filter((l) => /xen|platform/.test(l)).slice(0, 40).join('\n  ')}`);
      await g.destroy().catch(() => undefined);
    }
    scratch.remove();
  }
}

/** Checks every group and reports all failures together: a boot costs minutes. */
function checkAll(groups: Array<[string, () => void]>): void {
  const problems: string[] = [];
  for (const [what, body] of groups) {
    try {
      body();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 600)}`);
    }
  }
  assert.deepEqual(problems, []);
}

test('686-pae through SeaBIOS: Xen HVM, xen-platform-pci bound at 00:03.0, emulated IDE disk unplugged, CD stays', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 900_000 }, async () => {
  const b = await bootPaeCd('test-fw-xen-platform', []);
  const pci = factsWithPrefix(b.out, 'pci.');
  checkAll([
    ['kernel from the CD', () => {
      assert.match(fact(b.out, 'uname.r'), /-686-pae$/);
      assert.match(fact(b.out, 'cmdline'), /^BOOT_IMAGE=\/vmlinuz initrd=\/initrd\.gz console=ttyS0 /);
    }],
    ['Xen HVM detected', () => {
      assert.ok(b.dmesg.length > 0, 'dmesg between DMESG-BEGIN and DMESG-END');
      assert.match(b.dmesg, /Hypervisor detected: Xen HVM/);
      assert.match(b.dmesg, /Booting paravirtualized kernel on Xen HVM/);
      assert.equal(fact(b.out, 'hypervisor'), 'xen', '/sys/hypervisor/type from /init');
      assert.equal(b.shell.get('hypervisor'), 'xen', '/sys/hypervisor/type from the shell');
    }],
    ['unplug handshake', () => {
      // platform-pci-unplug.c's notices for the default mask (blkfront, netfront are =m).
      assert.match(b.dmesg, /Blkfront and the Xen platform PCI driver have been compiled for this kernel: unplug emulated disks/);
      assert.match(b.dmesg, /Netfront and the Xen platform PCI driver have been compiled for this kernel: unplug emulated NICs/);
      assert.doesNotMatch(b.dmesg, /Xen Platform PCI: unrecognised magic value/);
      // The device model saw mask 3 (disks + NICs) and took hda away.
      const unplug = b.domainLog.find((l) => /xen-platform: guest unplugged emulated disks/.test(l)) ?? '';
      assert.match(unplug, /\(mask 3\): hda$/, `domain log: ${unplug || b.domainLog.filter((l) => /xen/.test(l)).join(' | ')}`);
    }],
    ['callback via', () => {
      // Linux takes the vector callback when get_features offers
      // XENFEAT_hvm_callback_vector; otherwise xen-platform-pci's probe hooks the
      // device's interrupt and sets CALLBACK_IRQ to its PCI INTx (its IRQ is >= 16:
      // GSI 28 = 16 + (3*4 + 0) mod 32, xen-abi.md §5.4) and events arrive there.
      const via = b.domainLog.filter((l) => /event channel upcall via/.test(l));
      assert.ok(via.length > 0, 'the domain logged the callback via');
      const chosen = via[via.length - 1];
      if (/Xen HVM callback vector for event delivery is enabled/.test(b.dmesg)) {
        assert.match(chosen, /"type":"vector","vector":243/, via.join(' | '));
      } else {
        assert.match(chosen, /"type":"pci-intx","segment":0,"bus":0,"devfn":24,"pin":0/, via.join(' | '));
        const line = factLines(b.out, 'interrupts').find((l) => /xen-platform-pci/.test(l)) ?? '';
        const m = /^\s*28:\s+(\d+)\s+IO-APIC\s+28-fasteoi\s+xen-platform-pci$/.exec(line);
        assert.ok(m, `/proc/interrupts: "${line}"`);
        assert.ok(Number(m[1]) > 10, `event upcalls through the platform INTx: ${line}`);
      }
    }],
    ['xen-platform-pci bound to 0000:00:03.0', () => {
      assert.match(pci.get('pci.0000:00:03.0') ?? '', /^5853:0001 class=ff8000 driver=xen-platform-pci$/, `pci facts: ${[...pci].join('; ')}`);
      assert.equal(b.shell.get('platform.driver'), 'xen-platform-pci');
      assert.equal(b.shell.get('platform.id'), '0x5853 0x0001');
      assert.match(b.shell.get('platform.bound') ?? '', /\b0000:00:03\.0\b/);
    }],
    ['BARs claimed, grant table set up in BAR1', () => {
      // BAR1: 16 MiB of MMIO (the grant-frame window); BAR0: 256 I/O ports.
      const mem = /^([0-9a-f]+)-([0-9a-f]+):xen-platform-pci$/.exec(b.shell.get('platform.mem') ?? '');
      assert.ok(mem, `/proc/iomem: ${b.shell.get('platform.mem')}`);
      assert.equal(parseInt(mem[2], 16) - parseInt(mem[1], 16) + 1, 16 << 20);
      const io = /^([0-9a-f]+)-([0-9a-f]+):xen-platform-pci$/.exec(b.shell.get('platform.io') ?? '');
      assert.ok(io, `/proc/ioports: ${b.shell.get('platform.io')}`);
      assert.equal(parseInt(io[2], 16) - parseInt(io[1], 16) + 1, 256);
      // On HVM, gnttab_init runs from the platform driver's probe, after it took BAR1.
      assert.match(b.dmesg, /xen:grant_table: Grant tables using version 1 layout/);
      assert.match(b.dmesg, /Grant table initialized/);
    }],
    ['emulated disk gone, CD stays', () => {
      assert.match(b.out, /^TEST cdrom PASS$/m, 'the CD is still read over ATAPI');
      assert.equal(fact(b.out, 'cdrom.sha256'), checkBinSha256());
      const blocks = (b.shell.get('block') ?? '').split(/\s+/).filter(Boolean);
      assert.ok(blocks.includes('sr0'), `/sys/block: ${blocks.join(' ')}`);
      assert.ok(!blocks.some((d) => /^(sd|hd)/.test(d)), `no emulated disk in /sys/block: ${blocks.join(' ')}`);
      assert.doesNotMatch(b.dmesg, /ata1\.00: ATA-\d+/, 'no disk IDENTIFY on ata1');
      assert.doesNotMatch(b.dmesg, /\[sda\]/);
      assert.match(b.dmesg, /ata2\.00: ATAPI: /);
      assert.equal(b.shell.get('ata.disks'), 'atapi', 'libata sees only the CD');
      assert.match(pci.get('pci.0000:00:01.1') ?? '', /driver=ata_piix$/, 'the IDE controller stays');
    }],
  ]);
});

test('686-pae through SeaBIOS with xen_platform_pci=0: no platform device, no unplug, the disk stays', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 900_000 }, async () => {
  const b = await bootPaeCd('test-fw-no-xen-platform', ['xen_platform_pci=0']);
  const pci = factsWithPrefix(b.out, 'pci.');
  checkAll([
    ['still Xen HVM', () => {
      assert.match(b.dmesg, /Hypervisor detected: Xen HVM/);
      assert.equal(b.shell.get('hypervisor'), 'xen');
    }],
    ['no platform device, no unplug', () => {
      assert.equal(pci.get('pci.0000:00:03.0'), undefined, `pci facts: ${[...pci].join('; ')}`);
      assert.ok(![...pci.values()].some((v) => v.startsWith('5853:')), 'no 5853:xxxx function');
      // Ports 0x10-0x12 read open bus: Linux's magic check fails and it unplugs nothing.
      assert.match(b.dmesg, /Xen Platform PCI: unrecognised magic value/);
      assert.doesNotMatch(b.dmesg, /unplug emulated disks/);
      assert.ok(!b.domainLog.some((l) => /unplugged emulated disks/.test(l)), 'no unplug in the domain log');
      // Without the platform driver's probe Linux never sets up its grant table.
      assert.doesNotMatch(b.dmesg, /Grant table initialized/);
    }],
    ['disk and CD from ata_piix', () => {
      const blocks = (b.shell.get('block') ?? '').split(/\s+/).filter(Boolean);
      assert.ok(blocks.includes('sda') && blocks.includes('sr0'), `/sys/block: ${blocks.join(' ')}`);
      assert.match(b.dmesg, /ata1\.00: 32768 sectors/, '16 MiB = 32768 sectors');
      assert.match(b.dmesg, /sd 0:0:0:0: \[sda\] Attached SCSI disk/);
      assert.equal(b.shell.get('ata.disks'), 'ata atapi');
      assert.match(b.out, /^TEST cdrom PASS$/m);
    }],
  ]);
});

test('686-pae through SeaBIOS with xen_emul_unplug=never typed at boot: the device binds, nothing is unplugged, the disk stays', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 900_000 }, async () => {
  const b = await bootPaeCd('test-fw-xen-unplug-never', [], 'xen_emul_unplug=never');
  const pci = factsWithPrefix(b.out, 'pci.');
  checkAll([
    ['the typed words reach the kernel', () => {
      assert.match(fact(b.out, 'cmdline'), /^BOOT_IMAGE=\/vmlinuz initrd=\/initrd\.gz console=ttyS0 .* guest\.shell xen_emul_unplug=never$/);
    }],
    ['no handshake, no unplug', () => {
      // platform-pci-unplug.c: XEN_UNPLUG_NEVER returns before the magic check.
      assert.match(b.dmesg, /Hypervisor detected: Xen HVM/);
      assert.doesNotMatch(b.dmesg, /unplug emulated (disks|NICs)|unrecognised magic value/);
      assert.ok(!b.domainLog.some((l) => /unplugged emulated disks/.test(l)), 'no unplug in the domain log');
    }],
    ['the platform device is there and bound', () => {
      assert.match(pci.get('pci.0000:00:03.0') ?? '', /^5853:0001 class=ff8000 driver=xen-platform-pci$/, `pci facts: ${[...pci].join('; ')}`);
    }],
    ['disk and CD from ata_piix', () => {
      const blocks = (b.shell.get('block') ?? '').split(/\s+/).filter(Boolean);
      assert.ok(blocks.includes('sda') && blocks.includes('sr0'), `/sys/block: ${blocks.join(' ')}`);
      assert.match(b.dmesg, /sd 0:0:0:0: \[sda\] Attached SCSI disk/);
      assert.equal(b.shell.get('ata.disks'), 'ata atapi');
      assert.match(b.out, /^TEST cdrom PASS$/m);
    }],
  ]);
});

if (missing) console.error(`\n*** SKIPPED Xen platform PCI firmware test: ${missing} ***\n`);
