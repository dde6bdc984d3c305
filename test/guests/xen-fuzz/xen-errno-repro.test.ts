// Minimal reproductions of the answers the fuzz guest (kernel.asm's fixed list) found
// to differ from Xen, one hypercall each on a scripted domain.
// Xen's order (common/grant_table.c): look the domain up first (none: GNTST_bad_domain
// or -ESRCH), then XSM (not allowed: GNTST_permission_denied or -EPERM); map_grant_ref
// bounds-checks the ref (GNTST_bad_gntref) before anything about mapping itself.
// do_console_io (drivers/char/console.c) asks XSM first: xsm_console_io is XSM_PRIV for
// a domU's every cmd but (on debug builds) CONSOLEIO_write.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_console_io, HYPERVISOR_grant_table_op } from '../../../src/abi/hypercall-numbers.js';
import { GNTMAP_host_map, GNTST_bad_domain, GNTST_bad_gntref, GNTTABOP_get_version, GNTTABOP_map_grant_ref, GNTTABOP_query_size } from '../../../src/abi/grant-table.js';
import { XEN_EPERM, XEN_ESRCH } from '../../../src/abi/xen-errno.js';
import { GUEST_DOMID, SCRATCH, scriptedGuest } from '../../../src/hypervisor/hypercall/scripted-guest.js';

/** A domain id no domain has. */
const NO_DOMAIN = 0x1234;

test('GNTTABOP_map_grant_ref of a ref beyond the granter\'s table is GNTST_bad_gntref (Xen map_grant_ref bound check)', () => {
  const g = scriptedGuest();
  // gnttab_map_grant_ref (32 B): host_addr u64 @0, flags @8, ref @12, dom u16 @16, OUT status i16 @18
  g.put([[0, 0x5000, 8], [8, GNTMAP_host_map, 4], [12, 0x7fffffff, 4], [16, GUEST_DOMID, 2], [18, 0x5555, 2]], 32);
  assert.equal(g.hypercall(HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, SCRATCH, 1), 0);
  assert.equal(new DataView(g.memory.read(SCRATCH + 18, 2).buffer).getInt16(0, true), GNTST_bad_gntref);
});

test('GNTTABOP_query_size for a domain that does not exist is GNTST_bad_domain (Xen gnttab_query_size)', () => {
  const g = scriptedGuest();
  // gnttab_query_size (16 B): dom u16 @0, OUT nr_frames @4, max_nr_frames @8, status i16 @12
  g.put([[0, NO_DOMAIN, 2], [12, 0x5555, 2]], 16);
  assert.equal(g.hypercall(HYPERVISOR_grant_table_op, GNTTABOP_query_size, SCRATCH, 1), 0);
  assert.equal(new DataView(g.memory.read(SCRATCH + 12, 2).buffer).getInt16(0, true), GNTST_bad_domain);
});

test('GNTTABOP_get_version for a domain that does not exist is -ESRCH (Xen gnttab_get_version)', () => {
  const g = scriptedGuest();
  // gnttab_get_version (8 B): dom u16 @0, OUT version u32 @4
  g.put([[0, NO_DOMAIN, 2]], 8);
  assert.equal(g.hypercall(HYPERVISOR_grant_table_op, GNTTABOP_get_version, SCRATCH, 1), -XEN_ESRCH);
});

test('console_io with an unknown cmd from a domU is -EPERM (XSM before the cmd switch)', () => {
  const g = scriptedGuest();
  assert.equal(g.hypercall(HYPERVISOR_console_io, 99, 0, 0), -XEN_EPERM);
});
