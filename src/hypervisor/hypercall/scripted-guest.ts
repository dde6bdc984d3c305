// A scripted guest for the hypercall families' tests: a domain built with
// createXenDomain over fresh GuestMemory, registers for EAX/EBX/... (or, with
// `width: 8`, a long-mode caller's RAX/RDI/RSI/...), and helpers that lay out
// argument structs at a fixed guest-physical scratch address.
//
// A 32-bit scripted guest latches the 32-bit shared_info layout at creation, as
// our 32-bit guests do by writing the hypercall-page MSR first; a 64-bit one
// leaves Xen's default (64-bit). `latch: 'none'` keeps the domain's default.

import type { GuestWidth } from '../../abi/guest-width.js';
import type { VcpuRegisters, VcpuRegisters64 } from '../vcpu/backend.js';
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
  /** The caller's width: 4 (protected mode, EAX...) or 8 (long mode, RAX...). */
  width: GuestWidth;
  /**
   * Issue hypercall `nr` with the first argument registers (EBX, ECX, EDX, ESI, EDI
   * or RDI, RSI, RDX, R10, R8); returns the signed result read back from EAX / RAX.
   */
  hypercall(nr: number | bigint, ...args: Array<number | bigint>): number;
  /** The 64-bit registers after the last call (width 8). */
  regs64(): VcpuRegisters64;
  /** Write a struct at `at`: [offset, value, width] with width 1, 2, 4 or 8 (bigint allowed). */
  put(fields: Array<[number, number | bigint, 1 | 2 | 4 | 8]>, size: number, at?: number): void;
  u64(gpa: number): bigint;
}

export interface ScriptedGuestOptions extends Partial<XenDomainOptions> {
  ramBytes?: number;
  romBytes?: number;
  /** Caller width; default 4. */
  width?: GuestWidth;
  /** The shared_info width latched at creation; default the caller's width. */
  latch?: GuestWidth | 'none';
}

const ZERO64: VcpuRegisters64 = {
  rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n, rsp: 0n, rbp: 0n,
  r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rip: 0n, rflags: 2n,
};

export function scriptedGuest(opts: ScriptedGuestOptions = {}): ScriptedGuest {
  const memory = new GuestMemory({ ramBytes: opts.ramBytes ?? 1 << 20, romBytes: opts.romBytes ?? 512 << 10 });
  const kicks: number[] = [];
  const logs: string[] = [];
  const width: GuestWidth = opts.width ?? 4;
  const xen = createXenDomain({ e820: [], kick: (v) => kicks.push(v), domid: GUEST_DOMID, ...opts, memory });
  const latch = opts.latch ?? width;
  if (latch !== 'none') xen.latchGuestWidth(latch);
  let regs: VcpuRegisters = { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: 0, eflags: 2 };
  let regs64: VcpuRegisters64 = { ...ZERO64 };
  const ctx: HypercallContext = {
    regs: { get: () => ({ ...regs }), set: (n) => (regs = { ...n }) },
    memory,
    xen: xen.state,
    log: (_l, m) => logs.push(m),
    ...(width === 8
      ? { mode: 'long64' as const, regs64: { get: () => ({ ...regs64 }), set: (n: VcpuRegisters64) => (regs64 = { ...n }) } }
      : {}),
  };
  const hypercall = (nr: number | bigint, ...args: Array<number | bigint>): number => {
    if (width === 8) {
      const a = (i: number) => BigInt.asUintN(64, BigInt(args[i] ?? 0));
      regs64 = { ...regs64, rax: BigInt.asUintN(64, BigInt(nr)), rdi: a(0), rsi: a(1), rdx: a(2), r10: a(3), r8: a(4) };
      const r = dispatchHypercall(ctx);
      if (BigInt.asIntN(64, regs64.rax) !== BigInt(r)) throw new Error('result not sign-extended in RAX');
      return r;
    }
    regs = { ...regs, eax: Number(nr), ebx: Number(args[0] ?? 0), ecx: Number(args[1] ?? 0), edx: Number(args[2] ?? 0), esi: Number(args[3] ?? 0), edi: Number(args[4] ?? 0) };
    const r = dispatchHypercall(ctx);
    if ((regs.eax | 0) !== r) throw new Error('result not in EAX');
    return r;
  };
  const put = (fields: Array<[number, number | bigint, 1 | 2 | 4 | 8]>, size: number, at = SCRATCH) => {
    const b = new Uint8Array(size).fill(0xee);
    const dv = new DataView(b.buffer);
    for (const [off, v, w] of fields) {
      if (w === 8) dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
      else if (w === 4) dv.setUint32(off, Number(v) >>> 0, true);
      else if (w === 2) dv.setUint16(off, Number(v) & 0xffff, true);
      else dv.setUint8(off, Number(v) & 0xff);
    }
    memory.write(at, b);
  };
  const u64 = (gpa: number) => new DataView(memory.read(gpa, 8).buffer).getBigUint64(0, true);
  return { memory, xen, ctx, kicks, logs, width, hypercall, regs64: () => ({ ...regs64 }), put, u64 };
}
