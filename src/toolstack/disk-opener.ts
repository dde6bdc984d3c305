// Finds the disk image opener the worker hands the domain (DomainOptions.openDisk).
// It lives in a module loaded by URL (the Node raw-image backend), like the Domain
// itself, so the toolstack builds and runs before that module exists: a domain with
// no disks never needs it, and one with disks gets a clear error.

import type { DiskSpec } from '../hypervisor/domain-spec.js';

export type DiskOpener = (d: DiskSpec) => unknown;

type OpenerModule = Record<string, unknown>;

/** A drive's block size: 2048-byte sectors on a CD (MMC), 512 on an ATA disk. */
export const blockSizeOf = (d: DiskSpec): number => (d.devtype === 'cdrom' ? 2048 : 512);

/**
 * The module's opener: `openDisk(spec)` if it exports one, else
 * `RawImage.open(path, { readOnly, blockSize })` (src/host/disk/raw-image.ts), else
 * `openRawImage(path, { readOnly })`.
 */
export async function loadDiskOpener(url: string): Promise<DiskOpener> {
  const mod = (await import(url)) as OpenerModule;
  if (typeof mod.openDisk === 'function') return mod.openDisk as DiskOpener;
  const rawImage = mod.RawImage as { open?: unknown } | undefined;
  if (typeof rawImage?.open === 'function') {
    const open = rawImage.open as (path: string, opts: { readOnly: boolean; blockSize: number }) => unknown;
    return (d) => {
      if (d.path === null) throw new Error(`${d.vdev}: an empty CD-ROM drive has no image to open`);
      return open.call(rawImage, d.path, { readOnly: d.readOnly, blockSize: blockSizeOf(d) });
    };
  }
  if (typeof mod.openRawImage === 'function') {
    const open = mod.openRawImage as (path: string, opts: { readOnly: boolean }) => unknown;
    return (d) => {
      if (d.path === null) throw new Error(`${d.vdev}: an empty CD-ROM drive has no image to open`);
      return open(d.path, { readOnly: d.readOnly });
    };
  }
  throw new Error(`${url} exports no disk opener (openDisk, RawImage.open or openRawImage)`);
}
