// Where guests/build.sh put the Debian test guests. The test script builds them
// before running the suite; a test that finds them missing says so loudly.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GuestSession } from '../../src/toolstack/harness.js';
import { logDirectory } from '../../src/toolstack/log-paths.js';

export const guestDir = join(process.env.TSXEN_CACHE ?? join(homedir(), '.cache', 'tsxen'), 'guests', 'current');

/** Why the guests are unusable, or null when they are there. */
export function guestsMissing(): string | null {
  for (const f of ['vmlinuz-686', 'vmlinuz-686-pae', 'initramfs.cpio.gz', 'default.cfg', 'default-pae.cfg']) {
    if (!existsSync(join(guestDir, f))) return `test guest ${join(guestDir, f)} is missing: run bash guests/build.sh`;
  }
  return null;
}

/** A file of the guest cache (e.g. `vmlinux-686-pae`, the PVH kernel). */
export function guestFile(file: string): string {
  return join(guestDir, file);
}

/** Why `file` is not in the guest cache (an older cache, built before it was added), or null. */
export function guestFileMissing(file: string): string | null {
  return existsSync(guestFile(file)) ? null : `test guest ${guestFile(file)} is missing: run bash guests/build.sh`;
}

/** Booting Linux on the software CPU takes a while; generous limits keep slow CI green. */
export const BOOT_TIMEOUT_MS = 15 * 60_000;

/** The value of a `FACT key=value` line the guest's /init printed. */
export function fact(output: string, key: string): string {
  const m = new RegExp(`^FACT ${key.replace(/\./g, '\\.')}=(.*)$`, 'm').exec(output.replace(/\r/g, ''));
  if (!m) throw new Error(`the guest printed no FACT ${key}`);
  return m[1];
}

/** Start one of guests/build.sh's configs under a test's own name and command line. */
export function startGuest(cfg: 'default.cfg' | 'default-pae.cfg', name: string, cmdline: string, overrides: string[] = []): Promise<GuestSession> {
  return GuestSession.start(join(guestDir, cfg), [`name="${name}"`, `cmdline="${cmdline}"`, ...overrides]);
}

/** Keeps the guest's console text in the log directory as NAME.serial.log (for a failed run); returns the path. */
export function keepSerialLog(g: GuestSession): string {
  const path = join(logDirectory(), `${g.config.name}.serial.log`);
  mkdirSync(logDirectory(), { recursive: true });
  writeFileSync(path, g.output);
  return path;
}
