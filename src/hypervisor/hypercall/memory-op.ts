// memory_op (hypercall 12; xen/include/public/memory.h; xen-abi.md §7) for a 32-bit
// HVM guest: placing shared_info and grant frames in its physmap, the E820 hvmloader
// built, and the reservation ops as Xen answers a domain without balloon headroom
// (extents done, stopping at the first that cannot be done). Runs to completion:
// no continuations, so the start extent in cmd bits 6+ is honoured but never produced.

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
  XENMEM_current_reservation,
  XENMEM_decrease_reservation,
  XENMEM_increase_reservation,
  XENMEM_maximum_gpfn,
  XENMEM_maximum_reservation,
  XENMEM_memory_map,
  XENMEM_populate_physmap,
  XENMEM_remove_from_physmap,
  XEN_ADD_TO_PHYSMAP_32,
  XEN_MEMORY_MAP_32,
  XEN_MEMORY_RESERVATION_32,
  XEN_EDOM,
  XEN_PFN_BYTES_32,
  XEN_REMOVE_FROM_PHYSMAP_32,
} from '../../abi/memory.js';
import { XEN_EACCES, XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS } from '../../abi/xen-errno.js';
import type { XenPhysmap } from '../xen-domain.js';
import { checkSelfDomid } from '../xen-domain.js';
import { putU32, u16, u32 } from './event-channel-op.js';
import type { HypercallCall } from './hypercall-context.js';

export function doMemoryOp(call: HypercallCall): number {
  const [cmd, arg] = call.args;
  const pm = call.ctx.xen?.physmap;
  if (!pm) return -XEN_ENOSYS;
  const op = cmd & MEMOP_CMD_MASK;
  const start = cmd >>> MEMOP_EXTENT_SHIFT;
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
      const a = call.guest.copyFrom(arg, 2);
      if (!a) return -XEN_EFAULT;
      const rc = domidOk(u16(a, 0));
      if (rc < 0) return rc;
      return op === XENMEM_current_reservation ? pm.totPages : op === XENMEM_maximum_reservation ? pm.maxPages : pm.maxGpfn;
    }
    case XENMEM_add_to_physmap: {
      const s = XEN_ADD_TO_PHYSMAP_32;
      if (start > 0xffff) return -XEN_EDOM;
      const a = call.guest.copyFrom(arg, s.size);
      if (!a) return -XEN_EFAULT;
      const space = u32(a, s.space);
      if (space === XENMAPSPACE_gmfn_foreign) return -XEN_ENOSYS; // only through add_to_physmap_batch
      const rc = domidOk(u16(a, s.domid));
      if (rc < 0) return rc;
      if (space === XENMAPSPACE_dev_mmio) return -XEN_EACCES; // the hardware domain's only
      const idx = u32(a, s.idx);
      const gpfn = u32(a, s.gpfn);
      switch (space) {
        case XENMAPSPACE_shared_info:
          return idx === 0 ? pm.placeSharedInfo(gpfn) : -XEN_EINVAL;
        case XENMAPSPACE_grant_table:
          // Status frames exist only for grant table v2, which is not offered.
          return (idx & XENMAPIDX_grant_table_status) !== 0 ? -XEN_EINVAL : pm.placeGrantFrame(idx, gpfn);
        case XENMAPSPACE_gmfn:
        case XENMAPSPACE_gmfn_range:
          // Moving RAM frames needs a RAM remap in GuestMemory; Linux HVM does not use it.
          return -XEN_ENOSYS;
        default:
          return -XEN_EINVAL; // Xen: no frame for this space -> -EINVAL
      }
    }
    case XENMEM_remove_from_physmap: {
      if (start !== 0) return -XEN_EINVAL;
      const s = XEN_REMOVE_FROM_PHYSMAP_32;
      const a = call.guest.copyFrom(arg, s.size);
      if (!a) return -XEN_EFAULT;
      const rc = domidOk(u16(a, s.domid));
      if (rc < 0) return rc;
      return pm.remove(u32(a, s.gpfn));
    }
    case XENMEM_memory_map: {
      const s = XEN_MEMORY_MAP_32;
      const a = call.guest.copyFrom(arg, s.size);
      if (!a) return -XEN_EFAULT;
      if (pm.e820.length === 0) return -XEN_ENOSYS; // Xen: no map was set for the domain
      const n = Math.min(u32(a, s.nrEntries), pm.e820.length);
      const out = new Uint8Array(n * E820_ENTRY.size);
      const dv = new DataView(out.buffer);
      pm.e820.slice(0, n).forEach((e, i) => {
        const at = i * E820_ENTRY.size;
        dv.setBigUint64(at + E820_ENTRY.addr, BigInt(e.addr), true);
        dv.setBigUint64(at + E820_ENTRY.size_, BigInt(e.size), true);
        dv.setUint32(at + E820_ENTRY.type, e.type, true);
      });
      if (!call.guest.copyTo(u32(a, s.buffer), out)) return -XEN_EFAULT;
      putU32(a, s.nrEntries, n);
      return call.guest.copyTo(arg, a) ? 0 : -XEN_EFAULT;
    }
    default:
      // machphys_mapping / machine_memory_map (HVM: -ENOSYS), exchange, acquire_resource, ...
      return -XEN_ENOSYS;
  }
}

/**
 * increase/decrease_reservation, populate_physmap: returns the extents done (from
 * `start`). Xen never answers these with an errno: a fault, a bad count, order or
 * domain all come back as "start extents done".
 */
function reservation(call: HypercallCall, pm: XenPhysmap, op: number, start: number, arg: number): number {
  const s = XEN_MEMORY_RESERVATION_32;
  const a = call.guest.copyFrom(arg, s.size);
  if (!a) return start;
  const nr = u32(a, s.nrExtents);
  if (nr > 0xffffffff >>> MEMOP_EXTENT_SHIFT || start >= nr) return start;
  const order = u32(a, s.extentOrder);
  if (order > DOMU_MAX_ORDER) return start;
  if (checkSelfDomid(u16(a, s.domid), pm.domid, pm.domainExists) < 0) return start;
  const list = u32(a, s.extentStart);
  const pages = 1 << order;
  let done = start;
  for (; done < nr; done++) {
    if (op === XENMEM_increase_reservation) {
      // Pages allocated but not mapped (a translated guest gets no frame numbers back).
      if (pm.totPages + pages > pm.maxPages) break;
      pm.totPages += pages;
      continue;
    }
    const e = call.guest.copyFrom(list + done * XEN_PFN_BYTES_32, XEN_PFN_BYTES_32);
    if (!e) break;
    const gfn = u32(e, 0);
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
