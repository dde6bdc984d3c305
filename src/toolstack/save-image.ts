// Save images on disk (`tsxen save` / `tsxen restore`): the record stream of
// src/hypervisor/save/image-format.ts with the memory and the spec's files
// (kernel, initrd, BIOS) deflated by node:zlib. Like xl, the image carries the
// domain's configuration (the resolved DomainConfig, as xl stores libxl's JSON
// config), so `tsxen restore FILE` needs nothing else.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeImage, encodeImage, SaveImageError, type DomainImage, type RecordCodec } from '../hypervisor/save/image-format.js';
import type { XenStoreSnapshot } from './dom0-backends.js';
import type { DomainConfig } from './domain-config.js';

export { SaveImageError } from '../hypervisor/save/image-format.js';

/** Level 1: guest RAM is mostly zero pages, which any level shrinks; higher levels cost seconds on 256 MiB. */
const ZLIB: RecordCodec = {
  compress: (raw) => deflateRawSync(raw, { level: 1 }),
  // The cap stops a damaged (or hostile) image from inflating past what its header declares.
  decompress: (stored, rawLength) => inflateRawSync(stored, { maxOutputLength: Math.max(1, rawLength) }),
};

/** What the config record holds. */
export interface SavedConfig {
  config: DomainConfig;
  /** dom0's xenstore home and the guest's watches (Xen domains with a store ring). */
  xenstore?: XenStoreSnapshot;
}

/** The xenstore record of an image, if it has one (validated when it is applied). */
export function savedXenstore(image: DomainImage): XenStoreSnapshot | undefined {
  const x = (image.config as Partial<SavedConfig> | null)?.xenstore;
  return x && typeof x === 'object' ? x : undefined;
}

/** Writes the image to `path` (through a temporary file renamed into place: a failed save leaves no half image). Returns its size. */
export function writeSaveImage(path: string, image: DomainImage): number {
  const parts = encodeImage(image, ZLIB);
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  let bytes = 0;
  try {
    fd = openSync(tmp, 'w', 0o600);
    for (const p of parts) {
      for (let off = 0; off < p.length; ) off += writeSync(fd, p, off, p.length - off);
      bytes += p.length;
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Never created.
    }
    throw new SaveImageError(`${path}: cannot write the save image: ${(e as Error).message}`);
  }
  return bytes;
}

/** Reads and checks an image; SaveImageError names the file and what is wrong. */
export function readSaveImage(path: string): DomainImage {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SaveImageError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`}`);
  }
  return decodeImage(bytes, path, ZLIB);
}

/** The DomainConfig in an image, checked enough to build a domain handle from. */
export function savedConfig(image: DomainImage, source: string): DomainConfig {
  const c = (image.config as Partial<SavedConfig> | null)?.config;
  if (!c || typeof c !== 'object' || typeof c.name !== 'string' || typeof c.memoryMiB !== 'number' || !Array.isArray(c.serials) || !Array.isArray(c.debugcon)) {
    throw new SaveImageError(`${source}: the config record has no domain configuration`);
  }
  if (c.name !== image.header.name || c.memoryMiB * 1024 * 1024 !== image.spec.memoryBytes) {
    throw new SaveImageError(`${source}: the config record (${c.name}, ${c.memoryMiB} MiB) does not match the domain saved (${image.header.name}, ${image.spec.memoryBytes} bytes)`);
  }
  return c;
}
