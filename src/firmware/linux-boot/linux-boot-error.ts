// Why a kernel could not be loaded: a bad or unsupported image, or a domain that
// cannot hold it. Messages name the file (or what) and the numbers involved.

export class LinuxBootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinuxBootError';
  }
}
