// Runs snippets on the host CPU through the compiled host-runner.c (32-bit user
// mode, CPL 3) and decodes what it reports.

import { readFileSync } from 'node:fs';
import { hostRunnerBinary, runProcess } from './toolchain.js';
import { CODE_MAX, DATA_LEN, STACK_WINDOW_LEN, type SnippetOutcome } from './layout.js';

/** One snippet with its initial state. ESP is always STACK_TOP. */
export interface SnippetInput {
  code: Uint8Array;
  /** EAX ECX EDX EBX ESP EBP ESI EDI (ESP ignored). */
  regs: readonly number[];
  eflags: number;
  data: Uint8Array;
}

const OUTCOME_BYTES = 8 + 32 + 8 + DATA_LEN + STACK_WINDOW_LEN;

export function encodeInputs(inputs: readonly SnippetInput[]): Uint8Array {
  let size = 0;
  for (const c of inputs) size += 4 + c.code.length + 32 + 4 + DATA_LEN;
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let off = 0;
  for (const c of inputs) {
    if (c.code.length === 0 || c.code.length > CODE_MAX) throw new RangeError(`snippet of ${c.code.length} bytes`);
    if (c.data.length !== DATA_LEN) throw new RangeError(`data buffer of ${c.data.length} bytes`);
    view.setUint32(off, c.code.length, true);
    buf.set(c.code, off + 4);
    off += 4 + c.code.length;
    for (let i = 0; i < 8; i++) view.setUint32(off + 4 * i, c.regs[i] >>> 0, true);
    view.setUint32(off + 32, c.eflags >>> 0, true);
    buf.set(c.data, off + 36);
    off += 36 + DATA_LEN;
  }
  return buf;
}

export function decodeOutcomes(bytes: Uint8Array, count: number): SnippetOutcome[] {
  if (bytes.length !== count * OUTCOME_BYTES) {
    throw new Error(`host runner returned ${bytes.length} bytes for ${count} cases (expected ${count * OUTCOME_BYTES})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: SnippetOutcome[] = [];
  for (let i = 0, off = 0; i < count; i++, off += OUTCOME_BYTES) {
    const regs: number[] = [];
    for (let r = 0; r < 8; r++) regs.push(view.getUint32(off + 8 + 4 * r, true));
    out.push({
      vector: view.getInt32(off, true),
      errorCode: view.getInt32(off + 4, true),
      regs,
      eip: view.getUint32(off + 40, true),
      eflags: view.getUint32(off + 44, true),
      data: bytes.slice(off + 48, off + 48 + DATA_LEN),
      stack: bytes.slice(off + 48 + DATA_LEN, off + OUTCOME_BYTES),
    });
  }
  return out;
}

/** Run all snippets in one host-runner process. */
export async function runOnHost(inputs: readonly SnippetInput[]): Promise<SnippetOutcome[]> {
  if (inputs.length === 0) return [];
  const bin = hostRunnerBinary();
  const { code, stdout, stderr } = await runProcess(bin, [], encodeInputs(inputs));
  if (code !== 0) throw new Error(`host runner exited with ${code}: ${stderr.toString()}`);
  return decodeOutcomes(stdout, inputs.length);
}

/** The host CPU's vendor string (CPUID leaf 0), e.g. "AuthenticAMD"; "unknown" if /proc says nothing. */
export function hostCpuVendor(): string {
  try {
    const m = /^vendor_id\s*:\s*(\S+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1] : 'unknown';
  } catch {
    return 'unknown';
  }
}
