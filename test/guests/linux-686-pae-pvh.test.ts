// Debian's unmodified 686-pae kernel booted through Xen's PVH ABI (issue 5 §8): the
// vmlinux ELF (guests/build.sh extracts it from the bzImage) is loaded by p_paddr and
// entered at its XEN_ELFNOTE_PHYS32_ENTRY with an hvm_start_info in EBX — no firmware,
// no bzImage decompressor. Linux takes its pvh_start_xen path, reads the memory map,
// command line and initramfs from the start_info, and runs as a Xen PVH guest.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestSession } from '../../src/toolstack/harness.js';
import { guestsMissing, guestFile, guestFileMissing, BOOT_TIMEOUT_MS, fact } from './guest-cache.js';

const missing = guestsMissing() ?? guestFileMissing('vmlinux-686-pae');
const CMDLINE = 'console=ttyS0 nokaslr cryptomgr.notests guest.test=dmesg guest.poweroff';
const MEMORY_MIB = 256;

test('686-pae boots as a Xen PVH guest from its vmlinux to GUEST-INIT-OK', { skip: missing ?? false, timeout: BOOT_TIMEOUT_MS + 60_000 }, async () => {
  const kernel = guestFile('vmlinux-686-pae');
  const ramdisk = guestFile('initramfs.cpio.gz');
  // Through the toolstack as a user's xl.cfg would: type = "pvh" → DomainSpec.pvh with the
  // Xen interface, one UART, no platform PCI device.
  const g = await GuestSession.start({ type: 'pvh', name: 'test-686-pae-pvh', memory: MEMORY_MIB, kernel, ramdisk, cmdline: CMDLINE, serial: 'pty', on_poweroff: 'destroy', on_crash: 'destroy', on_reboot: 'destroy' });
  try {
    await g.waitForSerial('GUEST-INIT-OK', { timeoutMs: BOOT_TIMEOUT_MS });
    await g.waitForSerial('GUEST-END', { timeoutMs: 120_000 });
    const out = g.output;
    // The PVH entry, not the bzImage one: Linux names its platform "Xen PVH" (6.1 prints
    // "Booting kernel on Xen PVH"; an HVM boot says "... on Xen HVM").
    assert.match(out, /Booting (paravirtualized )?kernel on Xen PVH/);
    assert.doesNotMatch(out, /kernel on Xen HVM/);
    // What Linux read from the hvm_start_info: the memory map (Linux adds the ISA hole
    // itself), the command line, and module 0 as the initramfs at the top of RAM.
    assert.match(out, /BIOS-e820: \[mem 0x0000000000100000-0x000000000fffffff\] usable/);
    assert.match(out, /RAMDISK: \[mem 0x0[0-9a-f]{7}-0x0fffffff\]/);
    assert.match(out, /Trying to unpack rootfs image as initramfs/);
    assert.equal(fact(out, 'cmdline'), CMDLINE);
    // The Xen interface: found, used for event channels, and visible in sysfs.
    assert.match(out, /Hypervisor detected: Xen/);
    assert.match(out, /xen:events: Using 2-level ABI/);
    assert.equal(fact(out, 'hypervisor'), 'xen', '/sys/hypervisor/type');
    assert.match(out, /TEST dmesg PASS/);
    const exit = await g.waitForExit({ timeoutMs: 120_000 });
    assert.equal(exit.reason, 'poweroff', `${exit.reason}: ${exit.detail}`);
  } finally {
    await g.destroy();
  }
});

if (missing) console.error(`\n*** SKIPPED real-guest PVH test: ${missing} ***\n`);
