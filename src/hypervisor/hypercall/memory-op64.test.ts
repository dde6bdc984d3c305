// memory_op from a 64-bit caller: every struct in its native x86_64 layout
// (xen_ulong_t, xen_pfn_t and handles 8 bytes), with values placed so that the
// 32-bit layout would read something else; and add_to_physmap_batch in both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_memory_op } from '../../abi/hypercall-numbers.js';
import {
  XENMAPSPACE_gmfn_foreign,
  XENMAPSPACE_gmfn_range,
  XENMAPSPACE_grant_table,
  XENMAPSPACE_shared_info,
  XENMEM_add_to_physmap,
  XENMEM_add_to_physmap_batch,
  XENMEM_decrease_reservation,
  XENMEM_memory_map,
  XENMEM_populate_physmap,
  XENMEM_remove_from_physmap,
} from '../../abi/memory.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import { XEN_EDOM } from '../../abi/memory.js';
import { XEN_EFAULT, XEN_EILSEQ, XEN_EINVAL, XEN_ENOSYS, XEN_EOPNOTSUPP, XEN_EPERM, XEN_ESRCH } from '../../abi/xen-errno.js';
import { SCRATCH, scriptedGuest } from './scripted-guest.js';

type Guest = ReturnType<typeof scriptedGuest>;
const mem = (g: Guest, cmd: number | bigint, arg: number | bigint = SCRATCH) => g.hypercall(HYPERVISOR_memory_op, cmd, arg);
const DIRECT_MAP = 0xffff_8000_0000_0000n;
const directMap = (l: number) => (l < 0 && l >= -(2 ** 47) ? l + 2 ** 47 : l);

test('64-bit add_to_physmap: 24 bytes, idx xen_ulong @8, gpfn xen_pfn @16', () => {
  const g = scriptedGuest({ width: 8 });
  // The gpfn 0x80 is at @16; the 32-bit layout would take gpfn from @12 (idx's high half, 0).
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_shared_info, 4], [8, 0n, 8], [16, 0x80n, 8]], 24);
  assert.equal(mem(g, XENMEM_add_to_physmap), 0);
  assert.equal(g.xen.physmap.sharedInfoGfn, 0x80);
  assert.equal(g.memory.frameOffset[0x80], g.xen.sharedInfo.backingOffset);
  assert.equal(g.memory.frameOffset[0], 0, 'nothing placed where the 32-bit layout points');
  // idx is 8 bytes: shared_info with idx 1<<32 is -EINVAL (a 32-bit read would see 0).
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_shared_info, 4], [8, 1n << 32n, 8], [16, 0x90n, 8]], 24);
  assert.equal(mem(g, XENMEM_add_to_physmap), -XEN_EINVAL);
  // A grant frame index beyond 32 bits names no frame.
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_grant_table, 4], [8, 1n << 32n, 8], [16, 0xf0000n, 8]], 24);
  assert.equal(mem(g, XENMEM_add_to_physmap), -XEN_EINVAL);
  // A gpfn beyond 32 bits is beyond the physmap (no truncation to 0x80).
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_grant_table, 4], [8, 0n, 8], [16, (1n << 32n) | 0x80n, 8]], 24);
  assert.equal(mem(g, XENMEM_add_to_physmap), -XEN_EINVAL);
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_grant_table, 4], [8, 0n, 8], [16, 0xf0000n, 8]], 24);
  assert.equal(mem(g, XENMEM_add_to_physmap), 0);
  assert.equal(g.xen.grants.frameGfn(0), 0xf0000);
  // cmd is an unsigned long: the start extent comes from all 64 bits.
  assert.equal(mem(g, BigInt(XENMEM_add_to_physmap) | (1n << 40n)), -XEN_EDOM);
  // The struct read through the kernel's upper-half direct map.
  g.ctx.translate = directMap;
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_shared_info, 4], [8, 0n, 8], [16, 0x90n, 8]], 24);
  assert.equal(mem(g, XENMEM_add_to_physmap, DIRECT_MAP + BigInt(SCRATCH)), 0);
  assert.equal(g.xen.physmap.sharedInfoGfn, 0x90);
  // 24 bytes must be readable: a struct whose last 8 bytes run into the VGA hole is -EFAULT.
  assert.equal(mem(g, XENMEM_add_to_physmap, 0xa0000 - 16), -XEN_EFAULT);
});

test('64-bit remove_from_physmap (gpfn @8) and memory_map (buffer handle @8)', () => {
  const e820 = [{ addr: 0, size: 0x9fc00, type: 1 }, { addr: 0x100000, size: 0x100000, type: 1 }];
  const g = scriptedGuest({ width: 8, e820 });
  g.ctx.translate = directMap;
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_shared_info, 4], [8, 0n, 8], [16, 0x80n, 8]], 24);
  assert.equal(mem(g, XENMEM_add_to_physmap), 0);
  g.put([[0, DOMID_SELF, 2], [4, 0x55, 4], [8, 0x80n, 8]], 16);
  assert.equal(mem(g, XENMEM_remove_from_physmap), 0);
  assert.equal(g.memory.frameOffset[0x80], -1);
  assert.equal(g.memory.frameOffset[0x55], 0x55000, 'the 32-bit gpfn slot is ignored');
  // memory_map: nr_entries u32 @0, pad, buffer @8 — here an upper-half pointer.
  g.memory.fill(0x5000, 64, 0xcc);
  g.put([[0, 5, 4], [4, 0x6000, 4], [8, DIRECT_MAP + 0x5000n, 8]], 16);
  assert.equal(mem(g, XENMEM_memory_map), 0);
  assert.equal(g.memory.readU32(SCRATCH), 2);
  assert.equal(g.u64(0x5000 + 20), 0x100000n);
  assert.equal(g.memory.readU32(0x5000 + 36), 1);
  assert.equal(g.memory.readU8(0x5000 + 40), 0xcc);
  assert.equal(g.memory.readU32(0x6000), 0, 'nothing where a 32-bit handle @4 would point');
  // A non-canonical buffer handle (bit 47 set, 63:48 clear): -EFAULT, nr_entries untouched.
  g.put([[0, 5, 4], [8, 0x0000_8000_0000_5000n, 8]], 16);
  assert.equal(mem(g, XENMEM_memory_map), -XEN_EFAULT);
  assert.equal(g.memory.readU32(SCRATCH), 5);
});

test('64-bit reservations: extent handle @0, nr_extents u64 @8, order @16, domid @24, 8-byte xen_pfn_t extents', () => {
  const g = scriptedGuest({ width: 8, maxPages: 226 });
  const list = 0x6000;
  const resv = (nr: bigint, order: number, gfns: bigint[], domid = DOMID_SELF) => {
    gfns.forEach((f, i) => g.put([[0, f, 8]], 8, list + 8 * i));
    g.put([[0, list, 8], [8, nr, 8], [16, order, 4], [20, 0, 4], [24, domid, 2]], 32);
  };
  // 32-bit reading would take nr_extents = the high half of the handle (0) and domid from @16.
  resv(2n, 0, [0x50n, 0x51n]);
  assert.equal(mem(g, XENMEM_decrease_reservation), 2);
  assert.equal(g.memory.frameOffset[0x50], -1);
  assert.equal(g.memory.frameOffset[0x51], -1);
  resv(2n, 0, [0x50n, 0x51n]);
  assert.equal(mem(g, XENMEM_populate_physmap), 2);
  assert.ok(g.memory.isRam(0x51000, 4096));
  // An extent with bits above 32 is not the low frame.
  resv(1n, 0, [(1n << 32n) | 0x52n]);
  assert.equal(mem(g, XENMEM_decrease_reservation), 0);
  assert.equal(g.memory.frameOffset[0x52], 0x52000);
  // nr_extents beyond ULONG_MAX >> 6 cannot be continued: nothing done.
  resv(1n << 58n, 0, [0x53n]);
  assert.equal(mem(g, XENMEM_decrease_reservation), 0);
  // ...but up to it is fine (the list faults at the end of RAM: extents done so far).
  resv((1n << 58n) - 1n, 0, [0x53n, 0xa0n]);
  assert.equal(mem(g, XENMEM_decrease_reservation), 1);
  resv(1n, 0, [0x54n], 0);
  assert.equal(mem(g, XENMEM_decrease_reservation), 0, "dom0's memory");
  assert.equal(g.memory.frameOffset[0x54], 0x54000);
});

test('add_to_physmap_batch, 32-bit (20 B) and 64-bit (32 B): per-entry errs, space and start checks', () => {
  for (const width of [4, 8] as const) {
    const g = scriptedGuest({ width, maxGrantFrames: 4 });
    const w = width;
    const [idxs, gpfns, errs] = [0x5000, 0x5100, 0x5200];
    const batch = (space: number, entries: Array<[bigint, bigint]>, domid = DOMID_SELF, foreign = 0) => {
      entries.forEach(([i, f], k) => {
        g.put([[0, i, w]], w, idxs + k * w);
        g.put([[0, f, w]], w, gpfns + k * w);
      });
      g.memory.fill(errs, 16, 0xcc);
      // domid u16 @0, space u16 @2, size u16 @4, foreign_domid u16 @6, idxs @8, gpfns @8+w, errs @8+2w.
      g.put([[0, domid, 2], [2, space, 2], [4, entries.length, 2], [6, foreign, 2], [8, idxs, w], [8 + w, gpfns, w], [8 + 2 * w, errs, w]], 8 + 3 * w);
      return mem(g, XENMEM_add_to_physmap_batch);
    };
    const err = (k: number) => new DataView(g.memory.buffer).getInt32(errs + 4 * k, true);
    assert.equal(batch(XENMAPSPACE_grant_table, [[1n, 0xf0001n], [9n, 0xf0009n], [0n, 0xf0000n]]), 0, `width ${w}`);
    assert.deepEqual([err(0), err(1), err(2)], [0, -XEN_EINVAL, 0], 'each entry has its own result');
    assert.equal(g.xen.grants.frameGfn(1), 0xf0001);
    assert.equal(g.xen.grants.frameGfn(0), 0xf0000);
    assert.equal(g.memory.readU8(errs + 12), 0xcc, 'nothing past the last err');
    assert.equal(batch(XENMAPSPACE_shared_info, [[0n, 0x80n]]), 0);
    assert.equal(err(0), 0);
    assert.equal(g.xen.physmap.sharedInfoGfn, 0x80);
    assert.equal(batch(XENMAPSPACE_gmfn_foreign, [[0x10n, 0x81n]], DOMID_SELF, 0), 0);
    assert.equal(err(0), -XEN_EPERM, "another domain's frames: refused per entry");
    assert.equal(batch(XENMAPSPACE_gmfn_range, [[0x10n, 0x81n]]), -XEN_EOPNOTSUPP);
    assert.equal(batch(XENMAPSPACE_shared_info, [[0n, 0x80n]], 7), -XEN_ESRCH);
    assert.equal(batch(XENMAPSPACE_shared_info, [[0n, 0x80n]], 0), -XEN_EPERM);
    // The start extent must lie inside the batch; a batch whose arrays fault is -EFAULT before anything is done.
    assert.equal(batch(XENMAPSPACE_shared_info, [[0n, 0x82n]]), 0);
    assert.equal(mem(g, XENMEM_add_to_physmap_batch | (2 << 6)), -XEN_EILSEQ);
    assert.equal(mem(g, XENMEM_add_to_physmap_batch | (1 << 6)), -XEN_EILSEQ, 'a finished batch is not resumed');
    g.put([[0, 0x83n, w]], w, gpfns);
    g.put([[0, DOMID_SELF, 2], [2, XENMAPSPACE_shared_info, 2], [4, 1, 2], [6, 0, 2], [8, idxs, w], [8 + w, gpfns, w], [8 + 2 * w, 0xa0000, w]], 8 + 3 * w);
    assert.equal(mem(g, XENMEM_add_to_physmap_batch), -XEN_EFAULT);
    assert.equal(g.xen.physmap.sharedInfoGfn, 0x82, 'nothing moved');
    assert.equal(mem(g, XENMEM_add_to_physmap_batch | (0x10000 << 6)), -XEN_EDOM);
    assert.equal(mem(g, XENMEM_add_to_physmap_batch, 0xa0000), -XEN_EFAULT);
  }
  assert.equal(mem(scriptedGuest({ width: 8 }), 23 + 1), -XEN_ENOSYS, 'the next op number is not offered');
});
