// Shared control words between dom0 (main thread) and a domain's worker. The worker
// sleeps in Atomics.wait on DOORBELL while the guest is idle; dom0 rings it (bump +
// notify) after queueing console input or raising a request, so the worker wakes at
// once instead of at its next timer.

export const enum ControlWord {
  /** Bumped by dom0 on every input or request; the worker waits on it. */
  Doorbell = 0,
  /** 1 = dom0 asks the worker to stop the domain and exit. */
  Destroy = 1,
  /** 1 = dom0 asks for the domain to be paused, 0 = running. */
  Pause = 2,
  /** What the worker is doing (WorkerState), for diagnostics and tests. */
  State = 3,
}

export const enum WorkerState {
  Starting = 0,
  Running = 1,
  Idle = 2,
  Paused = 3,
  /** The guest shut down; the worker waits for dom0 to destroy it. */
  Stopped = 4,
  Exited = 5,
}

const WORDS = 4;

export class DomainControl {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;

  constructor(existing?: SharedArrayBuffer) {
    this.buffer = existing ?? new SharedArrayBuffer(WORDS * 4);
    this.words = new Int32Array(this.buffer);
  }

  ring(): void {
    Atomics.add(this.words, ControlWord.Doorbell, 1);
    Atomics.notify(this.words, ControlWord.Doorbell);
  }

  request(word: ControlWord.Destroy | ControlWord.Pause, value: number): void {
    Atomics.store(this.words, word, value);
    this.ring();
  }

  get(word: ControlWord): number {
    return Atomics.load(this.words, word);
  }

  setState(state: WorkerState): void {
    Atomics.store(this.words, ControlWord.State, state);
  }

  doorbell(): number {
    return Atomics.load(this.words, ControlWord.Doorbell);
  }

  /** Sleeps until the doorbell moves past `seen` or `timeoutMs` passes (worker side). */
  sleep(seen: number, timeoutMs: number): void {
    Atomics.wait(this.words, ControlWord.Doorbell, seen, Math.max(0, timeoutMs));
  }
}
