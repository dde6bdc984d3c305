// The DSDT, generated with the AML builder (reference/pc-platform-and-firmware.md
// §3.4). Equivalent ASL:
//
//   Name (PICD, 0)                              // 0 = PIC mode until the OS says otherwise
//   Method (_PIC, 1) { Store (Arg0, PICD) }     // ACPI §5.8.1
//   Name (_S5, Package () { 0, 0, 0, 0 })       // SLP_TYP 0 = power off (QEMU's PM1a_CNT)
//   Scope (_SB) {
//     Device (PCI0) {
//       Name (_HID, EisaId ("PNP0A03"))  Name (_UID, 0)
//       Name (_CRS, ResourceTemplate () { bus 0-FF, IO CF8/8, I/O windows, memory windows })
//       Name (PRTA, Package () { { dev<<16|FFFF, pin, 0, GSI } ... })    // APIC mode
//       Name (PRTP, Package () { { dev<<16|FFFF, pin, 0, link IRQ } ... }) // PIC mode
//       Method (_PRT) { If (PICD) { Return (PRTA) }  Return (PRTP) }
//       Device (ISA) {
//         Name (_ADR, 0x00010000)
//         Device (KBD) { PNP0303, IO 60, IO 64, IRQ 1 }   // SeaBIOS needs PNP0303 (§1)
//         Device (MOU) { PNP0F13, IRQ 12 }
//       }
//     }
//   }
//
// APIC-mode GSIs follow Xen's hvm_pci_intx_gsi (needs a 48-pin IOAPIC). PIC mode
// uses static entries naming the ISA IRQ hvmloader routed each PIIX3 link to:
// the routing never changes, so link devices (PNP0C0F) would add nothing.

import { aml, device, dword, eisaId, ifOp, integer, method, name, nameString, packageOf, returnOp, scope, store, arg, type Aml } from '../aml/encoding.js';
import { dwordMemory, io, irqNoFlags, resourceTemplate, wordBusNumber, wordIo } from '../aml/resources.js';
import { ACPI_HEADER_LENGTH, acpiTable, sealTable } from './header.js';
import { pciIntxGsi, pciIntxLink } from '../../../devices/chipset/pci-intx-router.js';

export interface DsdtConfig {
  /** Start of the 32-bit PCI memory window (hvmloader's pci_mem_start). */
  pciMemStart: number;
  /** Last byte of that window (0xFBFFFFFF on Xen). */
  pciMemEnd: number;
  /** ISA IRQ each PIIX3 link A-D is routed to. */
  linkIrqs: readonly number[];
}

/** DSDT revision 2: integers are 64-bit (ACPI §5.2.11.1). */
const DSDT_REVISION = 2;

/** The AML body of the DSDT (everything after the header). */
export function dsdtBody(cfg: DsdtConfig): Aml {
  const crs = resourceTemplate(
    wordBusNumber(0x00, 0xff),
    io(0x0cf8, 0x0cf8, 0x01, 0x08),
    wordIo(0x0000, 0x0cf7),
    wordIo(0x0d00, 0xffff),
    dwordMemory(0x000a0000, 0x000bffff, 'cacheable'),
    dwordMemory(cfg.pciMemStart, cfg.pciMemEnd, 'non-cacheable'),
  );
  const prta: Aml[] = [];
  const prtp: Aml[] = [];
  for (let dev = 1; dev < 32; dev++) {
    for (let pin = 0; pin < 4; pin++) {
      const adr = ((dev << 16) | 0xffff) >>> 0;
      prta.push(packageOf([dword(adr), integer(pin), integer(0), integer(pciIntxGsi(dev, pin))]));
      prtp.push(packageOf([dword(adr), integer(pin), integer(0), integer(cfg.linkIrqs[pciIntxLink(dev, pin)])]));
    }
  }
  const keyboard = device(
    'KBD',
    name('_HID', dword(eisaId('PNP0303'))),
    name('_CRS', resourceTemplate(io(0x60, 0x60, 0x01, 0x01), io(0x64, 0x64, 0x01, 0x01), irqNoFlags(1))),
  );
  const mouse = device('MOU', name('_HID', dword(eisaId('PNP0F13'))), name('_CRS', resourceTemplate(irqNoFlags(12))));
  const isa = device('ISA', name('_ADR', integer(0x00010000)), keyboard, mouse);
  const pci0 = device(
    'PCI0',
    name('_HID', dword(eisaId('PNP0A03'))),
    name('_UID', integer(0)),
    name('_CRS', crs),
    name('PRTA', packageOf(prta)),
    name('PRTP', packageOf(prtp)),
    method('_PRT', 0, false, ifOp(nameString('PICD'), returnOp(nameString('PRTA'))), returnOp(nameString('PRTP'))),
    isa,
  );
  return aml(
    name('PICD', integer(0)),
    method('_PIC', 1, false, store(arg(0), nameString('PICD'))),
    name('_S5', packageOf([integer(0), integer(0), integer(0), integer(0)])),
    scope('_SB', pci0),
  );
}

/** The complete DSDT table, checksummed. */
export function buildDsdt(cfg: DsdtConfig): Uint8Array {
  const body = dsdtBody(cfg);
  const t = acpiTable('DSDT', DSDT_REVISION, ACPI_HEADER_LENGTH + body.length);
  t.set(ACPI_HEADER_LENGTH, body);
  return sealTable(t);
}
