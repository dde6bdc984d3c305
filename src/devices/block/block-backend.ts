// What a disk or CD device model reads and writes: a flat array of bytes behind a
// synchronous interface, because the domain's worker is the device thread (Xen's
// qemu-dm blocks the same way on its image). Implementations: host/disk/raw-image.ts
// (a file) and devices/ide/memory-block-backend.ts (tests, RAM disks).

export interface BlockBackend {
  /** Size in bytes; a multiple of the device's block size (512 disk, 2048 CD). */
  readonly sizeBytes: number;
  /** Writes must be refused by the device model (ATA: ABRT). */
  readonly readOnly: boolean;
  /** Fill `dest` from byte `offset`. Throws on a host I/O error or a range past the end. */
  read(offset: number, dest: Uint8Array): void;
  /** Store `src` at byte `offset`. Throws on a host I/O error, a range past the end or a read-only backend. */
  write(offset: number, src: Uint8Array): void;
  /** Make every completed write durable (fsync for files). */
  flush(): void;
}
