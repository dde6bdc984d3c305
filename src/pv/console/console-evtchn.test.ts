// The console wired the way the toolstack wires it: a guest port offered to dom0
// (HVM_PARAM_CONSOLE_EVTCHN), dom0's end bound interdomain, the guest's
// EVTCHNOP_send reaching the backend and the backend's notify coming back as a
// pending bit and an upcall in the guest's shared_info.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { SHARED_INFO_32, VCPU_INFO_32 } from '../../abi/shared-info.js';
import { DOMID_SELF, EVTCHNSTAT_interdomain } from '../../abi/event-channel.js';
import { SharedInfoPage } from '../../hypervisor/event-channel/shared-info-page.js';
import { HostDelivery, TwoLevelDelivery } from '../../hypervisor/event-channel/delivery.js';
import { EventChannels } from '../../hypervisor/event-channel/event-channels.js';
import { PvConsoleBackend } from './backend.js';
import { XENCONS_IN, XENCONS_IN_PROD, XENCONS_OUT, XENCONS_OUT_CONS, XENCONS_OUT_PROD } from './ring-layout.js';

const GUEST = 3;
const CONSOLE_GFN = 0xfe; // any RAM frame the e820 does not hand out works (xen-abi.md §8)
const BASE = CONSOLE_GFN * 4096;
const text = (s: string) => new TextEncoder().encode(s);

test('guest send → backend drains the ring → notify raises the guest console port', () => {
  const memory = new GuestMemory({ ramBytes: 1 << 20, romBytes: 64 << 10 });
  const shared = SharedInfoPage.allocate(memory);
  const kicks: number[] = [];
  const domains = new Map<number, EventChannels>();
  const lookupDomain = (d: number) => domains.get(d);
  const dom0Raised: number[] = [];
  let backend: PvConsoleBackend | undefined;
  let dom0Port = -1;
  const dom0 = new EventChannels({
    domId: 0,
    vcpuCount: 1,
    privileged: true,
    globalVirqHandler: true,
    lookupDomain,
    delivery: new HostDelivery((port) => {
      dom0Raised.push(port);
      if (port === dom0Port) backend?.process();
    }),
  });
  const guest = new EventChannels({ domId: GUEST, vcpuCount: 1, lookupDomain, delivery: new TwoLevelDelivery(shared, (v) => kicks.push(v)) });
  domains.set(0, dom0);
  domains.set(GUEST, guest);

  // Toolstack: the guest's console port (HVM_PARAM_CONSOLE_EVTCHN) and dom0's end of it.
  const guestPort = dom0.allocUnbound(GUEST, 0);
  assert.ok(guestPort > 0);
  dom0Port = dom0.bindInterdomain(GUEST, guestPort);
  assert.ok(dom0Port > 0);
  const st = guest.status(DOMID_SELF, guestPort);
  assert.ok(typeof st !== 'number' && st.status === EVTCHNSTAT_interdomain && st.dom === 0 && st.port === dom0Port);

  const output: number[] = [];
  backend = new PvConsoleBackend(memory, CONSOLE_GFN, () => dom0.send(dom0Port), (b) => output.push(...b));
  backend.initPage();

  const pendingWord = () => new DataView(memory.buffer).getUint32(shared.backingOffset + SHARED_INFO_32.evtchnPending + 4 * (guestPort >>> 5), true);
  const guestPending = () => (pendingWord() & (1 << (guestPort & 31))) !== 0;
  const upcall = () => memory.bytes[shared.backingOffset + VCPU_INFO_32.upcallPending];
  /** The guest's event handler: clear upcall_pending, the selector and the port's pending bit. */
  const guestAck = () => {
    const dv = new DataView(memory.buffer);
    memory.bytes[shared.backingOffset + VCPU_INFO_32.upcallPending] = 0;
    dv.setUint32(shared.backingOffset + VCPU_INFO_32.pendingSel, 0, true);
    const w = shared.backingOffset + SHARED_INFO_32.evtchnPending + 4 * (guestPort >>> 5);
    dv.setUint32(w, dv.getUint32(w, true) & ~(1 << (guestPort & 31)), true);
  };
  assert.equal(guestPending(), false);

  // hvc_xen writes "login: " into out[], bumps out_prod, then EVTCHNOP_send on its port.
  memory.write(BASE + XENCONS_OUT, text('login: '));
  memory.writeU32(BASE + XENCONS_OUT_PROD, 7);
  assert.equal(guest.send(guestPort), 0);
  assert.equal(new TextDecoder().decode(Uint8Array.from(output)), 'login: ');
  assert.equal(memory.readU32(BASE + XENCONS_OUT_CONS), 7);
  assert.ok(dom0Raised.includes(dom0Port), 'the send reached dom0 on its end of the channel');
  assert.equal(guestPending(), true, 'the backend notified the guest');
  assert.equal(upcall(), 1);
  assert.deepEqual(kicks, [0]);

  // Host keystrokes: into in[], and the guest's port goes pending again.
  guestAck();
  backend.input(text('root\n'));
  assert.equal(memory.readU32(BASE + XENCONS_IN_PROD), 5);
  assert.deepEqual([...memory.read(BASE + XENCONS_IN, 5)], [...text('root\n')]);
  assert.equal(guestPending(), true);
  assert.deepEqual(kicks, [0, 0]);

  // A guest that signals with nothing to do gets no notification back.
  guestAck();
  assert.equal(guest.send(guestPort), 0);
  assert.equal(guestPending(), false);
  assert.deepEqual(kicks, [0, 0]);

  // Garbage indices then a send: the backend breaks quietly, the hypercall still succeeds.
  memory.writeU32(BASE + XENCONS_OUT_PROD, 0x7fffffff);
  assert.equal(guest.send(guestPort), 0);
  assert.equal(backend.isBroken, true);
  assert.equal(guestPending(), false);
});
