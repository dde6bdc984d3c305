// Cross-thread kicks (issue 6 §1): the main thread kicks a worker whose KVM guest
// spins in `jmp $` with a 3-second slice, so only the kick can end run() sooner.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { kvmSkipReason, skipLoudly } from './kvm-test-support.js';
import { SPIN_KICKED_AT, SPIN_LATENCY, SPIN_OTHER_EXIT, SPIN_RETURNS, SPIN_STOP, SPIN_WORDS, sharedNowMs } from './vcpu-kick-spinner.js';
import { VcpuKick } from './vcpu-kick.js';
import { signalThread } from './libc.js';

const skip = kvmSkipReason();
const ESRCH = 3;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Wait until control[SPIN_RETURNS] differs from `before`, at most `ms`. */
function waitForReturn(control: Int32Array, before: number, ms: number): void {
  const t0 = performance.now();
  while (Atomics.load(control, SPIN_RETURNS) === before) {
    const left = ms - (performance.now() - t0);
    if (left <= 0) break;
    Atomics.wait(control, SPIN_RETURNS, before, left);
  }
}

test('VcpuKick record: the request is set by kick() and cleared by the vCPU; no thread published means no signal', () => {
  const k = new VcpuKick();
  const other = new VcpuKick(k.buffer); // what another thread builds from the posted buffer
  assert.equal(k.pending(), false);
  other.kick();
  assert.equal(k.pending(), true);
  assert.equal(k.count, 1);
  k.clear();
  assert.equal(other.pending(), false);
  assert.throws(() => new VcpuKick(new SharedArrayBuffer(8)), RangeError);
});

test('a worker spinning in KVM_RUN returns `interrupted` within 10 ms of each of 100 kicks from the main thread; kicks after it exited are harmless', async (t) => {
  if (skip) return skipLoudly(t, skip);
  const control = new Int32Array(new SharedArrayBuffer(SPIN_WORDS * 4));
  const times = new Float64Array(new SharedArrayBuffer(16));
  const worker = new Worker(new URL('./vcpu-kick-spinner.js', import.meta.url), { workerData: { control: control.buffer, times: times.buffer } });
  const messages: Array<Record<string, unknown>> = [];
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  const errors: Error[] = [];
  worker.on('error', (e) => errors.push(e));
  const first = await new Promise<{ kick: SharedArrayBuffer; tid: number }>((resolve, reject) => {
    worker.on('message', (m: Record<string, unknown>) => {
      messages.push(m);
      if (m.kick) resolve(m as { kick: SharedArrayBuffer; tid: number });
    });
    worker.on('error', reject);
  });
  const kick = new VcpuKick(first.kick);
  // Whatever fails below, stop the worker: it leaves run() at the next kick or slice end.
  t.after(() => {
    Atomics.store(control, SPIN_STOP, 1);
    kick.kick();
  });
  assert.ok(first.tid > 0 && first.tid !== process.pid, 'the worker published its own thread id');
  assert.equal(signalThread(first.tid, 0), 0, 'the published thread exists (tgkill signal 0)');

  // Without kicks nothing ends run(): the guest never exits and the slice is seconds long.
  sleepMs(100);
  assert.equal(Atomics.load(control, SPIN_RETURNS), 0, 'run() returned without a kick');

  const latencies: number[] = [];
  for (let i = 0; i < 100; i++) {
    const before = Atomics.load(control, SPIN_RETURNS);
    times[SPIN_KICKED_AT] = sharedNowMs();
    kick.kick();
    // A lost kick would wait for the 3 s slice; 1 s tells the two apart on a loaded machine.
    waitForReturn(control, before, 1000);
    assert.notEqual(Atomics.load(control, SPIN_RETURNS), before, `kick ${i}: run() did not return within 1 s`);
    latencies.push(times[SPIN_LATENCY]);
    // Vary where the next kick lands: in JavaScript between run() calls, entering KVM_RUN, or in the guest.
    if (i % 3 === 1) sleepMs(1 + (i % 4));
  }
  const worst = Math.max(...latencies);
  const sorted = [...latencies].sort((a, b) => a - b);
  t.diagnostic(`kick to interrupted (measured on the vCPU thread): median ${sorted[50].toFixed(3)} ms, worst ${worst.toFixed(3)} ms, load average ${loadavg()[0].toFixed(1)}`);
  // 10 ms is the bound; a lost kick would take the 3 s slice. On a machine whose run
  // queue is longer than 2x its cores the spinning thread can wait a scheduler period
  // for a CPU after the signal, so there the bound is 50 ms (said loudly).
  const overloaded = loadavg()[0] > 2 * availableParallelism();
  const bound = overloaded ? 50 : 10;
  if (overloaded && worst >= 10) process.stderr.write(`\n*** vcpu-kick: load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs: worst kick ${worst.toFixed(1)} ms checked against 50 ms, not 10 ***\n`);
  assert.ok(worst < bound, `every kick returns within ${bound} ms (worst ${worst.toFixed(3)} ms)`);
  assert.equal(Atomics.load(control, SPIN_OTHER_EXIT), 0);
  // Each return was caused by a kick: never more returns than kicks (a kick taken in JS may merge with the next).
  assert.ok(Atomics.load(control, SPIN_RETURNS) <= kick.count);

  Atomics.store(control, SPIN_STOP, 1);
  kick.kick();
  assert.equal(await exited, 0);
  assert.deepEqual(errors, []);
  assert.ok(messages.some((m) => m.closed), 'the worker closed its vCPU');

  // After the thread exited: its id was withdrawn, and a stale id gets ESRCH, not a crash.
  assert.equal(kick.threadId, 0);
  const sent = kick.count;
  kick.kick();
  assert.equal(kick.count, sent + 1);
  assert.equal(signalThread(first.tid, 0), -ESRCH);
  kick.publishThread(first.tid);
  kick.kick();
  assert.equal(kick.pending(), true);
});
