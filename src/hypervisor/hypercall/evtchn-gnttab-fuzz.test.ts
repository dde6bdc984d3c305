// Fuzz of event_channel_op and grant_table_op from a guest: random sub-ops,
// argument pointers and struct contents (≥ 10^5 calls, bounded time). Every call
// must come back with 0 or a Xen errno, no handler may throw (dispatch would log
// it), and another guest's memory must stay untouched. Two passes: a 32-bit
// caller, and a 64-bit one (64-bit layouts and shared_info, 64-bit registers with
// random high halves, upper-half and non-canonical handles).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import type { VcpuRegisters, VcpuRegisters64 } from '../vcpu/backend.js';
import type { GuestWidth } from '../../abi/guest-width.js';
import { HYPERVISOR_event_channel_op, HYPERVISOR_grant_table_op } from '../../abi/hypercall-numbers.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import { GTF_permit_access } from '../../abi/grant-table.js';
import * as errno from '../../abi/xen-errno.js';
import { SharedInfoPage } from '../event-channel/shared-info-page.js';
import { HostDelivery, TwoLevelDelivery } from '../event-channel/delivery.js';
import { EventChannels } from '../event-channel/event-channels.js';
import { GrantTable } from '../grant-table/grant-table.js';
import { GrantAccess } from '../grant-table/grant-access.js';
import { dispatchHypercall } from './dispatch.js';
import type { HypercallContext } from './hypercall-context.js';
import { fnv1a32, xorshift32 } from '../../../test/support/fuzz.js';

const CALLS = 120_000;
const ARENA = 0x3000;
const ARENA_LEN = 0x2000;

const DIRECT_MAP = 0xffff_8000_0000_0000n;

test(`fuzz: ${CALLS} random event_channel_op / grant_table_op calls answer with Xen errnos and touch nothing else`, () => fuzz(4));
test(`fuzz, 64-bit caller: ${CALLS} random event_channel_op / grant_table_op calls answer with Xen errnos and touch nothing else`, () => fuzz(8));

function fuzz(width: GuestWidth): void {
  const rnd = xorshift32(width === 4 ? 0xc0ffee : 0xbadcafe);
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 128 << 10 });
  const bystanderMem = new GuestMemory({ ramBytes: 256 << 10, romBytes: 64 << 10 });
  bystanderMem.fill(0, 256 << 10, 0xb5);
  const page = SharedInfoPage.allocate(memory, width);
  const bystanderPage = SharedInfoPage.allocate(bystanderMem);
  const domains = new Map<number, EventChannels>();
  const tables = new Map<number, GrantTable>();
  const lookupDomain = (id: number) => domains.get(id);
  let notes = 0;
  let kicks = 0;
  const dom0 = new EventChannels({ domId: 0, vcpuCount: 1, delivery: new HostDelivery(() => notes++), lookupDomain, privileged: true, globalVirqHandler: true });
  const events = new EventChannels({ domId: 1, vcpuCount: 2, delivery: new TwoLevelDelivery(page, () => kicks++), lookupDomain });
  const bystander = new EventChannels({ domId: 2, vcpuCount: 1, delivery: new TwoLevelDelivery(bystanderPage, () => assert.fail('bystander kicked')), lookupDomain });
  domains.set(0, dom0).set(1, events).set(2, bystander);
  const grants = new GrantTable({ domId: 1, memory, maxFrames: 8 });
  const bystanderGrants = new GrantTable({ domId: 2, memory: bystanderMem, maxFrames: 2 });
  tables.set(1, grants).set(2, bystanderGrants);
  // The guest sees grant frame 0 in its physmap (as after add_to_physmap), so fuzzed copies can hit it.
  memory.mapBacking(0xf0000000, grants.grantFrame(0, 0xf0000), 4096, false);
  const grantAccess = new GrantAccess(1, (d) => tables.get(d), memory);
  const host = new GrantAccess(0, (d) => tables.get(d));
  const bystanderBefore = fnv1a32(bystanderMem.bytes);

  const failures: string[] = [];
  let regs: VcpuRegisters = { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: 0, eflags: 2 };
  let regs64: VcpuRegisters64 = { rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n, rsp: 0n, rbp: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rip: 0n, rflags: 2n };
  const ctx: HypercallContext = {
    regs: { get: () => ({ ...regs }), set: (n) => (regs = { ...n }) },
    memory,
    xen: { events, grants, grantAccess },
    log: (_l, m) => failures.push(m),
    ...(width === 8
      ? {
          mode: 'long64' as const,
          regs64: { get: () => ({ ...regs64 }), set: (n: VcpuRegisters64) => (regs64 = { ...n }) },
          // A kernel direct map in the upper half onto physical memory, identity below.
          translate: (l: number) => (l < 0 && l >= -(2 ** 47) ? l + 2 ** 47 : l),
        }
      : {}),
  };
  /** A 64-bit register: the 32-bit value with, now and then, random (or all-ones) high bits. */
  const wide = (low: number): bigint => {
    const r = rnd() % 16;
    const high = r === 0 ? BigInt(rnd()) : r === 1 ? 0xffffffffn : 0n;
    return (high << 32n) | BigInt(low >>> 0);
  };
  /** A 64-bit handle: the 32-bit pointer, its direct-map alias, a non-canonical or a random 64-bit one. */
  const pointer64 = (low: number): bigint => {
    const r = rnd() % 10;
    return r < 6 ? BigInt(low >>> 0) : r < 8 ? DIRECT_MAP + BigInt(low >>> 0) : r < 9 ? 0x0000_8000_0000_0000n | BigInt(low >>> 0) : (BigInt(rnd()) << 32n) | BigInt(rnd());
  };
  const allowed = new Set([0, ...Object.values(errno).map((e) => -e)]);
  const small = () => {
    const r = rnd() % 8;
    return r < 3 ? rnd() % 4 : r < 5 ? rnd() % 64 : r < 6 ? DOMID_SELF : r < 7 ? rnd() & 0xffff : rnd();
  };
  const pointer = () => {
    const r = rnd() % 10;
    return r < 7 ? ARENA + (rnd() % ARENA_LEN) : r < 8 ? (1 << 20) - (rnd() % 64) : r < 9 ? 0xf0000000 + (rnd() % 4096) : rnd();
  };
  const dv = new DataView(memory.buffer);
  const t0 = Date.now();
  for (let i = 0; i < CALLS; i++) {
    // Fill a patch of the arena with plausible values (small ports, domids, DOMID_SELF, refs).
    const at = ARENA + (rnd() % (ARENA_LEN - 64)) & ~3;
    for (let k = 0; k < 64; k += 4) dv.setUint32(at + k, small(), true);
    // Keep the dom0 side busy: offer ports to the guest, bind the guest's offers, write grants.
    if (i % 97 === 0) dom0.allocUnbound(DOMID_SELF, 1);
    if (i % 89 === 0) dom0.bindInterdomain(1, rnd() % 64);
    if (i % 83 === 0) dom0.send(rnd() % 64);
    if (i % 71 === 0) grants.writeEntry(rnd() % 512, { flags: rnd() % 3 === 0 ? GTF_permit_access : rnd() & 0x1f, domid: rnd() % 3, frame: rnd() % 300 });
    if (i % 61 === 0) {
      const m = host.mapGrant(1, rnd() % 512, (rnd() & 1) === 0);
      if (m.page && rnd() % 2 === 0) host.unmap(m.page.handle);
    }
    const evtchn = (rnd() & 1) === 0;
    const cmd = rnd() % 20 === 0 ? rnd() : rnd() % 16;
    // Huge batches run to completion (no continuations), so they get wild pointers that fault early.
    const huge = rnd() % 10 === 0;
    const count = huge ? rnd() : rnd() % 4;
    const nr = evtchn ? HYPERVISOR_event_channel_op : HYPERVISOR_grant_table_op;
    const ptr = huge ? rnd() : pointer();
    if (width === 4) regs = { ...regs, eax: nr, ebx: cmd, ecx: ptr, edx: count };
    else regs64 = { ...regs64, rax: BigInt(nr), rdi: wide(cmd), rsi: pointer64(ptr), rdx: wide(count), r10: BigInt(rnd()), r8: BigInt(rnd()) };
    const r = dispatchHypercall(ctx);
    if (!allowed.has(r)) failures.push(`call ${i}: op ${nr} cmd ${cmd} -> ${r}`);
    if (width === 8 && regs64.rax !== BigInt.asUintN(64, BigInt(r))) failures.push(`call ${i}: RAX ${regs64.rax.toString(16)} is not ${r} sign-extended`);
    if (failures.length > 0) break;
  }
  const elapsed = Date.now() - t0;
  assert.deepEqual(failures, []);
  assert.ok(elapsed < 120_000, `bounded time (${elapsed} ms)`);
  assert.equal(fnv1a32(bystanderMem.bytes), bystanderBefore, "the other domain's memory is untouched");
  assert.ok(notes > 0 && kicks > 0, 'the fuzz reached delivery both ways');
}
