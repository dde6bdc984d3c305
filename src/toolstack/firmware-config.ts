// xl.cfg(5) keys of firmware boot (an HVM guest without kernel=): `firmware`,
// `bios_path_override`, `boot`, `vga`, `videoram`, `acpi`, `apic`. They resolve to
// file paths and flags here; the domain builder reads the files.

import { statSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's seabios package puts its images. */
export const SEABIOS_DIR = '/usr/share/seabios';
export const SYSTEM_BIOS_FILE = 'bios-256k.bin';
export const STDVGA_BIOS_FILE = 'vgabios-stdvga.bin';

/** A BIOS image is mapped right below 1 MiB and 4 GiB, so only these sizes fit (64, 128, 256 KiB). */
export const BIOS_SIZES = [64 * 1024, 128 * 1024, 256 * 1024];

export interface FirmwareConfig {
  /** Absolute path of the system BIOS image. */
  bios: string;
  /** true = bios_path_override: the image runs from the reset vector, no hvmloader. */
  override: boolean;
  /** Absolute path of the VGA option ROM, or null (vga="none"). */
  vgaBios: string | null;
  /** xl `boot`: c = hard disk, d = CD-ROM, n = network, in the order to try. */
  bootOrder: string;
  acpi: boolean;
  apic: boolean;
}

type Fail = (detail: string) => never;

/** xl `boot`: a non-empty string of c, d, n, each at most once. */
export function parseBootOrder(text: string, fail: Fail): string {
  if (!/^[cdn]+$/.test(text)) fail(`expected the letters c (hard disk), d (CD-ROM) and n (network), got "${text}"`);
  if (new Set(text).size !== text.length) fail(`"${text}" names a device twice`);
  return text;
}

/** xl `vga`: "stdvga" or "none"; the cards tsxen does not emulate are refused by name. */
export function parseVga(text: string, fail: Fail): 'stdvga' | 'none' {
  if (text === 'stdvga' || text === 'none') return text;
  if (text === 'cirrus' || text === 'qxl') return fail(`"${text}" is not supported yet (use "stdvga" or "none")`);
  return fail(`expected "stdvga" or "none", got "${text}"`);
}

/**
 * xl `videoram` (MiB). xl.cfg(5): with stdvga and qemu-xen the default and minimum
 * is 16 MiB. The Bochs VBE interface tops out well below this cap.
 */
export const DEFAULT_VIDEORAM_MIB = 16;
const MAX_VIDEORAM_MIB = 256;
export function checkVideoram(mib: number, fail: Fail): number {
  if (mib < DEFAULT_VIDEORAM_MIB) fail(`${mib} MiB is less than stdvga needs (at least ${DEFAULT_VIDEORAM_MIB})`);
  if (mib > MAX_VIDEORAM_MIB) fail(`${mib} MiB is more than tsxen gives a VGA card (at most ${MAX_VIDEORAM_MIB})`);
  return mib;
}

/** xl `firmware` for HVM: "bios"/"seabios" (the default) are SeaBIOS; UEFI and ROMBIOS are not here. */
export function parseFirmwareKey(text: string, fail: Fail): 'seabios' {
  if (text === 'bios' || text === 'seabios') return 'seabios';
  if (['uefi', 'ovmf', 'rombios'].includes(text)) return fail(`"${text}" is not supported yet (use "seabios")`);
  return fail(`expected "seabios" (or "bios"), got "${text}"`);
}

/** bios_path_override: must exist and be 64, 128 or 256 KiB. */
export function checkBiosOverride(path: string, fail: Fail): void {
  const size = fileSize(path, fail);
  if (!BIOS_SIZES.includes(size)) fail(`${path} is ${size} bytes; a BIOS image must be 64, 128 or 256 KiB (65536, 131072 or 262144 bytes)`);
}

/** One of Debian's SeaBIOS files, which must be installed. */
export function seabiosFile(dir: string, name: string, fail: Fail): string {
  const path = join(dir, name);
  let ok = false;
  try {
    ok = statSync(path).isFile();
  } catch {
    ok = false;
  }
  if (!ok) fail(`${path} is missing: firmware boot needs SeaBIOS (apt-get install seabios)`);
  return path;
}

function fileSize(path: string, fail: Fail): number {
  try {
    const st = statSync(path);
    if (!st.isFile()) fail(`${path} is not a regular file`);
    return st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    return fail(code === 'ENOENT' ? `cannot read ${path}: no such file` : `cannot read ${path}: ${(e as Error).message}`);
  }
}
