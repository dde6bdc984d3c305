// hvmloader's work, done by the domain builder before the first instruction instead
// of by a guest-side loader (reference/pc-platform-and-firmware.md §1-§4,
// xen-hvm-architecture.md §5): PCI setup, the interrupt routing state, SMBIOS, the
// SeaBIOS image ending at 1 MiB, MP + $PIR, ACPI, CMOS, the E820, and the
// "XenHVMSeaBIOS" info block SeaBIOS reads at POST. Then the vCPU starts at F000:FFF0.
//
// Memory used:
// - 0x1000: the info block (32 bytes).
// - scratch [0x10000, 0x20000): what SeaBIOS reads or copies during POST (table
//   pointer list, E820 array, RSDP, SMBIOS entry point, MP, $PIR); RAM again after.
// - the table area (64 KiB, E820 NVS): ACPI tables and SMBIOS structures the OS
//   reads in place. Xen's address 0xFC000000 when the domain maps writable backing
//   there (tables from 0xFC001000), else the top 64 KiB of low RAM.

import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { hex } from '../../hypervisor/types.js';
import { domainCpuidPolicy } from '../../hypervisor/cpuid-policy.js';
import type { E820Entry } from '../linux-boot/e820.js';
import { copyBiosToLowRam } from '../bios/bios-rom.js';
import { installAcpi, type AcpiPlacement } from './acpi/install.js';
import { IOAPIC_ADDRESS, IOAPIC_ID, LAPIC_ADDRESS } from './acpi/tables.js';
import { writeCmosBootOrder, writeCmosMemorySizes, type CmosWriter } from './cmos.js';
import { buildE820, encodeE820 } from './e820.js';
import { INFO_BLOCK_ADDRESS, buildInfoBlock } from './info-block.js';
import { SEABIOS_MP_LIMIT, buildMpTable, buildPirTable } from './mp-table.js';
import { PCI_MEM_END, setupPci, type PciConfigAccess, type PciSetupResult } from './pci-setup.js';
import { buildSmbiosEntryPoint, buildSmbiosStructures } from './smbios.js';
import { TableArea } from './table-area.js';

export const SCRATCH_START = 0x10000;
export const SCRATCH_END = 0x20000;
/** Xen's RESERVED_MEMORY_DYNAMIC_START - 1 page: info page, then the tables. */
export const XEN_TABLE_AREA = 0xfc000000;
export const TABLE_AREA_BYTES = 0x10000;
/** E820 reserves [0xFC000000, 4 GiB): IOAPIC, HPET, LAPIC and Xen's special pages. */
const PLATFORM_RESERVED_START = 0xfc000000;
/** Port 0xB2 (APM control) command that switches the PIIX4 PM to ACPI mode (SCI_EN). */
const APM_ACPI_ENABLE = 0xf1;

export interface HvmloaderEnv {
  memory: GuestMemory;
  pci: PciConfigAccess;
  /** RtcCmos.setCmos. */
  cmos: CmosWriter;
  ramBytes: number;
  vcpus: number;
  /** LAPIC + IOAPIC present: MADT, MP table and $PIR are built. */
  apic: boolean;
  acpi: boolean;
  /** bios-256k.bin (or a 128 KiB image), copied so it ends at 1 MiB. */
  bios: Uint8Array;
  /** xl `boot`: 'c', 'd', 'dc', 'cdn'... → CMOS 0x3D/0x38. */
  bootOrder: string;
  /** Defaults to `apic`: without an IOAPIC no MADT/MP table is built. */
  hasIoapic?: boolean;
  /** Port writes: ELCR 0x4D0/0x4D1 and APM control 0xB2. Without it they are only logged. */
  outb?: (port: number, value: number) => void;
  /** 32-bit MMIO writes for the IOAPIC/LAPIC virtual-wire setup (§2.5); skipped when absent. */
  mmioWrite32?: (address: number, value: number) => void;
  /** CPUID leaf 1 EAX/EDX for MP and SMBIOS processor entries; the emu policy by default. */
  cpuid1?: { eax: number; edx: number };
  /** 16-byte system UUID for SMBIOS type 1. */
  uuid?: Uint8Array;
}

export interface HvmloaderResult {
  e820: E820Entry[];
  entry: { cs: 0xf000; ip: 0xfff0 };
  log: string[];
  /** Where things went (diagnostics, tests). */
  placement: {
    biosBase: number;
    tableArea: { start: number; end: number };
    infoBlock: number;
    tables: number[];
    smbios: number;
    mp: number | null;
    pir: number | null;
    acpi: AcpiPlacement | null;
    pci: PciSetupResult;
  };
}

export class HvmloaderError extends Error {
  override name = 'HvmloaderError';
}

export function runHvmloader(env: HvmloaderEnv): HvmloaderResult {
  const log: string[] = [];
  const say = (m: string): void => void log.push(m);
  const { memory } = env;
  if (!Number.isInteger(env.vcpus) || env.vcpus < 1 || env.vcpus > 128) throw new HvmloaderError(`hvmloader: ${env.vcpus} vCPUs (1..128)`);
  if (env.ramBytes > memory.ramBytes || env.ramBytes < 16 << 20) {
    throw new HvmloaderError(`hvmloader: RAM of ${env.ramBytes} bytes (guest memory has ${memory.ramBytes}; at least 16 MiB needed)`);
  }
  const apicTables = env.apic && (env.hasIoapic ?? true);
  if (env.vcpus > 1 && !apicTables) say(`hvmloader: ${env.vcpus} vCPUs but no APIC: no MADT/MP table, only the BSP is described`);

  // Table area: Xen's address if the domain mapped writable memory there.
  let area: TableArea;
  let lowRamEnd = env.ramBytes;
  if (memory.isRam(XEN_TABLE_AREA, TABLE_AREA_BYTES)) {
    area = new TableArea('ACPI table area', XEN_TABLE_AREA, XEN_TABLE_AREA + TABLE_AREA_BYTES);
    area.alloc(0x1000, 0x1000); // page 0 is Xen's info page; tables start at 0xFC001000
  } else {
    lowRamEnd = env.ramBytes - TABLE_AREA_BYTES;
    area = new TableArea('ACPI table area', lowRamEnd, env.ramBytes);
  }
  say(`hvmloader: tables in [${hex(area.start)}, ${hex(area.end)}), low RAM ends at ${hex(lowRamEnd)}`);
  const scratch = new TableArea('hvmloader scratch', SCRATCH_START, SCRATCH_END);
  memory.fill(SCRATCH_START, SCRATCH_END - SCRATCH_START, 0);
  memory.fill(area.start, area.end - area.start, 0);
  const put = (where: TableArea, bytes: Uint8Array, align = 16): number => {
    const at = where.alloc(bytes.length, align);
    memory.write(at, bytes);
    return at;
  };

  const pci = setupPci(env.pci, { lowMemEnd: lowRamEnd, log: say });
  writeElcr(env, pci.linkIrqs, say);
  if (apicTables) setupVirtualWire(env, say);

  const cpuid = env.cpuid1 ?? cpuidLeaf1(env.apic);
  const tables: number[] = [];

  const smbios = buildSmbiosStructures({ vcpus: env.vcpus, ramBytes: env.ramBytes, cpuSignature: cpuid.eax, cpuFeatures: cpuid.edx, uuid: env.uuid });
  const smbiosTable = put(area, smbios.table);
  const smbiosEp = put(scratch, buildSmbiosEntryPoint(smbiosTable, smbios.table.length, smbios.count, smbios.maxSize));
  tables.push(smbiosEp);

  const biosBase = copyBiosToLowRam(memory, env.bios);
  say(`hvmloader: system BIOS ${env.bios.length >> 10} KiB at ${hex(biosBase)}-0x000fffff`);

  let mp: number | null = null;
  let pir: number | null = null;
  if (apicTables) {
    const at = scratch.alloc(16, 16);
    const mpBytes = buildMpTable(at, { vcpus: env.vcpus, cpuSignature: cpuid.eax, cpuFeatures: cpuid.edx });
    if (mpBytes.length > SEABIOS_MP_LIMIT) {
      say(`hvmloader: MP table of ${mpBytes.length} bytes exceeds SeaBIOS's ${SEABIOS_MP_LIMIT}: not provided (ACPI's MADT describes the CPUs)`);
    } else {
      scratch.alloc(mpBytes.length - 16, 1);
      memory.write(at, mpBytes);
      mp = at;
      tables.push(mp);
    }
    const devices = [...new Set(env.pci.functions().map((bdf) => (bdf >> 3) & 0x1f))].filter((d) => d !== 0);
    pir = put(scratch, buildPirTable(devices, pci.linkIrqs));
    tables.push(pir);
  }

  let acpi: AcpiPlacement | null = null;
  if (env.acpi) {
    acpi = installAcpi(memory, scratch, area, {
      vcpus: env.vcpus,
      madt: apicTables,
      dsdt: { pciMemStart: pci.pciMemStart, pciMemEnd: PCI_MEM_END - 1, linkIrqs: pci.linkIrqs },
      gpe0Block: 0xafe0,
    });
    tables.push(acpi.rsdp);
    // hvmloader's acpi_enable_sci: leave the chipset in ACPI mode.
    if (env.outb) env.outb(0xb2, APM_ACPI_ENABLE);
    else say('hvmloader: no port access: SCI_EN must be set by the platform');
    say(`hvmloader: ACPI RSDP ${hex(acpi.rsdp)} RSDT ${hex(acpi.rsdt)} XSDT ${hex(acpi.xsdt)} DSDT ${hex(acpi.dsdt)}`);
  }

  writeCmosMemorySizes(env.cmos, lowRamEnd);
  const boot = writeCmosBootOrder(env.cmos, env.bootOrder);
  if (boot.ignored) say(`hvmloader: boot order '${env.bootOrder}': ignored '${boot.ignored}'`);

  const e820 = buildE820({ biosBase, lowRamEnd, tables: { start: area.start, end: area.end }, platformStart: PLATFORM_RESERVED_START });
  const e820At = put(scratch, encodeE820(e820), 8);
  const tableList = new Uint8Array(4 * tables.length);
  tables.forEach((addr, i) => new DataView(tableList.buffer).setUint32(4 * i, addr, true));
  const tablesAt = put(scratch, tableList, 4);
  memory.write(INFO_BLOCK_ADDRESS, buildInfoBlock({ tables: tablesAt, tablesCount: tables.length, e820: e820At, e820Count: e820.length }));
  for (const e of e820) say(`hvmloader: e820 ${hex(e.addr)} - ${hex(e.addr + e.size - 1)} type ${e.type}`);

  return {
    e820,
    entry: { cs: 0xf000, ip: 0xfff0 },
    log,
    placement: { biosBase, tableArea: { start: area.start, end: area.end }, infoBlock: INFO_BLOCK_ADDRESS, tables, smbios: smbiosEp, mp, pir, acpi, pci },
  };
}

function cpuidLeaf1(apic: boolean): { eax: number; edx: number } {
  const leaf = domainCpuidPolicy({ apic }).find((e) => e.leaf === 1);
  return { eax: leaf?.eax ?? 0, edx: leaf?.edx ?? 0 };
}

/** ELCR: the ISA IRQs the PCI links use are level-triggered (§2.1: 0x4D0 = 0x20, 0x4D1 = 0x0C). */
function writeElcr(env: HvmloaderEnv, linkIrqs: readonly number[], say: (m: string) => void): void {
  let mask = 0;
  for (const irq of linkIrqs) if (irq > 2 && irq < 16 && irq !== 8 && irq !== 13) mask |= 1 << irq;
  if (!env.outb) {
    say(`hvmloader: no port access: ELCR should be 0x4d0=${hex(mask & 0xff, 2)} 0x4d1=${hex(mask >> 8, 2)}`);
    return;
  }
  env.outb(0x4d0, mask & 0xff);
  env.outb(0x4d1, mask >> 8);
}

/**
 * "Virtual wire B" (§2.5): IOAPIC ID 1, RTE0 = ExtINT unmasked to the BSP, and the
 * BSP LAPIC software-enabled with LINT0 ExtINT masked and LINT1 NMI, so the 8259
 * reaches the CPU through the IOAPIC while SeaBIOS runs.
 */
function setupVirtualWire(env: HvmloaderEnv, say: (m: string) => void): void {
  const w = env.mmioWrite32;
  if (!w) {
    say('hvmloader: no MMIO access: IOAPIC/LAPIC virtual-wire setup skipped');
    return;
  }
  const ioapic = (reg: number, value: number): void => {
    w(IOAPIC_ADDRESS, reg);
    w(IOAPIC_ADDRESS + 0x10, value);
  };
  ioapic(0x00, IOAPIC_ID << 24);
  ioapic(0x11, 0); // RTE0 high: destination APIC ID 0 (the BSP)
  ioapic(0x10, 0x700); // RTE0 low: ExtINT, edge, unmasked
  w(LAPIC_ADDRESS + 0xf0, 0x1ff); // SVR: enabled, spurious vector 0xFF
  w(LAPIC_ADDRESS + 0x350, 0x10700); // LVT0: ExtINT, masked
  w(LAPIC_ADDRESS + 0x360, 0x400); // LVT1: NMI
}
