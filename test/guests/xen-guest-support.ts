// What the suite's Xen test guests share: waiting for a line on a guest's debug
// console, dom0's view of the whole xenstore, and the bystander domain of the
// hypercall fuzzers (test/guests/xen-fuzz's `bystander` mode), whose RAM must hash
// the same before and after another domain is fuzzed beside it.

import type { GuestSession } from '../../src/toolstack/harness.js';
import type { XsClient } from '../../src/pv/xenstore/client.js';
import { fnv1a32, xorshift32 } from '../support/fuzz.js';

/** The bystander's seed and the size of the region it fills (xen-fuzz/bystander.inc: 8 MiB at 16 MiB). */
export const BYSTANDER_SEED = 0xb157a4d5;
export const BYSTANDER_LEN = 8 << 20;

/** The hash of the bytes the bystander writes: xorshift32 words, little-endian. */
export function bystanderHash(seed: number = BYSTANDER_SEED): string {
  const next = xorshift32(seed);
  const words = new Uint32Array(BYSTANDER_LEN / 4);
  for (let i = 0; i < words.length; i++) words[i] = next();
  return fnv1a32(new Uint8Array(words.buffer)).toString(16).padStart(8, '0');
}

/** Every xenstore node as dom0 sees it: path -> value and permissions. */
export function dumpStore(xs: XsClient): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string): void => {
    out.set(path, `${JSON.stringify(xs.tryRead(path) ?? '')} ${xs.getPerms(path).join(',')}`);
    for (const child of xs.directory(path)) walk(path === '/' ? `/${child}` : `${path}/${child}`);
  };
  walk('/');
  return out;
}

/** Resolves with the first match of `pattern` in the guest's port 0xE9 output; rejects after `timeoutMs` showing what came. */
export async function waitForDebugcon(g: GuestSession, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(g.debugconOutput(0xe9));
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)} on ${g.config.name}'s debugcon; got:\n${g.debugconOutput(0xe9)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
