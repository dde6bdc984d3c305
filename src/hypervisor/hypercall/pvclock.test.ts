import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_vcpu_op, HYPERVISOR_xen_version } from '../../abi/hypercall-numbers.js';
import { SHARED_INFO_32, VCPU_INFO_32, VCPU_TIME_INFO } from '../../abi/shared-info.js';
import { VCPUOP_register_vcpu_info } from '../../abi/vcpu.js';
import { XENFEAT_hvm_callback_vector, XENFEAT_hvm_safe_pvclock, XENVER_get_features } from '../../abi/xen-version.js';
import { GuestMemory } from '../memory/guest-memory.js';
import { SharedInfoPage } from '../event-channel/shared-info-page.js';
import { PvClock, pvclockRead } from './pvclock.js';
import { SCRATCH, scriptedGuest } from './scripted-guest.js';

/** The vcpu_time_info at byte offset `at` of memory.bytes. */
function timeInfo(memory: GuestMemory, at: number) {
  const dv = new DataView(memory.buffer);
  const t = at + VCPU_INFO_32.time;
  return {
    version: dv.getUint32(t + VCPU_TIME_INFO.version, true),
    tscTimestamp: dv.getBigUint64(t + VCPU_TIME_INFO.tscTimestamp, true),
    systemTime: dv.getBigUint64(t + VCPU_TIME_INFO.systemTime, true),
    mul: dv.getUint32(t + VCPU_TIME_INFO.tscToSystemMul, true),
    shift: dv.getInt8(t + VCPU_TIME_INFO.tscShift),
    flags: dv.getUint8(t + VCPU_TIME_INFO.flags),
  };
}

function rig(opts: { tscHz?: number; readTsc?: () => bigint } = {}) {
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const page = SharedInfoPage.allocate(memory);
  const clock = { ns: 5_000_123 };
  const pv = new PvClock({ page, vcpuCount: 2, now: () => clock.ns, utcMs: () => 1_700_000_000_123.5, ...opts });
  return { memory, page, clock, pv, slot: (v: number) => page.backingOffset + SHARED_INFO_32.vcpuInfo + v * 64 };
}

test('pvclock: 1 GHz TSC from the domain clock is published exactly; reads between updates are exact and monotonic', () => {
  const { memory, clock, pv, slot } = rig();
  pv.update(0);
  const t0 = timeInfo(memory, slot(0));
  assert.equal(t0.version % 2, 0, 'version even after the update');
  assert.equal(t0.tscTimestamp, 5_000_123n);
  assert.equal(t0.systemTime, 5_000_123n);
  assert.equal(t0.mul, 0x80000000, '1 GHz: mul 2^31 with shift 1 is the identity');
  assert.equal(t0.shift, 1);
  assert.equal(t0.flags, 0);
  // The guest reads its TSC (= clock ns on cpu/emu) while updates happen at random points.
  let last = 0n;
  let version = t0.version;
  for (let i = 0; i < 2000; i++) {
    clock.ns += 1 + ((i * 7919) % 3_000_000);
    if (i % 13 === 0) {
      pv.update(0);
      const v = timeInfo(memory, slot(0)).version;
      assert.equal(v, version + 2, 'each update advances the version by two (odd while writing)');
      version = v;
    }
    const ns = pvclockRead(timeInfo(memory, slot(0)), BigInt(Math.floor(clock.ns)));
    assert.equal(ns, BigInt(Math.floor(clock.ns)), `read ${i} is the domain clock`);
    assert.ok(ns >= last, 'monotonic');
    last = ns;
  }
  assert.equal(timeInfo(memory, slot(1)).version, 0, 'vCPU 1 untouched until updated');
});

test('pvclock: another TSC frequency and reader scale to nanoseconds', () => {
  let tsc = 123_456_789n;
  const { memory, pv, slot } = rig({ tscHz: 2_500_000_000, readTsc: () => tsc });
  pv.update(1);
  const t = timeInfo(memory, slot(1));
  assert.equal(t.tscTimestamp, tsc);
  tsc += 2_500_000_000n; // one second of TSC
  const ns = pvclockRead(t, tsc);
  assert.ok(ns - t.systemTime >= 999_999_998n && ns - t.systemTime <= 1_000_000_000n, `${ns - t.systemTime}`);
  const slow = rig({ tscHz: 300_000_000, readTsc: () => 0n });
  slow.pv.update(0);
  const s = timeInfo(slow.memory, slow.slot(0));
  assert.ok(Math.abs(Number(pvclockRead(s, 300_000_000n) - s.systemTime) - 1e9) <= 4, 'negative-shift side: 300 MHz');
});

test('pvclock: wallclock + system time = host UTC', () => {
  const { pv, clock } = rig();
  clock.ns = 3_000_000_007;
  pv.updateWallclock();
  const utcNs = 1_700_000_000_123n * 1_000_000n + 500_000n;
  assert.equal(pv.wallclockNs() + 3_000_000_007n, utcNs);
});

test('pvclock: shared_info slot and the registered vcpu_info both carry time; features advertise the PV clock', () => {
  let now = 7_000_000;
  const g = scriptedGuest({ vcpuCount: 1, now: () => now, pvTime: true, callbackVector: true });
  const slot = g.xen.sharedInfo.backingOffset;
  assert.equal(timeInfo(g.memory, slot).systemTime, 7_000_000n, 'published at creation');
  now = 9_000_000;
  g.put([[0, 0x20, 8], [8, 0x40, 4], [12, 0, 4]], 16);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, SCRATCH), 0);
  assert.equal(timeInfo(g.memory, 0x20040).systemTime, 9_000_000n, 'registered area refreshed at registration');
  now = 12_000_000;
  g.xen.clock.update(0);
  assert.equal(timeInfo(g.memory, 0x20040).systemTime, 12_000_000n);
  assert.equal(timeInfo(g.memory, slot).systemTime, 12_000_000n);
  // Periodic refresh: runTimers republishes once a second of system time has passed.
  now = 1_500_000_000;
  g.xen.runTimers(now);
  assert.equal(timeInfo(g.memory, 0x20040).systemTime, 1_500_000_000n);
  g.put([[0, 0, 4], [4, 0, 4]], 8);
  assert.equal(g.hypercall(HYPERVISOR_xen_version, XENVER_get_features, SCRATCH), 0);
  const submap = g.memory.readU32(SCRATCH + 4);
  assert.ok(submap & (1 << XENFEAT_hvm_callback_vector) && submap & (1 << XENFEAT_hvm_safe_pvclock));
  const plain = scriptedGuest();
  plain.put([[0, 0, 4], [4, 0, 4]], 8);
  assert.equal(plain.hypercall(HYPERVISOR_xen_version, XENVER_get_features, SCRATCH), 0);
  assert.equal(plain.memory.readU32(SCRATCH + 4) & ((1 << XENFEAT_hvm_callback_vector) | (1 << XENFEAT_hvm_safe_pvclock)), 0, 'not without the options');
});
