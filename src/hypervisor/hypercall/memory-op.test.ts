import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_memory_op } from '../../abi/hypercall-numbers.js';
import {
  XENMAPIDX_grant_table_status,
  XENMAPSPACE_dev_mmio,
  XENMAPSPACE_gmfn,
  XENMAPSPACE_gmfn_foreign,
  XENMAPSPACE_grant_table,
  XENMAPSPACE_shared_info,
  XENMEM_add_to_physmap,
  XENMEM_current_reservation,
  XENMEM_decrease_reservation,
  XENMEM_increase_reservation,
  XENMEM_machphys_mapping,
  XENMEM_maximum_gpfn,
  XENMEM_maximum_reservation,
  XENMEM_memory_map,
  XENMEM_populate_physmap,
  XENMEM_remove_from_physmap,
  XEN_EDOM,
} from '../../abi/memory.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import { SHARED_INFO_32 } from '../../abi/shared-info.js';
import { XEN_EACCES, XEN_EFAULT, XEN_EINVAL, XEN_ENOENT, XEN_ENOSYS, XEN_EPERM, XEN_ESRCH } from '../../abi/xen-errno.js';
import { GUEST_DOMID, SCRATCH, scriptedGuest } from './scripted-guest.js';

const mem = (g: ReturnType<typeof scriptedGuest>, cmd: number, arg = SCRATCH) => g.hypercall(HYPERVISOR_memory_op, cmd, arg);
const atp = (g: ReturnType<typeof scriptedGuest>, domid: number, space: number, idx: number, gpfn: number) => {
  // xen_add_to_physmap, 32-bit: domid @0, size @2, space @4, idx @8, gpfn @12.
  g.put([[0, domid, 2], [2, 0, 2], [4, space, 4], [8, idx, 4], [12, gpfn, 4]], 16);
  return mem(g, XENMEM_add_to_physmap);
};

test('add_to_physmap shared_info: replaces the RAM at gpfn, moves on a second call, reaches the CPU', () => {
  const g = scriptedGuest();
  const remaps: number[] = [];
  g.memory.onRemap((first) => remaps.push(first));
  const before = mem(g, XENMEM_current_reservation, (g.put([[0, DOMID_SELF, 2]], 2), SCRATCH));
  assert.equal(before, 224, '1 MiB minus the VGA hole');
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_shared_info, 0, 0x80), 0);
  assert.equal(g.memory.frameOffset[0x80], g.xen.sharedInfo.backingOffset);
  assert.ok(remaps.includes(0x80));
  // The guest sets pending bit 3 through its mapping; Xen's view sees it.
  g.memory.writeU32(0x80000 + SHARED_INFO_32.evtchnPending, 1 << 3);
  assert.equal(g.xen.sharedInfo.isPending(3), true);
  assert.equal(mem(g, XENMEM_current_reservation, (g.put([[0, DOMID_SELF, 2]], 2), SCRATCH)), 223, 'the replaced RAM page is freed');
  assert.equal(atp(g, GUEST_DOMID, XENMAPSPACE_shared_info, 0, 0x90), 0, 'own domid works like DOMID_SELF');
  assert.equal(g.memory.frameOffset[0x80], -1, 'old placement unmapped');
  assert.equal(g.memory.frameOffset[0x90], g.xen.sharedInfo.backingOffset);
  assert.equal(g.memory.readU32(0x90000 + SHARED_INFO_32.evtchnPending), 1 << 3, 'same page, new place');
  assert.equal(g.xen.physmap.sharedInfoGfn, 0x90);
});

test('add_to_physmap errors: idx, space, domid, fault', () => {
  const g = scriptedGuest();
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_shared_info, 1, 0x80), -XEN_EINVAL);
  assert.equal(atp(g, DOMID_SELF, 9, 0, 0x80), -XEN_EINVAL);
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_gmfn_foreign, 0, 0x80), -XEN_ENOSYS, 'batch only');
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_dev_mmio, 0, 0x80), -XEN_EACCES, 'hardware domain only');
  assert.equal(g.hypercall(HYPERVISOR_memory_op, XENMEM_add_to_physmap | (0x10000 << 6), SCRATCH), -XEN_EDOM);
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_gmfn, 0x10, 0x80), -XEN_ENOSYS);
  assert.equal(atp(g, 0, XENMAPSPACE_shared_info, 0, 0x80), -XEN_EPERM, 'dom0 exists: not ours to touch');
  assert.equal(atp(g, 7, XENMAPSPACE_shared_info, 0, 0x80), -XEN_ESRCH);
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_shared_info, 0, 0x100000), -XEN_EINVAL, 'beyond 4 GiB');
  assert.equal(mem(g, XENMEM_add_to_physmap, 0xa0000), -XEN_EFAULT);
  assert.equal(g.memory.frameOffset[0x80], 0x80000, 'nothing placed');
});

test('add_to_physmap grant_table: frame idx at gpfn, status frames refused, limit, moved frame', () => {
  const g = scriptedGuest({ maxGrantFrames: 4 });
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_grant_table, 2, 0xf0002), 0);
  assert.equal(g.xen.grants.nrFrames, 3, 'grown to idx + 1');
  const off = g.xen.grants.grantFrame(2);
  assert.equal(g.memory.frameOffset[0xf0002], off);
  assert.equal(g.xen.grants.frameGfn(2), 0xf0002);
  g.memory.writeU32(0xf0002000 + 8, 0x12345678);
  assert.equal(new DataView(g.memory.buffer).getUint32(off + 8, true), 0x12345678, 'guest writes reach the table');
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_grant_table, 2, 0xf0010), 0);
  assert.equal(g.memory.frameOffset[0xf0002], -1);
  assert.equal(g.memory.frameOffset[0xf0010], off);
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_grant_table, 0 | XENMAPIDX_grant_table_status, 0xf0003), -XEN_EINVAL);
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_grant_table, 4, 0xf0004), -XEN_EINVAL, 'beyond max_grant_frames');
  assert.equal(g.memory.frameOffset[0xf0004], -1);
});

test('remove_from_physmap: unhooks a page, -ENOENT for a hole', () => {
  const g = scriptedGuest();
  assert.equal(atp(g, DOMID_SELF, XENMAPSPACE_shared_info, 0, 0x80), 0);
  g.put([[0, DOMID_SELF, 2], [4, 0x80, 4]], 8);
  assert.equal(mem(g, XENMEM_remove_from_physmap), 0);
  assert.equal(g.memory.frameOffset[0x80], -1);
  assert.equal(g.xen.physmap.sharedInfoGfn, undefined);
  assert.equal(mem(g, XENMEM_remove_from_physmap), -XEN_ENOENT);
  assert.equal(mem(g, XENMEM_remove_from_physmap | (1 << 6)), -XEN_EINVAL, 'no continuation');
  g.put([[0, 3, 2], [4, 0x81, 4]], 8);
  assert.equal(mem(g, XENMEM_remove_from_physmap), -XEN_ESRCH);
  assert.equal(g.memory.frameOffset[0x81], 0x81000);
});

test('memory_map: the E820 hvmloader built, capped to nr_entries, as 20-byte records', () => {
  const e820 = [
    { addr: 0, size: 0x9fc00, type: 1 },
    { addr: 0x9fc00, size: 0x400, type: 2 },
    { addr: 0x100000, size: 0x1_0000_0000, type: 1 },
  ];
  const g = scriptedGuest({ e820 });
  const buf = 0x5000;
  g.memory.fill(buf, 100, 0xcc);
  g.put([[0, 10, 4], [4, buf, 4]], 8);
  assert.equal(mem(g, XENMEM_memory_map), 0);
  assert.equal(g.memory.readU32(SCRATCH), 3, 'nr_entries written back');
  assert.equal(g.u64(buf + 20), 0x9fc00n);
  assert.equal(g.u64(buf + 28), 0x400n);
  assert.equal(g.memory.readU32(buf + 36), 2);
  assert.equal(g.u64(buf + 48), 0x1_0000_0000n, 'sizes beyond 32 bits');
  assert.equal(g.memory.readU8(buf + 60), 0xcc, 'nothing past the last record');
  g.put([[0, 1, 4], [4, 0x6000, 4]], 8);
  assert.equal(mem(g, XENMEM_memory_map), 0);
  assert.equal(g.memory.readU32(SCRATCH), 1);
  assert.equal(g.memory.readU32(0x6000 + 16), 1);
  g.put([[0, 3, 4], [4, 0xa0000, 4]], 8);
  assert.equal(mem(g, XENMEM_memory_map), -XEN_EFAULT, 'buffer in the VGA hole');
  assert.equal(mem(scriptedGuest(), XENMEM_memory_map), -XEN_ENOSYS, 'no map set');
});

test('reservations: counts, decrease frees RAM, populate needs headroom, extents done', () => {
  const g = scriptedGuest({ maxPages: 226 });
  const domidArg = (d: number) => (g.put([[0, d, 2]], 2), SCRATCH);
  assert.equal(mem(g, XENMEM_current_reservation, domidArg(DOMID_SELF)), 224);
  assert.equal(mem(g, XENMEM_maximum_reservation, domidArg(DOMID_SELF)), 226);
  assert.equal(mem(g, XENMEM_maximum_gpfn, domidArg(DOMID_SELF)), 0xff);
  assert.equal(mem(g, XENMEM_current_reservation, domidArg(0)), -XEN_EPERM);
  assert.equal(mem(g, XENMEM_current_reservation | (1 << 6), domidArg(DOMID_SELF)), -XEN_EINVAL);
  const list = 0x6000;
  const resv = (nr: number, order: number, gfns: number[]) => {
    gfns.forEach((f, i) => g.memory.writeU32(list + 4 * i, f));
    // xen_memory_reservation, 32-bit: extent_start @0, nr_extents @4, extent_order @8, mem_flags @12, domid @16.
    g.put([[0, list, 4], [4, nr, 4], [8, order, 4], [12, 0, 4], [16, DOMID_SELF, 2]], 20);
  };
  g.memory.writeU32(0x50000, 0xdeadbeef);
  resv(3, 0, [0x50, 0x51, 0xa0]);
  assert.equal(mem(g, XENMEM_decrease_reservation), 2, 'stops at the hole');
  assert.equal(g.memory.frameOffset[0x50], -1);
  assert.equal(g.memory.frameOffset[0x51], -1);
  assert.equal(mem(g, XENMEM_current_reservation, domidArg(DOMID_SELF)), 222);
  resv(4, 0, [0x50, 0x51, 0x52, 0x53]);
  assert.equal(mem(g, XENMEM_populate_physmap), 4, 'four pages of headroom now');
  assert.ok(g.memory.isRam(0x50000, 4096));
  assert.equal(g.memory.readU32(0x50000), 0, 'a scrubbed page');
  assert.equal(mem(g, XENMEM_current_reservation, domidArg(DOMID_SELF)), 226);
  resv(1, 0, [0x60]);
  assert.equal(mem(g, XENMEM_populate_physmap), 0, 'at max_pages');
  assert.equal(mem(g, XENMEM_increase_reservation), 0);
  resv(2, 10, [0x60, 0x61]);
  assert.equal(mem(g, XENMEM_decrease_reservation), 0, 'order above the domU limit');
  // Continuation start extent in cmd bits 6+: only extent 1 is done.
  resv(2, 0, [0x70, 0x71]);
  assert.equal(mem(g, XENMEM_decrease_reservation | (1 << 6)), 2);
  assert.equal(g.memory.frameOffset[0x70], 0x70000);
  assert.equal(g.memory.frameOffset[0x71], -1);
  resv(2, 0, [0x72, 0x73]);
  assert.equal(mem(g, XENMEM_decrease_reservation | (5 << 6)), 5, 'start beyond nr_extents');
  assert.equal(mem(g, XENMEM_increase_reservation), 1, 'one page of headroom again');
  // Xen answers reservations with extents done, never an errno.
  assert.equal(mem(g, XENMEM_decrease_reservation | (1 << 6), 0xa0000), 1, 'struct unreadable: the start extent');
  g.put([[0, list, 4], [4, 2, 4], [8, 0, 4], [12, 0, 4], [16, 0, 2]], 20);
  assert.equal(mem(g, XENMEM_decrease_reservation), 0, "dom0's memory: nothing done");
  g.put([[0, list, 4], [4, 0x4000000, 4], [8, 0, 4], [12, 0, 4], [16, DOMID_SELF, 2]], 20);
  assert.equal(mem(g, XENMEM_decrease_reservation), 0, 'nr_extents beyond what cmd can carry');
  assert.equal(g.memory.frameOffset[0x72], 0x72000);
  // The extent list itself unreadable: nothing done.
  g.put([[0, 0xa0000, 4], [4, 1, 4], [8, 0, 4], [12, 0, 4], [16, DOMID_SELF, 2]], 20);
  assert.equal(mem(g, XENMEM_decrease_reservation), 0);
  assert.equal(mem(g, XENMEM_machphys_mapping), -XEN_ENOSYS);
  assert.equal(mem(g, 63), -XEN_ENOSYS);
});
