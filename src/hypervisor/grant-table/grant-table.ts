// One domain's grant table, version 1 (Xen's common/grant_table.c; xen-abi.md §6).
// The shared entries live in pages of Xen's own memory (backing store beyond RAM)
// that the guest maps into its physmap with XENMEM_add_to_physmap(grant_table):
// the lead maps grantFrame(i) at the guest's gfn. The guest writes entries there;
// mappers read them. Xen's private "active" entries (pin counts, who pinned, which
// frame) are kept here, never in guest-visible memory.

import { DEFAULT_MAX_GRANT_FRAMES, GRANT_ENTRIES_PER_FRAME_V1, GRANT_ENTRY_V1 } from '../../abi/grant-table.js';
import { XEN_EINVAL, XEN_ENOMEM } from '../../abi/xen-errno.js';
import { PAGE_SIZE, type GuestMemory } from '../memory/guest-memory.js';

/** Xen's active_grant_entry: host-mapping pins by read-only and writable mappings. */
export interface ActiveGrant {
  /** The domain that pinned it (all pins of one entry belong to one domain). */
  domid: number;
  /** The granted frame captured at first pin (later guest edits do not move a mapping). */
  gfn: number;
  readPins: number;
  writePins: number;
}

export interface GrantEntryV1 {
  flags: number;
  domid: number;
  frame: number;
}

/**
 * The table as a save record: where its frames are in the backing store (their
 * entries are saved with the domain's memory) and where the guest mapped them.
 * Active pins are not saved: they belong to dom0's backend mappings, which
 * reconnect after a restore as Xen's frontends and backends do after resume.
 */
export interface GrantTableRecord {
  version: 1;
  gntVersion: number;
  frames: number[];
  frameGfns: Array<number | null>;
}

export interface GrantTableOptions {
  domId: number;
  memory: GuestMemory;
  /** max_grant_frames (xl.cfg); Xen's default 64. */
  maxFrames?: number;
  /** Reserve one zeroed page of backing store and return its offset (default: memory.allocateBacking). */
  allocatePage?: () => number;
}

export class GrantTable {
  readonly domId: number;
  readonly memory: GuestMemory;
  readonly maxFrames: number;
  /** 1 until the guest asks otherwise; only v1 is offered. */
  version = 1;
  private readonly frames: number[] = [];
  /** Where the guest mapped each frame (for setup_table's frame list); undefined = not mapped. */
  private readonly frameGfns: Array<number | undefined> = [];
  private readonly words: Int32Array;
  private readonly allocatePage: () => number;
  private readonly active = new Map<number, ActiveGrant>();

  constructor(opts: GrantTableOptions) {
    this.domId = opts.domId;
    this.memory = opts.memory;
    this.maxFrames = Math.max(1, Math.min(opts.maxFrames ?? DEFAULT_MAX_GRANT_FRAMES, 1024));
    this.allocatePage = opts.allocatePage ?? (() => this.memory.allocateBacking(PAGE_SIZE));
    this.words = new Int32Array(opts.memory.buffer, 0, opts.memory.bytes.length >>> 2);
  }

  get nrFrames(): number {
    return this.frames.length;
  }

  /** nr_grant_entries. */
  get nrEntries(): number {
    return this.frames.length * GRANT_ENTRIES_PER_FRAME_V1;
  }

  /** gnttab_grow_table: make at least `n` frames exist. 0, -EINVAL beyond max, -ENOMEM without backing. */
  grow(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > this.maxFrames) return -XEN_EINVAL;
    while (this.frames.length < n) {
      let offset: number;
      try {
        offset = this.allocatePage();
      } catch {
        return -XEN_ENOMEM;
      }
      this.frames.push(offset);
      this.frameGfns.push(undefined);
    }
    return 0;
  }

  /**
   * Backing-store offset of shared frame `i` for XENMEM_add_to_physmap (grows the
   * table up to i+1 frames as Xen does); a negative errno when i ≥ max or no memory.
   * `gfn` records where the guest put it.
   */
  grantFrame(i: number, gfn?: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.maxFrames) return -XEN_EINVAL;
    const rc = this.grow(i + 1);
    if (rc < 0) return rc;
    if (gfn !== undefined) this.frameGfns[i] = gfn;
    return this.frames[i];
  }

  /** The gfn the guest mapped frame i at, if any. */
  frameGfn(i: number): number | undefined {
    return this.frameGfns[i];
  }

  private entryOffset(ref: number): number | undefined {
    if (!Number.isInteger(ref) || ref < 0 || ref >= this.nrEntries) return undefined;
    return this.frames[Math.floor(ref / GRANT_ENTRIES_PER_FRAME_V1)] + (ref % GRANT_ENTRIES_PER_FRAME_V1) * GRANT_ENTRY_V1.size;
  }

  /** The shared entry as the guest last wrote it; undefined for a ref beyond the table. */
  readEntry(ref: number): GrantEntryV1 | undefined {
    const at = this.entryOffset(ref);
    if (at === undefined) return undefined;
    const combo = Atomics.load(this.words, at >>> 2);
    return { flags: combo & 0xffff, domid: combo >>> 16, frame: Atomics.load(this.words, (at + GRANT_ENTRY_V1.frame) >>> 2) >>> 0 };
  }

  /** Write an entry (toolstack's reserved refs, tests): domid and frame first, then flags, as the guest does. */
  writeEntry(ref: number, entry: GrantEntryV1): boolean {
    const at = this.entryOffset(ref);
    if (at === undefined) return false;
    Atomics.store(this.words, (at + GRANT_ENTRY_V1.frame) >>> 2, entry.frame | 0);
    Atomics.store(this.words, at >>> 2, ((entry.domid & 0xffff) << 16) | (entry.flags & 0xffff));
    return true;
  }

  /** Atomic compare-and-swap of the {flags, domid} word (Xen's guest_cmpxchg on grant_combo). */
  swapCombo(ref: number, expected: number, next: number): number | undefined {
    const at = this.entryOffset(ref);
    if (at === undefined) return undefined;
    return Atomics.compareExchange(this.words, at >>> 2, expected | 0, next | 0) >>> 0;
  }

  /** Clear flag bits in an entry (gnttab_clear_flags). */
  clearFlags(ref: number, bits: number): void {
    const at = this.entryOffset(ref);
    if (at !== undefined) Atomics.and(this.words, at >>> 2, ~(bits & 0xffff));
  }

  save(): GrantTableRecord {
    return { version: 1, gntVersion: this.version, frames: this.frames.slice(), frameGfns: this.frameGfns.map((g) => g ?? null) };
  }

  /** Replace frames and their placement with saved ones; throws a RangeError for a record that cannot be this domain's. */
  restore(r: GrantTableRecord): void {
    if (!r || r.version !== 1 || !Array.isArray(r.frames) || !Array.isArray(r.frameGfns)) throw new RangeError(`grant table of domain ${this.domId}: not a version 1 record`);
    if (r.frames.length > this.maxFrames) throw new RangeError(`grant table of domain ${this.domId}: ${r.frames.length} frames, max_grant_frames is ${this.maxFrames}`);
    for (const off of r.frames) {
      if (!Number.isInteger(off) || off < 0 || off % PAGE_SIZE !== 0 || off + PAGE_SIZE > this.memory.bytes.length) {
        throw new RangeError(`grant table of domain ${this.domId}: saved frame offset ${off} is not a page of the backing store`);
      }
    }
    this.frames.length = 0;
    this.frames.push(...r.frames);
    this.frameGfns.length = 0;
    r.frames.forEach((_, i) => {
      const g = r.frameGfns[i];
      this.frameGfns.push(Number.isInteger(g) && (g as number) >= 0 ? (g as number) : undefined);
    });
    this.version = r.gntVersion === 1 ? 1 : this.version;
    this.active.clear();
  }

  activeEntry(ref: number): ActiveGrant | undefined {
    return this.active.get(ref);
  }

  setActive(ref: number, act: ActiveGrant | undefined): void {
    if (act && (act.readPins > 0 || act.writePins > 0)) this.active.set(ref, act);
    else this.active.delete(ref);
  }
}
