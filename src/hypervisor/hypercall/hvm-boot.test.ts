// Linux PV-on-HVM boot, xen-abi.md §18 steps 1-3, as one scripted guest: place
// shared_info, register vCPU 0's vcpu_info, probe FIFO, mask everything, set the
// callback vector, then open a channel to dom0 and check a send from either side.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_event_channel_op, HYPERVISOR_hvm_op, HYPERVISOR_memory_op, HYPERVISOR_vcpu_op } from '../../abi/hypercall-numbers.js';
import { DOMID_SELF, EVTCHNOP_alloc_unbound, EVTCHNOP_init_control, EVTCHNOP_send, EVTCHNOP_unmask } from '../../abi/event-channel.js';
import { XENMAPSPACE_shared_info, XENMEM_add_to_physmap } from '../../abi/memory.js';
import { HVMOP_pagetable_dying, HVMOP_set_param, HVM_PARAM_CALLBACK_IRQ } from '../../abi/hvm-params.js';
import { VCPUOP_register_vcpu_info } from '../../abi/vcpu.js';
import { SHARED_INFO_32, VCPU_INFO_32 } from '../../abi/shared-info.js';
import { XEN_ENOSYS } from '../../abi/xen-errno.js';
import { SCRATCH, scriptedGuest, GUEST_DOMID } from './scripted-guest.js';

test('Linux boot steps 1-3, then an interdomain channel to dom0 delivers both ways', () => {
  const notes: number[] = [];
  const g = scriptedGuest({ vcpuCount: 2, notifyDom0: (p) => notes.push(p) });
  const SHINFO = 0x9e000; // a free low RAM page below the EBDA
  const VCPU0 = 0x31000 + 0x80;

  // 1. setup_arch: add_to_physmap(shared_info) and the pagetable_dying probe.
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_shared_info, 4], [8, 0, 4], [12, SHINFO >>> 12, 4]], 16);
  assert.equal(g.hypercall(HYPERVISOR_memory_op, XENMEM_add_to_physmap, SCRATCH), 0);
  g.put([[0, DOMID_SELF, 2], [8, 0n, 8]], 16);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_pagetable_dying, SCRATCH), -XEN_ENOSYS);

  // 2. smp_prepare_boot_cpu: register_vcpu_info for CPU 0 -> spurious upcall.
  g.put([[0, 0x31n, 8], [8, 0x80, 4], [12, 0, 4]], 16);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, SCRATCH), 0);
  assert.deepEqual(g.kicks, [0]);
  // The guest's upcall handler: clear upcall_pending, take the selector (nothing pending).
  g.memory.writeU8(VCPU0 + VCPU_INFO_32.upcallPending, 0);
  g.memory.writeU32(VCPU0 + VCPU_INFO_32.pendingSel, 0);

  // 3. init_IRQ: FIFO probe fails, mask every port, vector callback.
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_init_control, SCRATCH), -XEN_ENOSYS);
  for (let w = 0; w < 32; w++) g.memory.writeU32(SHINFO + SHARED_INFO_32.evtchnMask + 4 * w, 0xffffffff);
  g.put([[0, DOMID_SELF, 2], [4, HVM_PARAM_CALLBACK_IRQ, 4], [8, (2n << 56n) | 0xf3n, 8]], 16);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_set_param, SCRATCH), 0);
  assert.deepEqual(g.xen.hvm.callbackVia, { type: 'vector', vector: 0xf3 });

  // A frontend's channel: alloc_unbound for dom0, which binds it; the guest unmasks it.
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, 0, 4]], 8);
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, SCRATCH), 0);
  const port = g.memory.readU32(SCRATCH + 4);
  assert.ok(port > 0 && port < 1024);
  const dom0Port = g.xen.dom0.bindInterdomain(GUEST_DOMID, port);
  assert.ok(dom0Port > 0);
  // Xen marks the binder's new port pending (evtchn_bind_interdomain), so dom0 hears once.
  assert.deepEqual(notes.splice(0), [dom0Port]);
  assert.deepEqual(g.kicks, [0], 'the guest is not kicked by the bind');
  g.put([[0, port, 4]], 4);
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_unmask, SCRATCH), 0);

  // dom0 (a backend) sends: pending bit in the guest's shared_info page, selector
  // bit in the registered vcpu_info, upcall pending, one kick on the edge.
  assert.equal(g.xen.dom0.send(dom0Port), 0);
  const word = g.memory.readU32(SHINFO + SHARED_INFO_32.evtchnPending + 4 * (port >>> 5));
  assert.equal(word, 1 << (port & 31), 'exactly the port bit');
  assert.equal(g.memory.readU32(VCPU0 + VCPU_INFO_32.pendingSel), 1 << (port >>> 5), 'exactly the selector bit');
  assert.equal(g.memory.readU8(VCPU0 + VCPU_INFO_32.upcallPending), 1);
  assert.deepEqual(g.kicks, [0, 0]);
  // shared_info's own slot for vCPU 0 is no longer used.
  assert.equal(g.memory.readU32(SHINFO + VCPU_INFO_32.pendingSel), 0);

  // And the guest notifies dom0's end.
  g.put([[0, port, 4]], 4);
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_send, SCRATCH), 0);
  assert.deepEqual(notes, [dom0Port]);
  assert.deepEqual(g.logs, []);
});
