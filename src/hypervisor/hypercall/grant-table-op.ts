// grant_table_op (hypercall 20: cmd, uop array, count; xen/include/public/
// grant_table.h; Xen's do_grant_table_op in common/grant_table.c with the HVM
// filter of x86/hvm/hypercall.c). Batch ops process `count` elements, each with
// its own GNTST status; a fault reading or writing an element is -EFAULT.
// query_size / setup_table / set_version / get_version take exactly one element.
// setup_table and copy carry xen_pfn_t / handles: their layout is the caller's
// width (abi/grant-table.ts); the other structs are the same for both.

import { DOMID_SELF } from '../../abi/event-channel.js';
import {
  GNTMAP_application_map,
  GNTMAP_contains_pte,
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTCOPY_dest_gref,
  GNTCOPY_source_gref,
  GNTST_bad_domain,
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
  GNTTABOP_unmap_grant_ref,
  GNTTAB_COPY,
  GNTTAB_GET_VERSION,
  GNTTAB_MAP_GRANT_REF,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SETUP_TABLE,
  GNTTAB_SET_VERSION,
  GNTTAB_SWAP_GRANT_REF,
  GNTTAB_UNMAP_GRANT_REF,
  GTF_reading,
  GTF_writing,
} from '../../abi/grant-table.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS, XEN_EPERM, XEN_ESRCH } from '../../abi/xen-errno.js';
import type { CopyPtr } from '../grant-table/grant-access.js';
import type { GrantTable } from '../grant-table/grant-table.js';
import { putU16, putU32, u16, u32 } from './event-channel-op.js';
import { GuestStruct, readStruct } from './guest-struct.js';
import type { HypercallCall } from './hypercall-context.js';

/** INVALID_GFN in a xen_pfn_t of either width (all ones). */
const INVALID_GFN = -1;

export function doGrantTableOp(call: HypercallCall): number {
  const [cmd, , count] = call.args;
  const uop = call.ptrs[1];
  const xen = call.ctx.xen;
  const gt = xen?.grants;
  if (!xen || !gt) return -XEN_ENOSYS;
  if ((count | 0) < 0) return -XEN_EINVAL;
  const g = call.guest;
  const privileged = call.domain.privileged;

  // Without the domain list (hvm) every other id is taken to exist, as before the lookup was known.
  const exists = (dom: number) => dom === gt.domId || (xen.hvm ? xen.hvm.domainExists(dom) : true);
  /**
   * rcu_lock_domain_by_any_id, then XSM_TARGET for table queries: no such domain
   * first ('none'), then self, or another only when privileged.
   */
  const target = (dom: number): GrantTable | 'none' | 'denied' => {
    if (dom === DOMID_SELF || dom === gt.domId) return gt;
    if (!exists(dom)) return 'none';
    return privileged ? 'none' : 'denied'; // other domains' tables are not reachable from a guest
  };

  /** Run `one` on each `size`-byte element; its result is written back. */
  const batch = (size: number, one: (el: Uint8Array) => void): number => {
    for (let i = 0; i < count; i++) {
      const at = uop + i * size;
      const el = g.copyFrom(at, size);
      if (!el) return -XEN_EFAULT;
      one(el);
      if (!g.copyTo(at, el)) return -XEN_EFAULT;
    }
    return 0;
  };

  switch (cmd) {
    case GNTTABOP_map_grant_ref: {
      const s = GNTTAB_MAP_GRANT_REF;
      // Xen's map_grant_ref checks in this order; whatever passes them all would need a
      // foreign frame in the HVM physmap, which tsxen lacks: GNTST_general_error.
      return batch(s.size, (el) => {
        const flags = u32(el, s.flags);
        const dom = u16(el, s.dom);
        let status = GNTST_general_error;
        if ((flags & (GNTMAP_device_map | GNTMAP_host_map)) === 0) status = GNTST_bad_gntref;
        else if (flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte)) status = GNTST_general_error; // paging_mode_external
        else if (dom === DOMID_SELF || !exists(dom)) status = GNTST_bad_domain; // rcu_lock_domain_by_id: no DOMID_SELF
        else if (u32(el, s.ref) >= (dom === gt.domId ? gt.nrEntries : 0)) status = GNTST_bad_gntref; // dom0 has no table here
        putU16(el, s.status, status);
      });
    }
    case GNTTABOP_unmap_grant_ref: {
      const s = GNTTAB_UNMAP_GRANT_REF;
      // No guest mappings exist, so every handle is unknown.
      return batch(s.size, (el) => putU16(el, s.status, GNTST_bad_handle));
    }
    case GNTTABOP_setup_table: {
      if (count !== 1) return -XEN_EINVAL;
      const s = GNTTAB_SETUP_TABLE[call.width];
      const st = readStruct(call, uop, s.size);
      if (!st) return -XEN_EFAULT;
      const el = st.bytes;
      const nr = st.u32(s.nrFrames);
      const list = st.handle(s.frameList);
      const t = target(st.u16(s.dom));
      let status = GNTST_okay;
      if (t === 'none') status = GNTST_bad_domain;
      else if (t === 'denied') status = GNTST_permission_denied;
      else if (nr > t.maxFrames || t.grow(nr) < 0) status = GNTST_general_error;
      else {
        for (let i = 0; i < nr; i++) {
          const out = new GuestStruct(new Uint8Array(s.frameEntry), call.width);
          out.setUlong(0, t.frameGfn(i) ?? INVALID_GFN);
          if (!g.copyTo(list + i * s.frameEntry, out.bytes)) {
            status = GNTST_bad_virt_addr;
            break;
          }
        }
      }
      putU16(el, s.status, status);
      return g.copyTo(uop, el) ? 0 : -XEN_EFAULT;
    }
    case GNTTABOP_query_size: {
      if (count !== 1) return -XEN_EINVAL;
      const s = GNTTAB_QUERY_SIZE;
      const el = g.copyFrom(uop, s.size);
      if (!el) return -XEN_EFAULT;
      const t = target(u16(el, s.dom));
      if (t === 'none') putU16(el, s.status, GNTST_bad_domain);
      else if (t === 'denied') putU16(el, s.status, GNTST_permission_denied);
      else {
        putU32(el, s.nrFrames, t.nrFrames);
        putU32(el, s.maxNrFrames, t.maxFrames);
        putU16(el, s.status, GNTST_okay);
      }
      return g.copyTo(uop, el) ? 0 : -XEN_EFAULT;
    }
    case GNTTABOP_set_version: {
      if (count !== 1) return -XEN_EINVAL;
      const el = g.copyFrom(uop, GNTTAB_SET_VERSION.size);
      if (!el) return -XEN_EFAULT;
      const v = u32(el, GNTTAB_SET_VERSION.version);
      // Only v1 is offered (max_version 1): v2 is -ENOSYS "as before set_version existed".
      const rc = v === 1 ? 0 : v === 2 ? -XEN_ENOSYS : -XEN_EINVAL;
      putU32(el, GNTTAB_SET_VERSION.version, gt.version);
      if (!g.copyTo(uop, el)) return -XEN_EFAULT;
      return rc;
    }
    case GNTTABOP_get_version: {
      if (count !== 1) return -XEN_EINVAL;
      const s = GNTTAB_GET_VERSION;
      const el = g.copyFrom(uop, s.size);
      if (!el) return -XEN_EFAULT;
      const t = target(u16(el, s.dom));
      if (t === 'none') return -XEN_ESRCH;
      if (t === 'denied') return -XEN_EPERM;
      putU32(el, s.version, t.version);
      return g.copyTo(uop, el) ? 0 : -XEN_EFAULT;
    }
    case GNTTABOP_copy: {
      const s = GNTTAB_COPY[call.width];
      const access = xen.grantAccess;
      return batch(s.size, (el) => {
        if (!access) return putU16(el, s.status, GNTST_general_error);
        const f = new GuestStruct(el, call.width);
        const flags = f.u16(s.flags);
        // The union is a grant_ref_t (u32) or a xen_pfn_t (the caller's width).
        const side = (base: number, isRef: boolean): CopyPtr => {
          const domid = f.u16(base + s.ptrDomid);
          const offset = f.u16(base + s.ptrOffset);
          return isRef ? { gref: f.u32(base + s.ptrRef), domid, offset } : { gmfn: f.ulong(base + s.ptrRef), domid, offset };
        };
        const st = access.copy({
          source: side(s.source, (flags & GNTCOPY_source_gref) !== 0),
          dest: side(s.dest, (flags & GNTCOPY_dest_gref) !== 0),
          len: u16(el, s.len),
        });
        putU16(el, s.status, st);
      });
    }
    case GNTTABOP_swap_grant_ref: {
      const s = GNTTAB_SWAP_GRANT_REF;
      return batch(s.size, (el) => putU16(el, s.status, swapGrantRef(gt, u32(el, s.refA), u32(el, s.refB))));
    }
    default:
      return -XEN_ENOSYS;
  }
}

/** GNTTABOP_swap_grant_ref: exchange two of the caller's own entries unless either is in use. */
function swapGrantRef(gt: GrantTable, a: number, b: number): number {
  const ea = gt.readEntry(a);
  if (!ea) return GNTST_bad_gntref;
  const eb = gt.readEntry(b);
  if (!eb) return GNTST_bad_gntref;
  if (gt.activeEntry(a) || gt.activeEntry(b)) return GNTST_general_error;
  if ((ea.flags | eb.flags) & (GTF_reading | GTF_writing)) return GNTST_general_error;
  if (a === b) return GNTST_okay;
  gt.writeEntry(a, eb);
  gt.writeEntry(b, ea);
  return GNTST_okay;
}
