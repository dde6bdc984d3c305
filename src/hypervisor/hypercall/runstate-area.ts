// The runstate areas guests register with VCPUOP_register_runstate_memory_area
// (xen/include/public/vcpu.h struct vcpu_runstate_info; Xen's
// update_runstate_area). Linux registers one per CPU in xen_time_init and BUG()s
// if that fails; it reads time[runnable] + time[offline] as stolen time.
//
// A tsxen vCPU is never descheduled while its domain runs, so the area says
// "running since system time 0" and steal stays 0. Xen keeps the guest-virtual
// address and translates it at each update; the area is a kernel per-CPU
// variable (fixed in the direct map), so it is translated once at registration.
// The layout (44 or 48 bytes) is the domain's latched shared_info width, as Xen's
// update_runstate_area picks it from has_32bit_shinfo.

import type { GuestWidth } from '../../abi/guest-width.js';
import { RUNSTATE_running, VCPU_RUNSTATE_INFO } from '../../abi/vcpu.js';
import type { GuestMemory } from '../memory/guest-memory.js';

/** Guest-physical [address, length] pieces of one area (it may cross a page). */
export type AreaPieces = Array<[number, number]>;

export interface RunstateAreasRecord {
  version: 1;
  areas: Array<[number, AreaPieces]>;
}

export class RunstateAreas {
  private readonly areas = new Map<number, AreaPieces>();

  constructor(
    private readonly memory: GuestMemory,
    private readonly now: () => number,
    /** The domain's latched layout width (default 32-bit, as before widths existed). */
    private readonly width: () => GuestWidth = () => 4,
  ) {}

  /** Bytes of one area in the current layout. */
  areaSize(): number {
    return VCPU_RUNSTATE_INFO[this.width()].size;
  }

  /** Remember vCPU `vcpu`'s area (undefined: the address did not translate; Xen keeps it and writes nothing) and fill it. */
  register(vcpu: number, pieces: AreaPieces | undefined): void {
    if (!pieces) {
      this.areas.delete(vcpu);
      return;
    }
    this.areas.set(vcpu, pieces);
    this.write(vcpu);
  }

  /** Write vCPU `vcpu`'s runstate: running since 0, all of its time spent running. */
  write(vcpu: number): void {
    const pieces = this.areas.get(vcpu);
    if (!pieces) return;
    const s = VCPU_RUNSTATE_INFO[this.width()];
    const info = new Uint8Array(s.size);
    const dv = new DataView(info.buffer);
    const now = BigInt(Math.max(0, Math.floor(this.now())));
    dv.setInt32(s.state, RUNSTATE_running, true);
    dv.setBigUint64(s.stateEntryTime, 0n, true);
    dv.setBigUint64(s.time + 8 * RUNSTATE_running, now, true);
    let done = 0;
    for (const [gpa, len] of pieces) {
      // Registered under a smaller layout than now: write what was registered, never past it.
      const n = Math.min(len, info.length - done);
      if (n <= 0) break;
      // The page may have been given back since registration: only ever write RAM.
      if (this.memory.isRam(gpa, n)) this.memory.write(gpa, info.subarray(done, done + n));
      done += n;
    }
  }

  has(vcpu: number): boolean {
    return this.areas.has(vcpu);
  }

  save(): RunstateAreasRecord {
    return { version: 1, areas: [...this.areas.entries()].map(([v, p]) => [v, p.map(([a, l]) => [a, l] as [number, number])]) };
  }

  restore(r: RunstateAreasRecord): void {
    this.areas.clear();
    for (const [vcpu, pieces] of r.areas ?? []) {
      if (!Number.isInteger(vcpu) || !Array.isArray(pieces)) continue;
      const ok = pieces.every((p) => Array.isArray(p) && Number.isInteger(p[0]) && p[0] >= 0 && Number.isInteger(p[1]) && p[1] > 0 && p[1] <= VCPU_RUNSTATE_INFO[8].size);
      if (ok) this.areas.set(vcpu, pieces.map(([a, l]) => [a, l] as [number, number]));
    }
  }
}
