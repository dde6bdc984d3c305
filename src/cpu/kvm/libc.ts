// The few libc calls the KVM backend needs, through koffi. Every call is
// synchronous: a vCPU blocks in KVM_RUN on its own (worker) thread, and koffi's
// async calls measured 3.5x slower (test-guests.md, last section).

import koffi from 'koffi';

export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
const MAP_FAILED = 0xffffffffffffffffn;

/** errno values the backend reports by name (asm-generic/errno-base.h). */
export const ENOENT = 2;
export const EINTR = 4;
export const EACCES = 13;
export const EAGAIN = 11;

let lib: {
  open: (path: string, flags: number) => number;
  close: (fd: number) => number;
  ioctlInt: (fd: number, req: number, arg: number) => number;
  ioctlPtr: (fd: number, req: number, arg: Uint8Array) => number;
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  strerror: (e: number) => string;
  pointerAt: (dest: bigint, src: bigint, n: number) => unknown;
} | null = null;

function libc(): NonNullable<typeof lib> {
  if (lib) return lib;
  const so = koffi.load('libc.so.6');
  // ioctl is variadic; on x86-64 an integer or pointer third argument passes the
  // same way whether declared or variadic (SysV ABI), so two fixed prototypes suffice.
  lib = {
    open: so.func('int open(const char *path, int flags)'),
    close: so.func('int close(int fd)'),
    ioctlInt: so.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']),
    ioctlPtr: so.func('ioctl', 'int', ['int', 'unsigned long', 'void *']),
    mmap: so.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
    munmap: so.func('int munmap(void *addr, size_t len)'),
    strerror: so.func('const char *strerror(int e)'),
    // memmove(p, p, 0) returns p: the one portable way to turn an address another
    // thread published into a pointer koffi can view (nothing is read or written).
    pointerAt: so.func('memmove', 'void *', ['uint64_t', 'uint64_t', 'size_t']),
  };
  return lib;
}

/** A failed system call: the call, errno and its text. */
export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call}: ${libc().strerror(errno)} (errno ${errno})`);
    this.name = 'SyscallError';
  }
}

function check(call: string, rc: number): number {
  if (rc < 0) throw new SyscallError(call, koffi.errno());
  return rc;
}

export function openDevice(path: string): number {
  return check(`open ${path}`, libc().open(path, O_RDWR | O_CLOEXEC));
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

/**
 * Counts ioctl()/ioctlBuf() calls (not ioctlRaw, which is KVM_RUN's). The run loop
 * notes it after KVM_RUN: while unchanged, no other ioctl can have changed the
 * vCPU, so the registers KVM wrote into kvm_run at the exit are still current.
 */
let ioctlCalls = 0;
export function ioctlSerial(): number {
  return ioctlCalls;
}

/**
 * Hooks run before any ioctl()/ioctlBuf() on a descriptor: KvmVcpu writes back the
 * registers it left in kvm_run for KVM_RUN to load (kvm_dirty_regs), so every other
 * ioctl on the vCPU sees them. KVM_RUN itself goes through ioctlRaw, without the hook.
 */
const beforeIoctlHooks = new Map<number, () => void>();
export function setBeforeIoctl(fd: number, hook: (() => void) | null): void {
  if (hook) beforeIoctlHooks.set(fd, hook);
  else beforeIoctlHooks.delete(fd);
}

/** Setup ioctls (KVM_CREATE_VM, memory slots...) may be interrupted by a signal: retry those, report the rest. */
function retryEintr(fd: number, call: () => number): number {
  beforeIoctlHooks.get(fd)?.();
  for (;;) {
    ioctlCalls++;
    const rc = call();
    if (rc >= 0 || koffi.errno() !== EINTR) return rc;
  }
}

/** ioctl with an integer (or no) argument; throws SyscallError on failure. */
export function ioctl(fd: number, req: number, arg = 0, name = 'ioctl'): number {
  return check(name, retryEintr(fd, () => libc().ioctlInt(fd, req >>> 0, arg)));
}

/** ioctl with a pointer to `buf`; throws SyscallError on failure. */
export function ioctlBuf(fd: number, req: number, buf: Uint8Array, name = 'ioctl'): number {
  return check(name, retryEintr(fd, () => libc().ioctlPtr(fd, req >>> 0, buf)));
}

/** ioctl returning -errno instead of throwing (KVM_RUN's EINTR is not an error). */
export function ioctlRaw(fd: number, req: number, arg = 0): number {
  const rc = libc().ioctlInt(fd, req >>> 0, arg);
  return rc < 0 ? -koffi.errno() : rc;
}

export interface Mapping {
  /** Host virtual address, for KVM_SET_USER_MEMORY_REGION. */
  address: bigint;
  /** The mapped bytes as an ArrayBuffer (external memory, never moves). */
  buffer: ArrayBuffer;
  length: number;
  pointer: unknown;
}

/** mmap `length` bytes of `fd` (or anonymous shared memory when fd < 0). */
export function mapShared(length: number, fd: number, name: string): Mapping {
  const flags = fd < 0 ? MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE : MAP_SHARED;
  const ptr = libc().mmap(null, length, PROT_READ | PROT_WRITE, flags, fd, 0);
  const address = ptr === null ? 0n : BigInt(koffi.address(ptr));
  if (ptr === null || address === MAP_FAILED) throw new SyscallError(`mmap ${name}`, koffi.errno());
  return { address, buffer: koffi.view(ptr, length), length, pointer: ptr };
}

export function unmap(m: Mapping): void {
  libc().munmap(m.pointer, m.length);
}

/**
 * The mapping another thread of this process made at `address` (mapShared), viewed
 * from this thread. The caller must know the mapping outlives the view: dom0 owns a
 * KVM domain's RAM mapping and unmaps it only after the domain's worker is gone.
 */
export function viewMapping(address: bigint, length: number): Mapping {
  if (address <= 0n || !Number.isInteger(length) || length <= 0) throw new RangeError(`no mapping at ${address.toString(16)}+${length}`);
  const ptr = libc().pointerAt(address, address, 0);
  if (ptr === null || BigInt(koffi.address(ptr)) !== address) throw new Error(`cannot view the mapping at ${address.toString(16)}`);
  return { address, buffer: koffi.view(ptr, length), length, pointer: ptr };
}

// ---- the run-slice timer -------------------------------------------------------
// A guest that spins without exits would keep KVM_RUN busy forever; a per-thread
// POSIX timer (SIGEV_THREAD_ID) sends SIGURG to the vCPU's thread, and a signal
// pending during KVM_RUN makes it return EINTR (api.rst: KVM_RUN, KVM_EXIT_INTR).

const CLOCK_MONOTONIC = 1;
const SIGEV_THREAD_ID = 4;
export const SIGURG = 23;

let timerLib: {
  gettid: () => number;
  tgkill: (tgid: number, tid: number, sig: number) => number;
  pthreadSigmask: (how: number, set: Uint8Array, old: Uint8Array) => number;
  sigtimedwait: (set: Uint8Array, info: null, timeout: Uint8Array) => number;
  timerCreate: (clock: number, sev: Uint8Array, out: Uint8Array) => number;
  timerSettime: (timer: bigint, flags: number, spec: Uint8Array, old: null) => number;
  timerDelete: (timer: bigint) => number;
} | null = null;

function timers(): NonNullable<typeof timerLib> {
  if (timerLib) return timerLib;
  const so = koffi.load('libc.so.6');
  timerLib = {
    gettid: so.func('int gettid()'),
    tgkill: so.func('int tgkill(int tgid, int tid, int sig)'),
    pthreadSigmask: so.func('pthread_sigmask', 'int', ['int', 'void *', 'void *']),
    sigtimedwait: so.func('sigtimedwait', 'int', ['void *', 'void *', 'void *']),
    timerCreate: so.func('timer_create', 'int', ['int', 'void *', 'void *']),
    timerSettime: so.func('timer_settime', 'int', ['uint64_t', 'int', 'void *', 'void *']),
    timerDelete: so.func('timer_delete', 'int', ['uint64_t']),
  };
  return timerLib;
}

/** The calling thread's kernel id (gettid(2)); a worker thread has its own. */
export function threadId(): number {
  return timers().gettid();
}

/**
 * tgkill(2): send `sig` to thread `tid` of this process only. Returns 0 or -errno
 * (ESRCH for a thread that has exited); never throws, so a stale id is harmless.
 */
export function signalThread(tid: number, sig: number): number {
  const rc = timers().tgkill(process.pid, tid, sig);
  return rc < 0 ? -koffi.errno() : 0;
}

const SIG_BLOCK = 0;
/** glibc's sigset_t is 1024 bits; the kernel's (and KVM_SET_SIGNAL_MASK's) is the first 64. */
const SIGSET_BYTES = 128;
export const KERNEL_SIGSET_BYTES = 8;

function sigset(sig: number): Uint8Array {
  const set = new Uint8Array(SIGSET_BYTES);
  set[(sig - 1) >> 3] |= 1 << ((sig - 1) & 7);
  return set;
}

/**
 * Block `sig` in the calling thread (pthread_sigmask(3)) and return the thread's
 * kernel signal mask as it was before, 64 bits little-endian.
 */
export function blockSignalInThread(sig: number): Uint8Array {
  const old = new Uint8Array(SIGSET_BYTES);
  const rc = timers().pthreadSigmask(SIG_BLOCK, sigset(sig), old);
  // pthread_sigmask returns the error number itself, not -1 + errno.
  if (rc !== 0) throw new SyscallError('pthread_sigmask', rc);
  return old.slice(0, KERNEL_SIGSET_BYTES);
}

/** Clear bit `sig` in a 64-bit kernel signal mask (in place). */
export function unblockInMask(mask: Uint8Array, sig: number): Uint8Array {
  mask[(sig - 1) >> 3] &= ~(1 << ((sig - 1) & 7));
  return mask;
}

/**
 * A consumer of one blocked signal: take() removes it from the calling thread's
 * pending set if it is there (sigtimedwait(2) with a zero timeout), so it does not
 * stay pending and interrupt the next KVM_RUN again. No allocation per call.
 */
export class PendingSignal {
  private readonly set: Uint8Array;
  private readonly zero = new Uint8Array(16);

  constructor(readonly sig: number) {
    this.set = sigset(sig);
  }

  /** True when the signal was pending (and is now consumed). */
  take(): boolean {
    return timers().sigtimedwait(this.set, null, this.zero) === this.sig;
  }
}

/** A one-shot timer that signals the calling thread with SIGURG. */
export class ThreadKickTimer {
  private readonly id: bigint;
  private readonly spec = new Uint8Array(32);

  constructor() {
    const t = timers();
    // struct sigevent: sigev_value @0, sigev_signo @8, sigev_notify @12, _tid @16 (64 bytes).
    const sev = new Uint8Array(64);
    const v = new DataView(sev.buffer);
    v.setInt32(8, SIGURG, true);
    v.setInt32(12, SIGEV_THREAD_ID, true);
    v.setInt32(16, t.gettid(), true);
    const out = new Uint8Array(8);
    if (t.timerCreate(CLOCK_MONOTONIC, sev, out) < 0) throw new SyscallError('timer_create', koffi.errno());
    this.id = new DataView(out.buffer).getBigUint64(0, true);
  }

  /** Fire once after `ns` (0 disarms). */
  arm(ns: number): void {
    const v = new DataView(this.spec.buffer);
    // struct itimerspec { it_interval, it_value }: only it_value is set (one-shot).
    v.setBigInt64(16, BigInt(Math.floor(ns / 1e9)), true);
    v.setBigInt64(24, BigInt(Math.floor(ns % 1e9)), true);
    if (timers().timerSettime(this.id, 0, this.spec, null) < 0) throw new SyscallError('timer_settime', koffi.errno());
  }

  close(): void {
    timers().timerDelete(this.id);
  }
}
