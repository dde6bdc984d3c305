// Xen's time for a guest (xen/include/public/xen.h struct vcpu_time_info and the
// shared_info wallclock; xen-abi.md §4.1; Xen's update_vcpu_system_time): every
// vCPU's vcpu_info carries {tsc_timestamp, system_time, tsc_to_system_mul,
// tsc_shift}, from which the guest computes
//   ns = system_time + (((tsc - tsc_timestamp) << shift) * mul) >> 32
// and shared_info's wc_* say what Unix time system time 0 was.
//
// System time here is the domain clock (ns since creation) and, by default, the
// guest TSC is that clock at `tscHz`, which is how the software CPU derives RDTSC
// (cpu/emu: TSC = clock ns × tscPerNs, 1 GHz). Publishing both at the same instant
// makes the guest's extrapolation exact between updates, so the Xen clocksource is
// monotonic and never jumps at an update. A backend with a real TSC (KVM) passes
// `readTsc` and its frequency; the periodic refresh then bounds the drift.
//
// Each area is written as Xen does: version made odd, fields, version made even,
// so a guest reading concurrently retries (pvclock's version loop).

import { VCPU_INFO_32, VCPU_TIME_INFO, XEN_PVCLOCK_TSC_STABLE_BIT } from '../../abi/shared-info.js';
import type { SharedInfoPage } from '../event-channel/shared-info-page.js';
import { tscToNsScale } from './xen-cpuid-leaves.js';

export interface PvClockOptions {
  page: SharedInfoPage;
  vcpuCount: number;
  /** Xen system time: ns since the domain was created (the domain clock). */
  now: () => number;
  /** Guest TSC frequency, Hz (the CPUID time leaf says the same). Default 1 GHz. */
  tscHz?: number;
  /** The guest's TSC now; default: `now()` at tscHz, as the software CPU counts it. */
  readTsc?: () => bigint;
  /** Host UTC, ms since the epoch (wallclock). Default Date.now. */
  utcMs?: () => number;
  /** Set XEN_PVCLOCK_TSC_STABLE_BIT (all vCPUs read one TSC). Default false: Linux then guards monotonicity itself. */
  tscStable?: boolean;
}

export class PvClock {
  readonly tscHz: number;
  readonly mul: number;
  readonly shift: number;
  /** System time of the last full refresh (updateAll). */
  lastRefreshNs = -Infinity;
  private readonly opts: PvClockOptions;
  private readonly view: DataView;
  private readonly words: Int32Array;

  constructor(opts: PvClockOptions) {
    this.opts = opts;
    this.tscHz = opts.tscHz ?? 1e9;
    const scale = tscToNsScale(this.tscHz);
    this.mul = scale.mulFrac;
    this.shift = scale.shift;
    const mem = opts.page.memory;
    this.view = new DataView(mem.buffer, mem.bytes.byteOffset, mem.bytes.byteLength);
    this.words = new Int32Array(mem.buffer, mem.bytes.byteOffset, mem.bytes.byteLength >>> 2);
  }

  /** System time now, whole ns. */
  systemTimeNs(): number {
    return Math.max(0, Math.floor(this.opts.now()));
  }

  private tscAt(systemNs: number): bigint {
    if (this.opts.readTsc) return BigInt.asUintN(64, this.opts.readTsc());
    return this.tscHz === 1e9 ? BigInt(systemNs) : BigInt(Math.floor((systemNs * this.tscHz) / 1e9));
  }

  /** Publish vCPU `vcpu`'s time in every vcpu_info it has. */
  update(vcpu: number): void {
    const system = this.systemTimeNs();
    const tsc = this.tscAt(system);
    // vcpu_info.time is at 32 in both layouts.
    for (const at of this.opts.page.timeInfoOffsets(vcpu)) this.write(at + VCPU_INFO_32.time, system, tsc);
  }

  /** Every vCPU's time and the wallclock (periodic refresh). */
  updateAll(): void {
    for (let v = 0; v < this.opts.vcpuCount; v++) this.update(v);
    this.updateWallclock();
    this.lastRefreshNs = this.systemTimeNs();
  }

  /** wc_sec/wc_nsec = host UTC now − system time now: wallclock + system time = UTC. */
  updateWallclock(): void {
    const utcMs = (this.opts.utcMs ?? Date.now)();
    const utcNs = BigInt(Math.floor(utcMs)) * 1_000_000n + BigInt(Math.floor((utcMs - Math.floor(utcMs)) * 1e6));
    let wc = utcNs - BigInt(this.systemTimeNs());
    if (wc < 0n) wc = 0n;
    this.opts.page.setWallclock(Number(wc / 1_000_000_000n), Number(wc % 1_000_000_000n));
  }

  /** The wallclock as published: ns since the epoch of system time 0. */
  wallclockNs(): bigint {
    const { sec, nsec } = this.opts.page.wallclock();
    return BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  }

  private write(at: number, system: number, tsc: bigint): void {
    const t = VCPU_TIME_INFO;
    const versionWord = (at + t.version) >>> 2;
    const odd = (Atomics.load(this.words, versionWord) + 1) | 1;
    Atomics.store(this.words, versionWord, odd);
    this.view.setBigUint64(at + t.tscTimestamp, tsc, true);
    this.view.setBigUint64(at + t.systemTime, BigInt(system), true);
    this.view.setUint32(at + t.tscToSystemMul, this.mul >>> 0, true);
    this.view.setInt8(at + t.tscShift, this.shift);
    this.view.setUint8(at + t.flags, this.opts.tscStable ? XEN_PVCLOCK_TSC_STABLE_BIT : 0);
    Atomics.store(this.words, versionWord, odd + 1);
  }
}

/** What a guest computes from one vcpu_time_info (pvclock_clocksource_read), for tests and checks. */
export function pvclockRead(info: { tscTimestamp: bigint; systemTime: bigint; mul: number; shift: number }, tsc: bigint): bigint {
  let delta = BigInt.asUintN(64, tsc - info.tscTimestamp);
  delta = info.shift >= 0 ? BigInt.asUintN(64, delta << BigInt(info.shift)) : delta >> BigInt(-info.shift);
  return info.systemTime + ((delta * BigInt(info.mul >>> 0)) >> 32n);
}
