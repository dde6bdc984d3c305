// VCPUOP_* (xen/include/public/vcpu.h; xen-abi.md §4.3) with the 32-bit (u64 aligned
// to 4) and 64-bit layouts where they differ.

import type { ByWidth } from './guest-width.js';

export const VCPUOP_initialise = 0;
export const VCPUOP_up = 1;
export const VCPUOP_down = 2;
export const VCPUOP_is_up = 3;
export const VCPUOP_get_runstate_info = 4;
export const VCPUOP_register_runstate_memory_area = 5;
export const VCPUOP_set_periodic_timer = 6;
export const VCPUOP_stop_periodic_timer = 7;
export const VCPUOP_set_singleshot_timer = 8;
export const VCPUOP_stop_singleshot_timer = 9;
export const VCPUOP_register_vcpu_info = 10;

/** struct vcpu_register_vcpu_info: mfn u64 @0 (a GFN for HVM), offset u32 @8, rsvd u32 @12. */
export const VCPU_REGISTER_VCPU_INFO = { size: 16, mfn: 0, offset: 8, rsvd: 12 } as const;
/** struct vcpu_set_periodic_timer: period_ns u64 @0. */
export const VCPU_SET_PERIODIC_TIMER = { size: 8, periodNs: 0 } as const;
/** struct vcpu_set_singleshot_timer: timeout_abs_ns u64 @0, flags u32 @8 (12 bytes on 32-bit, 16 on 64-bit). */
export const VCPU_SET_SINGLESHOT_TIMER: ByWidth<{ size: number; timeoutAbsNs: number; flags: number }> = {
  4: { size: 12, timeoutAbsNs: 0, flags: 8 },
  8: { size: 16, timeoutAbsNs: 0, flags: 8 },
};
export const VCPU_SET_SINGLESHOT_TIMER_32 = VCPU_SET_SINGLESHOT_TIMER[4];
/** Fail with -ETIME when the timeout is already past. */
export const VCPU_SSHOTTMR_future = 1;
/** Periodic timer bounds: at least 1 ms (common/domain.c), at most STIME_DELTA_MAX. */
export const PERIODIC_TIMER_MIN_NS = 1_000_000;
export const VCPUOP_register_vcpu_time_memory_area = 13;

/** struct vcpu_register_runstate_memory_area: a u64 union holding the guest pointer (a 32-bit guest's in its low 4 bytes). */
export const VCPU_REGISTER_RUNSTATE_AREA = { size: 8, addr: 0 } as const;
/**
 * struct vcpu_runstate_info: state i32, state_entry_time u64, time[4] u64. Xen
 * writes it in the domain's latched shared_info width (has_32bit_shinfo).
 */
export const VCPU_RUNSTATE_INFO: ByWidth<{ size: number; state: number; stateEntryTime: number; time: number }> = {
  4: { size: 44, state: 0, stateEntryTime: 4, time: 12 },
  8: { size: 48, state: 0, stateEntryTime: 8, time: 16 },
};
export const VCPU_RUNSTATE_INFO_32 = VCPU_RUNSTATE_INFO[4];
/** Runstates (vcpu.h RUNSTATE_*). */
export const RUNSTATE_running = 0;
export const RUNSTATE_runnable = 1;
export const RUNSTATE_blocked = 2;
export const RUNSTATE_offline = 3;
/** Longest period set_periodic_timer takes (Xen's STIME_DELTA_MAX, 2^63 - 1 ns). */
export const PERIODIC_TIMER_MAX_NS = (1n << 63n) - 1n;
