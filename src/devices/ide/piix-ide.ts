// 00:01.1, the PIIX3 IDE function (8086:7010, class 0x010180: compatibility mode
// plus bus master; pc-platform §5, §6): two legacy channels on their ISA ports and
// IRQ 14/15, the SFF-8038i bus master at BAR4 (16 I/O ports), and IDETIM with the
// decode-enable bits preset so Linux's ata_piix uses both ports (0x41/0x43 bit 7).

import type { IoBus, PioDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { AccessSize } from '../../hypervisor/types.js';
import type { BlockBackend } from '../block/block-backend.js';
import { PciFunction, PCI_COMMAND } from '../pci/pci-function.js';
import { AtaDisk } from './ata-disk.js';
import { AtapiCdrom } from './atapi-cdrom.js';
import { BusMasterDma } from './bus-master-dma.js';
import { IdeChannel } from './ide-channel.js';
import type { IdeDrive } from './ide-drive.js';
import { int, type PiixIdeState } from './state.js';

export type IdeSlot = 'hda' | 'hdb' | 'hdc' | 'hdd';
export interface IdeDriveSpec {
  kind: 'disk' | 'cdrom';
  /** A disk needs one; a CD-ROM with null starts with an empty tray. */
  backend: BlockBackend | null;
}
export type IdeDrives = { [slot in IdeSlot]?: IdeDriveSpec };

/** Legacy ports: command block base, control block port, ISA IRQ (pc-platform §6.1). */
export const IDE_PRIMARY = { base: 0x1f0, control: 0x3f6, irq: 14 } as const;
export const IDE_SECONDARY = { base: 0x170, control: 0x376, irq: 15 } as const;

const IDETIM_PRIMARY = 0x40;
const IDETIM_SECONDARY = 0x42;
const SIDETIM = 0x44;
/** IDETIM bit 15: IDE decode enable. */
const IDETIM_DECODE = 0x8000;

function makeDrive(slot: IdeSlot, spec: IdeDriveSpec | undefined): IdeDrive | null {
  if (!spec) return null;
  const serial = `TSXEN-${slot.toUpperCase()}`;
  if (spec.kind === 'cdrom') return new AtapiCdrom(spec.backend, { serial });
  if (!spec.backend) throw new RangeError(`IDE ${slot}: a disk needs a backend`);
  return new AtaDisk(spec.backend, { serial });
}

export class PiixIde extends PciFunction {
  readonly channels: [IdeChannel, IdeChannel];
  readonly busMasters: [BusMasterDma, BusMasterDma];
  private readonly bmio: PioDevice = {
    pioRead: (offset: number, size: AccessSize) => {
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.bmByte(offset + i, -1) << (8 * i);
      return v >>> 0;
    },
    pioWrite: (offset: number, size: AccessSize, value: number) => {
      for (let i = 0; i < size; i++) this.bmByte(offset + i, (value >>> (8 * i)) & 0xff);
    },
  };

  constructor(memory: GuestMemory, drives: IdeDrives, irq14: IrqLine, irq15: IrqLine) {
    // BAR4 is declared after the constructor's `this` exists, through a forwarding device.
    const bar4: PioDevice = {
      pioRead: (o: number, s: AccessSize) => this.bmio.pioRead(o, s),
      pioWrite: (o: number, s: AccessSize, v: number) => this.bmio.pioWrite(o, s, v),
    };
    super('piix3-ide', { vendorId: 0x8086, deviceId: 0x7010, classCode: 0x010180, revision: 0 }, [
      null,
      null,
      null,
      null,
      { kind: 'io', size: 16, pio: bar4 },
    ]);
    this.channels = [
      new IdeChannel(makeDrive('hda', drives.hda), makeDrive('hdb', drives.hdb), irq14),
      new IdeChannel(makeDrive('hdc', drives.hdc), makeDrive('hdd', drives.hdd), irq15),
    ];
    this.busMasters = [
      new BusMasterDma(memory, this.channels[0], () => this.busMaster),
      new BusMasterDma(memory, this.channels[1], () => this.busMaster),
    ];
    // IDETIM: decode enabled on both channels (Linux checks 0x41/0x43 bit 7); timings are ignored.
    this.set16(IDETIM_PRIMARY, IDETIM_DECODE);
    this.set16(IDETIM_SECONDARY, IDETIM_DECODE);
    for (let o = IDETIM_PRIMARY; o <= SIDETIM; o++) this.writeMask[o] = 0xff;
  }

  /** The legacy ISA ports of both channels (0x3F7 stays with the floppy controller). */
  registerLegacy(bus: IoBus): void {
    const [p, s] = this.channels;
    bus.registerPio(IDE_PRIMARY.base, 8, p.commandBlock, 'ide0');
    bus.registerPio(IDE_PRIMARY.control, 1, p.controlBlock, 'ide0-control');
    bus.registerPio(IDE_SECONDARY.base, 8, s.commandBlock, 'ide1');
    bus.registerPio(IDE_SECONDARY.control, 1, s.controlBlock, 'ide1-control');
  }

  /** The drive at a slot (hda = primary master … hdd = secondary slave), or null. */
  drive(slot: IdeSlot): IdeDrive | null {
    const i = ['hda', 'hdb', 'hdc', 'hdd'].indexOf(slot);
    return this.channels[i >> 1].drives[i & 1];
  }

  /** The CD-ROM at a slot (for insertMedium / eject), or null if that slot is not one. */
  cdrom(slot: IdeSlot): AtapiCdrom | null {
    const d = this.drive(slot);
    return d instanceof AtapiCdrom ? d : null;
  }

  /**
   * Xen's unplug of emulated disks (hvm-emulated-unplug): every ATA disk goes away,
   * or every one but the primary master; CD-ROMs and the controller stay.
   */
  unplugDisks(keepPrimaryMaster: boolean): string[] {
    const gone: string[] = [];
    (['hda', 'hdb', 'hdc', 'hdd'] as const).forEach((slot, i) => {
      if (keepPrimaryMaster && i === 0) return;
      const d = this.drive(slot);
      if (d instanceof AtaDisk) {
        this.channels[i >> 1].detach((i & 1) as 0 | 1);
        gone.push(slot);
      }
    });
    return gone;
  }

  /** Machine reset: drives back to their signatures, bus masters idle. */
  reset(): void {
    for (const c of this.channels) c.reset();
    for (const b of this.busMasters) b.reset();
  }

  save(): PiixIdeState {
    return {
      version: 1,
      config: Array.from(this.config),
      channels: [this.channels[0].save(), this.channels[1].save()],
      busMasters: [this.busMasters[0].save(), this.busMasters[1].save()],
    };
  }

  /** Restore a record saved from a domain with the same drives (the images carry the data). */
  restore(s: PiixIdeState): void {
    if (s?.version !== 1) throw new RangeError(`IDE save record version ${String(s?.version)} is not supported`);
    // Only bytes the guest could have written take the saved value, so identity and BAR types stay ours.
    const cfg = Array.isArray(s.config) ? s.config : [];
    for (let o = 0; o < 256; o++) {
      const m = this.writeMask[o];
      if (m) this.config[o] = (this.config[o] & ~m) | (int(cfg[o], 0xff) & m);
    }
    this.decodeChanged();
    for (let i = 0; i < 2; i++) {
      this.channels[i].restore(s.channels[i]);
      this.busMasters[i].restore(s.busMasters[i]);
    }
  }

  /** Byte `offset` of BAR4: read when `value` < 0, else write. */
  private bmByte(offset: number, value: number): number {
    const bm = this.busMasters[offset >= 8 ? 1 : 0];
    const o = offset & 7;
    if (value < 0) return bm.readByte(o);
    bm.writeByte(o, value);
    return 0;
  }

  protected override configWritten(offset: number, size: number): void {
    // Bus mastering switched on with a transfer already armed: run it now.
    if (offset <= PCI_COMMAND && offset + size > PCI_COMMAND && this.busMaster) {
      for (const b of this.busMasters) b.tryStart();
    }
  }
}
