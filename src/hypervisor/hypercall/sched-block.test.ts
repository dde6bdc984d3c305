import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_sched_op } from '../../abi/hypercall-numbers.js';
import { SCHEDOP_block, SCHEDOP_poll, SCHEDOP_yield } from '../../abi/sched.js';
import { XEN_EFAULT, XEN_EINVAL } from '../../abi/xen-errno.js';
import type { BlockRequest } from './hypercall-context.js';
import { SCRATCH, scriptedGuest } from './scripted-guest.js';

function rig() {
  const clock = { ns: 50_000 };
  const g = scriptedGuest({ now: () => clock.ns, pvTime: true });
  const blocks: BlockRequest[] = [];
  g.ctx.block = (r) => void blocks.push(r);
  const port = g.xen.events.bindIpi(0);
  /** sched_poll {ports @0, nr_ports @4, timeout u64 @8} with the port list at 0x5000. */
  const poll = (ports: number[], timeout: bigint, nr = ports.length) => {
    ports.forEach((p, i) => g.memory.writeU32(0x5000 + 4 * i, p));
    g.put([[0, 0x5000, 4], [4, nr, 4], [8, timeout, 8]], 16);
    return g.hypercall(HYPERVISOR_sched_op, SCHEDOP_poll, SCRATCH);
  };
  return { g, clock, blocks, port, poll };
}

test('SCHEDOP_poll: asks the Domain to wait for the ports and the timeout, or returns at once when one is pending', () => {
  const { g, blocks, port, poll } = rig();
  assert.equal(poll([port], 90_000n), 0);
  assert.deepEqual(blocks, [{ vcpu: 0, ports: [port], deadlineNs: 90_000 }]);
  assert.equal(poll([port], 0n), 0);
  assert.deepEqual(blocks[1], { vcpu: 0, ports: [port] }, 'no timeout: wait for the port only');
  g.xen.events.send(port);
  assert.equal(poll([port], 90_000n), 0);
  assert.equal(blocks.length, 2, 'already pending: no wait');
});

test('SCHEDOP_poll: a past timeout wakes at once; bad arguments as Xen', () => {
  const { g, blocks, port, poll } = rig();
  assert.equal(poll([port], 10n), 0);
  assert.equal(blocks.length, 0);
  assert.equal(poll([port], 0n, 129), -XEN_EINVAL, 'more than 128 ports');
  assert.equal(poll([1024], 0n), -XEN_EINVAL, 'a port beyond the 2-level limit');
  g.put([[0, 0xfffff000, 4], [4, 1, 4], [8, 0n, 8]], 16);
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_poll, SCRATCH), -XEN_EFAULT, 'unreadable port list');
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_poll, 0xfffff000), -XEN_EFAULT);
  assert.equal(blocks.length, 0);
});

test('SCHEDOP_block waits only when no upcall is pending; yield returns', () => {
  const { g, blocks, port } = rig();
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_yield), 0);
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_block), 0);
  assert.deepEqual(blocks, [{ vcpu: 0, ports: [] }]);
  g.xen.events.send(port); // IPI to ourselves: upcall pending on vCPU 0
  assert.equal(g.xen.sharedInfo.upcallPending(0), true);
  assert.equal(g.hypercall(HYPERVISOR_sched_op, SCHEDOP_block), 0);
  assert.equal(blocks.length, 1, 'an event is pending: block returns at once');
});
