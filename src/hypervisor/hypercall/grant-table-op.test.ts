import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import type { VcpuRegisters } from '../vcpu/backend.js';
import { HYPERVISOR_grant_table_op } from '../../abi/hypercall-numbers.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import {
  GNTCOPY_dest_gref,
  GNTCOPY_source_gref,
  GNTST_bad_gntref,
  GNTST_bad_handle,
  GNTST_bad_virt_addr,
  GNTST_general_error,
  GNTST_okay,
  GNTST_permission_denied,
  GNTTABOP_copy,
  GNTTABOP_get_version,
  GNTTABOP_map_grant_ref,
  GNTTABOP_query_size,
  GNTTABOP_set_version,
  GNTTABOP_setup_table,
  GNTTABOP_swap_grant_ref,
  GNTTABOP_transfer,
  GNTTABOP_unmap_grant_ref,
  GTF_permit_access,
  GTF_readonly,
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTST_bad_domain,
} from '../../abi/grant-table.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import { GrantTable } from '../grant-table/grant-table.js';
import { GrantAccess } from '../grant-table/grant-access.js';
import { dispatchHypercall } from './dispatch.js';
import type { HypercallContext } from './hypercall-context.js';

const ARG = 0x3000;
const GUEST = 2;

function setup() {
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const grants = new GrantTable({ domId: GUEST, memory, maxFrames: 4 });
  grants.grow(1);
  const tables = new Map<number, GrantTable>([[GUEST, grants]]);
  const grantAccess = new GrantAccess(GUEST, (d) => tables.get(d), memory);
  let regs: VcpuRegisters = { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: 0, eflags: 2 };
  const ctx: HypercallContext = { regs: { get: () => ({ ...regs }), set: (n) => (regs = { ...n }) }, memory, xen: { grants, grantAccess } };
  const op = (cmd: number, count = 1, uop = ARG): number => {
    regs = { ...regs, eax: HYPERVISOR_grant_table_op, ebx: cmd, ecx: uop, edx: count };
    return dispatchHypercall(ctx);
  };
  const put = (fields: Array<[number, number, 2 | 4]>, size: number, base = ARG) => {
    memory.fill(base, size, 0);
    for (const [at, v, w] of fields) (w === 2 ? memory.writeU16(base + at, v) : memory.writeU32(base + at, v));
  };
  const status = (at: number) => (memory.readU16(at) << 16) >> 16;
  return { memory, grants, tables, ctx, op, put, status };
}

test('query_size and setup_table report frames and grow the table; one element only', () => {
  const t = setup();
  t.put([[0, DOMID_SELF, 2]], 16);
  assert.equal(t.op(GNTTABOP_query_size), 0);
  assert.deepEqual([t.memory.readU32(ARG + 4), t.memory.readU32(ARG + 8), t.status(ARG + 12)], [1, 4, GNTST_okay]);
  t.put([[0, 0, 2]], 16);
  t.op(GNTTABOP_query_size);
  assert.equal(t.status(ARG + 12), GNTST_permission_denied, "dom0's table is not the guest's to query");
  assert.equal(t.op(GNTTABOP_query_size, 2), -XEN_EINVAL);
  assert.equal(t.op(GNTTABOP_query_size, 0x80000000), -XEN_EINVAL, 'negative count');

  t.grants.grantFrame(0, 0xf0000);
  t.put([[0, DOMID_SELF, 2], [4, 3, 4], [12, 0x4000, 4]], 16);
  assert.equal(t.op(GNTTABOP_setup_table), 0);
  assert.equal(t.status(ARG + 8), GNTST_okay);
  assert.equal(t.grants.nrFrames, 3);
  assert.deepEqual([t.memory.readU32(0x4000), t.memory.readU32(0x4004), t.memory.readU32(0x4008)], [0xf0000, 0xffffffff, 0xffffffff]);
  t.put([[0, DOMID_SELF, 2], [4, 5, 4], [12, 0x4000, 4]], 16);
  t.op(GNTTABOP_setup_table);
  assert.equal(t.status(ARG + 8), GNTST_general_error, 'beyond max_grant_frames');
  t.put([[0, DOMID_SELF, 2], [4, 1, 4], [12, 0xa0000, 4]], 16);
  t.op(GNTTABOP_setup_table);
  assert.equal(t.status(ARG + 8), GNTST_bad_virt_addr, 'frame list not writable');
  assert.equal(t.op(GNTTABOP_setup_table, 1, 0xa0000), -XEN_EFAULT);
});

test('set_version: 1 accepted, 2 -ENOSYS (v1 only), others -EINVAL, current version written back; get_version', () => {
  const t = setup();
  for (const [v, rc] of [[1, 0], [2, -XEN_ENOSYS], [0, -XEN_EINVAL], [3, -XEN_EINVAL]] as const) {
    t.put([[0, v, 4]], 4);
    assert.equal(t.op(GNTTABOP_set_version), rc, `version ${v}`);
    assert.equal(t.memory.readU32(ARG), 1);
  }
  t.put([[0, DOMID_SELF, 2]], 8);
  assert.equal(t.op(GNTTABOP_get_version), 0);
  assert.equal(t.memory.readU32(ARG + 4), 1);
  t.put([[0, 0, 2]], 8);
  assert.equal(t.op(GNTTABOP_get_version), -XEN_EPERM);
});

test('copy batch: per-element status, own frames and granted refs, permission checks', () => {
  const t = setup();
  const other = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const t7 = new GrantTable({ domId: 7, memory: other });
  t7.grow(1);
  t.tables.set(7, t7);
  other.fill(0x8000, 4096, 0x77);
  t7.writeEntry(8, { flags: GTF_permit_access | GTF_readonly, domid: GUEST, frame: 8 });
  t.memory.fill(0x20000, 4096, 0x11);
  // element 0: gref 8 of domain 7 -> own gmfn 0x21 @ 8 (ok)
  // element 1: own gmfn 0x20 -> gref 8 of domain 7 (read-only grant: general error)
  // element 2: gmfn of domain 7 (not self: permission denied)
  const E = 24;
  t.put([[0, 8, 4], [4, 7, 2], [6, 0, 2], [8, 0x21, 4], [12, DOMID_SELF, 2], [14, 8, 2], [16, 16, 2], [18, GNTCOPY_source_gref, 2]], E, ARG);
  t.put([[0, 0x20, 4], [4, DOMID_SELF, 2], [8, 8, 4], [12, 7, 2], [16, 4, 2], [18, GNTCOPY_dest_gref, 2]], E, ARG + E);
  t.put([[0, 8, 4], [4, 7, 2], [8, 0x21, 4], [12, DOMID_SELF, 2], [16, 4, 2]], E, ARG + 2 * E);
  assert.equal(t.op(GNTTABOP_copy, 3), 0);
  assert.deepEqual([t.status(ARG + 20), t.status(ARG + E + 20), t.status(ARG + 2 * E + 20)], [GNTST_okay, GNTST_general_error, GNTST_permission_denied]);
  assert.deepEqual([...t.memory.read(0x21007, 18)], [0, ...new Array(16).fill(0x77), 0]);
  assert.equal(other.readU8(0x8000), 0x77, "the other domain's read-only page is untouched");
  assert.equal(t.op(GNTTABOP_copy, 2, (1 << 20) - E), -XEN_EFAULT, 'second element beyond RAM');
});

test('swap_grant_ref, and map/unmap from an HVM guest (not offered: per-element errors), unknown ops', () => {
  const t = setup();
  t.grants.writeEntry(8, { flags: GTF_permit_access, domid: 0, frame: 0x30 });
  t.grants.writeEntry(9, { flags: GTF_permit_access | GTF_readonly, domid: 0, frame: 0x31 });
  t.put([[0, 8, 4], [4, 9, 4]], 12);
  assert.equal(t.op(GNTTABOP_swap_grant_ref), 0);
  assert.equal(t.status(ARG + 8), GNTST_okay);
  assert.deepEqual(t.grants.readEntry(8), { flags: GTF_permit_access | GTF_readonly, domid: 0, frame: 0x31 });
  t.put([[0, 8, 4], [4, 4096, 4]], 12);
  t.op(GNTTABOP_swap_grant_ref);
  assert.equal(t.status(ARG + 8), GNTST_bad_gntref);
  // map_grant_ref in Xen's order: flags, HVM-only flags, the domain, the ref bound, then the mapping.
  for (const [flags, ref, dom, want] of [
    [0, 8, GUEST, GNTST_bad_gntref],
    [GNTMAP_host_map | GNTMAP_device_map, 8, GUEST, GNTST_general_error],
    [GNTMAP_host_map, 8, DOMID_SELF, GNTST_bad_domain],
    [GNTMAP_host_map, 512, GUEST, GNTST_bad_gntref],
    [GNTMAP_host_map, 8, GUEST, GNTST_general_error],
  ] as const) {
    t.put([[8, flags, 4], [12, ref, 4], [16, dom, 2]], 32);
    assert.equal(t.op(GNTTABOP_map_grant_ref), 0);
    assert.equal(t.status(ARG + 18), want, `flags ${flags} ref ${ref} dom ${dom}`);
  }
  t.put([[16, 0, 4]], 24);
  assert.equal(t.op(GNTTABOP_unmap_grant_ref), 0);
  assert.equal(t.status(ARG + 20), GNTST_bad_handle);
  assert.equal(t.op(GNTTABOP_transfer), -XEN_ENOSYS);
  assert.equal(t.op(99), -XEN_ENOSYS);
});
