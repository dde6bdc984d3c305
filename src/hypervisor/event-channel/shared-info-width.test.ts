// The domain's latched shared_info width (xen-abi.md §4.1): 64-bit by default as
// in Xen, latched by CALLBACK_IRQ / the hypercall-page MSR. In the 64-bit layout
// the 2-level ABI holds 4096 ports with u64 pending/mask words (mask at 2560) and a
// u64 selector at vcpu_info+8; the wallclock sits at 3072.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_event_channel_op, HYPERVISOR_vcpu_op } from '../../abi/hypercall-numbers.js';
import { DOMID_SELF, EVTCHNOP_alloc_unbound, EVTCHNOP_unmask } from '../../abi/event-channel.js';
import { SHARED_INFO_32, SHARED_INFO_64, VCPU_INFO_64 } from '../../abi/shared-info.js';
import { VCPUOP_register_vcpu_info } from '../../abi/vcpu.js';
import { XEN_EINVAL, XEN_ENOSPC } from '../../abi/xen-errno.js';
import type { XenSaveRecord } from '../xen-domain.js';
import { SCRATCH, scriptedGuest } from '../hypercall/scripted-guest.js';

type Guest = ReturnType<typeof scriptedGuest>;
const bit = (g: Guest, base: number, port: number) => (g.memory.bytes[g.xen.sharedInfo.backingOffset + base + (port >>> 3)] >>> (port & 7)) & 1;
const u64At = (g: Guest, off: number) => new DataView(g.memory.buffer).getBigUint64(off, true);

/** Allocate unbound ports for dom0 from the 64-bit guest until `port` is reached. */
function allocateUpTo(g: Guest, port: number): void {
  for (;;) {
    g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, 0, 4]], 8);
    assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, SCRATCH), 0);
    if (g.memory.readU32(SCRATCH + 4) === port) return;
  }
}

test('64-bit layout: port 2000 exists, a send sets bit 2000 of the u64 bitmap and bit 31 of the u64 selector', () => {
  const g = scriptedGuest({ width: 8 });
  assert.equal(g.xen.guestWidth(), 8);
  assert.equal(g.xen.events.maxPorts, 4096);
  allocateUpTo(g, 2100);
  const dom0At2000 = g.xen.dom0.bindInterdomain(1, 2000);
  const dom0At2100 = g.xen.dom0.bindInterdomain(1, 2100);
  // (The binds raise dom0's ends, not the guest's.)
  const si = g.xen.sharedInfo.backingOffset;
  assert.equal(g.xen.dom0.send(dom0At2000), 0);
  assert.equal(bit(g, SHARED_INFO_64.evtchnPending, 2000), 1);
  assert.equal(u64At(g, si + SHARED_INFO_64.evtchnPending + 8 * 31), 1n << 16n, 'word 31, bit 16 (2000 = 31*64 + 16)');
  assert.equal(u64At(g, si + VCPU_INFO_64.pendingSel), 1n << 31n, 'selector bit 31 in the u64 at vcpu_info+8');
  assert.equal(new DataView(g.memory.buffer).getUint32(si + 4, true), 0, 'nothing in the 32-bit selector slot');
  assert.equal(g.memory.bytes[si + VCPU_INFO_64.upcallPending], 1);
  assert.deepEqual(g.kicks, [0]);
  // Port 2100 is in word 32: the selector's high half.
  assert.equal(g.xen.dom0.send(dom0At2100), 0);
  assert.equal(u64At(g, si + VCPU_INFO_64.pendingSel), (1n << 31n) | (1n << 32n));
  assert.equal(g.xen.sharedInfo.selector(0), 2 ** 31 + 2 ** 32);
  assert.deepEqual(g.kicks, [0], 'upcall already pending: no second kick');
});

test('64-bit layout: the mask is at 2560; unmask re-delivers through the u64 selector', () => {
  const g = scriptedGuest({ width: 8 });
  allocateUpTo(g, 1500);
  const si = g.xen.sharedInfo.backingOffset;
  g.memory.bytes[si + SHARED_INFO_64.evtchnMask + (1500 >>> 3)] |= 1 << (1500 & 7);
  const dom0Port = g.xen.dom0.bindInterdomain(1, 1500);
  assert.equal(g.xen.dom0.send(dom0Port), 0);
  assert.equal(bit(g, SHARED_INFO_64.evtchnPending, 1500), 1, 'pending even while masked');
  assert.equal(u64At(g, si + VCPU_INFO_64.pendingSel), 0n, 'masked: no selector bit');
  assert.deepEqual(g.kicks, []);
  g.put([[0, 1500, 4]], 4);
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_unmask, SCRATCH), 0);
  assert.equal(bit(g, SHARED_INFO_64.evtchnMask, 1500), 0);
  assert.equal(u64At(g, si + VCPU_INFO_64.pendingSel), 1n << 23n, '1500 / 64 = 23');
  assert.deepEqual(g.kicks, [0]);
});

test('latching 32-bit: 1024 ports; live ports beyond stay but are never delivered past the 32-bit bitmap; never throws', () => {
  const g = scriptedGuest({ width: 8 });
  allocateUpTo(g, 1030);
  const dom0Port = g.xen.dom0.bindInterdomain(1, 1030);
  const si = g.xen.sharedInfo.backingOffset;
  const before = g.memory.bytes.slice(si, si + 4096);
  g.xen.latchGuestWidth(4);
  assert.equal(g.xen.events.maxPorts, 1024);
  assert.equal(g.xen.dom0.send(dom0Port), 0);
  assert.equal(g.xen.events.channel(1030)?.state !== undefined, true, 'the port is still there');
  // Only the 32-bit wallclock (republished at the latch) changed in the page: port
  // 1030's 64-bit pending bit would be byte 2176, the 32-bit layout's mask.
  const after = g.memory.bytes.slice(si, si + 4096);
  const changed = [...after.keys()].filter((i) => after[i] !== before[i]);
  const wallclock32 = (i: number) => (i >= SHARED_INFO_32.wcVersion && i < SHARED_INFO_32.wcNsec + 4) || (i >= SHARED_INFO_32.wcSecHi && i < SHARED_INFO_32.wcSecHi + 4);
  assert.ok(changed.length > 0 && changed.every(wallclock32), `changed: ${changed.join(',')}`);
  assert.deepEqual(g.kicks, []);
  // Allocation stops at 1024 now.
  let rc = 0;
  for (let i = 0; i < 1100 && rc === 0; i++) {
    g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, 0, 4]], 8);
    rc = g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, SCRATCH);
    if (rc === 0) assert.ok(g.memory.readU32(SCRATCH + 4) < 1024);
  }
  assert.equal(rc, -XEN_ENOSPC);
  // And back to 64-bit: 4096 again, and port 1030 is delivered again.
  g.xen.latchGuestWidth(8);
  assert.equal(g.xen.events.maxPorts, 4096);
  g.xen.sharedInfo.clearPending(1030);
  assert.equal(g.xen.dom0.send(dom0Port), 0);
  assert.equal(bit(g, SHARED_INFO_64.evtchnPending, 1030), 1);
});

test('the wallclock follows the layout (3072 / 2304) and is republished on a latch', () => {
  const g = scriptedGuest({ width: 8, latch: 'none', utcMs: () => 1_700_000_000_123 });
  const si = g.xen.sharedInfo.backingOffset;
  const dv = new DataView(g.memory.buffer);
  assert.equal(dv.getUint32(si + SHARED_INFO_64.wcSec, true), 1_700_000_000);
  assert.equal(dv.getUint32(si + SHARED_INFO_64.wcNsec, true), 123_000_000);
  assert.equal(dv.getUint32(si + SHARED_INFO_64.wcVersion, true) % 2, 0);
  assert.equal(dv.getUint32(si + SHARED_INFO_32.wcSec, true), 0, 'nothing at the 32-bit place yet');
  g.xen.latchGuestWidth(4);
  assert.equal(dv.getUint32(si + SHARED_INFO_32.wcSec, true), 1_700_000_000);
  assert.equal(dv.getUint32(si + SHARED_INFO_32.wcNsec, true), 123_000_000);
  assert.equal(dv.getUint32(si + SHARED_INFO_32.wcVersion, true), 2);
  assert.equal(g.xen.clock.wallclockNs(), 1_700_000_000_123_000_000n);
});

test('64-bit register_vcpu_info: 8-byte alignment, selector all ones in the u64 at +8', () => {
  const g = scriptedGuest({ width: 8 });
  const register = (gfn: number, offset: number) => {
    g.put([[0, gfn, 8], [8, offset, 4], [12, 0, 4]], 16);
    return g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, SCRATCH);
  };
  assert.equal(register(0x20, 0x44), -XEN_EINVAL, '4-aligned is not enough for the 64-bit layout');
  assert.equal(register(0x20, 0x48), 0);
  assert.equal(u64At(g, 0x20048 + VCPU_INFO_64.pendingSel), 0xffff_ffff_ffff_ffffn);
  assert.equal(g.memory.readU8(0x20048 + VCPU_INFO_64.upcallPending), 1);
});

test('save/restore carries the width; a record from before widths restores 32-bit', () => {
  const a = scriptedGuest({ width: 8 });
  allocateUpTo(a, 1500);
  const rec: XenSaveRecord = JSON.parse(JSON.stringify(a.xen.save()));
  assert.equal(rec.guestWidth, 8);
  const b = scriptedGuest({ width: 4 });
  b.xen.restore(rec);
  assert.equal(b.xen.guestWidth(), 8);
  assert.equal(b.xen.events.channel(1500)?.state, a.xen.events.channel(1500)?.state, 'ports above 1024 restored');
  const old = { ...rec } as Partial<XenSaveRecord>;
  delete old.guestWidth;
  old.events = { version: 1, validPorts: 64, ports: [] };
  const c = scriptedGuest({ width: 8 });
  c.xen.restore(old as XenSaveRecord);
  assert.equal(c.xen.guestWidth(), 4);
  assert.throws(() => c.xen.restore({ ...rec, guestWidth: 2 as unknown as 4 }), /guest width/);
});
