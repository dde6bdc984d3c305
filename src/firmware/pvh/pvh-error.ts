// Why a PVH kernel could not be booted: not an ELF vmlinux, no Xen PHYS32_ENTRY
// note, segments outside RAM or overlapping, or no room for the modules and the
// start_info. Messages name the image and the addresses involved.

export class PvhError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PvhError';
  }
}
