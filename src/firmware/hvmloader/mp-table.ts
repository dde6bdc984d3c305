// Intel MultiProcessor Specification 1.4 tables (ch. 4) and the PCI IRQ routing
// table "$PIR" (Microsoft PCI IRQ Routing Table Specification 1.0), as Xen's
// hvmloader lays them out (reference/pc-platform-and-firmware.md §4 "MP", "$PIR").

import { TableBytes } from './table-bytes.js';
import { IOAPIC_ADDRESS, IOAPIC_ID, LAPIC_ADDRESS, LEVEL_ISA_IRQS } from './acpi/tables.js';
import { pciIntxLink } from '../../devices/chipset/pci-intx-router.js';

export const MP_FLOATING_LENGTH = 16;
/** SeaBIOS copies the pointer and configuration table only if together they fit 600 bytes (§1). */
export const SEABIOS_MP_LIMIT = 600;
const MP_HEADER_LENGTH = 44;
const MP_CPU_ENTRY = 20;
const MP_SMALL_ENTRY = 8;
/** APIC version the vLAPIC reports (low byte of 0x00050014). */
const LAPIC_VERSION = 0x14;
const IOAPIC_VERSION = 0x11;
/** I/O interrupt entry flags: level-triggered, active low (MP 1.4 table 4-10). */
const MP_LEVEL_LOW = 0x0f;

export interface MpConfig {
  vcpus: number;
  /** CPUID leaf 1 EAX (signature) and EDX (features) for the processor entries. */
  cpuSignature: number;
  cpuFeatures: number;
}

/** Total bytes of pointer + configuration table for `vcpus` processors. */
export function mpTableLength(vcpus: number): number {
  return MP_FLOATING_LENGTH + MP_HEADER_LENGTH + MP_CPU_ENTRY * vcpus + MP_SMALL_ENTRY * (2 + 16);
}

/**
 * The floating pointer at `address`, immediately followed by the configuration
 * table: processors (APIC ID = 2 × vCPU), the ISA bus, the IOAPIC, and ISA IRQ i on
 * IOAPIC pin i except IRQ 0 on pin 2 with pin 0 the 8259's ExtINT ("virtual wire B").
 */
export function buildMpTable(address: number, cfg: MpConfig): Uint8Array {
  const t = new TableBytes(mpTableLength(cfg.vcpus));
  const config = MP_FLOATING_LENGTH;
  // Floating pointer: length in 16-byte units, spec 1.4, feature bytes 0 = table present, no IMCR.
  t.ascii(0, '_MP_').u32(4, address + config).u8(8, 1).u8(9, 4);
  let at = config + MP_HEADER_LENGTH;
  let count = 0;
  for (let cpu = 0; cpu < cfg.vcpus; cpu++, at += MP_CPU_ENTRY, count++) {
    t.u8(at, 0).u8(at + 1, 2 * cpu).u8(at + 2, LAPIC_VERSION).u8(at + 3, cpu === 0 ? 0x03 : 0x01);
    t.u32(at + 4, cfg.cpuSignature).u32(at + 8, cfg.cpuFeatures);
  }
  const ISA_BUS = 0;
  t.u8(at, 1).u8(at + 1, ISA_BUS).ascii(at + 2, 'ISA   ', 6);
  at += MP_SMALL_ENTRY;
  count++;
  t.u8(at, 2).u8(at + 1, IOAPIC_ID).u8(at + 2, IOAPIC_VERSION).u8(at + 3, 0x01).u32(at + 4, IOAPIC_ADDRESS);
  at += MP_SMALL_ENTRY;
  count++;
  const intEntry = (kind: number, flags: number, irq: number, pin: number): void => {
    t.u8(at, 3).u8(at + 1, kind).u16(at + 2, flags).u8(at + 4, ISA_BUS).u8(at + 5, irq).u8(at + 6, IOAPIC_ID).u8(at + 7, pin);
    at += MP_SMALL_ENTRY;
    count++;
  };
  intEntry(3, 0, 0, 0); // ExtINT: the 8259 on pin 0
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue; // the cascade: pin 2 carries IRQ 0
    intEntry(0, LEVEL_ISA_IRQS.includes(irq) ? MP_LEVEL_LOW : 0, irq, irq === 0 ? 2 : irq);
  }
  const used = at - config;
  t.ascii(config, 'PCMP').u16(config + 4, used).u8(config + 6, 4);
  t.ascii(config + 8, 'Xen', 8).ascii(config + 16, 'HVM', 12);
  t.u16(config + 34, count).u32(config + 36, LAPIC_ADDRESS);
  t.checksum(config + 7, config, config + used);
  t.checksum(10, 0, MP_FLOATING_LENGTH);
  return t.bytes;
}

export const PIR_HEADER_LENGTH = 32;
const PIR_SLOT_LENGTH = 16;
/** Xen names a compatible router 8086:122E (PIIX). */
const PIR_ROUTER_COMPAT = { vendor: 0x8086, device: 0x122e };

/**
 * $PIR with one slot per PCI device number in `devices` (bus 0): pin p of device d
 * uses PIIX3 link register 0x60 + ((d + p) & 3), matching the routing hvmloader
 * programmed and the DSDT (not Xen's off-by-one $PIR).
 */
export function buildPirTable(devices: readonly number[], linkIrqs: readonly number[], routerDevfn = 0x08): Uint8Array {
  const t = new TableBytes(PIR_HEADER_LENGTH + PIR_SLOT_LENGTH * devices.length);
  let irqMask = 0;
  for (const irq of linkIrqs) if (irq > 0 && irq < 16) irqMask |= 1 << irq;
  t.ascii(0, '$PIR').u16(4, 0x0100).u16(6, t.length).u8(8, 0).u8(9, routerDevfn).u16(10, 0);
  t.u16(12, PIR_ROUTER_COMPAT.vendor).u16(14, PIR_ROUTER_COMPAT.device);
  devices.forEach((dev, i) => {
    const at = PIR_HEADER_LENGTH + PIR_SLOT_LENGTH * i;
    t.u8(at, 0).u8(at + 1, dev << 3);
    for (let pin = 0; pin < 4; pin++) t.u8(at + 2 + 3 * pin, 0x60 + pciIntxLink(dev, pin)).u16(at + 3 + 3 * pin, irqMask);
    t.u8(at + 14, dev).u8(at + 15, 0);
  });
  t.checksum(31);
  return t.bytes;
}
