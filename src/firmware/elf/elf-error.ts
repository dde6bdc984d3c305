// Why an ELF file could not be read: not ELF, the wrong class or machine, or a
// header or segment that points outside the file. Messages name the file.

export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}
