import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import type { VcpuRegisters } from '../vcpu/backend.js';
import { HYPERVISOR_event_channel_op } from '../../abi/hypercall-numbers.js';
import {
  DOMID_SELF,
  EVTCHNOP_alloc_unbound,
  EVTCHNOP_bind_interdomain,
  EVTCHNOP_bind_ipi,
  EVTCHNOP_bind_pirq,
  EVTCHNOP_bind_vcpu,
  EVTCHNOP_bind_virq,
  EVTCHNOP_close,
  EVTCHNOP_expand_array,
  EVTCHNOP_init_control,
  EVTCHNOP_reset,
  EVTCHNOP_send,
  EVTCHNOP_set_priority,
  EVTCHNOP_status,
  EVTCHNOP_unmask,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_virq,
  VIRQ_DEBUG,
} from '../../abi/event-channel.js';
import { XEN_EEXIST, XEN_EFAULT, XEN_EINVAL, XEN_ENOENT, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import { SHARED_INFO_32 } from '../../abi/shared-info.js';
import { SharedInfoPage } from '../event-channel/shared-info-page.js';
import { HostDelivery, TwoLevelDelivery } from '../event-channel/delivery.js';
import { EventChannels } from '../event-channel/event-channels.js';
import { dispatchHypercall } from './dispatch.js';
import type { HypercallContext } from './hypercall-context.js';

const ARG = 0x3000;

function setup() {
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const page = SharedInfoPage.allocate(memory);
  const kicks: number[] = [];
  const notes: number[] = [];
  const domains = new Map<number, EventChannels>();
  const lookupDomain = (id: number) => domains.get(id);
  const dom0 = new EventChannels({ domId: 0, vcpuCount: 1, delivery: new HostDelivery((p) => notes.push(p)), lookupDomain, privileged: true });
  const events = new EventChannels({ domId: 1, vcpuCount: 2, delivery: new TwoLevelDelivery(page, (v) => kicks.push(v)), lookupDomain });
  domains.set(0, dom0);
  domains.set(1, events);
  let regs: VcpuRegisters = { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: 0, eflags: 2 };
  const ctx: HypercallContext = { regs: { get: () => ({ ...regs }), set: (n) => (regs = { ...n }) }, memory, xen: { events } };
  const op = (cmd: number, arg = ARG): number => {
    regs = { ...regs, eax: HYPERVISOR_event_channel_op, ebx: cmd, ecx: arg };
    const r = dispatchHypercall(ctx);
    assert.equal(regs.eax, r >>> 0, 'result in EAX');
    return r;
  };
  const put = (fields: Array<[number, number, 2 | 4]>, size: number) => {
    memory.fill(ARG, size, 0xee);
    for (const [at, v, w] of fields) (w === 2 ? memory.writeU16(ARG + at, v) : memory.writeU32(ARG + at, v));
  };
  const sharedPending = () => new DataView(memory.buffer).getUint32(page.backingOffset + SHARED_INFO_32.evtchnPending, true);
  return { memory, ctx, op, put, dom0, events, kicks, notes, sharedPending };
}

test('alloc_unbound, bind_interdomain by dom0, send, status: structs read and written at Xen offsets', () => {
  const t = setup();
  t.put([[0, DOMID_SELF, 2], [2, 0, 2]], 8);
  assert.equal(t.op(EVTCHNOP_alloc_unbound), 0);
  const port = t.memory.readU32(ARG + 4);
  assert.equal(port, 1);
  assert.equal(t.memory.readU16(ARG), DOMID_SELF, 'IN fields kept');
  const dp = t.dom0.bindInterdomain(1, port);
  t.put([[0, port, 4]], 4);
  assert.equal(t.op(EVTCHNOP_send), 0);
  assert.deepEqual(t.notes, [dp, dp]);
  t.put([[0, DOMID_SELF, 2], [4, port, 4]], 24);
  assert.equal(t.op(EVTCHNOP_status), 0);
  assert.equal(t.memory.readU32(ARG + 8), EVTCHNSTAT_interdomain);
  assert.equal(t.memory.readU32(ARG + 12), 0, 'notify vCPU');
  assert.equal(t.memory.readU16(ARG + 16), 0, 'peer domain');
  assert.equal(t.memory.readU32(ARG + 20), dp, 'peer port');
  t.put([[0, 0, 2], [4, 1, 4]], 24);
  assert.equal(t.op(EVTCHNOP_status), -XEN_EPERM, "a guest may not inspect dom0's ports");
});

test('the guest binds a port dom0 offered: local port returned and raised at once', () => {
  const t = setup();
  const dp = t.dom0.allocUnbound(DOMID_SELF, 1);
  t.put([[0, 0, 2], [4, dp, 4]], 12);
  assert.equal(t.op(EVTCHNOP_bind_interdomain), 0);
  const lp = t.memory.readU32(ARG + 8);
  assert.equal(lp, 1);
  assert.equal(t.sharedPending(), 1 << lp);
  assert.deepEqual(t.kicks, [0]);
  t.put([[0, 0, 2], [4, dp, 4]], 12);
  assert.equal(t.op(EVTCHNOP_bind_interdomain), -XEN_EINVAL, 'already bound');
  assert.equal(t.memory.readU32(ARG + 8), 0xeeeeeeee, 'nothing written on failure');
});

test('bind_virq, bind_ipi, bind_vcpu, unmask, close, reset through the hypercall', () => {
  const t = setup();
  t.put([[0, VIRQ_DEBUG, 4], [4, 1, 4]], 12);
  assert.equal(t.op(EVTCHNOP_bind_virq), 0);
  const vp = t.memory.readU32(ARG + 8);
  t.put([[0, VIRQ_DEBUG, 4], [4, 1, 4]], 12);
  assert.equal(t.op(EVTCHNOP_bind_virq), -XEN_EEXIST);
  t.put([[0, DOMID_SELF, 2], [4, vp, 4]], 24);
  t.op(EVTCHNOP_status);
  assert.deepEqual([t.memory.readU32(ARG + 8), t.memory.readU32(ARG + 12), t.memory.readU32(ARG + 16)], [EVTCHNSTAT_virq, 1, VIRQ_DEBUG]);
  t.put([[0, 7, 4]], 8);
  assert.equal(t.op(EVTCHNOP_bind_ipi), -XEN_ENOENT);
  t.put([[0, 1, 4]], 8);
  assert.equal(t.op(EVTCHNOP_bind_ipi), 0);
  const ip = t.memory.readU32(ARG + 4);
  t.put([[0, ip, 4], [4, 0, 4]], 8);
  assert.equal(t.op(EVTCHNOP_bind_vcpu), -XEN_EINVAL);
  t.put([[0, ip, 4]], 4);
  assert.equal(t.op(EVTCHNOP_unmask), 0);
  t.put([[0, ip, 4]], 4);
  assert.equal(t.op(EVTCHNOP_close), 0);
  t.put([[0, ip, 4]], 4);
  assert.equal(t.op(EVTCHNOP_close), -XEN_EINVAL, 'already closed');
  t.put([[0, DOMID_SELF, 2]], 2);
  assert.equal(t.op(EVTCHNOP_reset), 0);
  assert.equal(t.events.channel(vp)?.state, 0, 'reset freed the VIRQ port');
});

test('FIFO ops and PIRQs are -ENOSYS (Linux then uses 2-level); bad buffers are -EFAULT; no state is -ENOSYS', () => {
  const t = setup();
  for (const cmd of [EVTCHNOP_init_control, EVTCHNOP_expand_array, EVTCHNOP_set_priority, EVTCHNOP_bind_pirq, 15, 0xffffffff]) {
    assert.equal(t.op(cmd), -XEN_ENOSYS, `cmd ${cmd}`);
  }
  for (const cmd of [EVTCHNOP_alloc_unbound, EVTCHNOP_bind_interdomain, EVTCHNOP_bind_virq, EVTCHNOP_close, EVTCHNOP_send, EVTCHNOP_status, EVTCHNOP_bind_ipi, EVTCHNOP_bind_vcpu, EVTCHNOP_unmask, EVTCHNOP_reset]) {
    assert.equal(t.op(cmd, 0xa0000), -XEN_EFAULT, `cmd ${cmd} with an arg in the VGA hole`);
    assert.equal(t.op(cmd, (1 << 20) - 1), -XEN_EFAULT, `cmd ${cmd} straddling the end of RAM`);
  }
  // A bind whose OUT field cannot be written: Xen keeps the port and says -EFAULT.
  t.ctx.memory.writeU32(0xffffc, 0);
  assert.equal(t.op(EVTCHNOP_bind_ipi, 0xffffc), -XEN_EFAULT);
  const noState: HypercallContext = { ...t.ctx, xen: undefined };
  noState.regs.set({ ...noState.regs.get(), eax: HYPERVISOR_event_channel_op, ebx: EVTCHNOP_send, ecx: ARG });
  assert.equal(dispatchHypercall(noState), -XEN_ENOSYS);
});
