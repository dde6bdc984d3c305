// A 32-bit Linux HVM guest on a domain that starts with Xen's default 64-bit
// shared_info (xen-abi.md §4.1) and never writes the hypercall-page MSR (Linux
// since "x86/xen: remove hypercall page"): it latches 32-bit only when it sets
// HVM_PARAM_CALLBACK_IRQ. An event dom0 raised before that is not lost: Linux's
// unmask of a pending port calls EVTCHNOP_unmask, which re-delivers it through
// the 32-bit selector.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_event_channel_op, HYPERVISOR_hvm_op, HYPERVISOR_memory_op, HYPERVISOR_vcpu_op } from '../../abi/hypercall-numbers.js';
import { DOMID_SELF, EVTCHNOP_unmask } from '../../abi/event-channel.js';
import { XENMAPSPACE_shared_info, XENMEM_add_to_physmap } from '../../abi/memory.js';
import { HVMOP_set_param, HVM_PARAM_CALLBACK_IRQ } from '../../abi/hvm-params.js';
import { VCPUOP_register_vcpu_info } from '../../abi/vcpu.js';
import { SHARED_INFO_32, VCPU_INFO_32 } from '../../abi/shared-info.js';
import { GUEST_DOMID, SCRATCH, scriptedGuest } from './scripted-guest.js';

test('32-bit guest before its latch: an event raised early is re-delivered by EVTCHNOP_unmask after CALLBACK_IRQ', () => {
  const g = scriptedGuest({ latch: 'none', utcMs: () => 1_700_000_000_000 });
  assert.equal(g.xen.guestWidth(), 8, "Xen's default");
  // Toolstack: the store channel, then dom0's backend kicks it before the guest is up.
  const guestPort = g.xen.dom0.allocUnbound(GUEST_DOMID, 0);
  const dom0Port = g.xen.dom0.bindInterdomain(GUEST_DOMID, guestPort);
  assert.equal(g.xen.dom0.send(dom0Port), 0);
  assert.equal(g.xen.events.delivery.isPending(guestPort), true);

  // setup_arch: map shared_info; smp_prepare_boot_cpu: register vcpu_info (copied, spurious upcall).
  const SHINFO = 0x9e000;
  const VCPU0 = 0x31000 + 0x80;
  g.put([[0, DOMID_SELF, 2], [2, 0, 2], [4, XENMAPSPACE_shared_info, 4], [8, 0, 4], [12, SHINFO >>> 12, 4]], 16);
  assert.equal(g.hypercall(HYPERVISOR_memory_op, XENMEM_add_to_physmap, SCRATCH), 0);
  assert.equal(g.memory.readU32(SHINFO + SHARED_INFO_32.evtchnPending + 4 * (guestPort >>> 5)) & (1 << (guestPort & 31)), 1 << (guestPort & 31), 'pending bits sit at the same place in both layouts');
  g.put([[0, 0x31n, 8], [8, 0x80, 4], [12, 0, 4]], 16);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, SCRATCH), 0);
  // The 32-bit handler: clear upcall_pending, take its (32-bit) selector: nothing there.
  g.memory.writeU8(VCPU0 + VCPU_INFO_32.upcallPending, 0);
  assert.equal(g.memory.readU32(VCPU0 + VCPU_INFO_32.pendingSel), 0, 'the early selector bit went to the 64-bit slot');
  // init_IRQ: mask every port (32-bit layout), then the callback vector: the latch.
  for (let w = 0; w < 32; w++) g.memory.writeU32(SHINFO + SHARED_INFO_32.evtchnMask + 4 * w, 0xffffffff);
  g.put([[0, DOMID_SELF, 2], [4, HVM_PARAM_CALLBACK_IRQ, 4], [8, (2n << 56n) | 0xf3n, 8]], 16);
  assert.equal(g.hypercall(HYPERVISOR_hvm_op, HVMOP_set_param, SCRATCH), 0);
  assert.equal(g.xen.guestWidth(), 4);
  assert.equal(g.memory.readU32(SHINFO + SHARED_INFO_32.wcSec), 1_700_000_000, 'the wallclock republished where a 32-bit guest reads it');
  const kicksBefore = g.kicks.length;

  // xenbus binds the store port: Linux's unmask finds it pending and asks Xen.
  g.put([[0, guestPort, 4]], 4);
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_unmask, SCRATCH), 0);
  assert.equal(g.memory.readU32(VCPU0 + VCPU_INFO_32.pendingSel), 1 << (guestPort >>> 5), 'delivered through the 32-bit selector');
  assert.equal(g.memory.readU8(VCPU0 + VCPU_INFO_32.upcallPending), 1);
  assert.equal(g.kicks.length, kicksBefore + 1);
});
