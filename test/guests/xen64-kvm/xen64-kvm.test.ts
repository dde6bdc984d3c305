// Issue 6: a 64-bit guest on the KVM backend uses Xen's interface as a 64-bit Linux
// does. kernel.asm (a Multiboot a.out-kludge image, built here with nasm) enters long
// mode itself, runs from the upper canonical half, makes its hypercalls from 64-bit
// code through the hypercall page and passes handles in the direct-map half; every
// result comes out on the debug port and is checked against what Xen answers a
// 64-bit HVM guest (reference/xen-abi.md; Xen's x86_64 public headers). Then the
// domain is saved in long mode mid-count and restored as another domain on KVM,
// where it counts on; the same image is refused by the software CPU, which has no
// long mode, with a message saying so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GuestSession } from '../../../src/toolstack/harness.js';
import type { LogEntry } from '../../../src/toolstack/worker-protocol.js';
import { savedXenstore } from '../../../src/toolstack/save-image.js';
import { debugExitStatus } from '../../../src/devices/debug-exit/device.js';
import { kvmSkipReason, skipLoudly } from '../../../src/cpu/kvm/kvm-test-support.js';
import { XEN_EFAULT, XEN_ENOSYS } from '../../../src/abi/xen-errno.js';
import { buildFlatNasmKernel, nasmToolsMissing } from '../nasm-kernel.js';
import { waitForDebugcon } from '../xen-guest-support.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const SOURCE = join(root, 'test/guests/xen64-kvm');
const TICKS = 10;
/** kernel.asm waits 200 ms of Xen system time (SCHEDOP_poll timeouts) per tick. */
const TICK_NS = 200_000_000;

const skip = kvmSkipReason() ?? nasmToolsMissing('the 64-bit Xen guest');

/** name -> value (two's complement 64-bit) of the guest's "name=<16 hex digits>" lines. */
function results(out: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const [, name, hex] of out.matchAll(/^(\w+)=([0-9a-f]{16})$/gm)) m.set(name, BigInt.asIntN(64, BigInt('0x' + hex)));
  return m;
}

function ticks(out: string): number[] {
  return [...out.matchAll(/^tick=([0-9a-f]{16})$/gm)].map((x) => Number(BigInt('0x' + x[1])));
}


const config = (name: string, kernel: string) => ({
  name, kernel, memory: 64, serial: 'none', xen_interface: 1, cpu_backend: 'kvm',
  debugcon: 'port=0xe9', isa_debug_exit: 'iobase=0xf4,iosize=0x04', on_crash: 'destroy', on_poweroff: 'destroy',
});


test('64-bit guest on KVM: long-mode hypercalls, x86_64 struct layouts, upper-half handles, 64-bit shared_info, callback vector, PV clock', { timeout: 120_000 }, async (t) => {
  if (skip) return skipLoudly(t, skip);
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-xen64-'));
  try {
    const log: LogEntry[] = [];
    const g = await GuestSession.start(config('xen64', buildFlatNasmKernel(SOURCE, dir, 'xen64.bin')), [], { baseDir: dir, warn: () => {} });
    g.handle.on('log', (e) => log.push(e));
    try {
      await waitForDebugcon(g, /^XEN64-CHECKS-DONE$/m, 60_000);
      const checksDone = performance.now();
      const exit = await g.waitForExit({ timeoutMs: 60_000 });
      const tickMs = performance.now() - checksDone;
      const out = g.debugconOutput(0xe9);
      assert.doesNotMatch(out, /exception|no Xen/, out);
      assert.equal(exit.exitStatus, debugExitStatus(0x10), `${exit.reason}: ${exit.detail}\n${out}`);
      const r = results(out);
      const get = (name: string): bigint => {
        const v = r.get(name);
        assert.ok(v !== undefined, `no ${name}= line in:\n${out}`);
        return v;
      };
      // xen_version from 64-bit code; a handle in the direct-map half; a non-canonical one.
      assert.equal(get('version'), 0x40011n, 'Xen 4.17');
      assert.equal(get('features_rc'), 0n);
      assert.ok(get('features') & (1n << 8n), 'XENFEAT_hvm_callback_vector');
      assert.ok(get('features') & (1n << 9n), 'XENFEAT_hvm_safe_pvclock: PV time is offered on KVM');
      assert.equal(get('noncanonical'), BigInt(-XEN_EFAULT));
      assert.equal(get('rax_high'), BigInt(-XEN_ENOSYS), 'RAX = 0x1_00000011 is not xen_version');
      // add_to_physmap's 24-byte layout (gpfn at +16) placed shared_info; the 64-bit
      // wallclock (wc_version at 3072) and PV clock (KVM's TSC rate) are in it.
      assert.equal(get('add_to_physmap'), 0n);
      assert.ok(get('wc_version') > 0n && get('wc_version') % 2n === 0n, 'wc_version is even and set');
      assert.ok(get('tsc_mul') > 0n, 'tsc_to_system_mul set for KVM\'s TSC');
      assert.equal(get('memory_map'), 0n);
      assert.ok(get('e820_entries') >= 1n && get('e820_entries') <= 16n);
      assert.equal(get('set_callback'), 0n);
      // 70 unbound ports: the last one lies in the second u64 word of evtchn_pending.
      assert.equal(get('alloc_unbound'), 0n);
      const port = Number(get('port'));
      assert.ok(port >= 64 && port < 4096, `port ${port}`);
      assert.equal(get('bind_interdomain'), 0n);
      assert.equal(get('send'), 0n);
      assert.equal(get('upcalls'), 1n, 'one upcall through the 64-bit IDT');
      assert.equal(get('pending_sel'), 1n << BigInt(port >> 6), 'u64 evtchn_pending_sel names word port/64');
      // Sending on the bound end set P; binding set the new local port P+1 too (Xen's
      // "conservatively always set a notification on the local port").
      assert.equal(get('pending_word'), (3n << BigInt(port & 63)) & ((1n << 64n) - 1n));
      assert.equal(get('poll'), 0n, 'SCHEDOP_poll (24-byte layout) on a pending port returns at once');
      // setup_table writes xen_pfn_t frames of 8 bytes: INVALID_GFN (~0UL) for an
      // auto-translated guest that has not mapped the frame, over 0xdeadbeefdeadbeef.
      assert.equal(get('setup_table'), 0n);
      assert.equal(get('setup_status'), 0n);
      assert.equal(get('grant_frame'), -1n);
      // multicall with 64-byte entries: results sign-extended into the u64 result field.
      assert.equal(get('multicall'), 0n);
      assert.equal(get('mc0'), 0x40011n);
      assert.equal(get('mc1'), BigInt(-XEN_EFAULT));
      assert.equal(get('console_io'), 0n);
      assert.ok(log.some((e) => e.source === 'xen-console' && e.message === 'hello from long mode'), 'CONSOLEIO_write text in the domain log');
      // The ticks wait on SCHEDOP_poll timeouts computed from the PV clock: never faster than those.
      assert.deepEqual(ticks(out), Array.from({ length: TICKS }, (_, i) => i + 1));
      assert.ok(tickMs >= (TICKS * TICK_NS) / 1e6 - 100, `${TICKS} ticks of 200 ms took ${tickMs.toFixed(0)} ms`);
      assert.ok(get('polls') >= BigInt(TICKS));
      assert.deepEqual(log.filter((e) => e.level === 'error' || /handler failed/.test(e.message)).map((e) => e.message), []);
    } finally {
      await g.destroy();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('64-bit guest on KVM: saved in long mode mid-count, restored as another domain on KVM it counts on; the software CPU refuses the image', { timeout: 120_000 }, async (t) => {
  if (skip) return skipLoudly(t, skip);
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-xen64-save-'));
  try {
    const cfg = config('xen64-save', buildFlatNasmKernel(SOURCE, dir, 'xen64.bin'));
    const g = await GuestSession.start(cfg, [], { baseDir: dir, warn: () => {} });
    let image;
    let before: number[];
    try {
      await waitForDebugcon(g, /^tick=0000000000000003$/m, 60_000);
      g.handle.pause();
      image = await g.handle.saveImage();
      before = ticks(g.debugconOutput(0xe9));
    } finally {
      await g.destroy();
    }
    assert.ok(before.length >= 3 && before.length < TICKS, `saved after ${before.length} ticks`);
    const long = image.state.vcpu.long;
    assert.ok(long, 'the image carries the x86-64 registers');
    assert.ok(BigInt(long.regs[16]) >> 32n === 0xffffffffn, `RIP ${long.regs[16]} is in the upper half`);
    assert.ok((image.state.vcpu.sregs.efer & 0x400) !== 0, 'EFER.LMA');

    const xenstore = savedXenstore(image);
    const r = await GuestSession.start({ ...cfg, name: 'xen64-restored' }, [], { baseDir: dir, warn: () => {}, spec: image.spec, restore: image.state, ...(xenstore ? { restoreXenstore: xenstore } : {}) });
    try {
      assert.equal(r.handle.cpuBackend, 'kvm');
      const exit = await r.waitForExit({ timeoutMs: 60_000 });
      const out = r.debugconOutput(0xe9);
      assert.equal(exit.exitStatus, debugExitStatus(0x10), `${exit.reason}: ${exit.detail}\n${out}`);
      const all = [...before, ...ticks(out)];
      assert.deepEqual(all, Array.from({ length: TICKS }, (_, i) => i + 1), 'no tick lost or repeated across the restore');
    } finally {
      await r.destroy();
    }

    // The software CPU has no long mode: the same image is refused before the guest runs, and says why.
    const e = await GuestSession.start({ ...cfg, name: 'xen64-on-emu', cpu_backend: 'emu' }, [], { baseDir: dir, warn: () => {}, spec: image.spec, restore: image.state, ...(xenstore ? { restoreXenstore: xenstore } : {}) });
    try {
      const exit = await e.waitForExit({ timeoutMs: 30_000 });
      assert.equal(exit.reason, 'crash');
      assert.match(exit.detail, /restore failed: cpuid: the guest was shown clfsh, mmx, sse, sse2, lahfsahf, syscall, lm, which this domain's CPU backend does not have; restore it on a backend that does \(cpu_backend = "kvm"\)/);
      assert.equal(e.debugconOutput(0xe9), '', 'nothing of the guest ran');
    } finally {
      await e.destroy();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
