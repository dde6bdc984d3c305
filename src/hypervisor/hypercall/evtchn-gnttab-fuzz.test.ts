// Fuzz of event_channel_op and grant_table_op from a guest: random sub-ops,
// argument pointers and struct contents (≥ 10^5 calls, bounded time). Every call
// must come back with 0 or a Xen errno, no handler may throw (dispatch would log
// it), and another guest's memory must stay untouched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import type { VcpuRegisters } from '../vcpu/backend.js';
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

test(`fuzz: ${CALLS} random event_channel_op / grant_table_op calls answer with Xen errnos and touch nothing else`, () => {
  const rnd = xorshift32(0xc0ffee);
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 128 << 10 });
  const bystanderMem = new GuestMemory({ ramBytes: 256 << 10, romBytes: 64 << 10 });
  bystanderMem.fill(0, 256 << 10, 0xb5);
  const page = SharedInfoPage.allocate(memory);
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
  const ctx: HypercallContext = {
    regs: { get: () => ({ ...regs }), set: (n) => (regs = { ...n }) },
    memory,
    xen: { events, grants, grantAccess },
    log: (_l, m) => failures.push(m),
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
    regs = { ...regs, eax: evtchn ? HYPERVISOR_event_channel_op : HYPERVISOR_grant_table_op, ebx: cmd, ecx: huge ? rnd() : pointer(), edx: count };
    const r = dispatchHypercall(ctx);
    if (!allowed.has(r)) failures.push(`call ${i}: op ${regs.eax} cmd ${cmd} -> ${r}`);
    if (failures.length > 0) break;
  }
  const elapsed = Date.now() - t0;
  assert.deepEqual(failures, []);
  assert.ok(elapsed < 120_000, `bounded time (${elapsed} ms)`);
  assert.equal(fnv1a32(bystanderMem.bytes), bystanderBefore, "the other domain's memory is untouched");
  assert.ok(notes > 0 && kicks > 0, 'the fuzz reached delivery both ways');
});
