// The guest test harness, a public API (v86's idea: test helpers are part of what
// users get). Start a domain from an xl.cfg file or an object of the same keys, wait
// for text on its serial console, type into it, wait for it to end:
//
//   const g = await GuestSession.start('guest.cfg', ['memory=256']);
//   await g.waitForSerial(/login:/, { timeoutMs: 60_000 });
//   g.type('poweroff\n');
//   const { reason } = await g.waitForExit({ timeoutMs: 10_000 });
//
// Firmware-booted guests also have a screen: waitForScreen(/Booting from Hard Disk/),
// screenText(), screenshot('boot.png'), and pressPowerButton() (ACPI).

import { loadConfigFile, loadConfigObject, type CfgObject } from './config-file.js';
import type { DomainConfig } from './domain-config.js';
import { DomainHandle, type DomainHandleOptions, type DomainStop } from './domain-handle.js';
import { domainLogPath } from './log-paths.js';
import { writePng } from '../console/screenshot.js';
import { XsClient } from '../pv/xenstore/client.js';

export type { CfgObject } from './config-file.js';
export type { DomainConfig } from './domain-config.js';

export interface GuestExit {
  reason: 'poweroff' | 'reboot' | 'crash' | 'destroyed';
  detail: string;
  restarts: number;
  /** Set when the guest ended through isa-debug-exit: (V << 1) | 1. */
  exitStatus?: number;
}

// How often waitForScreen looks at the text screen.
const SCREEN_POLL_MS = 100;

export interface GuestSessionOptions extends DomainHandleOptions {
  /** Collect config warnings here instead of printing them. */
  warn?: (message: string) => void;
  /** For a config object: the directory its relative paths are relative to (default cwd). */
  baseDir?: string;
}

// waitForSerial errors carry this much of the recent console, enough to see where a boot stopped.
const TAIL_CHARS = 2048;

interface Waiter {
  test: (text: string) => string | null;
  resolve: (match: string) => void;
  /** The domain stopped for good: nothing more will come. */
  stopped: (stop: DomainStop) => void;
}

export class GuestSession {
  private text = '';
  private readonly decoder = new TextDecoder();
  private waiters: Waiter[] = [];
  /** Index in `text` where the next waitForSerial search starts. */
  private searchFrom = 0;
  private stop: DomainStop | undefined;
  private readonly debugcon = new Map<number, string>();
  /** COM2-COM4 text (COM1's is `text`), each with its own UTF-8 decoder state. */
  private readonly otherPorts = new Map<number, { decoder: InstanceType<typeof TextDecoder>; text: string }>();

  private xs: XsClient | undefined;

  private constructor(readonly handle: DomainHandle) {
    handle.on('serial', (port, bytes) => {
      if (port !== 0) {
        let p = this.otherPorts.get(port);
        if (!p) this.otherPorts.set(port, (p = { decoder: new TextDecoder(), text: '' }));
        p.text += p.decoder.decode(bytes, { stream: true });
        return;
      }
      this.text += this.decoder.decode(bytes, { stream: true });
      for (const w of [...this.waiters]) {
        const m = w.test(this.text);
        if (m !== null) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    handle.on('debugcon', (ioport, bytes) => {
      this.debugcon.set(ioport, (this.debugcon.get(ioport) ?? '') + new TextDecoder('latin1').decode(bytes));
    });
    // Output is delivered before the stop, so a waiter still waiting now never matches.
    handle.on('stopped', (stop) => {
      this.stop = stop;
      for (const w of this.waiters.splice(0)) w.stopped(stop);
    });
  }

  /**
   * Starts a guest. `config` is an xl.cfg path or an object of xl.cfg keys (relative
   * paths relative to the current directory); `overrides` are `KEY=VALUE` strings.
   */
  static async start(config: string | CfgObject, overrides: string[] = [], opts: GuestSessionOptions = {}): Promise<GuestSession> {
    const { warn, baseDir, ...handleOpts } = opts;
    const cfg: DomainConfig = typeof config === 'string' ? loadConfigFile(config, { overrides, warn }) : loadConfigObject(config, { overrides, warn, baseDir });
    const handle = new DomainHandle(cfg, { logFile: domainLogPath(cfg.name), ...handleOpts });
    return new GuestSession(handle);
  }

  /** All console (COM1) text so far. */
  get output(): string {
    return this.text;
  }

  /** The domain's id (its xenstore home is /local/domain/<domid>). */
  get domid(): number {
    return this.handle.domid;
  }

  /**
   * dom0's xenstore client (full access): read/write the guest's nodes, watch them.
   * Watches fire through `xenstore.onWatch`.
   */
  get xenstore(): XsClient {
    this.xs ??= new XsClient(this.handle.xenstore);
    return this.xs;
  }

  get config(): DomainConfig {
    return this.handle.config;
  }

  /**
   * Resolves with the matched text once COM1 output (after the previous match) matches.
   * Rejects on timeout, or at once when the domain stops for good (destroyed, crashed
   * with on_crash=destroy, preserved…), with an error holding the last 2 KiB of output.
   */
  waitForSerial(pattern: RegExp | string, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<string> {
    const test = (text: string): string | null => {
      const hay = text.slice(this.searchFrom);
      let at: number;
      let found: string;
      if (typeof pattern === 'string') {
        at = hay.indexOf(pattern);
        found = pattern;
      } else {
        const m = new RegExp(pattern.source, pattern.flags.replace('g', '').replace('y', '')).exec(hay);
        at = m ? m.index : -1;
        found = m ? m[0] : '';
      }
      if (at < 0) return null;
      this.searchFrom += at + found.length;
      return found;
    };
    const now = test(this.text);
    if (now !== null) return Promise.resolve(now);
    const stoppedError = (stop: DomainStop): Error =>
      new Error(
        `${this.handle.config.name} ${stop.preserved ? 'was preserved' : 'stopped'} (${stop.reason}: ${stop.detail}) while waiting for ${String(pattern)} on the serial console; last output:\n${this.text.slice(-TAIL_CHARS)}`,
      );
    if (this.stop) return Promise.reject(stoppedError(this.stop));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        stopped: (stop) => {
          clearTimeout(timer);
          reject(stoppedError(stop));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)} on the serial console of ${this.handle.config.name}; last output:\n${this.text.slice(-TAIL_CHARS)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** All text the guest wrote to a COM port so far (0 = COM1, same as `output`; 1 = COM2…). */
  serialOutput(port = 0): string {
    return port === 0 ? this.text : (this.otherPorts.get(port)?.text ?? '');
  }

  /** Everything the guest wrote to a debugcon port (latin1), e.g. 0xe9 or SeaBIOS's 0x402. */
  debugconOutput(ioport = 0xe9): string {
    return this.debugcon.get(ioport) ?? '';
  }

  /** Types text into COM1 (UTF-8). */
  type(text: string): void {
    this.handle.serialInput(new TextEncoder().encode(text));
  }

  /** Resolves when the domain ends (or is preserved); rejects after `timeoutMs`. */
  waitForExit({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<GuestExit> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${this.handle.config.name} to exit; last output:\n${this.text.slice(-TAIL_CHARS)}`)),
        timeoutMs,
      );
      void this.handle.whenStopped().then((s: DomainStop) => {
        clearTimeout(timer);
        resolve({ reason: s.reason, detail: s.detail, restarts: s.restarts, ...(s.exitStatus !== undefined ? { exitStatus: s.exitStatus } : {}) });
      });
    });
  }

  /** The VGA text screen's rows (trailing blanks kept as the card has them), or null when not in a text mode. */
  async screenText(): Promise<string[] | null> {
    const t = await this.handle.screenText();
    return t ? t.lines : null;
  }

  /** Writes the screen as a PNG; rejects when there is no screen to take. */
  async screenshot(path: string): Promise<void> {
    const image = await this.handle.screen();
    if (!image) throw new Error(`${this.handle.config.name} has no screen to take (no VGA card, or nothing drawn yet)`);
    writePng(path, image);
  }

  /** Presses the ACPI power button (xl trigger power); rejects when the domain has none. */
  async pressPowerButton(): Promise<void> {
    if (!(await this.handle.pressPowerButton())) throw new Error(`${this.handle.config.name} has no ACPI power button`);
  }

  /**
   * Resolves with the match once the text screen (rows joined by "\n") matches;
   * rejects on timeout or when the domain stops, with the last screen seen.
   */
  async waitForScreen(pattern: RegExp | string, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    let last: string[] | null = null;
    for (;;) {
      if (this.stop) throw new Error(`${this.handle.config.name} stopped (${this.stop.reason}: ${this.stop.detail}) while waiting for ${String(pattern)} on the screen; last screen:\n${(last ?? []).join('\n')}`);
      try {
        last = await this.screenText();
      } catch (e) {
        // The worker went away between the check and the answer: the stop check reports it.
        if (!this.stop) throw e;
        continue;
      }
      const text = (last ?? []).join('\n');
      if (typeof pattern === 'string') {
        if (text.includes(pattern)) return pattern;
      } else {
        const m = new RegExp(pattern.source, pattern.flags.replace('g', '').replace('y', '')).exec(text);
        if (m) return m[0];
      }
      if (performance.now() >= deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)} on the screen of ${this.handle.config.name}; last screen:\n${last ? last.join('\n') : '(no text screen)'}`);
      }
      await new Promise((r) => setTimeout(r, SCREEN_POLL_MS));
    }
  }

  /** Ends the domain and its worker. */
  async destroy(): Promise<void> {
    await this.handle.destroy();
  }
}
