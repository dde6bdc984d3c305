// A scripted 32-bit guest for the hypercall families' tests: a domain built with
// createXenDomain over fresh GuestMemory, registers for EAX/EBX/..., and helpers
// that lay out argument structs at a fixed guest-physical scratch address.

import type { VcpuRegisters } from '../vcpu/backend.js';
import { GuestMemory } from '../memory/guest-memory.js';
import { createXenDomain, type XenDomain, type XenDomainOptions } from '../xen-domain.js';
import { dispatchHypercall } from './dispatch.js';
import type { HypercallContext } from './hypercall-context.js';

export const SCRATCH = 0x3000;
export const GUEST_DOMID = 1;

export interface ScriptedGuest {
  memory: GuestMemory;
  xen: XenDomain;
  ctx: HypercallContext;
  kicks: number[];
  logs: string[];
  /** Issue hypercall `nr` with EBX, ECX, EDX; returns the signed EAX. */
  hypercall(nr: number, ...args: number[]): number;
  /** Write a struct at `at`: [offset, value, width] with width 1, 2, 4 or 8 (bigint allowed). */
  put(fields: Array<[number, number | bigint, 1 | 2 | 4 | 8]>, size: number, at?: number): void;
  u64(gpa: number): bigint;
}

export function scriptedGuest(opts: Partial<XenDomainOptions> & { ramBytes?: number; romBytes?: number } = {}): ScriptedGuest {
  const memory = new GuestMemory({ ramBytes: opts.ramBytes ?? 1 << 20, romBytes: opts.romBytes ?? 512 << 10 });
  const kicks: number[] = [];
  const logs: string[] = [];
  const xen = createXenDomain({ e820: [], kick: (v) => kicks.push(v), domid: GUEST_DOMID, ...opts, memory });
  let regs: VcpuRegisters = { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: 0, eflags: 2 };
  const ctx: HypercallContext = {
    regs: { get: () => ({ ...regs }), set: (n) => (regs = { ...n }) },
    memory,
    xen: xen.state,
    log: (_l, m) => logs.push(m),
  };
  const hypercall = (nr: number, ...args: number[]): number => {
    regs = { ...regs, eax: nr, ebx: args[0] ?? 0, ecx: args[1] ?? 0, edx: args[2] ?? 0 };
    const r = dispatchHypercall(ctx);
    if ((regs.eax | 0) !== r) throw new Error('result not in EAX');
    return r;
  };
  const put = (fields: Array<[number, number | bigint, 1 | 2 | 4 | 8]>, size: number, at = SCRATCH) => {
    const b = new Uint8Array(size).fill(0xee);
    const dv = new DataView(b.buffer);
    for (const [off, v, w] of fields) {
      if (w === 8) dv.setBigUint64(off, BigInt(v), true);
      else if (w === 4) dv.setUint32(off, Number(v) >>> 0, true);
      else if (w === 2) dv.setUint16(off, Number(v) & 0xffff, true);
      else dv.setUint8(off, Number(v) & 0xff);
    }
    memory.write(at, b);
  };
  const u64 = (gpa: number) => new DataView(memory.read(gpa, 8).buffer).getBigUint64(0, true);
  return { memory, xen, ctx, kicks, logs, hypercall, put, u64 };
}
