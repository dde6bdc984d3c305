import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_hvm_op, HYPERVISOR_physdev_op } from '../../abi/hypercall-numbers.js';
import {
  HVMOP_flush_tlbs,
  HVMOP_get_param,
  HVMOP_get_time,
  HVMOP_pagetable_dying,
  HVMOP_set_evtchn_upcall_vector,
  HVMOP_set_param,
  HVM_NR_PARAMS,
  HVM_PARAM_ACPI_IOPORTS_LOCATION,
  HVM_PARAM_ALTP2M,
  HVM_PARAM_CALLBACK_IRQ,
  HVM_PARAM_VM86_TSS,
  HVM_PARAM_VM86_TSS_SIZED,
  HVM_PARAM_CONSOLE_EVTCHN,
  HVM_PARAM_CONSOLE_PFN,
  HVM_PARAM_IOREQ_PFN,
  HVM_PARAM_PAE_ENABLED,
  HVM_PARAM_STORE_EVTCHN,
  HVM_PARAM_STORE_PFN,
  HVM_PARAM_TIMER_MODE,
  HVM_PARAM_X87_FIP_WIDTH,
} from '../../abi/hvm-params.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import { XEN_EEXIST, XEN_EFAULT, XEN_EINVAL, XEN_ENOENT, XEN_ENOSYS, XEN_EPERM, XEN_ESRCH } from '../../abi/xen-errno.js';
import type { CallbackVia } from '../xen-domain.js';
import { GUEST_DOMID, SCRATCH, scriptedGuest } from './scripted-guest.js';

type Guest = ReturnType<typeof scriptedGuest>;
// xen_hvm_param: domid u16 @0, index u32 @4, value u64 @8.
const setParam = (g: Guest, index: number, value: bigint, domid = DOMID_SELF) => {
  g.put([[0, domid, 2], [4, index, 4], [8, value, 8]], 16);
  return g.hypercall(HYPERVISOR_hvm_op, HVMOP_set_param, SCRATCH);
};
const getParam = (g: Guest, index: number, domid = DOMID_SELF): bigint | number => {
  g.put([[0, domid, 2], [4, index, 4], [8, 0x1111n, 8]], 16);
  const r = g.hypercall(HYPERVISOR_hvm_op, HVMOP_get_param, SCRATCH);
  return r === 0 ? g.u64(SCRATCH + 8) : r;
};

test('CALLBACK_IRQ: stored, read back, decoded into the via the lead routes', () => {
  const g = scriptedGuest();
  const vias: CallbackVia[] = [];
  g.xen.hvm.onCallbackVia((v) => vias.push(v));
  assert.equal(setParam(g, HVM_PARAM_CALLBACK_IRQ, (2n << 56n) | 0xf3n), 0);
  assert.deepEqual(g.xen.hvm.callbackVia, { type: 'vector', vector: 0xf3 });
  assert.equal(getParam(g, HVM_PARAM_CALLBACK_IRQ), (2n << 56n) | 0xf3n);
  assert.equal(setParam(g, HVM_PARAM_CALLBACK_IRQ, 28n, GUEST_DOMID), 0, 'own domid');
  assert.deepEqual(g.xen.hvm.callbackVia, { type: 'gsi', gsi: 28 });
  // PCI INTx: segment 47:32, bus 31:16, devfn 15:8, pin 1:0.
  assert.equal(setParam(g, HVM_PARAM_CALLBACK_IRQ, (1n << 56n) | (0n << 32n) | (0n << 16n) | (0x18n << 8n) | 0n), 0);
  assert.deepEqual(g.xen.hvm.callbackVia, { type: 'pci-intx', segment: 0, bus: 0, devfn: 0x18, pin: 0 });
  assert.equal(setParam(g, HVM_PARAM_CALLBACK_IRQ, 48n), 0);
  assert.deepEqual(g.xen.hvm.callbackVia, { type: 'none' }, 'beyond the 48 GSIs');
  assert.equal(setParam(g, HVM_PARAM_CALLBACK_IRQ, 3n << 56n), 0);
  assert.deepEqual(g.xen.hvm.callbackVia, { type: 'none' }, 'unknown type');
  assert.equal(setParam(g, HVM_PARAM_CALLBACK_IRQ, 0n), 0);
  assert.deepEqual(g.xen.hvm.callbackVia, { type: 'none' });
  assert.equal(vias.length, 6);
});

test('params: the toolstack sets STORE/CONSOLE, the guest may read them and set only the evtchns', () => {
  const g = scriptedGuest();
  g.xen.hvm.setByToolstack(HVM_PARAM_STORE_PFN, 0xfeffc);
  g.xen.hvm.setByToolstack(HVM_PARAM_STORE_EVTCHN, 1);
  g.xen.hvm.setByToolstack(HVM_PARAM_CONSOLE_PFN, 0xfefff);
  g.xen.hvm.setByToolstack(HVM_PARAM_CONSOLE_EVTCHN, 2);
  assert.equal(getParam(g, HVM_PARAM_STORE_PFN), 0xfeffcn);
  assert.equal(getParam(g, HVM_PARAM_STORE_EVTCHN), 1n);
  assert.equal(getParam(g, HVM_PARAM_CONSOLE_PFN), 0xfefffn);
  assert.equal(getParam(g, HVM_PARAM_CONSOLE_EVTCHN), 2n);
  assert.equal(setParam(g, HVM_PARAM_STORE_PFN, 5n), -XEN_EPERM);
  assert.equal(g.xen.hvm.get(HVM_PARAM_STORE_PFN), 0xfeffcn, 'unchanged');
  assert.equal(setParam(g, HVM_PARAM_CONSOLE_EVTCHN, 9n), 0);
  assert.equal(getParam(g, HVM_PARAM_CONSOLE_EVTCHN), 9n);
  assert.equal(getParam(g, HVM_PARAM_IOREQ_PFN), -XEN_EPERM, 'toolstack-only');
  assert.equal(setParam(g, HVM_PARAM_TIMER_MODE, 1n), -XEN_EPERM);
  assert.equal(getParam(g, HVM_PARAM_PAE_ENABLED), -XEN_EINVAL, 'deprecated');
  assert.equal(setParam(g, HVM_PARAM_PAE_ENABLED, 1n), -XEN_EINVAL);
  assert.equal(getParam(g, HVM_NR_PARAMS), -XEN_EINVAL);
  assert.equal(setParam(g, 0xffffffff, 0n), -XEN_EINVAL);
  assert.equal(setParam(g, HVM_PARAM_X87_FIP_WIDTH, 3n), -XEN_EINVAL);
  assert.equal(setParam(g, HVM_PARAM_X87_FIP_WIDTH, 4n), 0);
  assert.equal(setParam(g, HVM_PARAM_ALTP2M, 0n), -XEN_EEXIST, 'read-only');
  assert.equal(setParam(g, HVM_PARAM_VM86_TSS_SIZED, (64n << 32n) | 0x1000n), -XEN_EINVAL, 'smaller than a TSS');
  assert.equal(setParam(g, HVM_PARAM_VM86_TSS_SIZED, (128n << 32n) | 0x1000n), 0);
  assert.equal(setParam(g, HVM_PARAM_VM86_TSS, 1n << 32n), -XEN_EINVAL);
  const moved: Array<[number, bigint]> = [];
  g.xen.hvm.onParamSet((i, v) => moved.push([i, v]));
  assert.equal(setParam(g, HVM_PARAM_ACPI_IOPORTS_LOCATION, 3n), -XEN_EINVAL, 'only layouts 0 and 1');
  assert.equal(setParam(g, HVM_PARAM_ACPI_IOPORTS_LOCATION, 1n), 0);
  assert.deepEqual(moved, [[HVM_PARAM_ACPI_IOPORTS_LOCATION, 1n]]);
  assert.equal(getParam(g, HVM_PARAM_STORE_PFN, 0), -XEN_EPERM, 'dom0 is not ours');
  assert.equal(setParam(g, HVM_PARAM_CALLBACK_IRQ, 1n, 9), -XEN_ESRCH);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_get_param, 0xa0000), -XEN_EFAULT);
  // get_param whose copy-back fails: the struct sits in ROM-like read-only memory.
  const rom = g.memory.allocateBacking(4096);
  new DataView(g.memory.buffer).setUint16(rom, DOMID_SELF, true);
  new DataView(g.memory.buffer).setUint32(rom + 4, HVM_PARAM_STORE_PFN, true);
  g.memory.mapBacking(0xf0000000, rom, 4096, true);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_get_param, 0xf0000000), -XEN_EFAULT);
});

test('get_time, pagetable_dying, flush_tlbs, unknown ops, physdev_op', () => {
  let now = 123_456_789_012;
  const g = scriptedGuest({ now: () => now });
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_get_time, SCRATCH), 0);
  assert.equal(g.u64(SCRATCH), 123_456_789_012n);
  now += 5;
  g.hypercall(HYPERVISOR_hvm_op, HVMOP_get_time, SCRATCH);
  assert.equal(g.u64(SCRATCH), 123_456_789_017n);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_get_time, 0xa0000), -XEN_EFAULT);
  g.put([[0, DOMID_SELF, 2], [8, 0n, 8]], 16);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_pagetable_dying, SCRATCH), -XEN_ENOSYS);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_flush_tlbs, 0), -XEN_ENOSYS);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, 0x1234, SCRATCH), -XEN_ENOSYS);
  for (const cmd of [0, 1, 2, 3, 12, 13, 14, 15, 20, 25, 9999]) {
    assert.equal(g.hypercall(HYPERVISOR_physdev_op, cmd, SCRATCH), -XEN_ENOSYS, `physdev ${cmd}`);
  }
});

test('set_evtchn_upcall_vector: only when advertised; vector >= 0x10; vCPU must exist', () => {
  const off = scriptedGuest();
  off.put([[0, 0, 4], [4, 0xf3, 1]], 8);
  assert.equal(off.hypercall(HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, SCRATCH), -XEN_ENOSYS);
  const g = scriptedGuest({ perVcpuUpcallVector: true, vcpuCount: 2 });
  g.put([[0, 1, 4], [4, 0xf3, 1]], 8);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, SCRATCH), 0);
  assert.equal(g.xen.hvm.upcallVectors.get(1), 0xf3);
  g.put([[0, 0, 4], [4, 0x0f, 1]], 8);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, SCRATCH), -XEN_EINVAL);
  g.put([[0, 2, 4], [4, 0xf3, 1]], 8);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, SCRATCH), -XEN_ENOENT);
  assert.equal(g.xen.hvm.upcallVectors.size, 1);
});
