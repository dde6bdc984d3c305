// memory_op (hypercall 12; xen/include/public/memory.h; xen-abi.md §7) for an HVM
// guest, with each struct in the caller's layout (32-bit or 64-bit: abi/memory.ts):
// placing shared_info and grant frames in its physmap (one at a time or batched),
// the E820 hvmloader built, and the reservation ops as Xen answers a domain without
// balloon headroom (extents done, stopping at the first that cannot be done). Runs
// to completion: no continuations, so the start extent in cmd bits 6+ is honoured
// but never produced.

import {
  DOMU_MAX_ORDER,
  E820_ENTRY,
  MEMOP_CMD_MASK,
  MEMOP_EXTENT_SHIFT,
  XENMAPIDX_grant_table_status,
  XENMAPSPACE_dev_mmio,
  XENMAPSPACE_gmfn,
  XENMAPSPACE_gmfn_foreign,
  XENMAPSPACE_gmfn_range,
  XENMAPSPACE_grant_table,
  XENMAPSPACE_shared_info,
  XENMEM_add_to_physmap,
  XENMEM_add_to_physmap_batch,
  XENMEM_current_reservation,
  XENMEM_decrease_reservation,
  XENMEM_increase_reservation,
  XENMEM_maximum_gpfn,
  XENMEM_maximum_reservation,
  XENMEM_memory_map,
  XENMEM_populate_physmap,
  XENMEM_remove_from_physmap,
  XEN_ADD_TO_PHYSMAP,
  XEN_ADD_TO_PHYSMAP_BATCH,
  XEN_MEMORY_MAP,
  XEN_MEMORY_RESERVATION,
  XEN_EDOM,
  XEN_REMOVE_FROM_PHYSMAP,
} from '../../abi/memory.js';
import { XEN_EACCES, XEN_EFAULT, XEN_EILSEQ, XEN_EINVAL, XEN_ENOSYS, XEN_EOPNOTSUPP, XEN_EPERM } from '../../abi/xen-errno.js';
import type { XenPhysmap } from '../xen-domain.js';
import { checkSelfDomid } from '../xen-domain.js';
import { readStruct } from './guest-struct.js';
import type { HypercallCall } from './hypercall-context.js';

export function doMemoryOp(call: HypercallCall): number {
  // cmd is an unsigned long: op in bits 5:0, the start extent above (all 64 bits for a 64-bit caller).
  const cmd = call.wide[0];
  const arg = call.ptrs[1];
  const pm = call.ctx.xen?.physmap;
  if (!pm) return -XEN_ENOSYS;
  const op = Number(cmd & BigInt(MEMOP_CMD_MASK));
  const start = Number(cmd >> BigInt(MEMOP_EXTENT_SHIFT));
  const domidOk = (domid: number) => checkSelfDomid(domid, pm.domid, pm.domainExists);

  switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
      return reservation(call, pm, op, start, arg);
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn: {
      if (start !== 0) return -XEN_EINVAL;
      const a = readStruct(call, arg, 2);
      if (!a) return -XEN_EFAULT;
      const rc = domidOk(a.u16(0));
      if (rc < 0) return rc;
      return op === XENMEM_current_reservation ? pm.totPages : op === XENMEM_maximum_reservation ? pm.maxPages : pm.maxGpfn;
    }
    case XENMEM_add_to_physmap: {
      const s = XEN_ADD_TO_PHYSMAP[call.width];
      if (start > 0xffff) return -XEN_EDOM;
      const a = readStruct(call, arg, s.size);
      if (!a) return -XEN_EFAULT;
      const space = a.u32(s.space);
      if (space === XENMAPSPACE_gmfn_foreign) return -XEN_ENOSYS; // only through add_to_physmap_batch
      const rc = domidOk(a.u16(s.domid));
      if (rc < 0) return rc;
      return addToPhysmapOne(pm, space, a.ulong(s.idx), a.ulong(s.gpfn));
    }
    case XENMEM_add_to_physmap_batch:
      return addToPhysmapBatch(call, pm, start, arg);
    case XENMEM_remove_from_physmap: {
      if (start !== 0) return -XEN_EINVAL;
      const s = XEN_REMOVE_FROM_PHYSMAP[call.width];
      const a = readStruct(call, arg, s.size);
      if (!a) return -XEN_EFAULT;
      const rc = domidOk(a.u16(s.domid));
      if (rc < 0) return rc;
      return pm.remove(a.ulong(s.gpfn));
    }
    case XENMEM_memory_map: {
      const s = XEN_MEMORY_MAP[call.width];
      const a = readStruct(call, arg, s.size);
      if (!a) return -XEN_EFAULT;
      if (pm.e820.length === 0) return -XEN_ENOSYS; // Xen: no map was set for the domain
      const n = Math.min(a.u32(s.nrEntries), pm.e820.length);
      const out = new Uint8Array(n * E820_ENTRY.size);
      const dv = new DataView(out.buffer);
      pm.e820.slice(0, n).forEach((e, i) => {
        const at = i * E820_ENTRY.size;
        dv.setBigUint64(at + E820_ENTRY.addr, BigInt(e.addr), true);
        dv.setBigUint64(at + E820_ENTRY.size_, BigInt(e.size), true);
        dv.setUint32(at + E820_ENTRY.type, e.type, true);
      });
      if (!call.guest.copyTo(a.handle(s.buffer), out)) return -XEN_EFAULT;
      a.setU32(s.nrEntries, n);
      return call.guest.copyTo(arg, a.bytes) ? 0 : -XEN_EFAULT;
    }
    default:
      // machphys_mapping / machine_memory_map (HVM: -ENOSYS), exchange, acquire_resource, ...
      return -XEN_ENOSYS;
  }
}

/** Xen's xenmem_add_to_physmap_one for the spaces an HVM domU may use. */
function addToPhysmapOne(pm: XenPhysmap, space: number, idx: number, gpfn: number): number {
  switch (space) {
    case XENMAPSPACE_shared_info:
      return idx === 0 ? pm.placeSharedInfo(gpfn) : -XEN_EINVAL;
    case XENMAPSPACE_grant_table:
      // Status frames exist only for grant table v2, which is not offered; an index
      // beyond 32 bits is beyond any table (gnttab_map_frame: -EINVAL).
      if (idx > 0xffffffff) return -XEN_EINVAL;
      return (idx & XENMAPIDX_grant_table_status) !== 0 ? -XEN_EINVAL : pm.placeGrantFrame(idx, gpfn);
    case XENMAPSPACE_dev_mmio:
      return -XEN_EACCES; // the hardware domain's only
    case XENMAPSPACE_gmfn_foreign:
      return -XEN_EPERM; // XSM_TARGET: a domU may not map another domain's frames
    case XENMAPSPACE_gmfn:
    case XENMAPSPACE_gmfn_range:
      // Moving RAM frames needs a RAM remap in GuestMemory; Linux HVM does not use it.
      return -XEN_ENOSYS;
    default:
      return -XEN_EINVAL; // Xen: no frame for this space -> -EINVAL
  }
}

/**
 * XENMEM_add_to_physmap_batch (Xen's do_memory_op + xenmem_add_to_physmap_batch):
 * `size` entries from `start`, each idxs[i] (xen_ulong_t) placed at gpfns[i]
 * (xen_pfn_t) with its result in errs[i] (int); 0 when every entry was tried.
 */
function addToPhysmapBatch(call: HypercallCall, pm: XenPhysmap, start: number, arg: number): number {
  const s = XEN_ADD_TO_PHYSMAP_BATCH[call.width];
  if (start > 0xffff) return -XEN_EDOM; // the start extent must fit the u16 size field
  const a = readStruct(call, arg, s.size);
  if (!a) return -XEN_EFAULT;
  const space = a.u16(s.space);
  if (space === XENMAPSPACE_gmfn_range) return -XEN_EOPNOTSUPP;
  const size = a.u16(s.count);
  const word = call.width;
  const idxs = a.handle(s.idxs);
  const gpfns = a.handle(s.gpfns);
  const errs = a.handle(s.errs);
  // guest_handle_okay on all three arrays before anything is done.
  if (size > 0 && (!call.guest.copyFrom(idxs, size * word) || !call.guest.copyFrom(gpfns, size * word) || !call.guest.copyFrom(errs, size * 4))) return -XEN_EFAULT;
  const rc = checkSelfDomid(a.u16(s.domid), pm.domid, pm.domainExists);
  if (rc < 0) return rc;
  // A continuation's start must lie inside the batch (and a finished one is not resumed).
  if (size < start || (size === start && start !== 0)) return -XEN_EILSEQ;
  for (let i = start; i < size; i++) {
    const idx = readStruct(call, idxs + i * word, word);
    const gpfn = readStruct(call, gpfns + i * word, word);
    if (!idx || !gpfn) return -XEN_EFAULT;
    const one = addToPhysmapOne(pm, space, idx.ulong(0), gpfn.ulong(0));
    const out = new Uint8Array(4);
    new DataView(out.buffer).setInt32(0, one, true);
    if (!call.guest.copyTo(errs + i * 4, out)) return -XEN_EFAULT;
  }
  return 0;
}

/**
 * increase/decrease_reservation, populate_physmap: returns the extents done (from
 * `start`). Xen never answers these with an errno: a fault, a bad count, order or
 * domain all come back as "start extents done".
 */
function reservation(call: HypercallCall, pm: XenPhysmap, op: number, start: number, arg: number): number {
  const s = XEN_MEMORY_RESERVATION[call.width];
  const a = readStruct(call, arg, s.size);
  if (!a) return start;
  // nr_extents is a xen_ulong_t; more than ULONG_MAX >> MEMOP_EXTENT_SHIFT cannot be continued.
  const nrWide = call.width === 4 ? BigInt(a.u32(s.nrExtents)) : a.u64(s.nrExtents);
  const ulongMax = call.width === 4 ? 0xffffffffn : 0xffffffffffffffffn;
  if (nrWide > ulongMax >> BigInt(MEMOP_EXTENT_SHIFT) || BigInt(start) >= nrWide) return start;
  const nr = Number(nrWide);
  const order = a.u32(s.extentOrder);
  if (order > DOMU_MAX_ORDER) return start;
  if (checkSelfDomid(a.u16(s.domid), pm.domid, pm.domainExists) < 0) return start;
  const list = a.handle(s.extentStart);
  const entry = call.width; // xen_pfn_t
  const pages = 1 << order;
  let done = start;
  for (; done < nr; done++) {
    if (op === XENMEM_increase_reservation) {
      // Pages allocated but not mapped (a translated guest gets no frame numbers back).
      if (pm.totPages + pages > pm.maxPages) break;
      pm.totPages += pages;
      continue;
    }
    const e = readStruct(call, list + done * entry, entry);
    if (!e) break;
    const gfn = e.ulong(0);
    if (op === XENMEM_populate_physmap) {
      if (pm.totPages + pages > pm.maxPages) break;
      let ok = true;
      for (let j = 0; j < pages && ok; j++) ok = pm.populate(gfn + j);
      if (!ok) break;
    } else {
      let ok = true;
      for (let j = 0; j < pages && ok; j++) ok = pm.decrease(gfn + j);
      if (!ok) break;
    }
  }
  return done;
}
