import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_event_channel_op, HYPERVISOR_multicall, HYPERVISOR_xen_version } from '../../abi/hypercall-numbers.js';
import { MULTICALL_ENTRY_64 } from '../../abi/multicall.js';
import { EVTCHNOP_alloc_unbound } from '../../abi/event-channel.js';
import { XENVER_version } from '../../abi/xen-version.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS } from '../../abi/xen-errno.js';
import { GuestHandleAccess } from './guest-handle.js';
import { HYPERCALL_TABLE } from './dispatch.js';
import { MULTICALL_MAX_CALLS, runMulticall } from './multicall.js';
import { scriptedGuest } from './scripted-guest.js';
import { XEN_VERSION_MAJOR, XEN_VERSION_MINOR } from './xen-cpuid-leaves.js';

const LIST = 0x8000;
const VERSION = ((XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR) >>> 0;

/** Write 32-bit entries [op, ...args] at `at`, result fields preset to 0xdeadbeef. */
function entries32(g: ReturnType<typeof scriptedGuest>, at: number, list: number[][]): void {
  list.forEach((e, i) => {
    const base = at + i * 32;
    g.memory.writeU32(base, e[0]);
    g.memory.writeU32(base + 4, 0xdeadbeef);
    for (let a = 0; a < 6; a++) g.memory.writeU32(base + 8 + a * 4, e[a + 1] ?? 0);
  });
}
const result32 = (g: ReturnType<typeof scriptedGuest>, at: number, i: number) => g.memory.readU32(at + i * 32 + 4) | 0;

test('multicall: each entry runs through the hypercall table and gets its own result', () => {
  const g = scriptedGuest();
  // alloc_unbound {dom @0, remote_dom @2, port @4} at 0x9000.
  g.memory.write(0x9000, new Uint8Array([0xf0, 0x7f, 0, 0, 0, 0, 0, 0]));
  entries32(g, LIST, [
    [HYPERVISOR_xen_version, XENVER_version, 0],
    [99],
    [HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, 0x9000],
    [HYPERVISOR_multicall, LIST, 1],
    [HYPERVISOR_xen_version, XENVER_version, 0],
  ]);
  assert.equal(g.hypercall(HYPERVISOR_multicall, LIST, 5), 0);
  assert.equal(result32(g, LIST, 0) >>> 0, VERSION, 'xen_version result');
  assert.equal(result32(g, LIST, 1), -XEN_ENOSYS, 'unknown op');
  assert.equal(result32(g, LIST, 2), 0, 'alloc_unbound succeeded');
  assert.equal(g.memory.readU32(0x9004), 1, 'its port was written where the entry pointed');
  assert.equal(g.xen.events.channel(1)?.remoteDom, 0);
  assert.equal(result32(g, LIST, 3), -XEN_EINVAL, 'a nested multicall is refused in its entry');
  assert.equal(result32(g, LIST, 4) >>> 0, VERSION, 'the batch goes on after the nested one');
});

test('multicall: an unreadable entry stops the batch with -EFAULT; earlier results stay written', () => {
  const g = scriptedGuest(); // 1 MiB of RAM
  const at = 0x100000 - 32;
  entries32(g, at, [[HYPERVISOR_xen_version, XENVER_version, 0]]);
  assert.equal(g.hypercall(HYPERVISOR_multicall, at, 2), -XEN_EFAULT);
  assert.equal(result32(g, at, 0) >>> 0, VERSION);
  assert.equal(g.hypercall(HYPERVISOR_multicall, 0xfffff000, 1), -XEN_EFAULT);
  assert.equal(g.hypercall(HYPERVISOR_multicall, 0xfffff000, 0), 0, 'nothing to read, nothing to fault');
});

test('multicall: more than MULTICALL_MAX_CALLS entries is refused before any runs', () => {
  const g = scriptedGuest();
  entries32(g, LIST, [[HYPERVISOR_xen_version, XENVER_version, 0]]);
  assert.equal(g.hypercall(HYPERVISOR_multicall, LIST, MULTICALL_MAX_CALLS + 1), -XEN_EINVAL);
  assert.equal(g.memory.readU32(LIST + 4), 0xdeadbeef, 'first entry untouched');
  assert.equal(g.hypercall(HYPERVISOR_multicall, LIST, 0xffffffff), -XEN_EINVAL);
});

test('multicall: the 64-bit layout (8-byte fields, sign-extended results)', () => {
  const g = scriptedGuest();
  const dv = new DataView(g.memory.buffer);
  const put = (i: number, op: bigint, args: bigint[]) => {
    const base = LIST + i * MULTICALL_ENTRY_64.size;
    dv.setBigUint64(base, op, true);
    dv.setBigUint64(base + 8, 0xdeadn, true);
    args.forEach((a, k) => dv.setBigUint64(base + 16 + k * 8, a, true));
  };
  put(0, BigInt(HYPERVISOR_xen_version), [BigInt(XENVER_version), 0n]);
  put(1, 1n << 40n, []);
  put(2, BigInt(HYPERVISOR_xen_version), [BigInt(XENVER_version), 1n << 33n]);
  const call = {
    op: HYPERVISOR_multicall,
    args: [LIST, 3, 0, 0, 0] as [number, number, number, number, number],
    guest: new GuestHandleAccess(g.memory),
    domain: { privileged: false, handle: new Uint8Array(16) },
    ctx: g.ctx,
    table: HYPERCALL_TABLE,
  };
  assert.equal(runMulticall(call, MULTICALL_ENTRY_64), 0);
  assert.equal(dv.getBigUint64(LIST + 8, true), BigInt(VERSION));
  assert.equal(dv.getBigInt64(LIST + 64 + 8, true), BigInt(-XEN_ENOSYS), 'an op beyond 32 bits does not exist');
  assert.equal(dv.getBigInt64(LIST + 128 + 8, true), BigInt(-XEN_EFAULT), 'an argument no 32-bit handle can hold');
});
