// Files a config test needs: a temporary directory with a minimal bzImage (just a
// valid Linux boot protocol setup header, no kernel behind it), an initrd, and copies
// of the xl.cfg fixtures in src/toolstack/testdata with "/ABS" replaced by the directory.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSyntheticBzImage } from '../../firmware/linux-boot/synthetic-bzimage.js';

/** The repository root, from dist/src/toolstack/testing/. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const TESTDATA = join(REPO_ROOT, 'src/toolstack/testdata');

/** A tiny valid bzImage whose 32-bit code is a `hlt` loop (no kernel behind the header). */
export function fakeBzImage(): Uint8Array {
  return makeSyntheticBzImage({ code: new Uint8Array([0xf4, 0xeb, 0xfd]) });
}

export interface GuestDir {
  dir: string;
  /** Path of a copied fixture (or a new file written with `text`). */
  cfg(name: string, text?: string): string;
  remove(): void;
}

export function makeGuestDir(): GuestDir {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-cfg-'));
  writeFileSync(join(dir, 'vmlinuz'), fakeBzImage());
  writeFileSync(join(dir, 'initrd.img'), new Uint8Array([0x1f, 0x8b, 0, 0]));
  writeFileSync(join(dir, 'not-a-kernel'), new Uint8Array(4096));
  for (const f of readdirSync(TESTDATA)) {
    if (f.endsWith('.cfg')) writeFileSync(join(dir, f), readFileSync(join(TESTDATA, f), 'utf8').replaceAll('/ABS', dir));
  }
  return {
    dir,
    cfg(name, text) {
      const p = join(dir, name);
      if (text !== undefined) writeFileSync(p, text);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
