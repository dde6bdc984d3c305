// Kicking a vCPU thread out of KVM_RUN from any other thread of the process
// (dom0's main thread delivering an event, a device thread): the record lives in a
// SharedArrayBuffer, so it can be posted to those threads.
//
// Protocol (race-free, see README.md "Kicks"):
// - the vCPU thread publishes its kernel thread id (gettid(2)) and keeps SIGURG
//   blocked except inside KVM_RUN (KVM_SET_SIGNAL_MASK, api.rst §4.33);
// - kick() stores REQUEST = 1 first, then sends SIGURG to that thread (tgkill(2));
// - the vCPU checks REQUEST before every KVM_RUN. A kick after that check leaves
//   SIGURG pending (blocked), so KVM_RUN returns -EINTR at once or, if the guest is
//   already running, as soon as the signal arrives (api.rst: KVM_RUN, KVM_EXIT_INTR).

import { SIGURG, signalThread } from './libc.js';

/** Int32 slots of the record. */
const TID = 0;
const PID = 1;
const REQUEST = 2;
const KICKS = 3;
const WORDS = 4;

export class VcpuKick {
  private readonly words: Int32Array;

  /** A new record (the vCPU's side), or one received from another thread. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(WORDS * 4)) {
    if (buffer.byteLength < WORDS * 4) throw new RangeError(`a VcpuKick record is ${WORDS * 4} bytes, got ${buffer.byteLength}`);
    this.words = new Int32Array(buffer, 0, WORDS);
  }

  /** vCPU thread: kicks from now on signal the calling thread. */
  publishThread(tid: number): void {
    Atomics.store(this.words, PID, process.pid);
    Atomics.store(this.words, TID, tid);
  }

  /** vCPU thread, before it stops running KVM_RUN: later kicks only set the request. */
  withdrawThread(): void {
    Atomics.store(this.words, TID, 0);
  }

  /** The published thread id, 0 when none. */
  get threadId(): number {
    return Atomics.load(this.words, TID);
  }

  /**
   * Any thread: make the vCPU's run() return `interrupted` soon (within one
   * signal delivery when it is in KVM_RUN). Harmless when the thread has exited:
   * the id was withdrawn, or tgkill finds no such thread of this process (ESRCH).
   */
  kick(): void {
    Atomics.store(this.words, REQUEST, 1);
    Atomics.add(this.words, KICKS, 1);
    const tid = Atomics.load(this.words, TID);
    // Only a thread of this process: the record may have been posted to a stub-domain process.
    if (tid > 0 && Atomics.load(this.words, PID) === process.pid) signalThread(tid, SIGURG);
  }

  /** vCPU thread: is a kick waiting? (one load; checked before every KVM_RUN) */
  pending(): boolean {
    return Atomics.load(this.words, REQUEST) !== 0;
  }

  /** vCPU thread: consume the request (run() is returning `interrupted`). */
  clear(): void {
    Atomics.store(this.words, REQUEST, 0);
  }

  /** How many kicks were sent, for tests and diagnostics. */
  get count(): number {
    return Atomics.load(this.words, KICKS);
  }
}
