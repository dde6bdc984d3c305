// Building the suite's own nasm test kernels (Multiboot ELFs linked with ld): one
// tool check and one build step for every test that boots such a kernel.

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/guests/include: assembly shared by the test kernels (from dist/test/guests up to the source tree). */
const SHARED_INCLUDES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/guests/include');

/** Why the kernels cannot be built here (nasm or ld missing), or undefined. */
export function nasmToolsMissing(what: string): string | undefined {
  for (const [tool, arg] of [
    ['nasm', '-v'],
    ['ld', '-v'],
  ]) {
    try {
      execFileSync(tool, [arg], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed: ${what} cannot be built (apt-get install nasm binutils)`;
    }
  }
  return undefined;
}

/**
 * Assembles `source/kernel.asm` (its `%include`s found in `source`) and links it with
 * `source/kernel.ld` into `outDir/name`; returns the ELF's path.
 */
export function buildNasmKernel(source: string, outDir: string, name: string): string {
  const elf = join(outDir, name);
  const obj = join(outDir, 'kernel.o');
  execFileSync('nasm', ['-f', 'elf32', '-i', `${source}/`, '-o', obj, join(source, 'kernel.asm')]);
  execFileSync('ld', ['-m', 'elf_i386', '-T', join(source, 'kernel.ld'), '--build-id=none', '--no-warn-rwx-segments', '-o', elf, obj]);
  return elf;
}

/**
 * Assembles `source/kernel.asm` (its `%include`s found in `source` or test/guests/include) as a flat binary
 * (`nasm -f bin`: a Multiboot a.out-kludge image, which 64-bit kernels need) into
 * `outDir/name`; returns its path.
 */
export function buildFlatNasmKernel(source: string, outDir: string, name: string): string {
  const out = join(outDir, name);
  execFileSync('nasm', ['-f', 'bin', '-i', `${source}/`, '-i', `${SHARED_INCLUDES}/`, '-o', out, join(source, 'kernel.asm')], { stdio: 'pipe' });
  return out;
}
