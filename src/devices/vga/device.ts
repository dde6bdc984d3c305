// QEMU's "std-vga" as a PCI function (pc-platform §7 "Device"): 1234:1111, class
// 0x030000, revision 2; BAR0 = VRAM (prefetchable, mapped straight into the
// guest's physical space), BAR2 = the 4 KiB MMIO register window, expansion ROM =
// the VGA BIOS (Debian's vgabios-stdvga.bin). The legacy VGA ports, the Bochs
// DISPI ports and the 0xA0000 window are fixed ISA-style decodes outside the BARs.

import type { IoBus, PioDevice } from '../bus/io-bus.js';
import { PciFunction } from '../pci/pci-function.js';
import type { Frame } from './palette.js';
import type { TextScreen } from './text-render.js';
import { VgaCore } from './vga-core.js';
import { MMIO_BAR_SIZE, StdVgaMmio } from './mmio-bar.js';
import { VGA_DECODED_PORTS, VGA_PORT_BASE } from './ports.js';
import { VGA_WINDOW_SIZE } from './vga-memory.js';
import { restoreVgaState, saveVgaState, type VgaState } from './state.js';

export const STD_VGA_VENDOR_ID = 0x1234;
export const STD_VGA_DEVICE_ID = 0x1111;
export const STD_VGA_CLASS = 0x030000;
export const STD_VGA_REVISION = 2;
export const VGA_WINDOW_BASE = 0xa0000;
export const DISPI_PORT_BASE = 0x1ce;
/** 0x1CE index, 0x1CF data, 0x1D0 data alias (so a 16-bit access at 0x1CF arrives whole). */
export const DISPI_PORT_COUNT = 3;

export interface StdVgaOptions {
  /** VRAM, a power of two ≥ 256 KiB (16 MiB usual): memory.bytes.subarray(off, off + size). */
  vram: Uint8Array;
  /** Where `vram` starts in GuestMemory's backing store (memory.allocateBacking(size)). */
  vramBackingOffset: number;
  /** The VGA BIOS option ROM image. */
  rom?: Uint8Array;
}

export class StdVga extends PciFunction {
  readonly core: VgaCore;
  /** The BAR2 register window. */
  readonly mmio: StdVgaMmio;

  constructor(opts: StdVgaOptions) {
    const core = new VgaCore(opts.vram);
    const mmio = new StdVgaMmio(core.ports, core.dispi);
    super(
      'std-vga',
      { vendorId: STD_VGA_VENDOR_ID, deviceId: STD_VGA_DEVICE_ID, classCode: STD_VGA_CLASS, revision: STD_VGA_REVISION },
      [
        { kind: 'mem32', size: opts.vram.length, prefetchable: true, backingOffset: opts.vramBackingOffset },
        null,
        { kind: 'mem32', size: MMIO_BAR_SIZE, mmio },
      ],
      opts.rom,
    );
    this.core = core;
    this.mmio = mmio;
  }

  /**
   * Claim the fixed legacy decodes: the VGA's ports within 0x3B0-0x3DF, ports
   * 0x1CE-0x1D0 (DISPI) and the 0xA0000-0xBFFFF window. Only the ports a VGA decodes
   * are taken (0x3B4/5, 0x3BA, 0x3C0-0x3CF, 0x3D4/5, 0x3DA), leaving 0x3BC (LPT1)
   * and the rest of the block to other ISA devices.
   */
  registerLegacy(bus: IoBus): void {
    const ports = this.core.ports;
    for (const [first, count] of VGA_DECODED_PORTS) {
      const skip = first - VGA_PORT_BASE;
      const window: PioDevice = {
        pioRead: (offset, size) => ports.pioRead(skip + offset, size),
        pioWrite: (offset, size, value) => ports.pioWrite(skip + offset, size, value),
      };
      bus.registerPio(first, count, window, 'vga');
    }
    bus.registerPio(DISPI_PORT_BASE, DISPI_PORT_COUNT, this.core.dispi.ports, 'vga-dispi');
    bus.registerMmio(VGA_WINDOW_BASE, VGA_WINDOW_SIZE, this.core.memory, 'vga-window');
  }

  render(): Frame {
    return this.core.render();
  }

  textScreen(): TextScreen | null {
    return this.core.textScreen();
  }

  /** Registers, DAC, latches and DISPI (VRAM is saved with guest memory; PCI config by the bus). */
  save(): VgaState {
    return saveVgaState(this.core);
  }

  restore(state: VgaState): void {
    restoreVgaState(this.core, state);
  }
}
