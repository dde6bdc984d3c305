// Fuzz of memory_op, hvm_op, vcpu_op and physdev_op (with some event_channel_op
// traffic) from a guest, in the style of evtchn-gnttab-fuzz: ≥ 10^5 calls with
// random sub-ops, pointers and struct contents, bounded in time. Every call must
// answer with a result or a Xen errno, no handler may throw, page accounting must
// hold, and another domain's memory must stay untouched. A second pass does the
// same as a 64-bit caller (64-bit layouts, registers with random high halves,
// upper-half, non-canonical and random 64-bit handles).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HYPERVISOR_event_channel_op, HYPERVISOR_hvm_op, HYPERVISOR_memory_op, HYPERVISOR_physdev_op, HYPERVISOR_vcpu_op } from '../../abi/hypercall-numbers.js';
import { DOMID_SELF } from '../../abi/event-channel.js';
import * as errno from '../../abi/xen-errno.js';
import { XEN_EDOM } from '../../abi/memory.js';
import type { VcpuTimers } from '../xen-domain.js';
import type { GuestWidth } from '../../abi/guest-width.js';
import { scriptedGuest } from './scripted-guest.js';
import { fnv1a32, xorshift32 } from '../../../test/support/fuzz.js';

const CALLS = 120_000;
const ARENA = 0x60000;
const ARENA_LEN = 0x2000;

const DIRECT_MAP = 0xffff_8000_0000_0000n;

test(`fuzz: ${CALLS} random memory_op / hvm_op / vcpu_op / physdev_op calls answer with results or Xen errnos`, () => fuzz(4));
test(`fuzz, 64-bit caller: ${CALLS} random memory_op / hvm_op / vcpu_op / physdev_op calls answer with results or Xen errnos`, () => fuzz(8));

function fuzz(width: GuestWidth): void {
  const rnd = xorshift32(width === 4 ? 0x5eed5 : 0x64b175);
  let now = 1_000_000_000;
  const timers: VcpuTimers = { current: () => 0, setSingleshot() {}, stopSingleshot() {}, setPeriodic() {}, stopPeriodic() {} };
  const e820 = [
    { addr: 0, size: 0x9f000, type: 1 },
    { addr: 0xfc000000, size: 0x4000000, type: 2 },
  ];
  const g = scriptedGuest({ width, vcpuCount: 2, e820, maxPages: 224 + 64, maxGrantFrames: 4, perVcpuUpcallVector: true, timers, now: () => now, romBytes: 1 << 20 });
  if (width === 8) g.ctx.translate = (l) => (l < 0 && l >= -(2 ** 47) ? l + 2 ** 47 : l);
  /** A 64-bit register: the 32-bit value with, now and then, random (or all-ones) high bits. */
  const wide = (low: number): bigint => {
    const r = rnd() % 16;
    const high = r === 0 ? BigInt(rnd()) : r === 1 ? 0xffffffffn : 0n;
    return (high << 32n) | BigInt(low >>> 0);
  };
  /** A 64-bit handle: the pointer, its direct-map alias, a non-canonical or a random 64-bit one. */
  const pointer64 = (low: number): bigint => {
    const r = rnd() % 20;
    return r < 14 ? BigInt(low >>> 0) : r < 18 ? DIRECT_MAP + BigInt(low >>> 0) : r < 19 ? 0x0000_8000_0000_0000n | BigInt(low >>> 0) : (BigInt(rnd()) << 32n) | BigInt(rnd());
  };
  const bystander = scriptedGuest({ romBytes: 64 << 10 });
  bystander.memory.fill(0, 0x9f000, 0xb5);
  // The bystander exists in the fuzzed guest's world: naming it must be -EPERM, never reach it.
  g.xen.domains.set(2, bystander.xen.events);
  g.xen.tables.set(2, bystander.xen.grants);
  const bystanderBefore = fnv1a32(bystander.memory.bytes);

  const allowed = new Set([...Object.values(errno), XEN_EDOM].map((e) => -e));
  const small = () => {
    const r = rnd() % 8;
    return r < 3 ? rnd() % 4 : r < 5 ? rnd() % 0x60 : r < 6 ? DOMID_SELF : r < 7 ? rnd() & 0xfffff : rnd();
  };
  const pointer = () => {
    const r = rnd() % 10;
    return r < 7 ? ARENA + (rnd() % ARENA_LEN) : r < 8 ? 0xa0000 - (rnd() % 64) : r < 9 ? 0xf0000000 + (rnd() % 4096) : rnd();
  };
  const failures: string[] = [];
  let ok = 0;
  const hits = new Map<string, number>();
  const t0 = Date.now();
  for (let i = 0; i < CALLS; i++) {
    if (g.memory.isRam(ARENA, ARENA_LEN)) {
      const at = (ARENA + (rnd() % (ARENA_LEN - 64))) & ~3;
      for (let k = 0; k < 64; k += 4) g.memory.writeU32(at + k, small());
    }
    if (i % 53 === 0) now += rnd() % 10_000_000;
    if (i % 97 === 0) g.xen.dom0.allocUnbound(DOMID_SELF, 1);
    if (i % 89 === 0) g.xen.dom0.bindInterdomain(1, rnd() % 64);
    if (i % 83 === 0) g.xen.dom0.send(rnd() % 64);
    const family = rnd() % 9;
    let nr: number;
    let cmd: number;
    if (family < 3) {
      nr = HYPERVISOR_memory_op;
      cmd = (rnd() % 17) | (rnd() % 8 === 0 ? (rnd() % 4) << 6 : 0);
    } else if (family < 5) {
      nr = HYPERVISOR_hvm_op;
      cmd = rnd() % 25;
    } else if (family < 7) {
      nr = HYPERVISOR_vcpu_op;
      cmd = rnd() % 12;
    } else if (family < 8) {
      nr = HYPERVISOR_physdev_op;
      cmd = rnd() % 32;
    } else {
      nr = HYPERVISOR_event_channel_op;
      cmd = rnd() % 12;
    }
    if (rnd() % 50 === 0) cmd = rnd();
    const ptr = pointer();
    // Often make the struct name this domain, so the ops get past their domid check.
    if (rnd() % 2 === 0 && ptr >= ARENA && ptr + 16 <= ARENA + ARENA_LEN && g.memory.isRam(ptr, 16)) {
      g.memory.writeU16(ptr, DOMID_SELF);
      if (rnd() % 2 === 0) g.memory.writeU32(ptr + 4, rnd() % 40);
      if (nr === HYPERVISOR_memory_op && cmd === 7 && rnd() % 2 === 0) {
        // A well-formed add_to_physmap: shared_info / grant frame / gmfn, low RAM, the MMIO hole or anywhere.
        const pick = rnd() % 3;
        let gpfn = pick === 0 ? rnd() % 0x100 : pick === 1 ? 0xf0000 + (rnd() % 16) : rnd() & 0xfffff;
        if (gpfn >>> 1 === ARENA >>> 13) gpfn += 2; // keep the argument arena mapped
        // space @4, idx @8, gpfn @12 (32-bit) or @16 (64-bit, 8-byte idx and gpfn).
        g.memory.writeU32(ptr + 4, rnd() % 3);
        g.memory.writeU32(ptr + 8, rnd() % 5);
        if (width === 4) g.memory.writeU32(ptr + 12, gpfn);
        else if (g.memory.isRam(ptr, 24)) {
          g.memory.writeU32(ptr + 12, rnd() % 8 === 0 ? 1 : 0);
          g.memory.writeU32(ptr + 16, gpfn);
          g.memory.writeU32(ptr + 20, rnd() % 8 === 0 ? rnd() : 0);
        }
      }
    }
    let r: number;
    if (width === 4) r = nr === HYPERVISOR_vcpu_op ? g.hypercall(nr, cmd, rnd() % 4, ptr) : g.hypercall(nr, cmd, ptr);
    else r = nr === HYPERVISOR_vcpu_op ? g.hypercall(nr, wide(cmd), wide(rnd() % 4), pointer64(ptr)) : g.hypercall(nr, wide(cmd), pointer64(ptr), BigInt(rnd()));
    const fine = allowed.has(r) || r === 0 || (r > 0 && (nr === HYPERVISOR_memory_op || (nr === HYPERVISOR_vcpu_op && r === 1)));
    if (!fine) failures.push(`call ${i}: hypercall ${nr} cmd ${cmd} -> ${r}`);
    if (nr === HYPERVISOR_physdev_op && r !== -errno.XEN_ENOSYS) failures.push(`physdev ${cmd} -> ${r}`);
    if (r >= 0) ok++;
    if (r >= 0) hits.set(`${nr}/${cmd}`, (hits.get(`${nr}/${cmd}`) ?? 0) + 1);
    const pm = g.xen.physmap;
    if (pm.totPages < 0 || pm.totPages > pm.maxPages) failures.push(`call ${i}: tot_pages ${pm.totPages}`);
    if (g.logs.length > 0 || failures.length > 0) break;
  }
  const elapsed = Date.now() - t0;
  // The 64-bit pass also perturbs high halves (cmd, idx, gpfn, handles), so fewer calls are well formed.
  assert.ok((hits.get(`${HYPERVISOR_memory_op}/7`) ?? 0) > (width === 4 ? 100 : 40), `add_to_physmap succeeded often (${hits.get(`${HYPERVISOR_memory_op}/7`)})`);
  assert.ok((hits.get(`${HYPERVISOR_hvm_op}/0`) ?? 0) > 10 && (hits.get(`${HYPERVISOR_vcpu_op}/3`) ?? 0) > 100, 'params and is_up reached');
  assert.deepEqual(failures, []);
  assert.deepEqual(g.logs, [], 'no handler threw');
  assert.ok(ok > CALLS / 50, `the fuzz reached successful paths (${ok})`);
  assert.ok(elapsed < 120_000, `bounded time (${elapsed} ms)`);
  assert.equal(fnv1a32(bystander.memory.bytes), bystanderBefore, "the other domain's memory is untouched");
}
