// The domain's shared_info page and its vCPUs' vcpu_info areas (src/abi/shared-info.ts),
// with the bit operations the 2-level event channel ABI performs on them. The
// layout is the domain's latched width (Xen's has_32bit_shinfo, xen-abi.md §4.1):
// 32-bit (1024 ports, u32 selector at 4) or 64-bit (4096 ports, u64 selector at 8).
// Changing it moves nothing already in the page, as in Xen. Pending and mask
// bitmaps are little-endian words, so bit p sits at byte p/8 of either layout;
// only the mask's base differs, and a 64-bit selector is two u32 words. The page is Xen's own memory: a page of backing store beyond
// RAM that exists from domain creation, so events raised before the guest maps
// it (XENMEM_add_to_physmap, space shared_info) are not lost; the lead maps
// `backingOffset` at the guest's chosen frame with GuestMemory.mapBacking.
//
// The guest's vCPUs change these words concurrently (RAM is a SharedArrayBuffer),
// so every read-modify-write is an Atomics operation, as Xen's are locked bit ops.

import type { GuestWidth } from '../../abi/guest-width.js';
import { SHARED_INFO_32, SHARED_INFO_LAYOUT, VCPU_INFO_SIZE, XEN_LEGACY_MAX_VCPUS } from '../../abi/shared-info.js';
import { XEN_EBUSY, XEN_EINVAL, XEN_ENXIO } from '../../abi/xen-errno.js';
import { PAGE_SIZE, type GuestMemory } from '../memory/guest-memory.js';

export class SharedInfoPage {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  /** Guest-physical vcpu_info placed by VCPUOP_register_vcpu_info, per vCPU. */
  private readonly registered = new Map<number, number>();
  private layoutWidth: GuestWidth;

  /**
   * @param backingOffset page-aligned offset in memory.bytes of the page (see allocate()).
   * @param width the layout until setWidth (a domain passes Xen's default, 8; 4 keeps the 32-bit layout).
   */
  constructor(
    readonly memory: GuestMemory,
    readonly backingOffset: number,
    width: GuestWidth = 4,
  ) {
    this.layoutWidth = width === 8 ? 8 : 4;
    if (backingOffset % PAGE_SIZE !== 0 || backingOffset < 0 || backingOffset + PAGE_SIZE > memory.bytes.length) {
      throw new RangeError(`shared_info backing offset ${backingOffset} is not a page of the backing store`);
    }
    this.words = new Int32Array(memory.buffer, 0, memory.bytes.length >>> 2);
    this.bytes = memory.bytes;
  }

  /** Reserve a zeroed page of backing store for shared_info (needs romBytes headroom in the GuestMemory). */
  static allocate(memory: GuestMemory, width: GuestWidth = 4): SharedInfoPage {
    return new SharedInfoPage(memory, memory.allocateBacking(PAGE_SIZE), width);
  }

  /** The layout's width: 4 (32-bit shared_info) or 8 (64-bit). */
  get width(): GuestWidth {
    return this.layoutWidth;
  }

  /** Switch layouts (the domain latched the guest's width); nothing in the page moves. */
  setWidth(width: GuestWidth): void {
    this.layoutWidth = width === 8 ? 8 : 4;
  }

  /** Ports the 2-level bitmaps hold in this layout (1024 or 4096). */
  portLimit(): number {
    return SHARED_INFO_LAYOUT[this.layoutWidth].ports;
  }

  /** Ports per evtchn_pending word, i.e. per selector bit (32 or 64). */
  wordBits(): number {
    return SHARED_INFO_LAYOUT[this.layoutWidth].wordBits;
  }

  private get layout() {
    return SHARED_INFO_LAYOUT[this.layoutWidth];
  }

  /**
   * Byte offset in memory.bytes of vCPU `vcpu`'s vcpu_info, or undefined when it
   * has none (vCPU ≥ 32 not registered, or its registered frame is no longer RAM).
   */
  vcpuInfoOffset(vcpu: number): number | undefined {
    const gpa = this.registered.get(vcpu);
    if (gpa !== undefined) {
      if (!this.memory.isRam(gpa, VCPU_INFO_SIZE)) return undefined;
      return this.memory.frameOffset[Math.floor(gpa / PAGE_SIZE)] + (gpa % PAGE_SIZE);
    }
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= XEN_LEGACY_MAX_VCPUS) return undefined;
    return this.backingOffset + SHARED_INFO_32.vcpuInfo + vcpu * VCPU_INFO_SIZE;
  }

  /**
   * Every vcpu_info of vCPU `vcpu` Xen keeps time in: its shared_info slot (vCPUs
   * below 32) and the area it registered (while that is RAM). Byte offsets in
   * memory.bytes. Xen updates both, so a guest reading either sees current time.
   */
  timeInfoOffsets(vcpu: number): number[] {
    const out: number[] = [];
    if (Number.isInteger(vcpu) && vcpu >= 0 && vcpu < XEN_LEGACY_MAX_VCPUS) out.push(this.backingOffset + SHARED_INFO_32.vcpuInfo + vcpu * VCPU_INFO_SIZE);
    if (this.registered.has(vcpu)) {
      const at = this.vcpuInfoOffset(vcpu);
      if (at !== undefined) out.push(at);
    }
    return out;
  }

  /** The registered vcpu_info areas, [vCPU, guest-physical address] (save records). */
  registeredAreas(): Array<[number, number]> {
    return [...this.registered.entries()];
  }

  /** Restore the registrations of a saved domain (the page and RAM contents come with its memory). */
  restoreRegisteredAreas(areas: ReadonlyArray<readonly [number, number]>): void {
    this.registered.clear();
    for (const [vcpu, gpa] of areas) {
      if (Number.isInteger(vcpu) && vcpu >= 0 && Number.isInteger(gpa) && gpa >= 0 && gpa % 4 === 0) this.registered.set(vcpu, gpa);
    }
  }

  /**
   * VCPUOP_register_vcpu_info (xen-abi.md §4.3): aligned to the layout's
   * xen_ulong_t (4 or 8), inside one page, RAM, once per vCPU. Copies the current
   * contents, then marks every selector bit and the upcall pending so nothing
   * raised meanwhile is lost. Returns 0 or a negative Xen errno; `true` in
   * `raised` means call the kick.
   */
  registerVcpuInfo(vcpu: number, gpa: number): { rc: number; raised: boolean } {
    if (this.registered.has(vcpu)) return { rc: -XEN_EBUSY, raised: false };
    if (!Number.isInteger(gpa) || gpa < 0 || gpa % this.layoutWidth !== 0) return { rc: -XEN_EINVAL, raised: false };
    if ((gpa % PAGE_SIZE) + VCPU_INFO_SIZE > PAGE_SIZE) return { rc: -XEN_ENXIO, raised: false };
    if (!this.memory.isRam(gpa, VCPU_INFO_SIZE)) return { rc: -XEN_EINVAL, raised: false };
    const old = this.vcpuInfoOffset(vcpu);
    const at = this.memory.frameOffset[Math.floor(gpa / PAGE_SIZE)] + (gpa % PAGE_SIZE);
    if (old !== undefined) this.bytes.copyWithin(at, old, old + VCPU_INFO_SIZE);
    else this.bytes.fill(0, at, at + VCPU_INFO_SIZE);
    this.registered.set(vcpu, gpa);
    const sel = at + this.layout.vcpu.pendingSel;
    for (let w = 0; w < this.layoutWidth; w += 4) Atomics.store(this.words, (sel + w) >>> 2, -1);
    const was = Atomics.exchange(this.bytes, at + this.layout.vcpu.upcallPending, 1);
    return { rc: 0, raised: was === 0 };
  }

  private bitWord(base: number, port: number): number {
    return (this.backingOffset + base + (port >>> 5) * 4) >>> 2;
  }

  /** Set pending bit `port`; returns its previous value. Callers keep `port` below portLimit(). */
  testAndSetPending(port: number): boolean {
    const bit = 1 << (port & 31);
    return (Atomics.or(this.words, this.bitWord(this.layout.shared.evtchnPending, port), bit) & bit) !== 0;
  }

  clearPending(port: number): void {
    Atomics.and(this.words, this.bitWord(this.layout.shared.evtchnPending, port), ~(1 << (port & 31)));
  }

  isPending(port: number): boolean {
    return (Atomics.load(this.words, this.bitWord(this.layout.shared.evtchnPending, port)) & (1 << (port & 31))) !== 0;
  }

  isMasked(port: number): boolean {
    return (Atomics.load(this.words, this.bitWord(this.layout.shared.evtchnMask, port)) & (1 << (port & 31))) !== 0;
  }

  setMask(port: number): void {
    Atomics.or(this.words, this.bitWord(this.layout.shared.evtchnMask, port), 1 << (port & 31));
  }

  /** Clear mask bit `port`; returns its previous value. */
  testAndClearMask(port: number): boolean {
    const bit = 1 << (port & 31);
    return (Atomics.and(this.words, this.bitWord(this.layout.shared.evtchnMask, port), ~bit) & bit) !== 0;
  }

  /**
   * Set selector bit `index` (below wordBits()) in vCPU `vcpu`'s evtchn_pending_sel;
   * previous value, or undefined without a vcpu_info. A 64-bit selector is two
   * little-endian u32 words: bit 31 and bit 32 are in different words.
   */
  testAndSetSelector(vcpu: number, index: number): boolean | undefined {
    const at = this.vcpuInfoOffset(vcpu);
    if (at === undefined || !Number.isInteger(index) || index < 0 || index >= this.wordBits()) return undefined;
    const bit = 1 << (index & 31);
    return (Atomics.or(this.words, (at + this.layout.vcpu.pendingSel + (index >>> 5) * 4) >>> 2, bit) & bit) !== 0;
  }

  /** evtchn_pending_sel of vCPU `vcpu` (all 64 bits in the 64-bit layout: bit 32 up is 2^32 up). */
  selector(vcpu: number): number {
    const at = this.vcpuInfoOffset(vcpu);
    if (at === undefined) return 0;
    const sel = at + this.layout.vcpu.pendingSel;
    const low = Atomics.load(this.words, sel >>> 2) >>> 0;
    return this.layoutWidth === 4 ? low : low + (Atomics.load(this.words, (sel + 4) >>> 2) >>> 0) * 0x100000000;
  }

  /** Set evtchn_upcall_pending; returns its previous value (false without a vcpu_info). */
  testAndSetUpcallPending(vcpu: number): boolean {
    const at = this.vcpuInfoOffset(vcpu);
    if (at === undefined) return true;
    return Atomics.exchange(this.bytes, at + this.layout.vcpu.upcallPending, 1) !== 0;
  }

  upcallPending(vcpu: number): boolean {
    const at = this.vcpuInfoOffset(vcpu);
    return at !== undefined && Atomics.load(this.bytes, at + this.layout.vcpu.upcallPending) !== 0;
  }

  /**
   * Wallclock (wc_version/wc_sec/wc_nsec/wc_sec_hi): Unix time of guest system
   * time 0, published with the version odd while the fields change (xen.h).
   */
  setWallclock(sec: number, nsec: number): void {
    const base = this.backingOffset;
    const s = this.layout.shared;
    const v = this.words[(base + s.wcVersion) >>> 2];
    Atomics.store(this.words, (base + s.wcVersion) >>> 2, (v + 1) | 1);
    Atomics.store(this.words, (base + s.wcSec) >>> 2, sec % 0x100000000 | 0);
    Atomics.store(this.words, (base + s.wcNsec) >>> 2, nsec | 0);
    Atomics.store(this.words, (base + s.wcSecHi) >>> 2, Math.floor(sec / 0x100000000) | 0);
    Atomics.store(this.words, (base + s.wcVersion) >>> 2, (v + 2) & ~1);
  }

  /** The wallclock as the current layout holds it: seconds (with wc_sec_hi) and nanoseconds. */
  wallclock(): { sec: number; nsec: number } {
    const base = this.backingOffset;
    const s = this.layout.shared;
    const u32 = (off: number) => Atomics.load(this.words, (base + off) >>> 2) >>> 0;
    return { sec: u32(s.wcSec) + u32(s.wcSecHi) * 0x100000000, nsec: u32(s.wcNsec) };
  }
}
