// The firmware-boot guests guests/build.sh builds (cd-686.iso, disk-686.img,
// memtest.iso and their .cfg files) and what their tests share: a scratch directory,
// polling the VGA text screen, the facts /init prints.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestSession, type CfgObject } from '../../../src/toolstack/harness.js';
import { guestDir } from '../guest-cache.js';
import { logDirectory } from '../../../src/toolstack/log-paths.js';

export { BOOT_TIMEOUT_MS, fact, guestDir } from '../guest-cache.js';

export type FirmwareCfg = 'cd.cfg' | 'disk.cfg' | 'memtest.cfg';

/** Why the firmware guests are unusable, or null when they are there. */
export function firmwareGuestsMissing(): string | null {
  for (const f of ['cd-686.iso', 'disk-686.img', 'memtest.iso', 'check.sha256', 'cd.cfg', 'disk.cfg', 'memtest.cfg']) {
    if (!existsSync(join(guestDir, f))) return `firmware test guest ${join(guestDir, f)} is missing: run bash guests/build.sh`;
  }
  return null;
}

/** The sha256 of /data/check.bin on cd-686.iso, as build.sh computed it on the host. */
export function checkBinSha256(): string {
  return readFileSync(join(guestDir, 'check.sha256'), 'utf8').trim();
}

/** A private scratch directory, removed by the returned function. */
export function scratchDir(tag: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tsxen-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function startFirmwareGuest(cfg: FirmwareCfg, overrides: string[]): Promise<GuestSession> {
  return GuestSession.start(join(guestDir, cfg), overrides);
}

export function startObjectGuest(cfg: CfgObject): Promise<GuestSession> {
  return GuestSession.start(cfg);
}

/** The VGA text screen as one string (rows joined by newlines), or '' when not in text mode. */
export async function screenText(g: GuestSession): Promise<string> {
  const s = await g.handle.screenText();
  return s ? s.lines.join('\n') : '';
}

/**
 * Polls the VGA text screen until every pattern matches at once; resolves with that
 * screen. Rejects after `timeoutMs` (or when the domain stops) with the last screen seen.
 */
export async function waitForScreen(g: GuestSession, patterns: RegExp[], timeoutMs: number, pollMs = 1000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let stopped: string | null = null;
  void g.handle.whenStopped().then((s) => {
    stopped = `${s.reason}: ${s.detail}`;
  });
  for (;;) {
    if (stopped === null) {
      try {
        last = await screenText(g);
      } catch (e) {
        last = `(screenText failed: ${(e as Error).message})`;
      }
    }
    if (patterns.every((p) => p.test(last))) return last;
    if (stopped !== null) throw new Error(`${g.config.name} stopped (${stopped}) before its screen matched ${patterns.join(' ')}; last screen:\n${last}\nserial:\n${g.output.slice(-2048)}`);
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${patterns.join(' ')} on the screen of ${g.config.name}; last screen:\n${last}\nserial:\n${g.output.slice(-2048)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Every `FACT key=value` value whose key starts with `prefix`, as key -> value. */
export function factsWithPrefix(output: string, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of output.replace(/\r/g, '').split('\n')) {
    if (!line.startsWith(`FACT ${prefix}`)) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(5, eq), line.slice(eq + 1));
  }
  return out;
}

/** All values of a repeated `FACT key=...` line (dmesg, interrupts). */
export function factLines(output: string, key: string): string[] {
  const head = `FACT ${key}=`;
  return output
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.startsWith(head))
    .map((l) => l.slice(head.length));
}

/**
 * Keeps a boot's whole serial output beside the domain log (a failed assertion shows
 * only a line; the boot took minutes). Returns the file's path.
 */
export function saveSerial(g: GuestSession): string {
  const path = join(logDirectory(), `${g.config.name}.serial.log`);
  try {
    mkdirSync(logDirectory(), { recursive: true });
    writeFileSync(path, g.output);
  } catch {
    return '(not saved)';
  }
  return path;
}
