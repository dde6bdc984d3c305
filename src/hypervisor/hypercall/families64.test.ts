// sched_op, vcpu_op, hvm_op and multicall from a 64-bit caller: sched_poll's
// 24-byte layout, the runstate handle and its 48-byte area, the 16-byte
// singleshot struct, hvm_op's unsigned long op, and 64-byte multicall entries
// whose arguments are full 64-bit registers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_hvm_op, HYPERVISOR_memory_op, HYPERVISOR_multicall, HYPERVISOR_sched_op, HYPERVISOR_vcpu_op, HYPERVISOR_xen_version } from '../../abi/hypercall-numbers.js';
import { SCHEDOP_poll } from '../../abi/sched.js';
import { VCPUOP_register_runstate_memory_area, VCPUOP_set_singleshot_timer, VCPU_SSHOTTMR_future } from '../../abi/vcpu.js';
import { HVMOP_get_param, HVMOP_set_param, HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN } from '../../abi/hvm-params.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import { XENMAPSPACE_shared_info, XENMEM_add_to_physmap } from '../../abi/memory.js';
import { XENVER_version } from '../../abi/xen-version.js';
import { MULTICALL_ENTRY_64 } from '../../abi/multicall.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS, XEN_ETIME } from '../../abi/xen-errno.js';
import type { VcpuTimers } from '../xen-domain.js';
import type { BlockRequest } from './hypercall-context.js';
import { SCRATCH, scriptedGuest } from './scripted-guest.js';
import { XEN_VERSION_MAJOR, XEN_VERSION_MINOR } from './xen-cpuid-leaves.js';

const DIRECT_MAP = 0xffff_8000_0000_0000n;
const directMap = (l: number) => (l < 0 && l >= -(2 ** 47) ? l + 2 ** 47 : l);

test('64-bit sched_poll: ports handle @0, nr_ports @8, timeout @16 (24 bytes)', () => {
  const clock = { ns: 50_000 };
  const g = scriptedGuest({ width: 8, now: () => clock.ns, pvTime: true });
  g.ctx.translate = directMap;
  const blocks: BlockRequest[] = [];
  g.ctx.block = (r) => void blocks.push(r);
  const port = g.xen.events.bindIpi(0);
  g.memory.writeU32(0x5000, port);
  // A 32-bit read would take nr_ports from @4 (the handle's high half, 0xffff8000) and
  // the timeout from @8 (1 | nr_ports << 32).
  g.put([[0, DIRECT_MAP + 0x5000n, 8], [8, 1, 4], [12, 0, 4], [16, 90_000n, 8]], 24);
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_poll, SCRATCH), 0);
  assert.deepEqual(blocks, [{ vcpu: 0, ports: [port], deadlineNs: 90_000 }]);
  // 24 bytes must be readable.
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_poll, 0xa0000 - 16), -XEN_EFAULT);
  // nr_ports over 128 is -EINVAL; ports up to the 64-bit layout's 4096 are valid.
  g.put([[0, 0x5000n, 8], [8, 129, 4], [16, 0n, 8]], 24);
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_poll, SCRATCH), -XEN_EINVAL);
  g.memory.writeU32(0x5000, 3000);
  g.put([[0, 0x5000n, 8], [8, 1, 4], [16, 0n, 8]], 24);
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_poll, SCRATCH), 0);
  g.memory.writeU32(0x5000, 4096);
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_poll, SCRATCH), -XEN_EINVAL);
});

test('64-bit vcpu_op: runstate handle is all 8 bytes and the area the 48-byte layout; singleshot reads 16 bytes', () => {
  const clock = { ns: 77_000_000 };
  const g = scriptedGuest({ width: 8, now: () => clock.ns, pvTime: true });
  g.ctx.translate = directMap;
  const area = 0x7000 - 24; // crosses a page
  g.memory.write(area, new Uint8Array(56).fill(0xaa));
  g.put([[0, DIRECT_MAP + BigInt(area), 8]], 8);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, SCRATCH), 0);
  const dv = new DataView(g.memory.buffer);
  assert.equal(dv.getInt32(area, true), 0, 'RUNSTATE_running');
  assert.equal(dv.getUint32(area + 4, true), 0, 'the whole struct is copied, padding too');
  assert.equal(dv.getBigUint64(area + 8, true), 0n, 'state_entry_time @8');
  assert.equal(dv.getBigUint64(area + 16, true), 77_000_000n, 'time[running] @16');
  assert.equal(dv.getBigUint64(area + 24, true) + dv.getBigUint64(area + 40, true), 0n, 'no steal');
  assert.equal(g.memory.readU8(area + 48), 0xaa, 'nothing past 48 bytes');
  // A non-canonical handle: Xen answers 0 and writes nothing.
  g.memory.fill(0x6000, 48, 0xbb);
  g.put([[0, 0x0000_8000_0000_6000n, 8]], 8);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, SCRATCH), 0);
  assert.equal(g.memory.readU8(0x6000), 0xbb);

  const calls: string[] = [];
  const timers: VcpuTimers = { current: () => 0, setSingleshot: (v, ns) => calls.push(`single ${v} ${ns}`), stopSingleshot: () => {}, setPeriodic: () => {}, stopPeriodic: () => {} };
  const t = scriptedGuest({ width: 8, timers, now: () => 5_000_000 });
  t.put([[0, 4_000_000n, 8], [8, VCPU_SSHOTTMR_future, 4], [12, 0, 4]], 16);
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, SCRATCH), -XEN_ETIME);
  // 16 bytes are read for a 64-bit caller: 12 readable bytes before the VGA hole are not enough.
  t.memory.write(0xa0000 - 12, new Uint8Array(12));
  assert.equal(t.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, 0xa0000 - 12), -XEN_EFAULT);
  const t32 = scriptedGuest({ timers, now: () => 5_000_000 });
  assert.equal(t32.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, 0xa0000 - 12), 0, 'a 32-bit caller reads 12');
  assert.deepEqual(calls, ['single 0 0']);
});

test('64-bit hvm_op: op is an unsigned long; CALLBACK_IRQ latches the caller width', () => {
  const g = scriptedGuest({ width: 8, latch: 'none' });
  g.xen.hvm.setByToolstack(HVM_PARAM_STORE_PFN, 0xfeffc);
  g.put([[0, DOMID_SELF, 2], [4, HVM_PARAM_STORE_PFN, 4], [8, 0n, 8]], 16);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_get_param, SCRATCH), 0);
  assert.equal(g.u64(SCRATCH + 8), 0xfeffcn);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, (1n << 32n) | BigInt(HVMOP_get_param), SCRATCH), -XEN_ENOSYS);
  // The domain starts 64-bit (Xen's default); a 32-bit guest's CALLBACK_IRQ makes it 32-bit, a 64-bit one's 64-bit again.
  const g32 = scriptedGuest({ latch: 'none' });
  assert.equal(g32.xen.guestWidth(), 8);
  g32.put([[0, DOMID_SELF, 2], [4, HVM_PARAM_CALLBACK_IRQ, 4], [8, (2n << 56n) | 0xf3n, 8]], 16);
  assert.equal(g32.hypercall(HYPERVISOR_hvm_op, HVMOP_set_param, SCRATCH), 0);
  assert.equal(g32.xen.guestWidth(), 4);
  g.put([[0, DOMID_SELF, 2], [4, HVM_PARAM_CALLBACK_IRQ, 4], [8, (2n << 56n) | 0xf3n, 8]], 16);
  g.xen.latchGuestWidth(4);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_set_param, SCRATCH), 0);
  assert.equal(g.xen.guestWidth(), 8);
  // A refused write latches nothing.
  g.xen.latchGuestWidth(4);
  g.put([[0, 7, 2], [4, HVM_PARAM_CALLBACK_IRQ, 4], [8, 0n, 8]], 16);
  assert.ok(g.hypercall(HYPERVISOR_hvm_op, HVMOP_set_param, SCRATCH) < 0);
  assert.equal(g.xen.guestWidth(), 4);
});

test('64-bit multicall: 64-byte entries, 64-bit arguments (upper-half handles), results sign-extended', () => {
  const g = scriptedGuest({ width: 8 });
  g.ctx.translate = directMap;
  const LIST = 0x6000;
  const dv = new DataView(g.memory.buffer);
  const entry = (i: number, op: bigint, args: bigint[]) => {
    const base = LIST + i * MULTICALL_ENTRY_64.size;
    dv.setBigUint64(base, op, true);
    dv.setBigUint64(base + 8, 0xdeadn, true);
    args.forEach((a, k) => dv.setBigUint64(base + 16 + k * 8, a, true));
  };
  // add_to_physmap (64-bit layout) through an upper-half pointer inside a multicall entry.
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_shared_info, 4], [8, 0n, 8], [16, 0x80n, 8]], 24);
  entry(0, BigInt(HYPERVISOR_memory_op), [BigInt(XENMEM_add_to_physmap), DIRECT_MAP + BigInt(SCRATCH)]);
  entry(1, BigInt(HYPERVISOR_xen_version), [BigInt(XENVER_version), 0n]);
  entry(2, 1n << 40n, []);
  entry(3, BigInt(HYPERVISOR_multicall), [0n, 0n]);
  assert.equal(g.hypercall(HYPERVISOR_multicall, DIRECT_MAP + BigInt(LIST), 4), 0);
  assert.equal(dv.getBigInt64(LIST + 8, true), 0n);
  assert.equal(g.xen.physmap.sharedInfoGfn, 0x80);
  assert.equal(dv.getBigUint64(LIST + 64 + 8, true), BigInt((XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR));
  assert.equal(dv.getBigInt64(LIST + 128 + 8, true), BigInt(-XEN_ENOSYS), 'an op beyond the table');
  assert.equal(dv.getBigInt64(LIST + 192 + 8, true), BigInt(-XEN_EINVAL), 'no nesting');
  // call_list is a 64-bit handle: a non-canonical one faults.
  assert.equal(g.hypercall(HYPERVISOR_multicall, 0x0000_8000_0000_6000n, 1), -XEN_EFAULT);
});

test('XENVER_capabilities lists hvm-3.0-x86_64 only for a domain whose CPU runs long mode', () => {
  const caps = (longMode: boolean): string => {
    const g = scriptedGuest({ longMode });
    assert.equal(g.hypercall(17, 3, SCRATCH), 0);
    const bytes = g.memory.read(SCRATCH, 1024);
    return new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
  };
  assert.equal(caps(true), 'hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64');
  assert.equal(caps(false), 'hvm-3.0-x86_32 hvm-3.0-x86_32p');
});
