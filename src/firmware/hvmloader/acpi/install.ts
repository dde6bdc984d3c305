// Places the ACPI tables in guest memory the way Xen's hvmloader does for SeaBIOS
// (reference/pc-platform-and-firmware.md §1 "Table copy", §3): the RSDP in scratch
// RAM (SeaBIOS copies it into its F-segment), everything it points to in the
// reserved table area, where the OS reads them in place.

import type { GuestMemory } from '../../../hypervisor/memory/guest-memory.js';
import type { TableArea } from '../table-area.js';
import { buildDsdt, type DsdtConfig } from './dsdt.js';
import { buildFacs, buildFadt, buildMadt, buildRootTable, buildRsdp } from './tables.js';

export interface AcpiConfig {
  vcpus: number;
  /** Build a MADT (Xen: only when nr_vcpus > 1 or apic_mode; without it the OS stays in PIC mode). */
  madt: boolean;
  dsdt: DsdtConfig;
  gpe0Block: number;
}

export interface AcpiPlacement {
  rsdp: number;
  rsdt: number;
  xsdt: number;
  fadt: number;
  facs: number;
  dsdt: number;
  madt: number | null;
}

export function installAcpi(memory: GuestMemory, scratch: TableArea, area: TableArea, cfg: AcpiConfig): AcpiPlacement {
  const put = (target: TableArea, bytes: Uint8Array, align = 16): number => {
    const at = target.alloc(bytes.length, align);
    memory.write(at, bytes);
    return at;
  };
  // ACPI §5.2.10: the FACS must be 64-byte aligned.
  const facs = put(area, buildFacs(), 64);
  const dsdt = put(area, buildDsdt(cfg.dsdt));
  const fadt = put(area, buildFadt({ facs, dsdt, gpe0Block: cfg.gpe0Block }));
  const madt = cfg.madt ? put(area, buildMadt(cfg.vcpus)) : null;
  const listed = madt === null ? [fadt] : [fadt, madt];
  const rsdt = put(area, buildRootTable('RSDT', listed));
  const xsdt = put(area, buildRootTable('XSDT', listed));
  const rsdp = put(scratch, buildRsdp(rsdt, xsdt));
  return { rsdp, rsdt, xsdt, fadt, facs, dsdt, madt };
}
