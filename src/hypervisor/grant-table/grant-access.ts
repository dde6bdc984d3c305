// Reaching another domain's granted pages (Xen's map_grant_ref, unmap_grant_ref
// and gnttab_copy in common/grant_table.c), for dom0's backends in the host and
// for the grant_table_op hypercall. A domain reaches only what was granted to it:
// the entry must be GTF_permit_access with domid = the mapper, writable use needs
// the entry not GTF_readonly, and while mapped Xen's pins are reflected in the
// entry's GTF_reading / GTF_writing so the granter cannot revoke underneath.
//
// Status values follow Xen: a bad ref is GNTST_bad_gntref; an entry not granted
// to the caller (wrong type or domid) or a write to a read-only grant is
// GNTST_general_error (Xen's _set_status_v1); GNTST_permission_denied is what
// Xen gives a copy naming a raw frame of another domain.

import {
  DOMID_SELF,
} from '../../abi/event-channel.js';
import {
  GNTCOPY_dest_gref,
  GNTCOPY_source_gref,
  GNTST_bad_copy_arg,
  GNTST_bad_domain,
  GNTST_bad_gntref,
  GNTST_bad_handle,
  GNTST_bad_page,
  GNTST_general_error,
  GNTST_no_space,
  GNTST_okay,
  GNTST_permission_denied,
  GTF_permit_access,
  GTF_readonly,
  GTF_reading,
  GTF_type_mask,
  GTF_writing,
} from '../../abi/grant-table.js';
import { PAGE_SIZE, type GuestMemory } from '../memory/guest-memory.js';
import type { GrantTable } from './grant-table.js';

/** Xen's per-counter pin limit (GNTPIN_cntr_width = 8 bits). */
const PIN_LIMIT = 0xff;
/** Maptrack handles one mapper may hold. */
const MAPTRACK_LIMIT = 1 << 16;

/** A granted page mapped for a backend: every access bounds-checked, read-only stays read-only. */
export class GrantedPage {
  constructor(
    readonly handle: number,
    readonly domid: number,
    readonly ref: number,
    readonly gfn: number,
    readonly readOnly: boolean,
    private readonly memory: GuestMemory,
    private readonly isLive: () => boolean,
  ) {}

  private span(offset: number, len: number): number | undefined {
    if (!this.isLive() || !Number.isInteger(offset) || !Number.isInteger(len) || offset < 0 || len < 0 || offset + len > PAGE_SIZE) return undefined;
    const gpa = this.gfn * PAGE_SIZE + offset;
    // The granter may have ballooned the frame away meanwhile.
    return this.memory.isRam(this.gfn * PAGE_SIZE, PAGE_SIZE) ? gpa : undefined;
  }

  /** Copy of [offset, offset+len), or undefined when out of the page or unmapped. */
  read(offset: number, len: number): Uint8Array | undefined {
    const gpa = this.span(offset, len);
    return gpa === undefined ? undefined : this.memory.read(gpa, len);
  }

  /** Write into the page; false when read-only, out of the page or unmapped. */
  write(offset: number, data: Uint8Array): boolean {
    if (this.readOnly) return false;
    const gpa = this.span(offset, data.length);
    if (gpa === undefined) return false;
    this.memory.write(gpa, data);
    return true;
  }
}

export interface MapResult {
  status: number;
  page?: GrantedPage;
}

/** One side of a copy: a grant ref of `domid`, or (only for the caller itself) a raw frame; host side = bytes. */
export type CopyPtr = { gref: number; domid: number; offset: number } | { gmfn: number; domid: number; offset: number } | { host: Uint8Array; offset: number };

export interface CopyOp {
  source: CopyPtr;
  dest: CopyPtr;
  len: number;
}

interface Mapping {
  domid: number;
  ref: number;
  readOnly: boolean;
  page: GrantedPage;
}

/** The grant mapper of one domain (`selfDomId`: 0 for dom0's backends), with its maptrack table. */
export class GrantAccess {
  private readonly maptrack = new Map<number, Mapping>();
  private nextHandle = 0;

  constructor(
    readonly selfDomId: number,
    /** A domain's grant table by id; undefined = no such domain. */
    private readonly lookup: (domid: number) => GrantTable | undefined,
    /** The caller's own memory, for copies naming DOMID_SELF frames (guests only). */
    private readonly selfMemory?: GuestMemory,
  ) {}

  get mappedCount(): number {
    return this.maptrack.size;
  }

  /**
   * Pin `ref` of `table` for this mapper (Xen's _set_status_v1 + pin counting).
   * Returns the active entry or a GNTST status.
   */
  private pin(table: GrantTable, ref: number, readOnly: boolean): number {
    if (!Number.isInteger(ref) || ref < 0 || ref >= table.nrEntries) return GNTST_bad_gntref;
    const act = table.activeEntry(ref);
    if (act && (act.domid !== this.selfDomId || (readOnly ? act.readPins : act.writePins) >= PIN_LIMIT)) return GNTST_general_error;
    if (!act || (!readOnly && act.writePins === 0)) {
      for (let tries = 0; ; tries++) {
        const e = table.readEntry(ref);
        if (!e) return GNTST_bad_gntref;
        if (!act && ((e.flags & GTF_type_mask) !== GTF_permit_access || e.domid !== this.selfDomId)) return GNTST_general_error;
        if (!readOnly && e.flags & GTF_readonly) return GNTST_general_error;
        const flags = e.flags | GTF_reading | (readOnly ? 0 : GTF_writing);
        const before = (e.domid << 16) | e.flags;
        if (table.swapCombo(ref, before, (e.domid << 16) | flags) === before >>> 0) break;
        if (tries === 4) return GNTST_general_error; // "Shared grant entry is unstable"
      }
    }
    if (!act) {
      const gfn = table.readEntry(ref)!.frame;
      if (!table.memory.isRam(gfn * PAGE_SIZE, PAGE_SIZE)) {
        table.clearFlags(ref, GTF_reading | GTF_writing);
        return GNTST_bad_page;
      }
      table.setActive(ref, { domid: this.selfDomId, gfn, readPins: readOnly ? 1 : 0, writePins: readOnly ? 0 : 1 });
    } else if (readOnly) act.readPins++;
    else act.writePins++;
    return GNTST_okay;
  }

  /** Drop one pin; clear GTF_writing with the last writable pin and GTF_reading with the last pin. */
  private unpin(table: GrantTable, ref: number, readOnly: boolean): void {
    const act = table.activeEntry(ref);
    if (!act) return;
    if (readOnly) act.readPins = Math.max(0, act.readPins - 1);
    else act.writePins = Math.max(0, act.writePins - 1);
    if (act.writePins === 0) table.clearFlags(ref, GTF_writing);
    if (act.readPins === 0 && act.writePins === 0) table.clearFlags(ref, GTF_reading);
    table.setActive(ref, act);
  }

  /** GNTTABOP_map_grant_ref for a host backend: map `ref` granted by `domid`. */
  mapGrant(domid: number, ref: number, readOnly: boolean): MapResult {
    const table = this.lookup(domid);
    if (!table) return { status: GNTST_bad_domain };
    if (this.maptrack.size >= MAPTRACK_LIMIT) return { status: GNTST_no_space };
    const st = this.pin(table, ref, readOnly);
    if (st !== GNTST_okay) return { status: st };
    const handle = this.allocateHandle();
    const act = table.activeEntry(ref)!;
    const page = new GrantedPage(handle, domid, ref, act.gfn, readOnly, table.memory, () => this.maptrack.has(handle));
    this.maptrack.set(handle, { domid, ref, readOnly, page });
    return { status: GNTST_okay, page };
  }

  private allocateHandle(): number {
    while (this.maptrack.has(this.nextHandle)) this.nextHandle = (this.nextHandle + 1) % MAPTRACK_LIMIT;
    const h = this.nextHandle;
    this.nextHandle = (this.nextHandle + 1) % MAPTRACK_LIMIT;
    return h;
  }

  /** GNTTABOP_unmap_grant_ref: GNTST_bad_handle for a handle not (or no longer) mapped. */
  unmap(handle: number): number {
    const m = this.maptrack.get(handle);
    if (!m) return GNTST_bad_handle;
    this.maptrack.delete(handle);
    const table = this.lookup(m.domid);
    if (table) this.unpin(table, m.ref, m.readOnly);
    return GNTST_okay;
  }

  /** GNTTABOP_copy of one segment: both sides checked, pins held only for the copy. */
  copy(op: CopyOp): number {
    const len = op.len;
    if (!Number.isInteger(len) || len < 0 || len > 0xffff) return GNTST_bad_copy_arg;
    if (len === 0) return GNTST_okay;
    const pins: Array<[GrantTable, number, boolean]> = [];
    try {
      const src = this.claim(op.source, true, pins);
      if (typeof src === 'number') return src;
      const dst = this.claim(op.dest, false, pins);
      if (typeof dst === 'number') return dst;
      if (op.source.offset + len > src.limit || op.dest.offset + len > dst.limit) return GNTST_bad_copy_arg;
      const bytes = src.read(op.source.offset, len);
      dst.write(op.dest.offset, bytes);
      return GNTST_okay;
    } catch {
      // A frame that stopped being RAM between the checks and the copy.
      return GNTST_general_error;
    } finally {
      for (const [table, ref, ro] of pins) this.unpin(table, ref, ro);
    }
  }

  private claim(
    p: CopyPtr,
    readOnly: boolean,
    pins: Array<[GrantTable, number, boolean]>,
  ): number | { limit: number; read: (o: number, n: number) => Uint8Array; write: (o: number, b: Uint8Array) => void } {
    if (!Number.isInteger(p.offset) || p.offset < 0 || p.offset > 0xffff) return GNTST_bad_copy_arg;
    if ('host' in p) {
      const buf = p.host;
      return { limit: buf.length, read: (o, n) => buf.slice(o, o + n), write: (o, b) => buf.set(b, o) };
    }
    const domid = p.domid === DOMID_SELF ? this.selfDomId : p.domid;
    if ('gmfn' in p) {
      // Only DOMID_SELF may name a raw frame (gnttab_copy_lock_domain).
      if (p.domid !== DOMID_SELF) return GNTST_permission_denied; // even the caller's own id, as Xen
      const mem = this.selfMemory;
      if (!mem) return GNTST_bad_domain;
      if (!Number.isInteger(p.gmfn) || p.gmfn < 0 || !mem.isRam(p.gmfn * PAGE_SIZE, PAGE_SIZE)) return GNTST_bad_page;
      return pageAccess(mem, p.gmfn);
    }
    const table = this.lookup(domid);
    if (!table) return GNTST_bad_domain;
    const st = this.pin(table, p.gref, readOnly);
    if (st !== GNTST_okay) return st;
    pins.push([table, p.gref, readOnly]);
    return pageAccess(table.memory, table.activeEntry(p.gref)!.gfn);
  }
}

function pageAccess(mem: GuestMemory, gfn: number) {
  const base = gfn * PAGE_SIZE;
  return {
    limit: PAGE_SIZE,
    read: (o: number, n: number) => mem.read(base + o, n),
    write: (o: number, b: Uint8Array) => mem.write(base + o, b),
  };
}

/** The flags a backend can test (Xen's GNTCOPY_*), re-exported for callers building CopyOps from guest structs. */
export const COPY_FLAGS = { sourceGref: GNTCOPY_source_gref, destGref: GNTCOPY_dest_gref } as const;
