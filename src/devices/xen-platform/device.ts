// The Xen platform PCI device (5853:0001) and the emulated-device unplug protocol on
// ports 0x10-0x1F (xen-abi.md §10; Xen docs/misc/hvm-emulated-unplug). Linux's
// xen-platform-pci binds to it, puts its grant frames in BAR1, and before that, very
// early, asks through port 0x10 for the emulated disks and NICs to be unplugged so
// that its PV frontends own them.

import { ONES, type IoBus, type MmioDevice, type PioDevice } from '../bus/io-bus.js';
import type { AccessSize } from '../../hypervisor/types.js';
import { PciFunction } from '../pci/pci-function.js';
import { restoreXenPlatformState, type XenPlatformState } from './state.js';

export const XEN_PLATFORM_VENDOR = 0x5853;
export const XEN_PLATFORM_DEVICE = 0x0001;
/** The magic a guest reads at port 0x10 before unplugging (0xD249 = its driver is blacklisted). */
export const UNPLUG_MAGIC = 0x49d2;
const UNPLUG_BLACKLISTED = 0xd249;
const UNPLUG_PROTOCOL_VERSION = 1;
const FIXED_PORT_BASE = 0x10;
const FIXED_PORT_COUNT = 16;
/**
 * The only platform flag (port 0x10 / BAR0+0 byte): the guest asks for 0xC0000-0xFFFFF
 * to be read-only. Xen's device model keeps just this bit; others read back 0.
 */
export const PLATFORM_FLAG_ROM_LOCK = 1 << 0;
/** Unplug mask bits (port 0x10, 16-bit write). */
export const UNPLUG_ALL_DISKS = 1 << 0;
export const UNPLUG_ALL_NICS = 1 << 1;
export const UNPLUG_AUX_DISKS = 1 << 2;
/** Longest guest log line kept (port 0x12 / BAR0+8 byte writes); longer lines are cut. */
const LOG_LINE_MAX = 256;

export interface XenPlatformHost {
  /** The guest asked to unplug emulated devices (mask of UNPLUG_* bits). */
  unplug(mask: number): void;
  /** A line the guest's PV driver logged through the platform device. */
  log(line: string): void;
}

/** BAR1: an address window for grant frames; plain memory reads 0, writes ignored. */
const GRANT_WINDOW: MmioDevice = { mmioRead: () => 0, mmioWrite: () => {} };

export class XenPlatformPci extends PciFunction {
  private flags = 0;
  private blacklisted = false;
  private product = 0;
  private line: number[] = [];
  /** Masks the guest has written so far, for tests and diagnostics. */
  readonly unplugged: number[] = [];
  /** OR of those masks: what a restore must unplug again. */
  private unpluggedMask = 0;

  constructor(private readonly host: XenPlatformHost) {
    const bar0: PioDevice = {
      pioRead: (offset: number) => (offset === 0 ? this.flags & 0xff : 0),
      pioWrite: (offset: number, size: AccessSize, value: number) => {
        if (offset === 0) this.flags = value & PLATFORM_FLAG_ROM_LOCK;
        else if (offset === 8 && size === 1) this.logByte(value);
      },
    };
    super(
      'xen-platform',
      {
        vendorId: XEN_PLATFORM_VENDOR,
        deviceId: XEN_PLATFORM_DEVICE,
        classCode: 0xff8000,
        revision: 1,
        subsystemVendorId: XEN_PLATFORM_VENDOR,
        subsystemId: XEN_PLATFORM_DEVICE,
        interruptPin: 1,
      },
      [
        { kind: 'io', size: 256, pio: bar0 },
        { kind: 'mem32', size: 16 << 20, prefetchable: true, mmio: GRANT_WINDOW },
      ],
    );
  }

  /** The fixed unplug ports 0x10-0x1F. */
  registerLegacy(bus: IoBus): void {
    bus.registerPio(FIXED_PORT_BASE, FIXED_PORT_COUNT, {
      pioRead: (offset: number, size: AccessSize) => this.fixedRead(offset, size),
      pioWrite: (offset: number, size: AccessSize, value: number) => this.fixedWrite(offset, size, value),
    }, 'xen-platform-unplug');
  }

  private fixedRead(offset: number, size: AccessSize): number {
    if (offset === 0 && size === 2) return this.blacklisted ? UNPLUG_BLACKLISTED : UNPLUG_MAGIC;
    if (offset === 0 && size === 1) return this.flags & 0xff;
    if (offset === 2 && size === 1) return UNPLUG_PROTOCOL_VERSION;
    return ONES[size];
  }

  private fixedWrite(offset: number, size: AccessSize, value: number): void {
    if (offset === 0) {
      if (size === 2) {
        this.unplugged.push(value & 0xffff);
        this.unpluggedMask |= value & 0xffff;
        this.host.unplug(value & 0xffff);
      } else if (size === 1) {
        this.flags = value & PLATFORM_FLAG_ROM_LOCK;
      }
      // size 4: the driver's build number; nothing to check against.
    } else if (offset === 2) {
      if (size === 2) this.product = value & 0xffff;
      else if (size === 1) this.logByte(value);
    }
  }

  /** The product number the guest's PV drivers announced (3 = Linux). */
  get productNumber(): number {
    return this.product;
  }

  save(): XenPlatformState {
    return { version: 1, flags: this.flags, product: this.product, unplugged: this.unpluggedMask, line: [...this.line] };
  }

  /**
   * Load a saved record into a freshly built device. The devices the guest had
   * unplugged are unplugged again through the host, so this must run before the
   * IDE record is restored (that record has no drive where the disk was).
   */
  restore(saved: unknown): void {
    const s = restoreXenPlatformState(saved, LOG_LINE_MAX);
    this.flags = s.flags & PLATFORM_FLAG_ROM_LOCK;
    this.product = s.product;
    this.line = s.line;
    this.unpluggedMask = s.unplugged;
    this.unplugged.length = 0;
    if (s.unplugged !== 0) {
      this.unplugged.push(s.unplugged);
      this.host.unplug(s.unplugged);
    }
  }

  private logByte(value: number): void {
    const b = value & 0xff;
    if (b === 0x0a) {
      this.host.log(String.fromCharCode(...this.line));
      this.line = [];
    } else if (this.line.length < LOG_LINE_MAX && b >= 0x20 && b < 0x7f) {
      this.line.push(b);
    }
  }
}
