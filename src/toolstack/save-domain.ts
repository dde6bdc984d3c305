// xl save's sequence for one domain: pause it, take its image (the worker snapshots
// it between run slices: no exit half-handled, output up to that point already
// delivered), write the file; then the caller destroys it, leaves it paused (-p), or
// lets it run on (-c, a checkpoint). A failed save resumes a domain it paused.

import type { DomainHandle } from './domain-handle.js';
import { writeSaveImage } from './save-image.js';

export interface SaveMode {
  /** xl save -c: the domain keeps running after the image is written. */
  checkpoint: boolean;
  /** xl save -p: the domain stays paused after the image is written. */
  paused: boolean;
}

/** Writes `handle`'s image to `file`; resolves with its size in bytes. */
export async function saveDomainImage(handle: DomainHandle, file: string, mode: SaveMode): Promise<number> {
  // A checkpoint need not pause: the snapshot is atomic between slices. Otherwise the
  // guest must not run past the snapshot, or its last output would be seen twice.
  const pause = !mode.checkpoint || mode.paused;
  if (pause) handle.pause();
  try {
    return writeSaveImage(file, await handle.saveImage());
  } catch (e) {
    if (pause && !mode.paused) handle.unpause();
    throw e;
  }
}
