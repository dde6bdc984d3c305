// Hypercalls from 64-bit mode: RAX = number (all 64 bits), RDI RSI RDX R10 R8 =
// arguments, result sign-extended in RAX; guest handles are 64-bit linear
// addresses (canonical halves only), translated by the caller's page tables.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_console_io, HYPERVISOR_event_channel_op, HYPERVISOR_xen_version } from '../../abi/hypercall-numbers.js';
import { EVTCHNOP_alloc_unbound, DOMID_SELF } from '../../abi/event-channel.js';
import { XENVER_extraversion, XENVER_platform_parameters, XENVER_version } from '../../abi/xen-version.js';
import { CONSOLEIO_write } from '../../abi/sched.js';
import { XEN_EFAULT, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import { GuestMemory } from '../memory/guest-memory.js';
import { dispatchHypercall } from './dispatch.js';
import { GuestHandleAccess } from './guest-handle.js';
import { signed64 } from '../vcpu/backend.js';
import type { HypercallCall, HypercallHandler } from './hypercall-context.js';
import { SCRATCH, scriptedGuest } from './scripted-guest.js';
import { XEN_VERSION_MAJOR, XEN_VERSION_MINOR } from './xen-cpuid-leaves.js';

const HALF = 2 ** 47;
/** A kernel direct map at 0xffff_8000_0000_0000 (the bottom of the upper canonical half) onto physical 0. */
const DIRECT_MAP = 0xffff_8000_0000_0000n;
const directMap = (linear: number) => (linear < 0 && linear >= -HALF ? linear + HALF : linear);

test('long64: RAX is the number, the result is sign-extended into RAX, other registers untouched', () => {
  const g = scriptedGuest({ width: 8 });
  const version = (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR;
  assert.equal(g.hypercall(HYPERVISOR_xen_version, XENVER_version, 0), version);
  assert.equal(g.regs64().rax, BigInt(version));
  // An unknown op: -ENOSYS as 0xffff_ffff_ffff_ffda, not 0x0000_0000_ffff_ffda.
  assert.equal(g.hypercall(63), -XEN_ENOSYS);
  assert.equal(g.regs64().rax, 0xffff_ffff_ffff_ffdan);
  // Bits above 31 in RAX make no other number: 0x1_0000_0011 is not xen_version.
  assert.equal(g.hypercall(0x1_0000_0011n, XENVER_version, 0), -XEN_ENOSYS);
  assert.equal(g.hypercall(0xffff_ffff_0000_0011n, XENVER_version, 0), -XEN_ENOSYS);
  // Registers other than RAX stay as the guest left them.
  g.ctx.regs64!.set({ ...g.regs64(), rbx: 0x1234_5678_9abc_def0n, rcx: 7n, r11: 9n, r9: 0xffn, rip: 0x1000n });
  g.hypercall(HYPERVISOR_xen_version, XENVER_version, 0, 0xdead, 0xbeef, 0xcafe);
  const after = g.regs64();
  assert.deepEqual(
    [after.rbx, after.rcx, after.r11, after.r9, after.rip, after.rdi, after.rsi, after.rdx, after.r10, after.r8],
    [0x1234_5678_9abc_def0n, 7n, 9n, 0xffn, 0x1000n, BigInt(XENVER_version), 0n, 0xdeadn, 0xbeefn, 0xcafen],
  );
});

test('long64: CPL 3 is -EPERM; no 64-bit registers from the backend is -ENOSYS in EAX', () => {
  const g = scriptedGuest({ width: 8 });
  g.ctx.cpl = 3;
  assert.equal(g.hypercall(HYPERVISOR_xen_version, XENVER_version, 0), -XEN_EPERM);
  assert.equal(g.regs64().rax, BigInt.asUintN(64, BigInt(-XEN_EPERM)));
  const bare = scriptedGuest();
  let eax = 0;
  const r = dispatchHypercall({ ...bare.ctx, mode: 'long64', regs: { get: () => ({ eax: 17, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: 0, eflags: 2 }), set: (n) => (eax = n.eax) } });
  assert.equal(r, -XEN_ENOSYS);
  assert.equal(eax, -XEN_ENOSYS >>> 0);
  assert.ok(bare.logs.some((l) => /64-bit registers/.test(l)));
});

test('long64: a handle in the upper canonical half goes through translate; the high half of RDI matters', () => {
  const g = scriptedGuest({ width: 8 });
  g.ctx.translate = directMap;
  // XENVER_extraversion into the direct map's view of SCRATCH.
  assert.equal(g.hypercall(HYPERVISOR_xen_version, XENVER_extraversion, DIRECT_MAP + BigInt(SCRATCH)), 0);
  assert.equal(String.fromCharCode(...g.memory.read(SCRATCH, 2)), '.0');
  // Non-canonical handles with the same low bits fail; they never alias a canonical address.
  assert.equal(g.hypercall(HYPERVISOR_xen_version, XENVER_extraversion, 0x0000_8000_0000_3000n), -XEN_EFAULT);
  assert.equal(g.hypercall(HYPERVISOR_xen_version, XENVER_extraversion, 0x8000_0000_0000_3000n), -XEN_EFAULT);
  assert.equal(g.hypercall(HYPERVISOR_xen_version, XENVER_extraversion, 0xfff0_0000_0000_3000n), -XEN_EFAULT);
  // An event channel op's struct read and written back through an upper-half handle.
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, 0, 4]], 8);
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, DIRECT_MAP + BigInt(SCRATCH)), 0);
  assert.ok(g.memory.readU32(SCRATCH + 4) > 0);
  // console_io's buffer is the third argument (RDX).
  g.memory.write(0x5000, new TextEncoder().encode('hi64\n'));
  g.ctx.console = (t) => g.logs.push(`console:${t}`);
  assert.equal(g.hypercall(HYPERVISOR_console_io, CONSOLEIO_write, 5, DIRECT_MAP + 0x5000n), 0);
  assert.ok(g.logs.includes('console:hi64\n'));
  // xen_version's platform_parameters is a xen_ulong_t: 8 bytes for a 64-bit caller.
  g.memory.write(SCRATCH, new Uint8Array(16).fill(0xee));
  assert.equal(g.hypercall(HYPERVISOR_xen_version, XENVER_platform_parameters, SCRATCH), 0);
  assert.equal(g.u64(SCRATCH), 0n);
  assert.equal(g.memory.readU8(SCRATCH + 8), 0xee, 'nothing past the 8 bytes');
});

test('guest handles: signed 64-bit addresses, page pieces below zero, no crossing the canonical hole, 4 GiB for 32-bit', () => {
  const memory = new GuestMemory({ ramBytes: 1 << 20 });
  const seen: number[] = [];
  const translate = (l: number) => (seen.push(l), directMap(l));
  const h64 = new GuestHandleAccess(memory, translate, 8);
  memory.write(0x4ffe, new Uint8Array([1, 2, 3, 4]));
  // -2^47 + 0x4ffe: the piece boundary is at the page end even though the number is negative.
  const at = -HALF + 0x4ffe;
  assert.deepEqual([...h64.copyFrom(at, 4)!], [1, 2, 3, 4]);
  assert.deepEqual(seen, [at, at + 2], 'one translation per page, split at the 4 KiB boundary');
  assert.equal(signed64(DIRECT_MAP + 0x4ffen), at);
  // The last canonical byte of the lower half is fine; one more crosses the hole.
  assert.equal(h64.copyFrom(HALF - 2, 2), undefined, 'translates but is not RAM here');
  assert.equal(h64.copyFrom(HALF - 1, 2), undefined);
  assert.equal(h64.copyTo(HALF - 1, new Uint8Array(2)), false);
  assert.ok(!seen.includes(HALF), 'the non-canonical byte is never translated');
  // Wrapping from the top of the address space to 0 is refused.
  seen.length = 0;
  assert.equal(h64.copyFrom(-1, 2), undefined);
  assert.deepEqual(seen, []);
  // Without translate (paging off) a negative address is never physical.
  assert.equal(new GuestHandleAccess(memory, undefined, 8).copyFrom(-4096, 4), undefined);
  // 32-bit callers keep the 4 GiB limit and unsigned addresses.
  const h32 = new GuestHandleAccess(memory, (l) => l & 0xfffff, 4);
  assert.equal(h32.copyFrom(0xffff_fffe, 4), undefined);
  assert.deepEqual([...h32.copyFrom(0xfff0_4ffe, 2)!], [1, 2]);
});

test('long64: arguments come from RDI RSI RDX R10 R8 (not RCX/R9), as low words, pointers and full values', () => {
  const g = scriptedGuest({ width: 8 });
  const seen: HypercallCall[] = [];
  const table = new Map<number, HypercallHandler>([[5, (c) => (seen.push(c), -2)]]);
  g.ctx.regs64!.set({ ...g.regs64(), rax: 5n, rdi: 0xffff_8000_0000_1000n, rsi: 0x1_0000_0002n, rdx: 3n, r10: 4n, r8: 0xffff_ffff_ffff_fffbn, rcx: 99n, r9: 98n });
  assert.equal(dispatchHypercall(g.ctx, table), -2);
  const c = seen[0];
  assert.equal(c.width, 8);
  assert.deepEqual(c.args, [0x1000, 2, 3, 4, 0xfffffffb]);
  assert.deepEqual(c.ptrs, [-HALF + 0x1000, 0x1_0000_0002, 3, 4, -5]);
  assert.deepEqual(c.wide, [0xffff_8000_0000_1000n, 0x1_0000_0002n, 3n, 4n, 0xffff_ffff_ffff_fffbn]);
  assert.equal(g.regs64().rax, 0xffff_ffff_ffff_fffen);
  // The same table from a 32-bit caller: EBX ECX EDX ESI EDI, width 4, pointers = the 32-bit values.
  const g32 = scriptedGuest();
  g32.ctx.regs.set({ eax: 5, ebx: 0x1000, ecx: 2, edx: 3, esi: 4, edi: 0xfffffffb, esp: 0, ebp: 0, eip: 0, eflags: 2 });
  assert.equal(dispatchHypercall(g32.ctx, table), -2);
  assert.equal(seen[1].width, 4);
  assert.deepEqual(seen[1].ptrs, [0x1000, 2, 3, 4, 0xfffffffb]);
  assert.deepEqual(seen[1].wide, [0x1000n, 2n, 3n, 4n, 0xfffffffbn]);
});
