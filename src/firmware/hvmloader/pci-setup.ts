// hvmloader's PCI bus-0 setup (reference/pc-platform-and-firmware.md §2.1, §2.2;
// xen-hvm-architecture.md §5 step 3): route the PIIX3 links, program the PM and IDE
// functions, size every BAR, place memory BARs largest first from 0xF0000000 and
// I/O BARs from 0xC000 with natural alignment, set INTERRUPT_LINE and COMMAND.
// SeaBIOS on Xen does none of this itself, and it finds the VGA BIOS through the
// ROM BAR address assigned here.

import { hex } from '../../hypervisor/types.js';
import { pciIntxLink } from '../../devices/chipset/pci-intx-router.js';

/** ISA IRQs hvmloader routes PIIX3 links A-D to (PIRQRC 0x60-0x63, §2.1). */
export const PCI_LINK_IRQS: readonly number[] = [5, 10, 11, 5];

/** Host-side configuration access to bus 0 (PciBus implements it). */
export interface PciConfigAccess {
  readConfig(bdf: number, offset: number, size: 1 | 2 | 4): number;
  writeConfig(bdf: number, offset: number, size: 1 | 2 | 4, value: number): void;
  /** bdfs (bus << 8 | dev << 3 | fn) of present functions, ascending. */
  functions(): number[];
}

/** The memory hole hvmloader fills: [0xF0000000, 0xFC000000), grown downward if needed. */
export const PCI_MEM_START = 0xf0000000;
export const PCI_MEM_END = 0xfc000000;
export const PCI_IO_START = 0xc000;
export const PCI_IO_END = 0x10000;
/** PIIX4 PM I/O base (PMBA, bit 0 = I/O space) and its SCI line (§2.2). */
export const PM_IO_BASE = 0xb000;
const PM_SCI_LINE = 9;

const COMMAND = 0x04;
const CMD_IO = 1 << 0;
const CMD_MEM = 1 << 1;
const CMD_MASTER = 1 << 2;
const BAR0 = 0x10;
const ROM_BAR = 0x30;
/** Writing this to the ROM BAR sizes it without setting the enable bit (§2.1). */
const ROM_ADDRESS_MASK = 0xfffff800;
const INTERRUPT_LINE = 0x3c;
const INTERRUPT_PIN = 0x3d;
const PIRQRC = 0x60;

export interface AssignedBar {
  bdf: number;
  /** 0-5, or 6 for the expansion ROM. */
  bar: number;
  kind: 'io' | 'mem';
  is64: boolean;
  size: number;
  /** Guest address given, or null when it did not fit. */
  address: number | null;
}

export interface PciSetupResult {
  /** Start of the 32-bit memory window used (the DSDT's _CRS and the E820 honour it). */
  pciMemStart: number;
  /** ISA IRQ of each PIIX3 link A-D (what INTERRUPT_LINE values and PIC-mode _PRT use). */
  linkIrqs: number[];
  /** Primary VGA (first class 0x0300 function), bdf or null. */
  vga: number | null;
  bars: AssignedBar[];
}

interface SizedBar extends AssignedBar {
  offset: number;
}

const PIIX3_ISA = { vendor: 0x8086, device: 0x7000 };
const PIIX4_PM = { vendor: 0x8086, device: 0x7113 };

const bdfName = (bdf: number): string => `${((bdf >> 3) & 0x1f).toString(16).padStart(2, '0')}.${bdf & 7}`;

export function setupPci(pci: PciConfigAccess, opts: { lowMemEnd: number; log: (m: string) => void }): PciSetupResult {
  const { log } = opts;
  const functions = pci.functions().filter((bdf) => bdf >= 0 && bdf < 0x100);
  const id = (bdf: number) => ({ vendor: pci.readConfig(bdf, 0x00, 2), device: pci.readConfig(bdf, 0x02, 2), cls: pci.readConfig(bdf, 0x0a, 2) });
  const is = (bdf: number, want: { vendor: number; device: number }) => {
    const i = id(bdf);
    return i.vendor === want.vendor && i.device === want.device;
  };

  // PIIX3 PIRQ routing: links A-D to ISA IRQs 5, 10, 11, 5 (bits 3:0, bit 7 clear = enabled).
  const isa = functions.find((bdf) => is(bdf, PIIX3_ISA)) ?? null;
  const linkIrqs = [...PCI_LINK_IRQS];
  if (isa !== null) {
    for (let link = 0; link < 4; link++) pci.writeConfig(isa, PIRQRC + link, 1, PCI_LINK_IRQS[link]);
    for (let link = 0; link < 4; link++) linkIrqs[link] = pci.readConfig(isa, PIRQRC + link, 1) & 0x0f;
  } else {
    log('pci: no PIIX3 ISA bridge (8086:7000); INTx links are not routed');
  }

  let vga: number | null = null;
  const sized: SizedBar[] = [];
  const command = new Map<number, number>();
  for (const bdf of functions) {
    const { vendor, device, cls } = id(bdf);
    if (vendor === 0xffff) continue;
    const isPm = cls === 0x0680 && is(bdf, PIIX4_PM);
    if (cls === 0x0300 && vga === null) {
      vga = bdf;
      log(`pci: ${bdfName(bdf)} ${hex(vendor, 4)}:${hex(device, 4)} is the primary VGA`);
    } else if (isPm) {
      // SMBus host off, SCI on line 9, PM I/O at 0xB000 enabled (PMREGMISC bit 0).
      pci.writeConfig(bdf, 0x20, 2, 0);
      pci.writeConfig(bdf, 0x22, 2, 0);
      pci.writeConfig(bdf, 0xd2, 2, 0);
      pci.writeConfig(bdf, INTERRUPT_LINE, 1, PM_SCI_LINE);
      pci.writeConfig(bdf, 0x40, 4, PM_IO_BASE | 1);
      pci.writeConfig(bdf, 0x80, 1, 0x01);
    } else if (cls === 0x0101 && vendor === 0x8086) {
      // IDETIM bit 15: decode the legacy 0x1F0/0x170 channels.
      pci.writeConfig(bdf, 0x40, 2, 0x8000);
      pci.writeConfig(bdf, 0x42, 2, 0x8000);
    }

    // Size the BARs with decoding off, restoring each value afterwards.
    const cmd = pci.readConfig(bdf, COMMAND, 2);
    command.set(bdf, cmd);
    pci.writeConfig(bdf, COMMAND, 2, cmd & ~(CMD_IO | CMD_MEM));
    for (let bar = 0; bar < 6; bar++) {
      const offset = BAR0 + 4 * bar;
      const probe = sizeRegister(pci, bdf, offset, 0xffffffff);
      if (probe === 0) continue;
      if (probe & 1) {
        // I/O BAR; a decoder of only 16 address bits reads 0 above them.
        let mask = probe & 0xfffffffc;
        if ((mask & 0xffff0000) === 0) mask |= 0xffff0000;
        sized.push({ bdf, bar, offset, kind: 'io', is64: false, size: (~mask + 1) >>> 0, address: null });
        continue;
      }
      const is64 = ((probe >>> 1) & 3) === 2 && bar < 5;
      const low = probe & 0xfffffff0;
      let size = low === 0 ? 0x100000000 : (~low + 1) >>> 0;
      if (is64) {
        const high = sizeRegister(pci, bdf, offset + 4, 0xffffffff);
        // 2^64 minus the 64-bit mask: beyond 4 GiB when the high half is not all ones.
        if (high !== 0xffffffff) size = 2 ** 64 - (high * 2 ** 32 + low);
        sized.push({ bdf, bar, offset, kind: 'mem', is64, size, address: null });
        bar++;
        continue;
      }
      sized.push({ bdf, bar, offset, kind: 'mem', is64, size, address: null });
    }
    const rom = sizeRegister(pci, bdf, ROM_BAR, ROM_ADDRESS_MASK) & ROM_ADDRESS_MASK;
    if (rom !== 0) sized.push({ bdf, bar: 6, offset: ROM_BAR, kind: 'mem', is64: false, size: (~rom + 1) >>> 0, address: null });

    // Barber-pole INTx routing; the PM function keeps its SCI line.
    const pin = pci.readConfig(bdf, INTERRUPT_PIN, 1);
    if (pin >= 1 && pin <= 4 && !isPm) {
      pci.writeConfig(bdf, INTERRUPT_LINE, 1, linkIrqs[pciIntxLink((bdf >> 3) & 0x1f, pin - 1)]);
    }
  }

  // One list per space, largest first (stable: equal sizes keep bus order).
  const mem = sized.filter((b) => b.kind === 'mem').sort((a, b) => b.size - a.size);
  const io = sized.filter((b) => b.kind === 'io').sort((a, b) => b.size - a.size);

  // Xen doubles the hole downward while it is too small, but never over low RAM.
  let pciMemStart = PCI_MEM_START;
  const memTotal = mem.reduce((sum, b) => sum + b.size, 0);
  while (PCI_MEM_END - pciMemStart < memTotal) {
    const next = (pciMemStart * 2) % 2 ** 32;
    if (next === 0 || next < opts.lowMemEnd) break;
    pciMemStart = next;
  }
  place(mem, pciMemStart, PCI_MEM_END);
  place(io, PCI_IO_START, PCI_IO_END);

  for (const b of sized) {
    const what = b.bar === 6 ? 'rom' : `bar ${b.bar}`;
    if (b.address === null) {
      log(`pci: ${bdfName(b.bdf)} ${what} (${b.kind}, size ${hex(b.size)}) does not fit: left unassigned`);
      continue;
    }
    if (b.bar === 6) {
      // The ROM gets an address but stays disabled; SeaBIOS enables it to copy the image.
      pci.writeConfig(b.bdf, ROM_BAR, 4, b.address);
    } else {
      const flags = pci.readConfig(b.bdf, b.offset, 4) & (b.kind === 'io' ? 0x3 : 0xf);
      pci.writeConfig(b.bdf, b.offset, 4, (b.address | flags) >>> 0);
      if (b.is64) pci.writeConfig(b.bdf, b.offset + 4, 4, 0);
    }
    command.set(b.bdf, (command.get(b.bdf) ?? 0) | (b.kind === 'io' ? CMD_IO : CMD_MEM));
    log(`pci: ${bdfName(b.bdf)} ${what} ${b.kind} size ${hex(b.size)} at ${hex(b.address)}`);
  }

  // Bus mastering for everyone; the primary VGA decodes its legacy I/O ports too.
  for (const bdf of functions) {
    if (!command.has(bdf)) continue;
    let cmd = (command.get(bdf) ?? 0) | CMD_MASTER;
    if (bdf === vga) cmd |= CMD_IO;
    pci.writeConfig(bdf, COMMAND, 2, cmd);
  }

  return { pciMemStart, linkIrqs, vga, bars: sized.map(({ offset: _offset, ...b }) => b) };
}

/** Write `probe` to a BAR register, read the result, restore the old value. */
function sizeRegister(pci: PciConfigAccess, bdf: number, offset: number, probe: number): number {
  const old = pci.readConfig(bdf, offset, 4);
  pci.writeConfig(bdf, offset, 4, probe);
  const v = pci.readConfig(bdf, offset, 4) >>> 0;
  pci.writeConfig(bdf, offset, 4, old);
  return v;
}

/** Give each BAR the next naturally aligned address in [start, end), in list order. */
function place(bars: AssignedBar[], start: number, end: number): void {
  let cursor = start;
  for (const b of bars) {
    const base = Math.ceil(cursor / b.size) * b.size;
    if (base + b.size > end) continue;
    b.address = base;
    cursor = base + b.size;
  }
}
