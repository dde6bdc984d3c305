import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_vcpu_op } from '../../abi/hypercall-numbers.js';
import {
  VCPUOP_down,
  VCPUOP_get_runstate_info,
  VCPUOP_initialise,
  VCPUOP_is_up,
  VCPUOP_register_vcpu_info,
  VCPUOP_set_periodic_timer,
  VCPUOP_set_singleshot_timer,
  VCPUOP_stop_periodic_timer,
  VCPUOP_stop_singleshot_timer,
  VCPUOP_up,
  VCPU_SSHOTTMR_future,
} from '../../abi/vcpu.js';
import { SHARED_INFO_32, VCPU_INFO_32, VCPU_INFO_SIZE, VCPU_TIME_INFO } from '../../abi/shared-info.js';
import { XEN_EBUSY, XEN_EFAULT, XEN_EINVAL, XEN_ENOENT, XEN_ENOSYS, XEN_ENXIO, XEN_ETIME } from '../../abi/xen-errno.js';
import type { VcpuTimers } from '../xen-domain.js';
import { SCRATCH, scriptedGuest } from './scripted-guest.js';

type Guest = ReturnType<typeof scriptedGuest>;
// vcpu_register_vcpu_info: mfn u64 @0, offset u32 @8, rsvd u32 @12.
const register = (g: Guest, vcpu: number, gfn: number | bigint, offset: number) => {
  g.put([[0, gfn, 8], [8, offset, 4], [12, 0, 4]], 16);
  return g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, vcpu, SCRATCH);
};

test('register_vcpu_info: copies the current vcpu_info, raises a spurious upcall, once only', () => {
  const g = scriptedGuest({ vcpuCount: 2 });
  const si = g.xen.sharedInfo.backingOffset;
  // Xen had been writing vCPU 1's time info in shared_info's slot 1.
  new DataView(g.memory.buffer).setUint32(si + SHARED_INFO_32.vcpuInfo + VCPU_INFO_SIZE + VCPU_INFO_32.time + VCPU_TIME_INFO.version, 42, true);
  assert.equal(register(g, 1, 0x20, 0x40), 0);
  const gpa = 0x20040;
  assert.equal(g.memory.readU32(gpa + VCPU_INFO_32.time + VCPU_TIME_INFO.version), 44, 'contents copied (version 42), then the time refreshed: 43 while writing, 44 after');
  assert.equal(g.memory.readU32(gpa + VCPU_INFO_32.pendingSel), 0xffffffff, 'every selector bit');
  assert.equal(g.memory.readU8(gpa + VCPU_INFO_32.upcallPending), 1);
  assert.deepEqual(g.kicks, [1], 'the 0->1 edge kicks that vCPU');
  assert.equal(register(g, 1, 0x21, 0), -XEN_EBUSY);
  assert.equal(g.xen.sharedInfo.selector(1), 0xffffffff, 'still the first area');
});

test('register_vcpu_info errors: page crossing, alignment, frame, vCPU, fault', () => {
  const g = scriptedGuest({ vcpuCount: 2 });
  assert.equal(register(g, 0, 0x20, 4096 - 63), -XEN_ENXIO);
  assert.equal(register(g, 0, 0x20, 4096 - 64 + 4), -XEN_ENXIO);
  assert.equal(register(g, 0, 0x20, 4096), -XEN_EINVAL, 'offset beyond the frame');
  assert.equal(register(g, 0, 0x20, 0x42), -XEN_EINVAL, '4-byte alignment for the 32-bit layout');
  assert.equal(register(g, 0, 0xa0, 0), -XEN_EINVAL, 'not RAM');
  assert.equal(register(g, 0, 1n << 32n, 0), -XEN_EINVAL, 'beyond 4 GiB');
  assert.equal(register(g, 2, 0x20, 0), -XEN_ENOENT);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, 0xa0000), -XEN_EFAULT);
  assert.deepEqual(g.kicks, []);
  assert.equal(register(g, 0, 0x20, 4096 - 64), 0, 'the last slot of a page fits');
});

test('is_up, unused ops, timers only when offered', () => {
  const g = scriptedGuest({ vcpuCount: 2 });
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0), 1);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_is_up, 2, 0), -XEN_ENOENT);
  for (const cmd of [VCPUOP_initialise, VCPUOP_up, VCPUOP_down, VCPUOP_get_runstate_info, VCPUOP_set_singleshot_timer, VCPUOP_stop_periodic_timer, 99]) {
    assert.equal(g.hypercall(HYPERVISOR_vcpu_op, cmd, 0, SCRATCH), -XEN_ENOSYS, `cmd ${cmd}`);
  }
  const calls: string[] = [];
  const timers: VcpuTimers = {
    current: () => 0,
    setSingleshot: (v, ns) => calls.push(`single ${v} ${ns}`),
    stopSingleshot: (v) => calls.push(`stop-single ${v}`),
    setPeriodic: (v, ns) => calls.push(`periodic ${v} ${ns}`),
    stopPeriodic: (v) => calls.push(`stop-periodic ${v}`),
  };
  const t = scriptedGuest({ vcpuCount: 2, timers, now: () => 5_000_000 });
  // vcpu_set_singleshot_timer (32-bit): timeout_abs_ns u64 @0, flags u32 @8.
  t.put([[0, 6_000_000n, 8], [8, VCPU_SSHOTTMR_future, 4]], 12);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, SCRATCH), 0);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 1, SCRATCH), -XEN_EINVAL, 'another vCPU');
  t.put([[0, 4_000_000n, 8], [8, VCPU_SSHOTTMR_future, 4]], 12);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, SCRATCH), -XEN_ETIME);
  t.put([[0, 4_000_000n, 8], [8, 0, 4]], 12);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, SCRATCH), 0, 'past is fine without the flag');
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0, 0), 0);
  t.put([[0, 999_999n, 8]], 8);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, SCRATCH), -XEN_EINVAL, 'under 1 ms');
  t.put([[0, 10_000_000n, 8]], 8);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, SCRATCH), 0);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 1, 0), 0);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, 0xa0000), -XEN_EFAULT);
  assert.deepEqual(calls, ['single 0 6000000', 'single 0 4000000', 'stop-single 0', 'periodic 1 10000000', 'stop-periodic 1']);
});
