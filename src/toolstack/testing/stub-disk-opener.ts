// A disk opener module for tests (DomainHandleOptions.diskModule): instead of opening
// the image it returns a label naming what it was asked to open.

import type { DiskSpec } from '../../hypervisor/domain-spec.js';

export function openDisk(d: DiskSpec): { label: string } {
  return { label: `${d.vdev}:${d.devtype}:${d.readOnly ? 'ro' : 'rw'}:${d.path}` };
}
