// Finds the disk image opener the worker hands the domain (DomainOptions.openDisk).
// It lives in a module loaded by URL (the Node raw-image backend), like the Domain
// itself, so the toolstack builds and runs before that module exists: a domain with
// no disks never needs it, and one with disks gets a clear error.

import type { DiskSpec } from '../hypervisor/domain-spec.js';

export type DiskOpener = (d: DiskSpec) => unknown;

type OpenerModule = Record<string, unknown>;

/**
 * The module's opener: `openDisk(spec)` if it exports one, else
 * `openRawImage(path, { readOnly })`.
 */
export async function loadDiskOpener(url: string): Promise<DiskOpener> {
  const mod = (await import(url)) as OpenerModule;
  if (typeof mod.openDisk === 'function') return mod.openDisk as DiskOpener;
  if (typeof mod.openRawImage === 'function') {
    const open = mod.openRawImage as (path: string, opts: { readOnly: boolean }) => unknown;
    return (d) => {
      if (d.path === null) throw new Error(`${d.vdev}: an empty CD-ROM drive has no image to open`);
      return open(d.path, { readOnly: d.readOnly });
    };
  }
  throw new Error(`${url} exports no disk opener (openDisk or openRawImage)`);
}
