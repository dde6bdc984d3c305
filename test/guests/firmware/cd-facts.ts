// What the isolinux CD guest (guest.test=cdrom,platform) must report when booted with
// a blank 16 MiB disk on hda: the checks of issue 4's CD acceptance, kept apart from
// the boot so they can be read (and tried on a peer's transcript) on their own.
// Every group runs and all failures are reported together: one boot costs minutes.

import assert from 'node:assert/strict';
import { fact, factLines, factsWithPrefix } from './firmware-guests.js';

/** `out`: the guest's serial output up to GUEST-END; `sha256`: check.bin's host hash. */
export function assertCdFacts(out: string, sha256: string): void {
  const problems: string[] = [];
  const check = (what: string, body: () => void): void => {
    try {
      body();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 600)}`);
    }
  };

  check('kernel and command line from the CD', () => {
    // isolinux.cfg's command line, not an xl cmdline.
    assert.match(fact(out, 'uname.r'), /-686$/);
    assert.match(fact(out, 'cmdline'), /^BOOT_IMAGE=\/vmlinuz initrd=\/initrd\.gz console=ttyS0 .*guest\.test=cdrom,platform/);
  });

  check('data file on the CD', () => {
    // Read over ATAPI (sr0 + isofs); must hash to what the host computed.
    assert.match(out, /^TEST cdrom PASS$/m, 'TEST cdrom PASS');
    assert.equal(fact(out, 'cdrom.sha256'), sha256);
    assert.equal(fact(out, 'cdrom.size'), '1048576');
    assert.match(out, /^TEST platform PASS$/m, 'TEST platform PASS');
  });

  const dmesg = factLines(out, 'dmesg').join('\n');
  check('ata_piix finds the disk and the CD', () => {
    // Both channels at their legacy ports and IRQs, a disk on ata1, the CD on ata2.
    assert.match(dmesg, /ata1: PATA max (MW|U)DMA\d cmd 0x1f0 ctl 0x3f6 bmdma 0x[0-9a-f]+ irq 14/);
    assert.match(dmesg, /ata2: PATA max (MW|U)DMA\d cmd 0x170 ctl 0x376 bmdma 0x[0-9a-f]+ irq 15/);
    assert.match(dmesg, /ata1\.00: ATA-\d+: /, 'IDENTIFY DEVICE of the disk');
    assert.match(dmesg, /ata1\.00: 32768 sectors/, '16 MiB = 32768 sectors');
    assert.match(dmesg, /ata2\.00: ATAPI: /, 'IDENTIFY PACKET DEVICE of the CD');
    assert.match(dmesg, /sd 0:0:0:0: \[sda\] Attached SCSI disk/);
    assert.match(dmesg, /Attached scsi CD-ROM sr0/);
    assert.doesNotMatch(dmesg, /exception Emask|failed command|limiting speed to PIO|DMA disabled|timeout/i, 'no ATA errors or DMA fallbacks');
  });

  check('DMA transfer modes', () => {
    // libata configured both devices for a DMA mode (PIIX3: multiword DMA 2).
    const ata = factsWithPrefix(out, 'ata.');
    assert.match(ata.get('ata.dev1.0') ?? '', /^class=ata xfer=XFER_(MW_DMA|UDMA)_\d$/, `disk: ${ata.get('ata.dev1.0')}`);
    assert.match(ata.get('ata.dev2.0') ?? '', /^class=atapi xfer=XFER_(MW_DMA|UDMA)_\d$/, `CD: ${ata.get('ata.dev2.0')}`);
  });

  check('IDE interrupts through the IO-APIC', () => {
    // The CD's channel (IRQ 15) took many interrupts reading 1 MiB, routed by the IO-APIC.
    const irq15 = factLines(out, 'interrupts').find((l) => /^15:/.test(l)) ?? '';
    assert.match(irq15, /^15:\s+(\d+)\s+IO-APIC\s+15-edge\s+ata_piix$/, `/proc/interrupts line 15: "${irq15}"`);
    assert.ok(Number(/^15:\s+(\d+)/.exec(irq15)![1]) > 10, `IRQ 15 count: ${irq15}`);
    assert.equal(fact(out, 'ioapic'), 'yes', 'IO-APIC in /proc/interrupts');
  });

  check('ACPI tables', () => {
    const tables = fact(out, 'acpi.tables').split(/\s+/);
    for (const t of ['APIC', 'DSDT', 'FACP', 'FACS']) assert.ok(tables.includes(t), `ACPI table ${t} in "${tables.join(' ')}"`);
  });

  check('clocksource', () => {
    assert.match(fact(out, 'clocksource'), /^(tsc|hpet|acpi_pm)$/);
    assert.match(fact(out, 'clocksource.available'), /\bacpi_pm\b/, 'the FADT PM timer is a clocksource');
  });

  check('PCI devices', () => {
    // Bus 0 as Xen's QEMU builds it: i440FX, PIIX3 ISA + IDE, PIIX4 PM, std-vga.
    const pci = factsWithPrefix(out, 'pci.');
    const all = [...pci.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    assert.match(pci.get('pci.0000:00:00.0') ?? '', /^8086:1237 class=0600/, `i440FX host bridge in ${all}`);
    assert.match(pci.get('pci.0000:00:01.0') ?? '', /^8086:7000 class=0601/, `PIIX3 ISA bridge in ${all}`);
    assert.match(pci.get('pci.0000:00:01.1') ?? '', /^8086:7010 class=0101[0-9a-f]{2} driver=ata_piix$/, `PIIX3 IDE bound to ata_piix in ${all}`);
    assert.match(pci.get('pci.0000:00:01.3') ?? '', /^8086:7113 class=0680/, `PIIX4 ACPI PM in ${all}`);
    assert.ok([...pci.values()].some((v) => /^1234:1111 class=0300/.test(v)), `std-vga 1234:1111 in ${all}`);
  });

  assert.deepEqual(problems, [], `the CD guest's facts are off:\n  ${problems.join('\n  ')}`);
}
