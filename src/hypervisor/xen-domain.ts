// One HVM domain's Xen state (issue 5): the objects the hypercall families act on,
// built once per domain by the lead and handed to every HypercallContext.
//
// Wiring (lead, in Domain):
//   const xen = createXenDomain({ memory, domid, e820: hvmloaderE820, maxGrantFrames: cfg.max_grant_frames,
//     vcpuCount, kick: (vcpu) => raiseUpcall(vcpu), now: () => clock.nowNs() });
//   // every `hypercall` exit: dispatchHypercall({ regs, regs64, memory, translate, cpl, mode, domain, xen: xen.state, ... })
//   //   mode 'long64' when EFER.LMA (bit 10) and CS.L: then regs64 = { get: getRegisters64, set: setRegisters64 }
//   //   is required and translate takes signed 64-bit linear addresses (signed64). Long mode
//   //   with a 32-bit CS (compat) is 'protected32', as Xen's hvm_guest_x86_mode.
//   // toolstack: xen.hvm.setByToolstack(HVM_PARAM_STORE_PFN, 0xfeffc) etc. before the guest runs.
//   // upcall: xen.hvm.onCallbackVia((via) => ...) — type 'vector': inject via.vector when
//   //   xen.sharedInfo.upcallPending(vcpu) and IF=1 (no EOI); 'gsi'/'pci-intx': drive that
//   //   line level-high while upcallPending(0), re-checked after every exit; xen.hvm.upcallVectors
//   //   (per-vCPU LAPIC vectors, only with perVcpuUpcallVector) take precedence over the via.
// `kick(vcpu)` is called on the 0→1 edge of that vCPU's evtchn_upcall_pending (event
// delivery, register_vcpu_info's spurious upcall): it must wake the vCPU and make it
// evaluate the via above. dom0 (host backends) is `xen.dom0`, `xen.hostGrants`.
//
// Time (createXenDomain's callbackVector / pvTime options, hypercall/pvclock.ts,
// hypercall/vcpu-timers.ts): between run slices call `xen.runTimers(clock.nowNs())`
// (VIRQ_TIMER for due vCPU timers, time info refreshed each second); include
// `xen.nextTimerDeadlineNs()` in the slice end and the idle wake-up. `readTsc` must
// read the TSC the guest sees (cpu/emu: system.ts readTsc), at `tscHz` (the CPUID
// time leaf's frequency). Save images: `xen.save()` → XenSaveRecord (JSON-able),
// `xen.restore(record)` after the domain's memory and vCPU state are back.
//
// Guest width (xen-abi.md §4.1): shared_info, vcpu_info and the runstate areas
// have a 32- or 64-bit layout per domain, 64-bit until the guest latches it
// (createXenDomain's guestWidth). A guest write of HVM_PARAM_CALLBACK_IRQ latches it
// from the caller's mode (hvm_op); the lead calls `xen.latchGuestWidth(width)` on
// every write of the hypercall-page MSR, width 8 when the vCPU is in 64-bit mode
// (EFER.LMA and CS.L), else 4 — as Xen's hvm_latch_shinfo_size.

import type { E820Entry } from '../firmware/linux-boot/e820.js';
import { DOMID_SELF, VIRQ_TIMER } from '../abi/event-channel.js';
import {
  HVM_NR_PARAMS,
  HVM_PARAM_CALLBACK_IRQ,
  HVM_PARAM_CALLBACK_TYPE_GSI,
  HVM_PARAM_CALLBACK_TYPE_PCI_INTX,
  HVM_PARAM_CALLBACK_TYPE_VECTOR,
} from '../abi/hvm-params.js';
import { XEN_EINVAL, XEN_ENOENT, XEN_EPERM, XEN_ESRCH } from '../abi/xen-errno.js';
import { PAGE_SHIFT, PAGE_SIZE, type GuestMemory } from './memory/guest-memory.js';
import { SharedInfoPage } from './event-channel/shared-info-page.js';
import { EventChannels, type EventChannelsRecord } from './event-channel/event-channels.js';
import { HostDelivery, TwoLevelDelivery } from './event-channel/delivery.js';
import { GrantTable, type GrantTableRecord } from './grant-table/grant-table.js';
import { GrantAccess } from './grant-table/grant-access.js';
import type { XenDomainState } from './hypercall/hypercall-context.js';
import type { GuestWidth } from '../abi/guest-width.js';
import { XENFEAT_hvm_callback_vector, XENFEAT_hvm_safe_pvclock } from '../abi/xen-version.js';
import { HVM_FEATURE_SUBMAP0 } from './hypercall/xen-version.js';
import { PvClock } from './hypercall/pvclock.js';
import { XenVcpuTimers, type VcpuTimersRecord } from './hypercall/vcpu-timers.js';
import { RunstateAreas, type RunstateAreasRecord } from './hypercall/runstate-area.js';

/** Frames below 4 GiB: GuestMemory's physmap limit. */
const MAX_GFN = 0x100000;

/**
 * A domid field as Xen's rcu_lock_domain_by_any_id + XSM sees it from an
 * unprivileged guest: itself (DOMID_SELF or its id) is allowed; another existing
 * domain is -EPERM; anything else -ESRCH. Returns 0 when it names the caller.
 */
export function checkSelfDomid(domid: number, self: number, exists: (d: number) => boolean): number {
  if (domid === DOMID_SELF || domid === self) return 0;
  return exists(domid) ? -XEN_EPERM : -XEN_ESRCH;
}

/** HVM_PARAM_CALLBACK_IRQ decoded (xen-abi.md §5.4); 'none' disables upcalls. */
export type CallbackVia =
  | { type: 'none' }
  | { type: 'gsi'; gsi: number }
  | { type: 'pci-intx'; segment: number; bus: number; devfn: number; pin: number }
  | { type: 'vector'; vector: number };

/** GSIs of tsxen's HVM platform (Xen's VIOAPIC_NUM_PINS, nr_gsis). */
export const HVM_NR_GSIS = 48;

/** As Xen's hvm_set_callback_via reads the param (x86/hvm/irq.c). */
export function decodeCallbackVia(value: bigint): CallbackVia {
  const type = Number((value >> 56n) & 0xffn);
  const low = Number(value & 0xffffffffn);
  if (type === HVM_PARAM_CALLBACK_TYPE_GSI) {
    const gsi = low & 0xff; // Xen keeps a u8
    return value === 0n || gsi === 0 || gsi >= HVM_NR_GSIS ? { type: 'none' } : { type: 'gsi', gsi };
  }
  if (type === HVM_PARAM_CALLBACK_TYPE_PCI_INTX) {
    return { type: 'pci-intx', segment: Number((value >> 32n) & 0xffffn), bus: (low >>> 16) & 0xff, devfn: (low >>> 8) & 0xff, pin: low & 3 };
  }
  if (type === HVM_PARAM_CALLBACK_TYPE_VECTOR) return { type: 'vector', vector: low & 0xff };
  return { type: 'none' };
}

export interface HvmStateRecord {
  version: 1;
  params: Array<[number, string]>;
  upcallVectors: Array<[number, number]>;
}

/** The HVM params store and the upcall routing hvm_op sets. */
export class HvmState {
  private readonly params: bigint[] = new Array<bigint>(HVM_NR_PARAMS).fill(0n);
  callbackVia: CallbackVia = { type: 'none' };
  /** HVMOP_set_evtchn_upcall_vector results, per vCPU. */
  readonly upcallVectors = new Map<number, number>();
  private readonly viaListeners: Array<(via: CallbackVia) => void> = [];
  private readonly paramListeners: Array<(index: number, value: bigint) => void> = [];

  constructor(
    readonly domid: number,
    readonly vcpuCount: number,
    /** CPUID leaf 4 bit 6 (XEN_HVM_CPUID_UPCALL_VECTOR) advertised: set_evtchn_upcall_vector allowed. */
    readonly perVcpuUpcallVector: boolean,
    /** Guest system time in ns (HVMOP_get_time, timers). */
    readonly now: () => number,
    readonly domainExists: (domid: number) => boolean,
  ) {}

  get(index: number): bigint {
    return this.params[index] ?? 0n;
  }

  /** A guest's (already permitted) write, with the side effects Xen gives it. */
  set(index: number, value: bigint): void {
    if (!Number.isInteger(index) || index < 0 || index >= HVM_NR_PARAMS) return;
    this.params[index] = BigInt.asUintN(64, value);
    for (const l of this.paramListeners) l(index, this.params[index]);
    if (index === HVM_PARAM_CALLBACK_IRQ) {
      this.callbackVia = decodeCallbackVia(this.params[index]);
      for (const l of this.viaListeners) l(this.callbackVia);
    }
  }

  /** The toolstack's write (STORE_PFN/EVTCHN, CONSOLE_PFN/EVTCHN, ...): no guest access rules. */
  setByToolstack(index: number, value: bigint | number): void {
    this.set(index, BigInt(value));
  }

  /** Params (non-zero ones, as hex strings: they are 64-bit) and per-vCPU upcall vectors. */
  save(): HvmStateRecord {
    const params: Array<[number, string]> = [];
    this.params.forEach((v, i) => {
      if (v !== 0n) params.push([i, v.toString(16)]);
    });
    return { version: 1, params, upcallVectors: [...this.upcallVectors.entries()] };
  }

  /**
   * Load saved params, then tell the listeners as a guest write would, so the
   * Domain re-routes the callback via and moves what params place.
   */
  restore(r: HvmStateRecord): void {
    if (!r || r.version !== 1 || !Array.isArray(r.params)) throw new RangeError(`HVM params of domain ${this.domid}: not a version 1 record`);
    const values = new Array<bigint>(HVM_NR_PARAMS).fill(0n);
    for (const [i, hex] of r.params) {
      if (!Number.isInteger(i) || i < 0 || i >= HVM_NR_PARAMS || typeof hex !== 'string' || !/^[0-9a-f]{1,16}$/i.test(hex)) {
        throw new RangeError(`HVM params of domain ${this.domid}: bad saved param ${JSON.stringify([i, hex])}`);
      }
      values[i] = BigInt('0x' + hex);
    }
    this.upcallVectors.clear();
    for (const [vcpu, vector] of r.upcallVectors ?? []) {
      if (Number.isInteger(vcpu) && vcpu >= 0 && vcpu < this.vcpuCount && Number.isInteger(vector) && vector >= 0x10 && vector <= 0xff) this.upcallVectors.set(vcpu, vector);
    }
    values.forEach((v, i) => {
      this.params[i] = v;
      if (v !== 0n && i !== HVM_PARAM_CALLBACK_IRQ) for (const l of this.paramListeners) l(i, v);
    });
    this.set(HVM_PARAM_CALLBACK_IRQ, values[HVM_PARAM_CALLBACK_IRQ]);
  }

  /** Told of every param write (e.g. ACPI_IOPORTS_LOCATION: the lead moves the PM1a/PM timer ports). */
  onParamSet(listener: (index: number, value: bigint) => void): void {
    this.paramListeners.push(listener);
  }

  /**
   * Told every time CALLBACK_IRQ is written: the lead re-routes the upcall and, as
   * Xen does after a change, re-evaluates every online vCPU's pending upcall.
   */
  onCallbackVia(listener: (via: CallbackVia) => void): void {
    this.viaListeners.push(listener);
  }
}

export interface XenPhysmapRecord {
  version: 1;
  totPages: number;
  maxPages: number;
  maxGpfn: number;
  sharedInfoGfn: number | null;
  populated: number[];
  freePages: number[];
  e820: E820Entry[];
}

/**
 * memory_op's view of the domain's p2m over GuestMemory: where shared_info and
 * grant frames sit, page accounting (tot_pages / max_pages), the E820 hvmloader
 * built. Every change goes through mapBacking/unmapBacking so the remap
 * listeners (CPU TLBs, decode caches) see it.
 */
export class XenPhysmap {
  totPages: number;
  maxPages: number;
  /** Highest gfn ever mapped (XENMEM_maximum_gpfn, Xen's max_mapped_pfn). */
  maxGpfn: number;
  sharedInfoGfn: number | undefined;
  /** Backing pages populate_physmap gave the guest (they count as its RAM) and freed ones to reuse. */
  private readonly populated = new Set<number>();
  private readonly freePages: number[] = [];

  constructor(
    readonly memory: GuestMemory,
    readonly domid: number,
    readonly sharedInfo: SharedInfoPage,
    readonly grants: GrantTable,
    /** XENMEM_memory_map's answer; the lead may replace it once hvmloader's map is known. */
    public e820: readonly E820Entry[],
    readonly domainExists: (domid: number) => boolean,
    maxPages?: number,
  ) {
    let pages = 0;
    let top = 0;
    for (let gfn = 0; gfn < memory.ramBytes >>> PAGE_SHIFT; gfn++) {
      if (this.isGuestRam(gfn)) {
        pages++;
        top = gfn;
      }
    }
    this.totPages = pages;
    this.maxPages = maxPages ?? pages;
    this.maxGpfn = top;
  }

  /** Page accounting and placements (the frame table itself is saved with GuestMemory's mappings). */
  save(): XenPhysmapRecord {
    return {
      version: 1,
      totPages: this.totPages,
      maxPages: this.maxPages,
      maxGpfn: this.maxGpfn,
      sharedInfoGfn: this.sharedInfoGfn ?? null,
      populated: [...this.populated],
      freePages: this.freePages.slice(),
      e820: this.e820.map((e) => ({ addr: e.addr, size: e.size, type: e.type })),
    };
  }

  restore(r: XenPhysmapRecord): void {
    const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
    const page = (v: unknown) => count(v) && (v as number) % PAGE_SIZE === 0 && (v as number) + PAGE_SIZE <= this.memory.bytes.length;
    if (!r || r.version !== 1 || !count(r.totPages) || !count(r.maxPages) || !count(r.maxGpfn) || !Array.isArray(r.populated) || !Array.isArray(r.freePages) || !Array.isArray(r.e820)) {
      throw new RangeError(`physmap of domain ${this.domid}: not a version 1 record`);
    }
    if (![...r.populated, ...r.freePages].every(page)) throw new RangeError(`physmap of domain ${this.domid}: a saved page is not in the backing store`);
    if (r.sharedInfoGfn !== null && !(count(r.sharedInfoGfn) && r.sharedInfoGfn < MAX_GFN)) throw new RangeError(`physmap of domain ${this.domid}: bad shared_info gfn ${r.sharedInfoGfn}`);
    this.totPages = r.totPages;
    this.maxPages = r.maxPages;
    this.maxGpfn = r.maxGpfn;
    this.sharedInfoGfn = r.sharedInfoGfn ?? undefined;
    this.populated.clear();
    for (const off of r.populated) this.populated.add(off);
    this.freePages.length = 0;
    this.freePages.push(...r.freePages);
    this.e820 = r.e820.filter((e) => e && count(e.addr) && count(e.size) && count(e.type)).map((e) => ({ addr: e.addr, size: e.size, type: e.type }));
  }

  /** The gfn holds a page of the domain's own memory (RAM, or a populated page). */
  isGuestRam(gfn: number): boolean {
    const off = this.memory.frameOffset[gfn];
    if (off < 0 || this.memory.frameReadOnly[gfn]) return false;
    return (off < this.memory.ramBytes && off === gfn * PAGE_SIZE) || this.populated.has(off);
  }

  /** Make gfn a hole (nothing backs it), telling the remap listeners. */
  private punch(gfn: number): void {
    const gpa = gfn * PAGE_SIZE;
    if (this.memory.frameOffset[gfn] < 0) return;
    // unmapBacking leaves RAM alone, so RAM is first covered by a backing page, then unmapped.
    this.memory.mapBacking(gpa, this.sharedInfo.backingOffset, PAGE_SIZE, false, true);
    this.memory.unmapBacking(gpa, PAGE_SIZE);
  }

  /** Map backing page `offset` at gfn over whatever is there; RAM there is freed as Xen does. */
  private place(gfn: number, offset: number): void {
    if (this.isGuestRam(gfn)) this.release(gfn);
    this.memory.mapBacking(gfn * PAGE_SIZE, offset, PAGE_SIZE, false, true);
    if (gfn > this.maxGpfn) this.maxGpfn = gfn;
  }

  /** Free the guest page at gfn (guest_remove_page): hole, tot_pages - 1. */
  private release(gfn: number): void {
    const off = this.memory.frameOffset[gfn];
    if (this.populated.delete(off)) this.freePages.push(off);
    this.punch(gfn);
    this.totPages--;
  }

  /** Forget special pages whose frame is no longer where we put it. */
  private dropStalePlacements(gfn: number): void {
    if (this.sharedInfoGfn === gfn) this.sharedInfoGfn = undefined;
  }

  /** add_to_physmap space shared_info, idx 0: move the page to gfn (§4.2). */
  placeSharedInfo(gfn: number): number {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= MAX_GFN) return -XEN_EINVAL;
    const old = this.sharedInfoGfn;
    if (old !== undefined && old !== gfn && this.memory.frameOffset[old] === this.sharedInfo.backingOffset) this.punch(old);
    if (this.memory.frameOffset[gfn] !== this.sharedInfo.backingOffset) this.place(gfn, this.sharedInfo.backingOffset);
    this.sharedInfoGfn = gfn;
    return 0;
  }

  /** add_to_physmap space grant_table: frame idx (grown on demand) at gfn, moved from its old place. */
  placeGrantFrame(idx: number, gfn: number): number {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= MAX_GFN) return -XEN_EINVAL;
    const oldGfn = idx >= 0 && idx < this.grants.nrFrames ? this.grants.frameGfn(idx) : undefined;
    const off = this.grants.grantFrame(idx, gfn);
    if (off < 0) return off;
    if (oldGfn !== undefined && oldGfn !== gfn && this.memory.frameOffset[oldGfn] === off) this.punch(oldGfn);
    if (this.memory.frameOffset[gfn] !== off) {
      this.dropStalePlacements(gfn);
      this.place(gfn, off);
    }
    return 0;
  }

  /** remove_from_physmap: unhook whatever page is at gfn (RAM stays allocated); -ENOENT for a hole. */
  remove(gfn: number): number {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= MAX_GFN || this.memory.frameOffset[gfn] < 0) return -XEN_ENOENT;
    this.dropStalePlacements(gfn);
    this.punch(gfn);
    return 0;
  }

  /** decrease_reservation of one page: only the domain's own RAM can be given back. */
  decrease(gfn: number): boolean {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= MAX_GFN || !this.isGuestRam(gfn)) return false;
    this.release(gfn);
    return true;
  }

  /** populate_physmap of one page at gfn: needs max_pages headroom and a page of backing store. */
  populate(gfn: number): boolean {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= MAX_GFN || this.totPages + 1 > this.maxPages) return false;
    let off = this.freePages.pop();
    if (off === undefined) {
      try {
        off = this.memory.allocateBacking(PAGE_SIZE);
      } catch {
        return false;
      }
    }
    this.memory.bytes.fill(0, off, off + PAGE_SIZE); // Xen scrubs pages before giving them out
    // The page that was there (if RAM) stays allocated, as Xen's guest_physmap_add_entry leaves it.
    this.dropStalePlacements(gfn);
    this.memory.mapBacking(gfn * PAGE_SIZE, off, PAGE_SIZE, false, true);
    this.populated.add(off);
    this.totPages++;
    if (gfn > this.maxGpfn) this.maxGpfn = gfn;
    return true;
  }
}

/** Optional vCPU timer ops (VCPUOP_*_timer), offered only with the feature that advertises them. */
export interface VcpuTimers {
  /** The calling vCPU (Xen refuses timer ops on another vCPU with -EINVAL). */
  current(): number;
  setSingleshot(vcpu: number, deadlineNs: number): void;
  stopSingleshot(vcpu: number): void;
  setPeriodic(vcpu: number, periodNs: number): void;
  stopPeriodic(vcpu: number): void;
}

/** What vcpu_op acts on. */
export interface XenVcpus {
  count: number;
  sharedInfo: SharedInfoPage;
  kick: (vcpu: number) => void;
  /** VCPUOP_is_up; default: every vCPU is up. */
  isUp?: (vcpu: number) => boolean;
  timers?: VcpuTimers;
  now: () => number;
  /** Republish a vCPU's time info (after register_vcpu_info). */
  timeUpdate?: (vcpu: number) => void;
  /** VCPUOP_register_runstate_memory_area (offered with the PV clock). */
  runstate?: RunstateAreas;
}

export interface XenDomainOptions {
  memory: GuestMemory;
  domid: number;
  /** The E820 hvmloader built (XENMEM_memory_map). */
  e820: readonly E820Entry[];
  maxGrantFrames?: number;
  /** Upcall edge on a vCPU (see the wiring note at the top). */
  kick: (vcpu: number) => void;
  vcpuCount?: number;
  /** Guest system time, ns. Default 0 forever (tests). */
  now?: () => number;
  /** CPUID leaf 4 bit 6 advertised. Default false (xen-abi.md §1 recommends it clear). */
  perVcpuUpcallVector?: boolean;
  /** max_pages (maxmem); default = the RAM the domain has (no ballooning headroom). */
  maxPages?: number;
  timers?: VcpuTimers;
  /** dom0 backends' notification for a port dom0 owns. */
  notifyDom0?: (port: number) => void;
  /** Whether another domain of the host has this id (default: only dom0 and this one). */
  domainExists?: (domid: number) => boolean;
  /**
   * The Domain injects HVM_PARAM_CALLBACK_IRQ's vector type directly (Xen's
   * semantics: while evtchn_upcall_pending and IF=1, no LAPIC, no EOI):
   * advertise XENFEAT_hvm_callback_vector. Default false.
   */
  callbackVector?: boolean;
  /** The vCPU runs x86-64 code (cpu/kvm): XENVER_capabilities says hvm-3.0-x86_64 too. Default false. */
  longMode?: boolean;
  /**
   * Xen's PV time: XENFEAT_hvm_safe_pvclock, the vCPU timers (VIRQ_TIMER) and
   * runstate areas; the Domain must call runTimers()/nextTimerDeadlineNs().
   * Linux uses it only together with callbackVector. Default false.
   */
  pvTime?: boolean;
  /** Guest TSC frequency (Hz) and reader for the time info; default: the domain clock at 1 GHz (cpu/emu's RDTSC). */
  tscHz?: number;
  readTsc?: () => bigint;
  /** Host UTC in ms (wallclock); default Date.now. */
  utcMs?: () => number;
  /** The vCPU making the current hypercall; default 0. */
  currentVcpu?: () => number;
  /**
   * shared_info / vcpu_info / runstate layout until the guest latches its own
   * (latchGuestWidth): Xen's default is 64-bit (has_32bit_shinfo = 0). Default 8.
   */
  guestWidth?: GuestWidth;
}

/** Time info and wallclock are republished at least this often (system time), so a real TSC cannot drift far. */
export const PVCLOCK_REFRESH_NS = 1_000_000_000;

export interface XenDomain {
  state: XenDomainState;
  /**
   * Where the guest had Xen write its hypercall page (the MSR), or null. Xen keeps no
   * such state, but a restore onto another CPU backend must re-install the stubs that
   * backend needs (a VMCALL page does not trap on every backend).
   */
  hypercallPage: number | null;
  events: EventChannels;
  grants: GrantTable;
  grantAccess: GrantAccess;
  sharedInfo: SharedInfoPage;
  hvm: HvmState;
  physmap: XenPhysmap;
  /** dom0's event channels (host backends) and its grant mapper. */
  dom0: EventChannels;
  hostGrants: GrantAccess;
  /** Event channels and grant tables by domid (dom0 and this domain). */
  domains: Map<number, EventChannels>;
  tables: Map<number, GrantTable>;
  /** vcpu_time_info and wallclock publisher. */
  clock: PvClock;
  /** VCPUOP timers (VIRQ_TIMER), offered to the guest with pvTime. */
  timers: XenVcpuTimers;
  runstate: RunstateAreas;
  /** Domain-clock time (ns) of the next Xen timer event; Infinity when none. */
  nextTimerDeadlineNs(): number;
  /** Fire due vCPU timers and refresh time info when due; call between run slices with the domain clock. */
  runTimers(nowNs: number): void;
  /**
   * Xen's hvm_latch_shinfo_size: the guest's mode decides the shared_info layout
   * from now on (8: 64-bit mode, 4: anything else). Nothing in the page moves; the
   * wallclock is republished in the new layout. The lead calls it on every write
   * of the hypercall-page MSR; hvm_op calls it on a guest write of CALLBACK_IRQ.
   */
  latchGuestWidth(width: GuestWidth): void;
  /** The current shared_info layout width. */
  guestWidth(): GuestWidth;
  /** The Xen state as a plain JSON-able record (see XenSaveRecord). */
  save(): XenSaveRecord;
  /**
   * Load a record saved from a domain built the same way (same config: same
   * domid, vCPUs and backing-store layout), after its memory has been restored.
   * Throws a RangeError naming what does not fit. Re-announces the callback via.
   */
  restore(record: XenSaveRecord): void;
}

export const XEN_SAVE_RECORD_VERSION = 1;

/**
 * The Xen state of a domain for a save image. Guest-visible bytes (shared_info
 * pending/mask bits and time, grant entries, vcpu_info and runstate areas) live
 * in RAM and backing store and travel with the domain's memory; this holds what
 * Xen keeps privately. System time continues from `systemTimeNs` after restore.
 */
export interface XenSaveRecord {
  version: typeof XEN_SAVE_RECORD_VERSION;
  domid: number;
  /** XenDomain.hypercallPage (absent in older records). */
  hypercallPage?: number | null;
  /** The latched shared_info width (absent in older records, which were all 32-bit). */
  guestWidth?: GuestWidth;
  vcpuCount: number;
  systemTimeNs: number;
  hvm: HvmStateRecord;
  sharedInfo: { backingOffset: number; registered: Array<[number, number]> };
  events: EventChannelsRecord;
  dom0Events: EventChannelsRecord;
  dom0Pending: number[];
  grants: GrantTableRecord;
  physmap: XenPhysmapRecord;
  timers: VcpuTimersRecord;
  runstate: RunstateAreasRecord;
}

/** Build the domain's Xen objects (needs 4 KiB of backing store for shared_info + 4 KiB per grant frame). */
export function createXenDomain(opts: XenDomainOptions): XenDomain {
  const { memory, domid, kick } = opts;
  const vcpuCount = opts.vcpuCount ?? 1;
  const domainNow = opts.now ?? (() => 0);
  // Xen system time = the domain clock + an offset that is 0 until a restore, which
  // sets it so system time continues from the saved value (timers, pvclock, get_time).
  let timeOffsetNs = 0;
  const now = () => domainNow() + timeOffsetNs;
  const domains = new Map<number, EventChannels>();
  const tables = new Map<number, GrantTable>();
  const lookupDomain = (d: number) => domains.get(d);
  // Other domains of the host (dom0's live-domain table): Xen answers "not yours" (-EPERM)
  // for them where an unknown id is "no such domain" (-ESRCH).
  const exists = (d: number) => domains.has(d) || (opts.domainExists?.(d) ?? false);
  const sharedInfo = SharedInfoPage.allocate(memory, opts.guestWidth === 4 ? 4 : 8);
  const events = new EventChannels({ domId: domid, vcpuCount, lookupDomain, domainExists: exists, delivery: new TwoLevelDelivery(sharedInfo, kick) });
  const dom0Delivery = new HostDelivery((port) => opts.notifyDom0?.(port));
  const dom0 = new EventChannels({
    domId: 0,
    vcpuCount: 1,
    privileged: true,
    globalVirqHandler: true,
    lookupDomain,
    delivery: dom0Delivery,
  });
  domains.set(0, dom0).set(domid, events);
  const grants = new GrantTable({ domId: domid, memory, maxFrames: opts.maxGrantFrames });
  grants.grow(1);
  tables.set(domid, grants);
  const grantAccess = new GrantAccess(domid, (d) => tables.get(d), memory);
  const hostGrants = new GrantAccess(0, (d) => tables.get(d));
  const hvm = new HvmState(domid, vcpuCount, opts.perVcpuUpcallVector ?? false, now, exists);
  const physmap = new XenPhysmap(memory, domid, sharedInfo, grants, opts.e820, exists, opts.maxPages);
  const clock = new PvClock({ page: sharedInfo, vcpuCount, now, tscHz: opts.tscHz, readTsc: opts.readTsc, utcMs: opts.utcMs });
  clock.updateAll(); // Linux reads vcpu_info[0].time as soon as it maps shared_info
  const timers = new XenVcpuTimers(
    vcpuCount,
    now,
    (vcpu) => {
      clock.update(vcpu);
      events.raiseVirq(VIRQ_TIMER, vcpu);
    },
    opts.currentVcpu,
  );
  const runstate = new RunstateAreas(memory, now, () => sharedInfo.width);
  const pvTime = opts.pvTime ?? false;
  const vcpus: XenVcpus = {
    count: vcpuCount,
    sharedInfo,
    kick,
    timers: opts.timers ?? (pvTime ? timers : undefined),
    now,
    timeUpdate: (vcpu) => clock.update(vcpu),
    ...(pvTime ? { runstate } : {}),
  };
  let features = HVM_FEATURE_SUBMAP0;
  if (opts.callbackVector) features |= 1 << XENFEAT_hvm_callback_vector;
  if (pvTime) features |= 1 << XENFEAT_hvm_safe_pvclock;
  const latchGuestWidth = (width: GuestWidth): void => {
    sharedInfo.setWidth(width === 8 ? 8 : 4);
    // Xen refreshes the wallclock here: "the timebase in the shared info structure" must be right.
    clock.updateWallclock();
  };
  const state: XenDomainState = { events, grants, grantAccess, physmap, hvm, vcpus, features: features >>> 0, latchGuestWidth, ...(opts.longMode ? { longMode: true } : {}) };
  const nextTimerDeadlineNs = () => timers.nextDeadlineNs() - timeOffsetNs;
  const runTimers = (domainNowNs: number) => {
    const system = domainNowNs + timeOffsetNs;
    timers.run(system);
    if (system - clock.lastRefreshNs >= PVCLOCK_REFRESH_NS) clock.updateAll();
  };
  const save = (): XenSaveRecord => ({
    version: XEN_SAVE_RECORD_VERSION,
    domid,
    hypercallPage: xen.hypercallPage,
    guestWidth: sharedInfo.width,
    vcpuCount,
    systemTimeNs: now(),
    hvm: hvm.save(),
    sharedInfo: { backingOffset: sharedInfo.backingOffset, registered: sharedInfo.registeredAreas() },
    events: events.save(),
    dom0Events: dom0.save(),
    dom0Pending: dom0Delivery.pendingPorts(),
    grants: grants.save(),
    physmap: physmap.save(),
    timers: timers.save(),
    runstate: runstate.save(),
  });
  const restore = (r: XenSaveRecord): void => {
    if (!r || typeof r !== 'object') throw new RangeError('Xen state: the record is not an object');
    if (r.version !== XEN_SAVE_RECORD_VERSION) throw new RangeError(`Xen state: record version ${String(r.version)}, this tsxen reads ${XEN_SAVE_RECORD_VERSION}`);
    if (r.vcpuCount !== vcpuCount) throw new RangeError(`Xen state: saved with ${r.vcpuCount} vCPUs, restoring into a domain with ${vcpuCount}`);
    if (!Number.isInteger(r.domid) || r.domid <= 0 || r.domid >= DOMID_SELF) throw new RangeError(`Xen state: bad saved domid ${String(r.domid)}`);
    // xl restore makes a new domain, usually with another domid: channels that named the
    // saved domain (dom0's ends of the store/console rings, loopback ones) name this one.
    const renumbered = (rec: EventChannelsRecord): EventChannelsRecord =>
      r.domid === domid || !Array.isArray(rec?.ports) ? rec : { ...rec, ports: rec.ports.map((p) => (Array.isArray(p) && p[3] === r.domid ? [p[0], p[1], p[2], domid, p[4], p[5]] : p)) };
    if (r.sharedInfo?.backingOffset !== sharedInfo.backingOffset) {
      throw new RangeError(`Xen state: shared_info was at backing offset ${r.sharedInfo?.backingOffset}, this domain has it at ${sharedInfo.backingOffset} (different domain layout)`);
    }
    if (!Number.isFinite(r.systemTimeNs) || r.systemTimeNs < 0) throw new RangeError(`Xen state: bad system time ${r.systemTimeNs}`);
    if (r.guestWidth !== undefined && r.guestWidth !== 4 && r.guestWidth !== 8) throw new RangeError(`Xen state: bad guest width ${String(r.guestWidth)}`);
    // The layout first: it sets the guest's port limit. Older records were all 32-bit.
    sharedInfo.setWidth(r.guestWidth ?? 4);
    // A part that does not fit throws part-way: the caller discards the half-restored domain.
    events.restore(renumbered(r.events));
    dom0.restore(renumbered(r.dom0Events));
    dom0Delivery.restorePending(Array.isArray(r.dom0Pending) ? r.dom0Pending : []);
    grants.restore(r.grants);
    physmap.restore(r.physmap);
    sharedInfo.restoreRegisteredAreas(Array.isArray(r.sharedInfo.registered) ? r.sharedInfo.registered : []);
    timeOffsetNs = r.systemTimeNs - domainNow();
    timers.restore(r.timers);
    runstate.restore(r.runstate);
    hvm.restore(r.hvm);
    xen.hypercallPage = Number.isInteger(r.hypercallPage) && (r.hypercallPage as number) >= 0 && (r.hypercallPage as number) % PAGE_SIZE === 0 ? (r.hypercallPage as number) : null;
    // The time info in memory still pairs the saved TSC with the saved system time, and
    // both continue from there; republish at the first runTimers, when the vCPU (and
    // its TSC) has been restored too.
    clock.lastRefreshNs = -Infinity;
  };
  const guestWidth = (): GuestWidth => sharedInfo.width;
  const xen: XenDomain = { state, hypercallPage: null, events, grants, grantAccess, sharedInfo, hvm, physmap, dom0, hostGrants, domains, tables, clock, timers, runstate, nextTimerDeadlineNs, runTimers, latchGuestWidth, guestWidth, save, restore };
  return xen;
}
