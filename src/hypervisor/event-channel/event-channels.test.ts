import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import { SHARED_INFO_32, VCPU_INFO_32 } from '../../abi/shared-info.js';
import {
  DOMID_SELF,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_ipi,
  EVTCHNSTAT_unbound,
  EVTCHNSTAT_virq,
  VIRQ_CONSOLE,
  VIRQ_DEBUG,
  VIRQ_TIMER,
} from '../../abi/event-channel.js';
import { XEN_EBUSY, XEN_EEXIST, XEN_EINVAL, XEN_ENOENT, XEN_ENOSPC, XEN_EPERM, XEN_ESRCH } from '../../abi/xen-errno.js';
import { SharedInfoPage } from './shared-info-page.js';
import { HostDelivery, TwoLevelDelivery } from './delivery.js';
import { EventChannels, type ChannelStatus } from './event-channels.js';
import { ChannelState } from './port-state.js';

const GUEST = 1;

function setup(vcpuCount = 2) {
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const page = SharedInfoPage.allocate(memory);
  const kicks: number[] = [];
  const notes: number[] = [];
  const domains = new Map<number, EventChannels>();
  const lookupDomain = (id: number) => domains.get(id);
  const host = new HostDelivery((port) => notes.push(port));
  const dom0 = new EventChannels({ domId: 0, vcpuCount: 1, delivery: host, lookupDomain, privileged: true, globalVirqHandler: true });
  const guest = new EventChannels({ domId: GUEST, vcpuCount, delivery: new TwoLevelDelivery(page, (v) => kicks.push(v)), lookupDomain });
  domains.set(0, dom0);
  domains.set(GUEST, guest);
  const at = page.backingOffset;
  const word = (base: number, i: number) => new DataView(memory.buffer).getUint32(at + base + 4 * i, true);
  const setWord = (base: number, i: number, v: number) => new DataView(memory.buffer).setUint32(at + base + 4 * i, v >>> 0, true);
  const info = (v: number) => at + v * 64;
  return {
    memory,
    page,
    kicks,
    notes,
    host,
    dom0,
    guest,
    pending: (i: number) => word(SHARED_INFO_32.evtchnPending, i),
    mask: (port: number) => setWord(SHARED_INFO_32.evtchnMask, port >>> 5, word(SHARED_INFO_32.evtchnMask, port >>> 5) | (1 << (port & 31))),
    sel: (v: number) => new DataView(memory.buffer).getUint32(info(v) + VCPU_INFO_32.pendingSel, true),
    upcall: (v: number) => memory.bytes[info(v) + VCPU_INFO_32.upcallPending],
    /** What the guest's upcall handler does: clear upcall_pending and the selector. */
    ack: (v: number) => {
      memory.bytes[info(v) + VCPU_INFO_32.upcallPending] = 0;
      new DataView(memory.buffer).setUint32(info(v) + VCPU_INFO_32.pendingSel, 0, true);
    },
  };
}

function st(r: ChannelStatus | number): ChannelStatus {
  assert.equal(typeof r, 'object', `status failed: ${String(r)}`);
  return r as ChannelStatus;
}

test('port 0 is reserved; ports are allocated lowest first from 1 and reused after close', () => {
  const t = setup();
  assert.equal(st(t.guest.status(DOMID_SELF, 0)).status, EVTCHNSTAT_closed);
  assert.equal(t.guest.close(0), -XEN_EINVAL, 'the reserved port cannot be closed');
  assert.equal(t.guest.allocUnbound(DOMID_SELF, 0), 1);
  assert.equal(t.guest.allocUnbound(DOMID_SELF, 0), 2);
  assert.equal(t.guest.bindIpi(0), 3);
  assert.equal(t.guest.close(2), 0);
  assert.equal(t.guest.bindIpi(1), 2, 'freed port 2 is the lowest free one');
  const s = st(t.guest.status(DOMID_SELF, 1));
  assert.equal(s.status, EVTCHNSTAT_unbound);
  assert.equal(s.dom, 0);
  assert.deepEqual([st(t.guest.status(DOMID_SELF, 2)).status, st(t.guest.status(DOMID_SELF, 2)).vcpu], [EVTCHNSTAT_ipi, 1]);
});

test('limits: 1023 usable ports for a 32-bit 2-level guest, then -ENOSPC; ports beyond the table are -EINVAL', () => {
  const t = setup();
  for (let i = 1; i < 1024; i++) assert.equal(t.guest.bindIpi(0), i);
  assert.equal(t.guest.bindIpi(0), -XEN_ENOSPC);
  assert.equal(t.guest.allocUnbound(DOMID_SELF, 0), -XEN_ENOSPC);
  assert.equal(t.guest.send(1024), -XEN_EINVAL);
  assert.equal(t.guest.close(0xffffffff), -XEN_EINVAL);
  assert.equal(t.guest.unmask(5000), -XEN_EINVAL);
});

test('set pending follows Xen order: pending bit, then selector + upcall_pending, kick only on the 0->1 edge', () => {
  const t = setup();
  const p = t.guest.bindIpi(1);
  assert.equal(t.guest.send(p), 0);
  assert.equal(t.pending(0), 1 << p);
  assert.equal(t.sel(1), 1, 'selector bit 0 (ports 0-31) on the notify vCPU');
  assert.equal(t.upcall(1), 1);
  assert.equal(t.sel(0), 0, 'vCPU 0 untouched');
  assert.deepEqual(t.kicks, [1]);
  assert.equal(t.guest.send(p), 0);
  assert.deepEqual(t.kicks, [1], 'already pending: nothing more');
  // A second port in word 1 while upcall_pending is still set: selector grows, no new kick.
  for (let i = p + 1; i < 40; i++) t.guest.bindIpi(1);
  t.guest.send(39);
  assert.equal(t.sel(1), 0b11);
  assert.equal(t.pending(1), 1 << 7);
  assert.deepEqual(t.kicks, [1]);
  // Guest handler acks; the next new event kicks again.
  t.ack(1);
  t.guest.send(38);
  assert.deepEqual(t.kicks, [1, 1]);
});

test('a masked port stays pending without an upcall; unmask redelivers; unmask of an unmasked port does not', () => {
  const t = setup();
  const p = t.guest.bindIpi(0);
  t.mask(p);
  t.guest.send(p);
  assert.equal(t.pending(0), 1 << p, 'pending bit set even when masked');
  assert.equal(t.sel(0), 0);
  assert.equal(t.upcall(0), 0);
  assert.deepEqual(t.kicks, []);
  assert.equal(t.guest.unmask(p), 0);
  assert.equal(t.sel(0), 1);
  assert.equal(t.upcall(0), 1);
  assert.deepEqual(t.kicks, [0]);
  // Not masked any more: a second unmask must not raise again.
  t.ack(0);
  assert.equal(t.guest.unmask(p), 0);
  assert.equal(t.sel(0), 0);
  assert.deepEqual(t.kicks, [0]);
  // Masked but not pending: unmask clears the mask only.
  const q = t.guest.bindIpi(0);
  t.mask(q);
  t.guest.unmask(q);
  t.guest.send(q);
  assert.deepEqual(t.kicks, [0, 0], 'mask really cleared: the send raises');
});

test('interdomain with a dom0 peer: guest offers, dom0 binds, notifications both ways, close reverts the peer', () => {
  const t = setup();
  const gp = t.guest.allocUnbound(DOMID_SELF, 0);
  assert.equal(gp, 1);
  const dp = t.dom0.bindInterdomain(GUEST, gp);
  assert.ok(dp > 0);
  assert.deepEqual(t.notes, [dp], 'the new local (dom0) port starts pending');
  assert.equal(t.host.takePending(dp), true);
  const gs = st(t.guest.status(DOMID_SELF, gp));
  assert.deepEqual([gs.status, gs.dom, gs.port], [EVTCHNSTAT_interdomain, 0, dp]);
  // guest -> dom0
  assert.equal(t.guest.send(gp), 0);
  assert.deepEqual(t.notes, [dp, dp]);
  // dom0 -> guest
  assert.equal(t.dom0.send(dp), 0);
  assert.equal(t.pending(0), 1 << gp);
  assert.deepEqual(t.kicks, [0]);
  // Guest closes: dom0's port goes back to unbound, waiting for the guest; sends are dropped.
  assert.equal(t.guest.close(gp), 0);
  assert.equal(t.pending(0), 0, 'closing clears the pending bit');
  const ds = st(t.dom0.status(DOMID_SELF, dp));
  assert.deepEqual([ds.status, ds.dom], [EVTCHNSTAT_unbound, GUEST]);
  assert.equal(t.dom0.send(dp), 0);
  assert.deepEqual(t.kicks, [0]);
  // The guest may re-bind to it; the new guest port starts pending (edge since the vCPU acked).
  t.ack(0);
  const gp2 = t.guest.bindInterdomain(0, dp);
  assert.equal(gp2, gp);
  assert.equal(t.pending(0), 1 << gp2);
  assert.deepEqual(t.kicks, [0, 0]);
});

test('interdomain the other way: dom0 offers a port to the guest, the guest binds it', () => {
  const t = setup();
  const dp = t.dom0.allocUnbound(DOMID_SELF, GUEST);
  assert.equal(t.guest.bindInterdomain(0, 999), -XEN_EINVAL, 'invalid remote port');
  assert.equal(t.guest.bindInterdomain(7, dp), -XEN_ESRCH, 'no domain 7');
  const other = t.dom0.allocUnbound(DOMID_SELF, 5);
  assert.equal(t.guest.bindInterdomain(0, other), -XEN_EINVAL, 'offered to another domain');
  const gp = t.guest.bindInterdomain(0, dp);
  assert.ok(gp > 0);
  assert.equal(t.guest.bindInterdomain(0, dp), -XEN_EINVAL, 'already bound');
  t.guest.send(gp);
  assert.deepEqual(t.notes, [dp]);
  // dom0 closes: the guest port reverts to unbound for dom0.
  assert.equal(t.dom0.close(dp), 0);
  const gs = st(t.guest.status(DOMID_SELF, gp));
  assert.deepEqual([gs.status, gs.dom], [EVTCHNSTAT_unbound, 0]);
});

test('bind_virq: per-vCPU VIRQs, duplicates, global VIRQs reserved to their handler, bounds', () => {
  const t = setup();
  const p = t.guest.bindVirq(VIRQ_TIMER, 1);
  assert.ok(p > 0);
  assert.equal(t.guest.bindVirq(VIRQ_TIMER, 1), -XEN_EEXIST);
  assert.ok(t.guest.bindVirq(VIRQ_TIMER, 0) > 0, 'another vCPU has its own');
  assert.equal(t.guest.bindVirq(VIRQ_CONSOLE, 1), -XEN_EINVAL, 'global VIRQs only on vCPU 0');
  assert.equal(t.guest.bindVirq(VIRQ_CONSOLE, 0), -XEN_EBUSY, 'dom0 is the global VIRQ handler');
  assert.ok(t.dom0.bindVirq(VIRQ_CONSOLE, 0) > 0);
  assert.equal(t.guest.bindVirq(24, 0), -XEN_EINVAL);
  assert.equal(t.guest.bindVirq(VIRQ_DEBUG, 2), -XEN_ENOENT);
  const s = st(t.guest.status(DOMID_SELF, p));
  assert.deepEqual([s.status, s.dom, s.vcpu], [EVTCHNSTAT_virq, VIRQ_TIMER, 1]);
  assert.equal(t.guest.raiseVirq(VIRQ_TIMER, 1), true);
  assert.equal(t.pending(0), 1 << p);
  assert.deepEqual(t.kicks, [1]);
  assert.equal(t.guest.send(p), -XEN_EINVAL, 'cannot send on a VIRQ');
  assert.equal(t.guest.close(p), 0);
  assert.equal(t.guest.raiseVirq(VIRQ_TIMER, 1), false);
  assert.ok(t.guest.bindVirq(VIRQ_TIMER, 1) > 0, 'rebinding after close');
});

test('bind_ipi, bind_vcpu and send rules', () => {
  const t = setup();
  assert.equal(t.guest.bindIpi(2), -XEN_ENOENT);
  const ipi = t.guest.bindIpi(0);
  assert.equal(t.guest.bindVcpu(ipi, 1), -XEN_EINVAL, 'IPIs stay on their vCPU');
  const timer = t.guest.bindVirq(VIRQ_TIMER, 0);
  assert.equal(t.guest.bindVcpu(timer, 1), -XEN_EINVAL, 'per-vCPU VIRQs stay put');
  const u = t.guest.allocUnbound(DOMID_SELF, 0);
  assert.equal(t.guest.bindVcpu(u, 5), -XEN_ENOENT);
  assert.equal(t.guest.bindVcpu(900, 1), -XEN_EINVAL);
  assert.equal(t.guest.send(u), 0, 'unbound: dropped silently');
  const dp = t.dom0.bindInterdomain(GUEST, u);
  assert.equal(t.guest.bindVcpu(u, 1), 0);
  t.dom0.send(dp);
  assert.equal(t.sel(1), 1, 'delivered to the new notify vCPU');
  assert.deepEqual(t.kicks, [1]);
  assert.equal(t.guest.bindVcpu(0, 0), -XEN_EINVAL, 'reserved port');
  assert.equal(t.guest.send(0), -XEN_EINVAL);
  assert.equal(t.guest.close(60), -XEN_EINVAL, 'free port');
});

test('status, alloc_unbound and reset naming other domains need privilege', () => {
  const t = setup();
  assert.equal(t.guest.status(0, 1), -XEN_EPERM);
  assert.equal(t.guest.status(9, 1), -XEN_ESRCH);
  assert.equal(t.guest.allocUnbound(0, GUEST), -XEN_EPERM);
  assert.equal(t.guest.reset(0), -XEN_EPERM);
  assert.equal(t.guest.status(DOMID_SELF, 70000), -XEN_EINVAL);
  // dom0 (privileged) may allocate in the guest on its behalf (toolstack: xenstore/console ports).
  const p = t.dom0.allocUnbound(GUEST, 0);
  assert.equal(p, 1);
  assert.equal(st(t.guest.status(DOMID_SELF, p)).status, EVTCHNSTAT_unbound);
});

test('reset closes every port and reverts interdomain peers', () => {
  const t = setup();
  const gp = t.guest.allocUnbound(DOMID_SELF, 0);
  const dp = t.dom0.bindInterdomain(GUEST, gp);
  t.guest.bindVirq(VIRQ_TIMER, 0);
  t.guest.bindIpi(1);
  t.dom0.send(dp);
  assert.notEqual(t.pending(0), 0);
  assert.equal(t.guest.reset(DOMID_SELF), 0);
  for (let port = 1; port < 5; port++) assert.equal(st(t.guest.status(DOMID_SELF, port)).status, EVTCHNSTAT_closed);
  assert.equal(t.pending(0), 0);
  assert.equal(t.dom0.channel(dp)?.state, ChannelState.Unbound);
  assert.ok(t.guest.bindVirq(VIRQ_TIMER, 0) > 0, 'VIRQ table cleared too');
});

test('register_vcpu_info moves vcpu_info: contents copied, every selector bit and the upcall raised, new events land there', () => {
  const t = setup();
  const p = t.guest.bindIpi(0);
  t.mask(p);
  t.guest.send(p);
  const gpa = 0x5000 + 64;
  const r = t.page.registerVcpuInfo(0, gpa);
  assert.deepEqual(r, { rc: 0, raised: true });
  assert.equal(t.memory.readU32(gpa + VCPU_INFO_32.pendingSel), 0xffffffff);
  assert.equal(t.memory.readU8(gpa + VCPU_INFO_32.upcallPending), 1);
  assert.equal(t.page.registerVcpuInfo(0, gpa).rc, -XEN_EBUSY);
  assert.equal(t.page.registerVcpuInfo(1, 0x5ff0).rc, -6, 'crossing a page is -ENXIO');
  assert.equal(t.page.registerVcpuInfo(1, 0x5002).rc, -XEN_EINVAL, 'misaligned');
  assert.equal(t.page.registerVcpuInfo(1, 0xa0000).rc, -XEN_EINVAL, 'not RAM');
  t.memory.writeU8(gpa + VCPU_INFO_32.upcallPending, 0);
  t.memory.writeU32(gpa + VCPU_INFO_32.pendingSel, 0);
  t.guest.unmask(p);
  assert.equal(t.memory.readU32(gpa + VCPU_INFO_32.pendingSel), 1);
  assert.equal(t.memory.readU8(gpa + VCPU_INFO_32.upcallPending), 1);
  assert.deepEqual(t.kicks, [0]);
});

test('wallclock is published with an even version', () => {
  const t = setup();
  t.page.setWallclock(0x1_2345_6789, 500);
  const dv = new DataView(t.memory.buffer);
  const at = t.page.backingOffset;
  assert.equal(dv.getUint32(at + SHARED_INFO_32.wcVersion, true), 2);
  assert.equal(dv.getUint32(at + SHARED_INFO_32.wcSec, true), 0x23456789);
  assert.equal(dv.getUint32(at + SHARED_INFO_32.wcSecHi, true), 1);
  assert.equal(dv.getUint32(at + SHARED_INFO_32.wcNsec, true), 500);
});
