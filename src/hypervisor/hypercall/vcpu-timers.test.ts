import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_event_channel_op, HYPERVISOR_vcpu_op } from '../../abi/hypercall-numbers.js';
import { EVTCHNOP_bind_virq, VIRQ_TIMER } from '../../abi/event-channel.js';
import {
  VCPUOP_register_runstate_memory_area,
  VCPUOP_set_periodic_timer,
  VCPUOP_set_singleshot_timer,
  VCPUOP_stop_periodic_timer,
  VCPUOP_stop_singleshot_timer,
  VCPU_SSHOTTMR_future,
} from '../../abi/vcpu.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ETIME } from '../../abi/xen-errno.js';
import { SCRATCH, scriptedGuest } from './scripted-guest.js';
import { XenVcpuTimers } from './vcpu-timers.js';

function pvGuest() {
  const clock = { ns: 1_000_000 };
  const g = scriptedGuest({ vcpuCount: 1, now: () => clock.ns, pvTime: true, callbackVector: true });
  // bind_virq {virq @0, vcpu @4, port @8 OUT}
  g.put([[0, VIRQ_TIMER, 4], [4, 0, 4], [8, 0, 4]], 12, 0x6000);
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, 0x6000), 0);
  const port = g.memory.readU32(0x6008);
  const singleshot = (deadline: bigint, flags: number) => {
    g.put([[0, deadline, 8], [8, flags, 4]], 12);
    return g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, SCRATCH);
  };
  return { g, clock, port, singleshot };
}

test('singleshot timer: VIRQ_TIMER on the bound port when due, once; the upcall kicks vCPU 0', () => {
  const { g, clock, port, singleshot } = pvGuest();
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0), 0, 'Linux xen_time_init needs this to succeed');
  assert.equal(singleshot(3_000_000n, VCPU_SSHOTTMR_future), 0);
  assert.equal(g.xen.nextTimerDeadlineNs(), 3_000_000);
  clock.ns = 2_999_999;
  g.xen.runTimers(clock.ns);
  assert.equal(g.xen.sharedInfo.isPending(port), false, 'not yet');
  clock.ns = 3_000_000;
  g.kicks.length = 0;
  g.xen.runTimers(clock.ns);
  assert.equal(g.xen.sharedInfo.isPending(port), true, 'VIRQ_TIMER pending');
  assert.equal(g.xen.sharedInfo.upcallPending(0), true);
  assert.deepEqual(g.kicks, [0]);
  assert.equal(g.xen.nextTimerDeadlineNs(), Infinity, 'a single shot');
  // The time info was refreshed at the event, as Xen does when it sends the timer event.
  assert.equal(new DataView(g.memory.buffer).getBigUint64(g.xen.sharedInfo.backingOffset + 32 + 16, true), 3_000_000n);
});

test('singleshot timer: a past deadline is -ETIME with VCPU_SSHOTTMR_future, else fires at once; stop cancels', () => {
  const { g, clock, port, singleshot } = pvGuest();
  clock.ns = 10_000_000;
  assert.equal(singleshot(9_000_000n, VCPU_SSHOTTMR_future), -XEN_ETIME);
  assert.equal(g.xen.nextTimerDeadlineNs(), Infinity, 'nothing armed');
  assert.equal(singleshot(9_000_000n, 0), 0);
  g.xen.runTimers(clock.ns);
  assert.equal(g.xen.sharedInfo.isPending(port), true);
  g.xen.sharedInfo.clearPending(port);
  assert.equal(singleshot(20_000_000n, 0), 0);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0, 0), 0);
  g.xen.runTimers(30_000_000);
  assert.equal(g.xen.sharedInfo.isPending(port), false, 'stopped timers never fire');
  assert.equal(singleshot(0xffffffffffffffffn, 0), 0, 'the far future');
  assert.equal(g.xen.nextTimerDeadlineNs() > 1e18, true);
});

test('periodic timer: ticks every period, missed periods coalesce, stop ends it; bounds checked', () => {
  const { g, clock, port } = pvGuest();
  g.put([[0, 10_000_000n, 8]], 8);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, SCRATCH), 0);
  assert.equal(g.xen.nextTimerDeadlineNs(), 11_000_000);
  let events = 0;
  const timers = g.xen.timers;
  for (clock.ns = 1_000_000; clock.ns <= 51_000_000; clock.ns += 1_000_000) {
    g.xen.runTimers(clock.ns);
    if (g.xen.sharedInfo.isPending(port)) {
      events++;
      g.xen.sharedInfo.clearPending(port);
    }
  }
  assert.equal(events, 5, 'ticks at 11, 21, 31, 41, 51 ms');
  clock.ns = 200_000_000;
  g.xen.runTimers(clock.ns);
  assert.equal(timers.state(0)?.periodicNext, 210_000_000, 'one tick for many missed periods, re-armed from now');
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0), 0);
  assert.equal(g.xen.nextTimerDeadlineNs(), Infinity);
  g.put([[0, 999_999n, 8]], 8);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, SCRATCH), -XEN_EINVAL);
  g.put([[0, 1n << 63n, 8]], 8);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, SCRATCH), -XEN_EINVAL, 'beyond STIME_DELTA_MAX');
});

test('a timer without a bound VIRQ_TIMER port is dropped, as Xen drops an unbound VIRQ', () => {
  const clock = { ns: 0 };
  const g = scriptedGuest({ now: () => clock.ns, pvTime: true });
  g.put([[0, 5n, 8], [8, 0, 4]], 12);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, SCRATCH), 0);
  g.xen.runTimers(10);
  assert.deepEqual(g.kicks, []);
  assert.equal(g.xen.nextTimerDeadlineNs(), Infinity);
});

test('runstate area: registered at a guest address, says running, steal 0; a bad area still answers 0', () => {
  const { g, clock } = pvGuest();
  clock.ns = 77_000_000;
  g.put([[0, 0x7000 - 20, 4], [4, 0, 4]], 8);
  g.memory.write(0x7000 - 20, new Uint8Array(44).fill(0xaa));
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, SCRATCH), 0);
  const dv = new DataView(g.memory.buffer);
  const base = 0x7000 - 20; // crosses a page: written in two pieces
  assert.equal(dv.getInt32(base, true), 0, 'RUNSTATE_running');
  assert.equal(dv.getBigUint64(base + 4, true), 0n, 'state_entry_time');
  assert.equal(dv.getBigUint64(base + 12, true), 77_000_000n, 'time[running]');
  assert.equal(dv.getBigUint64(base + 20, true) + dv.getBigUint64(base + 36, true), 0n, 'runnable + offline = steal = 0');
  g.put([[0, 0xfffff000, 4], [4, 0, 4]], 8);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, SCRATCH), 0, 'Xen answers 0 and writes nothing');
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, 0xfffff000), -XEN_EFAULT);
});

test('XenVcpuTimers: save/restore keeps deadlines; bad records fall back to stopped', () => {
  const fired: number[] = [];
  const a = new XenVcpuTimers(2, () => 100, (v) => fired.push(v));
  a.setSingleshot(1, 500);
  a.setPeriodic(0, 1_000_000);
  const rec = JSON.parse(JSON.stringify(a.save()));
  const b = new XenVcpuTimers(2, () => 100, (v) => fired.push(v));
  b.restore(rec);
  assert.deepEqual(b.save(), a.save());
  assert.equal(b.nextDeadlineNs(), 500);
  b.run(1_000_100);
  assert.deepEqual(fired.sort(), [0, 1]);
  b.restore({ version: 1, vcpus: [{ singleshot: -5, period: Number.NaN, periodicNext: 0 }] });
  assert.equal(b.state(0)?.singleshot, 0);
  assert.equal(b.state(0)?.period, 0);
  assert.equal(b.state(1)?.singleshot, null);
});
