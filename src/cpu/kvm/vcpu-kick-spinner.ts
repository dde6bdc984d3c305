// Test fixture for vcpu-kick.test.ts, run as a worker thread: a KVM vCPU whose
// guest spins in `jmp $` (no exits at all) with a 3-second run slice, so only a
// kick from another thread makes run() return sooner. Every `interrupted` return is
// counted in the shared control words and notified, with its latency from the kick
// measured on this thread (so the main thread's own wake-up delay is not counted).

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ManualClock } from '../../hypervisor/clock.js';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import { createKvmDomainBackend } from './kvm-backend.js';
import type { KvmVcpu } from './kvm-vcpu.js';

/** Int32 slots of workerData.control. */
export const SPIN_RETURNS = 0;
export const SPIN_STOP = 1;
export const SPIN_OTHER_EXIT = 2;
export const SPIN_WORDS = 4;
/** Float64 slots of workerData.times: when the main thread kicked, and how long until run() returned (ms, epoch clock). */
export const SPIN_KICKED_AT = 0;
export const SPIN_LATENCY = 1;

/** Milliseconds on a clock every thread shares (each thread's performance.now() has its own origin). */
export function sharedNowMs(): number {
  return performance.timeOrigin + performance.now();
}

const RAM = 1 << 20;
/** Long beside a kick's milliseconds, short enough that a lost kick still ends the test. */
export const SPIN_SLICE_MS = 3000;

function main(): void {
  const control = new Int32Array(workerData.control as SharedArrayBuffer);
  const times = new Float64Array(workerData.times as SharedArrayBuffer);
  const backend = createKvmDomainBackend(RAM, '/dev/kvm', SPIN_SLICE_MS);
  try {
    const memory = new GuestMemory({ ramBytes: RAM }, backend.ram);
    const ops: VmOps = {
      pioRead: () => 0xff,
      pioWrite: () => {},
      mmioRead: () => 0xffffffff,
      mmioWrite: () => {},
      acknowledgeInterrupt: () => 0x20,
    };
    const vcpu = backend.createVcpu(memory, ops, new ManualClock()) as unknown as KvmVcpu;
    memory.write(0x1000, new Uint8Array([0xeb, 0xfe])); // jmp $
    const s = vcpu.getSpecialRegisters();
    s.cs = { ...s.cs, selector: 0, base: 0 };
    vcpu.setSpecialRegisters(s);
    vcpu.setRegisters({ ...vcpu.getRegisters(), eip: 0x1000, eflags: 2 });
    parentPort!.postMessage({ kick: vcpu.kick.buffer, tid: vcpu.kick.threadId });
    while (Atomics.load(control, SPIN_STOP) === 0) {
      const e = vcpu.run();
      if (e.kind !== 'interrupted') {
        Atomics.store(control, SPIN_OTHER_EXIT, 1);
        parentPort!.postMessage({ unexpected: e });
        break;
      }
      times[SPIN_LATENCY] = sharedNowMs() - times[SPIN_KICKED_AT];
      Atomics.add(control, SPIN_RETURNS, 1);
      Atomics.notify(control, SPIN_RETURNS);
    }
  } finally {
    backend.close();
  }
  parentPort!.postMessage({ closed: true });
}

// Importing this module for its constants (the test does) must not start a vCPU.
if (!isMainThread && workerData?.control) main();
