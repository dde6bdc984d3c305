// The PCI side of an HVM domain's PC, as Xen's device model presents it
// (xen-hvm-architecture §6; pc-platform §5): bus 0 with the i440FX host bridge at
// 00:00.0, the PIIX3 ISA bridge 00:01.0, its IDE function 00:01.1, the PIIX4-style
// ACPI PM function 00:01.3, and the std-vga card at 00:02.0.
//
// The ISA platform (PIC, PIT, RTC, UARTs, i8042) stays in domain.ts; this file adds
// what firmware boot needs on top.

import type { IoBus } from '../devices/bus/io-bus.js';
import type { IrqLine } from '../devices/bus/irq.js';
import type { GuestMemory } from './memory/guest-memory.js';
import type { Clock } from './clock.js';
import { PciBus } from '../devices/pci/pci-bus.js';
import { I440fxHostBridge } from '../devices/chipset/i440fx.js';
import { Piix3Isa } from '../devices/chipset/piix3-isa.js';
import { PciIntxRouter } from '../devices/chipset/pci-intx-router.js';
import { Piix4Pm } from '../devices/chipset/piix4-pm.js';
import { ResetControl } from '../devices/chipset/reset-control.js';
import { StdVga } from '../devices/vga/device.js';
import { XenPlatformPci, UNPLUG_ALL_DISKS, UNPLUG_AUX_DISKS } from '../devices/xen-platform/device.js';
import { PiixIde, IDE_PRIMARY, IDE_SECONDARY, type IdeDrives } from '../devices/ide/piix-ide.js';

/** std-vga's VRAM (BAR0), QEMU's default 16 MiB. */
export const VRAM_BYTES = 16 << 20;

/** Xen's default ACPI/SCI wiring: the PM function's SCI is ISA IRQ 9. */
export const SCI_IRQ = 9;

export interface HvmPlatformHost {
  bus: IoBus;
  memory: GuestMemory;
  clock: Clock;
  /** ISA IRQ n: 8259 input n and IOAPIC pin n (0 → 2). */
  isaLine(irq: number): IrqLine;
  /** IOAPIC pin (GSI) only. */
  gsiLine(gsi: number): IrqLine;
  powerOff(detail: string): void;
  reset(detail: string): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface HvmPlatformConfig {
  vga: 'stdvga' | 'none';
  /** The VGA card's option ROM (vgabios-stdvga.bin). */
  vgaBios: Uint8Array | null;
  /** IDE drives by slot (hda..hdd); the PIIX3 IDE function exists even with none, as on a PC. */
  drives: IdeDrives;
  /** Xen's platform PCI device at 00:03.0 (xl xen_platform_pci, default on with Xen). */
  xenPlatform: boolean;
}

export class HvmPlatform {
  readonly pci: PciBus;
  readonly hostBridge = new I440fxHostBridge();
  readonly isaBridge = new Piix3Isa();
  readonly intx: PciIntxRouter;
  readonly pm: Piix4Pm;
  readonly vga: StdVga | null = null;
  readonly ide: PiixIde;
  readonly xenPlatform: XenPlatformPci | null = null;

  constructor(host: HvmPlatformHost, config: HvmPlatformConfig) {
    this.intx = new PciIntxRouter((g) => host.gsiLine(g), (i) => host.isaLine(i), this.isaBridge);
    this.pci = new PciBus(host.bus, host.memory, (device, pin) => this.intx.line(device, pin), (m) => host.log('warn', m));
    host.bus.registerPio(0xcf8, 8, this.pci.configPorts, 'pci-config');
    this.pci.setResetControl(new ResetControl(() => host.reset('reset control 0xCF9')));
    this.pci.attach(0, 0, this.hostBridge);
    this.pci.attach(1, 0, this.isaBridge);
    this.pm = new Piix4Pm(host.bus, host.clock, host.isaLine(SCI_IRQ), {
      powerOff: () => host.powerOff('ACPI S5 (PM1a_CNT SLP_EN)'),
      log: (m) => host.log('warn', m),
    });
    this.ide = new PiixIde(host.memory, config.drives, host.isaLine(IDE_PRIMARY.irq), host.isaLine(IDE_SECONDARY.irq));
    this.ide.registerLegacy(host.bus);
    this.pci.attach(1, 1, this.ide);
    this.pci.attach(1, 3, this.pm);
    if (config.vga === 'stdvga') {
      const offset = host.memory.allocateBacking(VRAM_BYTES);
      const vram = host.memory.bytes.subarray(offset, offset + VRAM_BYTES);
      this.vga = new StdVga({ vram, vramBackingOffset: offset, ...(config.vgaBios ? { rom: config.vgaBios } : {}) });
      this.vga.registerLegacy(host.bus);
      this.pci.attach(2, 0, this.vga);
    }
    if (config.xenPlatform) {
      const xp = new XenPlatformPci({
        unplug: (mask) => {
          // hvm-emulated-unplug: bit 0 all disks, bit 2 all but the primary master (bit 0 wins); NICs: none emulated yet.
          if (mask & (UNPLUG_ALL_DISKS | UNPLUG_AUX_DISKS)) {
            const gone = this.ide.unplugDisks((mask & UNPLUG_ALL_DISKS) === 0);
            host.log('info', `xen-platform: guest unplugged emulated disks (mask ${mask.toString(16)}): ${gone.join(', ') || 'none'}`);
          }
        },
        log: (line) => host.log('info', `xen-platform: guest: ${line}`),
      });
      xp.registerLegacy(host.bus);
      this.pci.attach(3, 0, xp);
      this.xenPlatform = xp;
    }
  }

  nextDeadlineNs(): number {
    return this.pm.nextDeadlineNs();
  }

  update(): void {
    this.pm.update();
  }
}
