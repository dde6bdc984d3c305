// A raw disk or CD image file as a BlockBackend (Node only). Synchronous fs calls:
// the domain worker is the device thread, as qemu-dm's is for its image. Every error
// names the file, so `tsxen create` can say which disk line is wrong.

import fs from 'node:fs';
import type { BlockBackend } from '../../devices/block/block-backend.js';

export interface RawImageOptions {
  readOnly?: boolean;
  /** 512 for a disk, 2048 for a CD image: the size must be a whole number of blocks. */
  blockSize?: number;
}

export class DiskImageError extends Error {
  override name = 'DiskImageError';
}

export class RawImage implements BlockBackend {
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    size: number,
    readOnly: boolean,
  ) {
    this.fd = fd;
    this.sizeBytes = size;
    this.readOnly = readOnly;
  }

  static open(path: string, options: RawImageOptions = {}): RawImage {
    const readOnly = options.readOnly ?? false;
    const blockSize = options.blockSize ?? 512;
    let st: fs.Stats;
    try {
      st = fs.statSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DiskImageError(code === 'ENOENT' ? `disk image ${path}: no such file` : `disk image ${path}: ${(e as Error).message}`);
    }
    if (st.isDirectory()) throw new DiskImageError(`disk image ${path}: is a directory, not an image file`);
    if (!st.isFile()) throw new DiskImageError(`disk image ${path}: not a regular file (raw images are plain files)`);
    if (st.size < blockSize) {
      throw new DiskImageError(`disk image ${path}: ${st.size} bytes is smaller than one ${blockSize}-byte block`);
    }
    if (st.size % blockSize !== 0) {
      throw new DiskImageError(`disk image ${path}: size ${st.size} is not a multiple of ${blockSize} bytes`);
    }
    let fd: number;
    try {
      fd = fs.openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new DiskImageError(`disk image ${path}: cannot open ${readOnly ? 'read-only' : 'read-write'}: ${(e as Error).message}`);
    }
    return new RawImage(path, fd, st.size, readOnly);
  }

  read(offset: number, dest: Uint8Array): void {
    const fd = this.check(offset, dest.length, 'read');
    let done = 0;
    while (done < dest.length) {
      let n: number;
      try {
        n = fs.readSync(fd, dest, done, dest.length - done, offset + done);
      } catch (e) {
        throw new DiskImageError(`disk image ${this.path}: read at ${offset + done} failed: ${(e as Error).message}`);
      }
      if (n === 0) throw new DiskImageError(`disk image ${this.path}: unexpected end of file at ${offset + done} (file shrank?)`);
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new DiskImageError(`disk image ${this.path}: is read-only`);
    const fd = this.check(offset, src.length, 'write');
    let done = 0;
    while (done < src.length) {
      try {
        done += fs.writeSync(fd, src, done, src.length - done, offset + done);
      } catch (e) {
        throw new DiskImageError(`disk image ${this.path}: write at ${offset + done} failed: ${(e as Error).message}`);
      }
    }
  }

  flush(): void {
    if (this.readOnly || this.fd === null) return;
    try {
      fs.fsyncSync(this.fd);
    } catch (e) {
      throw new DiskImageError(`disk image ${this.path}: fsync failed: ${(e as Error).message}`);
    }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fs.closeSync(fd);
  }

  private check(offset: number, len: number, what: string): number {
    if (this.fd === null) throw new DiskImageError(`disk image ${this.path}: ${what} after close`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + len > this.sizeBytes) {
      throw new DiskImageError(`disk image ${this.path}: ${what} of ${len} bytes at ${offset} is past its ${this.sizeBytes} bytes`);
    }
    return this.fd;
  }
}
