// Why a Multiboot kernel could not be loaded: no or bad header, an unsupported
// required feature, a bad ELF or a.out layout, or a domain too small to hold it.
// Messages name the image and the numbers involved.

export class MultibootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultibootError';
  }
}
