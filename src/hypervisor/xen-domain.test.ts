import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_event_channel_op, HYPERVISOR_vcpu_op } from '../abi/hypercall-numbers.js';
import { EVTCHNOP_bind_virq, VIRQ_TIMER } from '../abi/event-channel.js';
import { VCPUOP_register_runstate_memory_area, VCPUOP_register_vcpu_info, VCPUOP_set_singleshot_timer } from '../abi/vcpu.js';
import { HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN } from '../abi/hvm-params.js';
import { SCRATCH, scriptedGuest } from './hypercall/scripted-guest.js';
import type { CallbackVia, XenSaveRecord } from './xen-domain.js';

/** A guest that has done what Linux does at boot, plus a dom0 link and a pending timer. */
function bootedGuest(clock: { ns: number }) {
  const g = scriptedGuest({ vcpuCount: 1, now: () => clock.ns, pvTime: true, callbackVector: true, maxGrantFrames: 8, maxPages: 300 });
  const x = g.xen;
  assert.equal(x.physmap.placeSharedInfo(0x80), 0);
  g.put([[0, 0x20, 8], [8, 0x40, 4], [12, 0, 4]], 16);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, SCRATCH), 0);
  g.put([[0, 0x21000, 4], [4, 0, 4]], 8);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, SCRATCH), 0);
  g.put([[0, VIRQ_TIMER, 4], [4, 0, 4], [8, 0, 4]], 12);
  assert.equal(g.hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, SCRATCH), 0);
  const timerPort = g.memory.readU32(SCRATCH + 8);
  const guestPort = x.dom0.allocUnbound(1, 0); // toolstack: the guest's store port...
  const dom0Port = x.dom0.bindInterdomain(1, guestPort); // ...and dom0's end of it
  assert.ok(guestPort > 0 && dom0Port > 0);
  x.hvm.set(HVM_PARAM_CALLBACK_IRQ, (2n << 56n) | 0xf3n);
  x.hvm.setByToolstack(HVM_PARAM_STORE_PFN, 0xfeffc);
  assert.equal(x.physmap.placeGrantFrame(2, 0x90), 0);
  assert.ok(x.physmap.populate(0x95));
  g.put([[0, BigInt(clock.ns + 4_000_000), 8], [8, 0, 4]], 12);
  assert.equal(g.hypercall(HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, SCRATCH), 0);
  x.events.send(guestPort); // guest -> dom0: pending in dom0's HostDelivery
  return { g, timerPort, guestPort, dom0Port };
}

test('Xen state save/restore: a JSON round trip gives the same state, and it keeps working', () => {
  const clockA = { ns: 2_000_000_000 };
  const a = bootedGuest(clockA);
  const record: XenSaveRecord = JSON.parse(JSON.stringify(a.g.xen.save()));
  assert.equal(record.version, 1);
  assert.equal(record.systemTimeNs, 2_000_000_000);

  // The restoring domain: same config, memory copied as the save image carries it, its clock elsewhere.
  const clockB = { ns: 5_000 };
  const b = scriptedGuest({ vcpuCount: 1, now: () => clockB.ns, pvTime: true, callbackVector: true, maxGrantFrames: 8, maxPages: 300 });
  b.memory.bytes.set(a.g.memory.bytes);
  // Frames that were mapped: the save image restores GuestMemory's mappings; here by hand.
  for (const [gfn] of [[0x80], [0x90], [0x95]]) b.memory.mapBacking(gfn * 4096, a.g.memory.frameOffset[gfn], 4096, false, true);
  const vias: CallbackVia[] = [];
  b.xen.hvm.onCallbackVia((v) => vias.push(v));
  b.xen.restore(record);

  const again = b.xen.save();
  assert.deepEqual({ ...again, systemTimeNs: 0 }, { ...record, systemTimeNs: 0 }, 'every part round-trips');
  assert.equal(again.systemTimeNs, 2_000_000_000, 'system time continues from the saved value');
  assert.deepEqual(vias, [{ type: 'vector', vector: 0xf3 }], 'the callback via is announced again for the Domain');
  assert.equal(b.xen.hvm.get(HVM_PARAM_STORE_PFN), 0xfeffcn);

  // Time info: restore leaves memory alone (the vCPU's TSC may not be back yet); the first runTimers republishes.
  const systemTime = () => new DataView(b.memory.buffer).getBigUint64(0x20040 + 32 + 16, true);
  new DataView(b.memory.buffer).setBigUint64(0x20040 + 32 + 16, 0n, true);
  // The timer is due 4 ms of system time later, i.e. at the new domain clock + 4 ms.
  assert.equal(b.xen.nextTimerDeadlineNs(), 5_000 + 4_000_000);
  b.xen.runTimers(5_000 + 3_999_999);
  assert.equal(systemTime(), 2_000_000_000n, 'republished from the restored system time (domain clock 5 us + offset)');
  assert.equal(b.xen.sharedInfo.isPending(a.timerPort), false);
  b.xen.runTimers(5_000 + 4_000_000);
  assert.equal(b.xen.sharedInfo.isPending(a.timerPort), true, 'VIRQ_TIMER through the restored binding');
  // Interdomain link: dom0 -> guest and the saved guest -> dom0 notification.
  assert.equal(b.xen.dom0.delivery.isPending(a.dom0Port), true, 'dom0 pending flag restored');
  assert.equal(b.xen.sharedInfo.isPending(a.guestPort), false);
  assert.equal(b.xen.dom0.send(a.dom0Port), 0);
  assert.equal(b.xen.sharedInfo.isPending(a.guestPort), true, 'dom0 -> guest through the restored link');
  // vcpu_info registration survived: time goes to the registered area.
  clockB.ns += 1_000;
  b.xen.clock.update(0);
  assert.equal(systemTime(), 2_000_001_000n);
  assert.equal(b.xen.physmap.totPages, a.g.xen.physmap.totPages);
});

test('Xen state restore refuses records that cannot be this domain', () => {
  const clock = { ns: 1 };
  const a = bootedGuest(clock);
  const good = () => JSON.parse(JSON.stringify(a.g.xen.save())) as XenSaveRecord;
  const fresh = () => scriptedGuest({ vcpuCount: 1, now: () => 0, pvTime: true, maxGrantFrames: 8 }).xen;
  assert.throws(() => fresh().restore({ ...good(), version: 2 } as unknown as XenSaveRecord), /record version 2/);
  assert.throws(() => fresh().restore({ ...good(), domid: 0 }), /bad saved domid 0/);
  assert.throws(() => fresh().restore({ ...good(), vcpuCount: 2 }), /saved with 2 vCPUs/);
  assert.throws(() => fresh().restore({ ...good(), sharedInfo: { backingOffset: 4096, registered: [] } }), /shared_info was at backing offset 4096/);
  const badPort = good();
  badPort.events.ports.push([5000, 3, 0, 0, 0, 0]);
  assert.throws(() => fresh().restore(badPort), /bad saved port/);
  const badGrant = good();
  badGrant.grants.frames = [123];
  assert.throws(() => fresh().restore(badGrant), /not a page of the backing store/);
  const badParam = good();
  badParam.hvm.params.push([9999, '1']);
  assert.throws(() => fresh().restore(badParam), /bad saved param/);
  assert.throws(() => fresh().restore(null as unknown as XenSaveRecord), /not an object/);
});

test('a record saved under another domid restores with the channels that named it renumbered (xl restore gives a new domid)', () => {
  const clock = { ns: 1 };
  const a = bootedGuest(clock);
  const xen = a.g.xen;
  const self = xen.events.domId;
  const guestPort = xen.dom0.allocUnbound(self, 0);
  const dom0Port = xen.dom0.bindInterdomain(self, guestPort);
  assert.ok(guestPort > 0 && dom0Port > 0);
  // The same record as if it had been saved from domain 7.
  const rec = JSON.parse(JSON.stringify(xen.save())) as XenSaveRecord;
  const other = 7;
  rec.domid = other;
  for (const p of [...rec.events.ports, ...rec.dom0Events.ports]) if (p[3] === self) p[3] = other;
  const fresh = scriptedGuest({ vcpuCount: 1, now: () => 0, pvTime: true, maxGrantFrames: 8 }).xen;
  assert.equal(fresh.events.domId, self);
  fresh.restore(rec);
  assert.equal(fresh.dom0.channel(dom0Port)?.remoteDom, self, "dom0's end names the restored domain");
  assert.equal(fresh.dom0.channel(dom0Port)?.remotePort, guestPort);
  assert.equal(fresh.events.channel(guestPort)?.remoteDom, 0);
});
