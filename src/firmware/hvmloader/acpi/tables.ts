// Fixed ACPI tables (ACPI 6.x §5.2; values from reference/pc-platform-and-firmware.md
// §3 and Xen's tools/libacpi as described there): RSDP, RSDT, XSDT, FADT, FACS, MADT.

import { TableBytes } from '../table-bytes.js';
import { ACPI_HEADER_LENGTH, ACPI_OEM_ID, GAS_IO, acpiTable, gas, sealTable } from './header.js';

/** PIIX4-style PM block as Xen places it once ACPI_IOPORTS_LOCATION = 1 (§2.2). */
export const PM1A_EVT_BLK = 0xb000;
export const PM1A_CNT_BLK = 0xb004;
export const PM_TMR_BLK = 0xb008;
export const SCI_IRQ = 9;
export const LAPIC_ADDRESS = 0xfee00000;
export const IOAPIC_ADDRESS = 0xfec00000;
export const IOAPIC_ID = 1;

export const RSDP_LENGTH = 36;
export const FACS_LENGTH = 64;
export const FADT_LENGTH = 244;

/** RSDP revision 2 (§5.2.5.3): checksum of the first 20 bytes and of all 36. */
export function buildRsdp(rsdt: number, xsdt: number): Uint8Array {
  const t = new TableBytes(RSDP_LENGTH);
  t.ascii(0, 'RSD PTR ').ascii(9, ACPI_OEM_ID.padEnd(6, ' '), 6).u8(15, 2).u32(16, rsdt).u32(20, RSDP_LENGTH).u64(24, xsdt);
  t.checksum(8, 0, 20).checksum(32, 0, RSDP_LENGTH);
  return t.bytes;
}

/** RSDT (u32 entries) or XSDT (u64 entries) listing `tables`. */
export function buildRootTable(kind: 'RSDT' | 'XSDT', tables: readonly number[]): Uint8Array {
  const width = kind === 'RSDT' ? 4 : 8;
  const t = acpiTable(kind, 1, ACPI_HEADER_LENGTH + width * tables.length);
  tables.forEach((addr, i) => (width === 4 ? t.u32(ACPI_HEADER_LENGTH + 4 * i, addr) : t.u64(ACPI_HEADER_LENGTH + 8 * i, addr)));
  return sealTable(t);
}

/** FACS (§5.2.10): no checksum; version 1 as Xen. */
export function buildFacs(): Uint8Array {
  const t = new TableBytes(FACS_LENGTH);
  t.ascii(0, 'FACS').u32(4, FACS_LENGTH).u8(32, 1);
  return t.bytes;
}

export interface FadtConfig {
  facs: number;
  dsdt: number;
  /** GPE0 block port, 0 = none (then GPE0_BLK_LEN is 0 too). */
  gpe0Block: number;
}

// FADT flags (§5.2.9 table 5.10).
const FADT_WBINVD = 1 << 0;
const FADT_PROC_C1 = 1 << 2;
const FADT_FIX_RTC = 1 << 6;
const FADT_TMR_VAL_EXT = 1 << 8;
const FADT_RESET_REG_SUP = 1 << 10;
const FADT_USE_PLATFORM_CLOCK = 1 << 15;
/** IAPC_BOOT_ARCH bit 1: an 8042 is present (Linux then probes the i8042 without PNP nodes). */
const BOOT_ARCH_8042 = 1 << 1;

/** FADT revision 4 (244 bytes), used from both RSDT and XSDT; legacy and X_ blocks agree. */
export function buildFadt(cfg: FadtConfig): Uint8Array {
  const t = acpiTable('FACP', 4, FADT_LENGTH);
  const gpe0Len = cfg.gpe0Block ? 4 : 0;
  t.u32(36, cfg.facs).u32(40, cfg.dsdt);
  t.u16(46, SCI_IRQ);
  // SMI_CMD = 0: the platform is always in ACPI mode, the OS never writes 0xB2.
  t.u32(48, 0);
  t.u32(56, PM1A_EVT_BLK).u32(64, PM1A_CNT_BLK).u32(76, PM_TMR_BLK).u32(80, cfg.gpe0Block);
  t.u8(88, 4).u8(89, 2).u8(90, 0).u8(91, 4).u8(92, gpe0Len).u8(93, 0);
  // No C2/C3 (latencies above 100/1000 us mean "not supported").
  t.u16(96, 0x0fff).u16(98, 0x0fff);
  t.u8(108, 0x32); // CMOS century byte
  t.u16(109, BOOT_ARCH_8042);
  t.u32(112, FADT_WBINVD | FADT_PROC_C1 | FADT_FIX_RTC | FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP | FADT_USE_PLATFORM_CLOCK);
  // RESET_REG: PIIX3 reset control 0xCF9, byte, value 6 = hard reset (§5.2.9, §5 0xCF9).
  gas(t, 116, GAS_IO, 8, 1, 0xcf9);
  t.u8(128, 0x06);
  t.u64(132, cfg.facs).u64(140, cfg.dsdt);
  gas(t, 148, GAS_IO, 32, 2, PM1A_EVT_BLK);
  gas(t, 172, GAS_IO, 16, 2, PM1A_CNT_BLK);
  gas(t, 208, GAS_IO, 32, 3, PM_TMR_BLK);
  if (cfg.gpe0Block) gas(t, 220, GAS_IO, 32, 1, cfg.gpe0Block);
  return sealTable(t);
}

/** MADT interrupt source override flags (§5.2.12.5): level-triggered, active low, as Xen. */
const MPS_LEVEL_LOW = 0x0f;
/** ISA IRQs that are level-triggered: the PCI links (5, 10, 11) and the SCI (9). */
export const LEVEL_ISA_IRQS: readonly number[] = [5, 9, 10, 11];

/** MADT revision 2: one enabled LAPIC per vCPU (APIC ID = 2 × vCPU as Xen), the IOAPIC, overrides. */
export function buildMadt(vcpus: number): Uint8Array {
  const length = ACPI_HEADER_LENGTH + 8 + 8 * vcpus + 12 + 10 * (1 + LEVEL_ISA_IRQS.length);
  const t = acpiTable('APIC', 2, length);
  t.u32(36, LAPIC_ADDRESS).u32(40, 1); // PCAT_COMPAT: 8259s present
  let at = 44;
  for (let cpu = 0; cpu < vcpus; cpu++, at += 8) t.u8(at, 0).u8(at + 1, 8).u8(at + 2, cpu).u8(at + 3, 2 * cpu).u32(at + 4, 1);
  t.u8(at, 1).u8(at + 1, 12).u8(at + 2, IOAPIC_ID).u8(at + 3, 0).u32(at + 4, IOAPIC_ADDRESS).u32(at + 8, 0);
  at += 12;
  const override = (irq: number, gsi: number, flags: number): void => {
    t.u8(at, 2).u8(at + 1, 10).u8(at + 2, 0).u8(at + 3, irq).u32(at + 4, gsi).u16(at + 8, flags);
    at += 10;
  };
  // The PIT's IRQ0 is wired to IOAPIC pin 2 (Linux's check_timer depends on this).
  override(0, 2, 0);
  for (const irq of LEVEL_ISA_IRQS) override(irq, irq, MPS_LEVEL_LOW);
  return sealTable(t);
}
