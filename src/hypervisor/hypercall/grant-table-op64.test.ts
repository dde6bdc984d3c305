// grant_table_op from a 64-bit caller: setup_table's frame_list handle at 16 and
// 8-byte xen_pfn_t frames, copy's 16-byte gnttab_copy_ptr (gmfn 8 bytes), and the
// structs that are the same for both widths (query_size, map, swap) unchanged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_grant_table_op } from '../../abi/hypercall-numbers.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import {
  GNTCOPY_dest_gref,
  GNTST_bad_virt_addr,
  GNTST_okay,
  GNTTABOP_copy,
  GNTTABOP_query_size,
  GNTTABOP_setup_table,
  GNTTABOP_swap_grant_ref,
  GNTST_bad_gntref,
  GTF_permit_access,
} from '../../abi/grant-table.js';
import { XEN_EFAULT } from '../../abi/xen-errno.js';
import { SCRATCH, scriptedGuest } from './scripted-guest.js';

const DIRECT_MAP = 0xffff_8000_0000_0000n;
const directMap = (l: number) => (l < 0 && l >= -(2 ** 47) ? l + 2 ** 47 : l);

test('64-bit setup_table: frame_list @16, one 8-byte xen_pfn_t per frame (INVALID_GFN all ones)', () => {
  const g = scriptedGuest({ width: 8, maxGrantFrames: 4 });
  g.ctx.translate = directMap;
  const gt = (cmd: number, uop: number | bigint, count = 1) => g.hypercall(HYPERVISOR_grant_table_op, cmd, uop, count);
  g.xen.physmap.placeGrantFrame(0, 0xf0000);
  const list = 0x5000;
  g.memory.fill(list, 64, 0xcc);
  // dom u16 @0, nr_frames u32 @4, status i16 @8, frame_list @16 (the 32-bit layout would read it at @12).
  g.put([[0, DOMID_SELF, 2], [4, 2, 4], [8, 0x7777, 2], [12, 0x6000, 4], [16, DIRECT_MAP + BigInt(list), 8]], 24);
  assert.equal(gt(GNTTABOP_setup_table, SCRATCH), 0);
  assert.equal(g.memory.readU16(SCRATCH + 8), GNTST_okay);
  assert.equal(g.xen.grants.nrFrames, 2, 'grown to nr_frames');
  assert.equal(g.u64(list), 0xf0000n, 'frame 0 where it was placed');
  assert.equal(g.u64(list + 8), 0xffff_ffff_ffff_ffffn, 'frame 1 not placed yet: INVALID_GFN in all 8 bytes');
  assert.equal(g.memory.readU8(list + 16), 0xcc, 'nothing past two 8-byte frames');
  assert.equal(g.memory.readU32(0x6000), 0, 'nothing where the 32-bit handle would point');
  // frame_list at the end of RAM: the second 8-byte frame faults -> bad_virt_addr.
  g.put([[0, DOMID_SELF, 2], [4, 2, 4], [16, 0xa0000 - 8, 8]], 24);
  assert.equal(gt(GNTTABOP_setup_table, SCRATCH), 0);
  assert.equal((g.memory.readU16(SCRATCH + 8) << 16) >> 16, GNTST_bad_virt_addr);
  // query_size is the same 16 bytes for both widths.
  g.put([[0, DOMID_SELF, 2]], 16);
  assert.equal(gt(GNTTABOP_query_size, SCRATCH), 0);
  assert.deepEqual([g.memory.readU32(SCRATCH + 4), g.memory.readU32(SCRATCH + 8), g.memory.readU16(SCRATCH + 12)], [2, 4, GNTST_okay]);
  // The uop handle's high half matters: a non-canonical one is -EFAULT.
  assert.equal(gt(GNTTABOP_query_size, 0x0000_8000_0000_3000n), -XEN_EFAULT);
  // swap_grant_ref (12 bytes, fixed layout): a batch of two from a 64-bit caller.
  g.put([[0, 9999, 4], [4, 8, 4], [8, 0x5555, 2], [12, 8, 4], [16, 9, 4], [20, 0x5555, 2]], 24);
  assert.equal(gt(GNTTABOP_swap_grant_ref, SCRATCH, 2), 0);
  assert.equal((g.memory.readU16(SCRATCH + 8) << 16) >> 16, GNTST_bad_gntref);
  assert.equal(g.memory.readU16(SCRATCH + 20), GNTST_okay);
});

test('64-bit copy: 40-byte elements, dest @16, len @32, flags @34, status @36, gmfn 8 bytes', () => {
  const g = scriptedGuest({ width: 8 });
  const gt = (cmd: number, uop: number, count = 1) => g.hypercall(HYPERVISOR_grant_table_op, cmd, uop, count);
  // The guest grants itself page 0x40 as ref 8 (a loopback copy within the domain).
  g.xen.grants.writeEntry(8, { flags: GTF_permit_access, domid: 1, frame: 0x40 });
  g.memory.fill(0x20000, 4096, 0x5a);
  g.memory.fill(0x40000, 4096, 0);
  const E = 40;
  // source: gmfn 0x20 (8 bytes) @0, domid @8, offset @10; dest: ref 8 @16, domid @24, offset @26.
  g.put([[0, 0x20n, 8], [8, DOMID_SELF, 2], [10, 4, 2], [16, 8, 4], [20, 0, 4], [24, DOMID_SELF, 2], [26, 100, 2], [32, 12, 2], [34, GNTCOPY_dest_gref, 2], [36, 0x7777, 2]], E);
  // A second element whose gmfn has bit 32 set: not frame 0x20 (a 32-bit read would see it).
  g.put([[0, (1n << 32n) | 0x20n, 8], [8, DOMID_SELF, 2], [10, 0, 2], [16, 8, 4], [24, DOMID_SELF, 2], [26, 200, 2], [32, 4, 2], [34, GNTCOPY_dest_gref, 2]], E, SCRATCH + E);
  assert.equal(gt(GNTTABOP_copy, SCRATCH, 2), 0);
  assert.equal(g.memory.readU16(SCRATCH + 36), GNTST_okay);
  assert.deepEqual([...g.memory.read(0x40000 + 99, 14)], [0, ...new Array(12).fill(0x5a), 0]);
  assert.notEqual(g.memory.readU16(SCRATCH + E + 36), GNTST_okay, 'a frame beyond 32 bits is not the low one');
  assert.equal(g.memory.readU8(0x40000 + 200), 0);
});
