// Compare what two CPUs left behind for one snippet and say, in a line or two,
// what differs.

import { REG_ORDER, RF, flagsName, hex } from './diff-case.js';
import { CODE_ADDR, DATA_ADDR, STACK_WINDOW, type SnippetOutcome } from './layout.js';

/** Vectors whose error code both sides know (host: from the kernel's signal context). */
const COMPARED_ERROR_CODES = new Set([13]);

/** Differences between `expected` (host) and `actual` (emu); empty when they agree. */
export function diffOutcomes(expected: SnippetOutcome, actual: SnippetOutcome, flagMask: number): string[] {
  const out: string[] = [];
  if (expected.abnormal) return [`host: ${expected.abnormal}`];
  if (actual.abnormal) return [actual.abnormal];
  if (expected.vector !== actual.vector) {
    out.push(`vector: expected ${vectorName(expected.vector)}, got ${vectorName(actual.vector)}`);
    return out;
  }
  if (COMPARED_ERROR_CODES.has(expected.vector) && expected.errorCode !== actual.errorCode) {
    out.push(`error code: expected ${hex(expected.errorCode)}, got ${hex(actual.errorCode)}`);
  }
  if (expected.eip >>> 0 !== actual.eip >>> 0) {
    out.push(`eip: expected code+${hex(expected.eip - CODE_ADDR)}, got code+${hex(actual.eip - CODE_ADDR)}`);
  }
  for (let i = 0; i < 8; i++) {
    if (expected.regs[i] >>> 0 !== actual.regs[i] >>> 0) out.push(`${REG_ORDER[i]}: expected ${hex(expected.regs[i])}, got ${hex(actual.regs[i])}`);
  }
  const ignore = flagMask | RF;
  const fe = expected.eflags & ~ignore;
  const fa = actual.eflags & ~ignore;
  if (fe !== fa) {
    out.push(`eflags: expected ${hex(fe)} (${flagsName(fe)}), got ${hex(fa)} (${flagsName(fa)}), differing ${hex(fe ^ fa)}` + (flagMask ? ` (masked ${flagsName(flagMask)})` : ''));
  }
  const d = firstDifference(expected.data, actual.data);
  if (d >= 0) out.push(`data[${d}]: expected ${bytesAround(expected.data, d)}, got ${bytesAround(actual.data, d)} (address ${hex(DATA_ADDR + d)})`);
  const s = firstDifference(expected.stack, actual.stack);
  if (s >= 0) out.push(`stack ${hex(STACK_WINDOW + s)}: expected ${bytesAround(expected.stack, s)}, got ${bytesAround(actual.stack, s)}`);
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function bytesAround(bytes: Uint8Array, at: number): string {
  const start = at & ~7;
  return Array.from(bytes.subarray(start, start + 8), (b) => b.toString(16).padStart(2, '0')).join(' ') + ` @+${at - start}`;
}

const VECTOR_NAMES: Record<number, string> = { 0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF', 10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC' };

export function vectorName(v: number): string {
  return v < 0 ? 'no exception' : (VECTOR_NAMES[v] ?? `vector ${v}`);
}

/** One-line summary of an outcome, for reports. */
export function describeOutcome(o: SnippetOutcome): string {
  const regs = REG_ORDER.map((r, i) => `${r}=${hex(o.regs[i])}`).join(' ');
  if (o.abnormal) return o.abnormal.split('\n')[0];
  return `${o.vector >= 0 ? vectorName(o.vector) + ' at ' : 'end '}${hex(o.eip)} ${regs} eflags=${hex(o.eflags & ~RF)}`;
}
