// A vCPU on /dev/kvm behind the VcpuBackend seam: KVM_RUN in a loop, port and
// MMIO exits served inline through VmOps (as the software CPU does), everything
// else returned as the same VmExit values (api.rst §5 "The kvm_run structure").
//
// Interrupts: tsxen's own PIC/IOAPIC/LAPIC model stays the interrupt controller,
// so injection is from userspace (no KVM_CREATE_IRQCHIP): when the INTR pin is
// high and KVM says the vCPU can take one (ready_for_interrupt_injection, IF=1),
// VmOps.acknowledgeInterrupt() is the INTA cycle and KVM_INTERRUPT queues the
// vector; otherwise request_interrupt_window makes KVM exit as soon as it can.
// This is the VmOps contract exactly; the in-kernel irqchip would duplicate the
// controllers tsxen already models (and saves/restores).
//
// Hypercalls: KVM_CAP_XEN_HVM is absent on these hosts, and KVM answers VMCALL
// itself. So when the guest installs its hypercall page (WRMSR 0x40000000, served
// by the domain), this backend rewrites the page with stubs that leave through a
// port write: `mov eax, nr; out HYPERCALL_PORT, eax; ret`. An OUT to that port
// from inside the page is reported as the `hypercall` exit with the guest's
// registers unchanged, as the software CPU reports VMCALL.

import type { Clock } from '../../hypervisor/clock.js';
import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { AccessSize } from '../../hypervisor/types.js';
import type { CpuidEntry, DescriptorTableRegister, SegmentRegister, VcpuBackend, VcpuRegisters, VcpuRegisters64, VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';
import { EFER_LMA, REGISTERS64, runs64BitCode, signed64, unsigned64 } from '../../hypervisor/vcpu/backend.js';
import type { VmExit } from '../../hypervisor/vcpu/vm-exit.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import * as abi from './kvm-abi.js';
import type { KvmVm } from './kvm-system.js';
import { EINTR, EAGAIN, KERNEL_SIGSET_BYTES, PendingSignal, SIGURG, ThreadKickTimer, blockSignalInThread, closeFd, ioctlBuf, ioctlRaw, ioctlSerial, mapShared, setBeforeIoctl, threadId, unblockInMask, unmap, type Mapping } from './libc.js';
import { KVM_CAP_SYNC_REGS, KVM_SET_SIGNAL_MASK, KVM_SYNC_X86_REGS, RUN_SYNC, SIGNAL_MASK_HEADER_BYTES } from './kvm-run-abi.js';
import { VcpuKick } from './vcpu-kick.js';
import { KVM_EXIT_XEN, KVM_EXIT_XEN_HCALL, RUN_XEN, readXenExit } from './kvm-xen-abi.js';
import { HYPERCALL_PORT, kvmHypercallPageBytes } from './hypercall-stubs.js';
import type { VcpuState } from '../../hypervisor/vcpu/vcpu-state.js';
import { readKvmState, writeKvmState } from './kvm-vcpu-state.js';

const XEN_MSR_HYPERCALL_PAGE = 0x40000000;
/** CR0.WP: supervisor writes honour read-only pages (SDM vol. 3A §2.5). */
const CR0_WP = 1 << 16;
/** Port/MMIO exits served inline before run() hands control back so the domain's timers advance. */
const INLINE_EXITS_PER_SLICE = 4096;
/** Longest a run() lasts (host time) before it returns `interrupted`, exits or not. */
export const DEFAULT_SLICE_MS = 5;

let kickHandlerInstalled = false;
/**
 * SIGURG is blocked in vCPU threads (so a blocked signal is never discarded as
 * ignored), but a process-wide handler keeps a stray SIGURG harmless elsewhere.
 */
function installKickHandler(): void {
  if (kickHandlerInstalled) return;
  process.on('SIGURG', () => {});
  kickHandlerInstalled = true;
}

/**
 * Keep SIGURG blocked in the calling (vCPU) thread except inside KVM_RUN: a kick
 * or slice-timer signal that arrives while the thread runs JavaScript stays
 * pending, and the next KVM_RUN returns -EINTR before entering the guest (api.rst
 * §4.33 KVM_SET_SIGNAL_MASK). That closes the window between "checked the request
 * word" and "entered KVM_RUN" that a handler-based kick would lose.
 */
function unblockKicksOnlyInKvmRun(vcpuFd: number): void {
  const runMask = unblockInMask(blockSignalInThread(SIGURG), SIGURG);
  const arg = new Uint8Array(SIGNAL_MASK_HEADER_BYTES + KERNEL_SIGSET_BYTES);
  new DataView(arg.buffer).setUint32(0, KERNEL_SIGSET_BYTES, true);
  arg.set(runMask, SIGNAL_MASK_HEADER_BYTES);
  ioctlBuf(vcpuFd, KVM_SET_SIGNAL_MASK, arg, 'KVM_SET_SIGNAL_MASK');
}

export class KvmVcpu implements VcpuBackend {
  private readonly run_: Mapping;
  private readonly runView: DataView;
  private readonly runBytes: Uint8Array;
  /** kvm_run's fixed fields through one typed array each (no DataView, no BigInt on the exit path). */
  private readonly runU16: Uint16Array;
  private readonly runU32: Uint32Array;
  /**
   * KVM_CAP_SYNC_REGS: KVM writes kvm_regs into kvm_run at every exit, so reading
   * registers after an exit (hypercall arguments, HLT's IF) costs no KVM_GET_REGS.
   * Only the general registers: syncing kvm_sregs too would cost every exit ~30
   * VMCS reads on VT for the rare exit that needs them.
   */
  private readonly syncRegs: boolean;
  /** ioctlSerial() just after the last KVM_RUN that left fresh registers in kvm_run, else -1. */
  private syncSerial = -1;
  private readonly syncRegsCopy = new Uint8Array(abi.REGS_BYTES);
  private readonly syncRegsCopy32 = new Uint32Array(this.syncRegsCopy.buffer);
  /** kvm_run's kvm_regs (set in the constructor). */
  private readonly runSyncRegs: Uint8Array;
  private readonly flushRegsArg = new Uint8Array(abi.REGS_BYTES);
  /**
   * RIP's page (RIP & ~0xfff) of the last hypercall stub whose OUT was checked by a
   * full page walk to come from the hypercall page; -1 when none (see inHypercallPage).
   */
  private verifiedStubRipPage = -1;
  /** A KVM_EXIT_XEN hypercall was returned; its result goes to kvm_run before the next KVM_RUN. */
  private xenHypercallPending = false;
  /** The last KVM_RUN ended in an exit KVM finishes (IO in, MMIO read, MSR, Xen hypercall: RIP and results) on the next one. */
  private exitToFinish = false;
  /** RIP bits 63:32 of verifiedStubRipPage (64-bit guests). */
  private verifiedStubRipHigh = 0;
  /** Exits by KVM exit reason number (exitCounts names them). */
  private readonly exitsByReason = new Uint32Array(EXIT_REASON_SLOTS);
  private irqLine = false;
  private exitRequested = false;
  private pendingMsr: { write: boolean; index: number; value: bigint } | null = null;
  private hypercallPage: number | null = null;
  /** In HLT since the last `hlt` exit or setState (KVM keeps no halted state without an in-kernel irqchip). */
  private halted = false;
  /** What the last getState/setState could not carry through KVM (kvm-vcpu-state.ts), for tests and logs. */
  stateNotes: string[] = [];
  private powerOn: { regs: Uint8Array; sregs: Uint8Array } | null = null;
  private readonly recentExits: string[] = [];
  /** kvm_regs / kvm_sregs as last read or written since the guest last ran (one ioctl per exit, not per access). */
  private regsCache: Uint8Array | null = null;
  private sregsCache: Uint8Array | null = null;
  private readonly interruptArg = new Uint8Array(4);
  private readonly sliceTimer: ThreadKickTimer;
  /** Post `kick.buffer` to other threads; their `new VcpuKick(buffer).kick()` makes run() return `interrupted`. */
  readonly kick = new VcpuKick();
  private readonly kickSignal = new PendingSignal(SIGURG);
  /** performance.now() when the current slice ends; the kick timer is armed for it. */
  private sliceEnd = -Infinity;

  constructor(
    readonly vm: KvmVm,
    readonly fd: number,
    private readonly memory: GuestMemory,
    private readonly ops: VmOps,
    private readonly clock: Clock,
    private readonly sliceMs = DEFAULT_SLICE_MS,
  ) {
    installKickHandler();
    // run() must be called on this (the constructing) thread: the timer, the signal
    // mask and the published thread id all belong to it.
    this.sliceTimer = new ThreadKickTimer();
    unblockKicksOnlyInKvmRun(fd);
    this.kick.publishThread(threadId());
    this.run_ = mapShared(vm.system.vcpuMmapSize(), fd, 'kvm_run');
    this.runView = new DataView(this.run_.buffer);
    this.runBytes = new Uint8Array(this.run_.buffer);
    this.runU16 = new Uint16Array(this.run_.buffer);
    this.runU32 = new Uint32Array(this.run_.buffer);
    this.runSyncRegs = this.runBytes.subarray(RUN_SYNC.regs, RUN_SYNC.regs + abi.REGS_BYTES);
    this.syncRegs = (vm.system.checkExtension(KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS) !== 0;
    // kvm_valid_regs is read by KVM at every exit; set once.
    if (this.syncRegs) {
      this.runU32[RUN_SYNC.validRegs >> 2] = KVM_SYNC_X86_REGS;
      setBeforeIoctl(fd, () => this.flushDirtyRegs());
    }
    this.tscKhz = Math.max(0, ioctlRaw(fd, abi.KVM_GET_TSC_KHZ));
    this.powerOn = { regs: this.rawGet(abi.KVM_GET_REGS, abi.REGS_BYTES), sregs: this.rawGet(abi.KVM_GET_SREGS, abi.SREGS.bytes) };
  }

  // ---- running ---------------------------------------------------------------

  run(): VmExit {
    if (this.halted) {
      const stay = this.stayHalted();
      if (stay) return stay;
    }
    const v = this.runView;
    const now = performance.now();
    if (now >= this.sliceEnd) {
      // A new slice: the timer kicks a guest that never exits out of KVM_RUN.
      this.sliceEnd = now + this.sliceMs;
      this.sliceTimer.arm(this.sliceMs * 1e6);
      // The last slice's timer may have fired outside KVM_RUN: drop it, or the first
      // KVM_RUN of this slice would return at once. A kick's request word is checked
      // below, so consuming its signal here loses nothing.
      this.kickSignal.take();
    }
    for (let inline = 0; ; inline++) {
      if (this.exitRequested || this.kick.pending()) {
        this.exitRequested = false;
        v.setUint8(abi.RUN.immediateExit, 0);
        this.kick.clear();
        // The kick's signal is (or is about to be) pending; take it so the next KVM_RUN does not return at once.
        this.kickSignal.take();
        return { kind: 'interrupted' };
      }
      if (inline >= INLINE_EXITS_PER_SLICE || (inline & 63) === 63 && performance.now() >= this.sliceEnd) return { kind: 'interrupted' };
      if (this.xenHypercallPending) this.completeXenHypercall();
      this.injectPending();
      this.regsCache = null;
      this.sregsCache = null;
      const rc = ioctlRaw(this.fd, abi.KVM_RUN);
      // KVM finished the previous exit first, even when it then returned -EINTR; an exit
      // now (IO, MMIO, MSR, Xen hypercall) is finished by the next KVM_RUN in its turn.
      this.exitToFinish = rc >= 0;
      this.syncSerial = rc >= 0 && this.syncRegs ? ioctlSerial() : -1;
      if (rc < 0) {
        if (-rc === EINTR || -rc === EAGAIN) {
          // requestExit (immediate_exit), a kick or the slice timer's signal. The
          // signal stays pending (blocked outside KVM_RUN) until taken; then the
          // request is cleared: a kick after this point interrupts the next run().
          v.setUint8(abi.RUN.immediateExit, 0);
          this.kickSignal.take();
          this.kick.clear();
          this.exitRequested = false;
          if (performance.now() >= this.sliceEnd) this.sliceEnd = -Infinity;
          return { kind: 'interrupted' };
        }
        return this.internalError(`KVM_RUN failed: errno ${-rc}`);
      }
      const reason = this.runU32[abi.RUN.exitReason >> 2];
      this.exitsByReason[reason < EXIT_REASON_SLOTS ? reason : EXIT_REASON_SLOTS - 1]++;
      switch (reason) {
        case abi.KVM_EXIT_IO: {
          const hc = this.serveIo();
          if (hc) return hc;
          continue;
        }
        case abi.KVM_EXIT_MMIO:
          this.serveMmio();
          continue;
        case abi.KVM_EXIT_IRQ_WINDOW_OPEN:
        case abi.KVM_EXIT_INTR:
          continue;
        case abi.KVM_EXIT_HLT: {
          const ifFlag = v.getUint8(abi.RUN.ifFlag) !== 0;
          // An interrupt already pending wakes the HLT at once (SDM vol. 2A HLT: an external interrupt resumes execution).
          if (ifFlag && this.irqLine) continue;
          this.note('hlt');
          this.halted = true;
          return { kind: 'hlt', interruptsEnabled: ifFlag };
        }
        case abi.KVM_EXIT_X86_RDMSR:
        case abi.KVM_EXIT_X86_WRMSR: {
          const write = reason === abi.KVM_EXIT_X86_WRMSR;
          const index = v.getUint32(abi.RUN.msrIndex, true);
          const value = write ? v.getBigUint64(abi.RUN.msrData, true) : 0n;
          this.pendingMsr = { write, index, value };
          this.note(`${write ? 'wrmsr' : 'rdmsr'} 0x${index.toString(16)}`);
          return { kind: 'msr', write, index, value };
        }
        case KVM_EXIT_XEN: {
          const x = readXenExit(v);
          if (x.type !== KVM_EXIT_XEN_HCALL) return this.internalError(`KVM_EXIT_XEN of unknown type ${x.type}`);
          // Registers are the guest's at the VMCALL; the domain answers in RAX, which
          // goes back as hcall.result before the next KVM_RUN (completeXenHypercall).
          this.xenHypercallPending = true;
          this.note(`xen hcall ${x.input}`);
          return { kind: 'hypercall' };
        }
        case abi.KVM_EXIT_SHUTDOWN:
          this.note('shutdown');
          return { kind: 'triple-fault', detail: `KVM_EXIT_SHUTDOWN (triple fault) at ${this.where()}` };
        case abi.KVM_EXIT_SYSTEM_EVENT:
          return { kind: 'triple-fault', detail: `KVM_EXIT_SYSTEM_EVENT type ${v.getUint32(32, true)} at ${this.where()}` };
        case abi.KVM_EXIT_FAIL_ENTRY: {
          const hw = v.getBigUint64(abi.RUN.failEntryReason, true);
          return this.internalError(`KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x${hw.toString(16)}`);
        }
        case abi.KVM_EXIT_INTERNAL_ERROR: {
          const sub = v.getUint32(abi.RUN.internalSuberror, true);
          const n = Math.min(v.getUint32(abi.RUN.internalNdata, true), 16);
          const data: string[] = [];
          for (let i = 0; i < n; i++) data.push('0x' + v.getBigUint64(abi.RUN.internalData + i * 8, true).toString(16));
          return this.internalError(`KVM_EXIT_INTERNAL_ERROR: ${abi.INTERNAL_SUBERROR_NAMES[sub] ?? 'suberror ' + sub}${data.length ? ' [' + data.join(' ') + ']' : ''}`);
        }
        default:
          return this.internalError(`unexpected KVM exit reason ${reason} (${abi.EXIT_REASON_NAMES[reason] ?? 'unknown'})`);
      }
    }
  }

  private injectPending(): void {
    const v = this.runView;
    if (!this.irqLine) {
      v.setUint8(abi.RUN.requestInterruptWindow, 0);
      return;
    }
    if (v.getUint8(abi.RUN.readyForInterruptInjection) && v.getUint8(abi.RUN.ifFlag)) {
      const acked = this.ops.acknowledgeInterrupt();
      if (acked < 0) {
        // The line was stale (VmOps: nothing to deliver): wait for it to rise again.
        v.setUint8(abi.RUN.requestInterruptWindow, this.irqLine ? 1 : 0);
        return;
      }
      const vector = acked & 0xff;
      new DataView(this.interruptArg.buffer).setUint32(0, vector, true);
      ioctlBuf(this.fd, abi.KVM_INTERRUPT, this.interruptArg, 'KVM_INTERRUPT');
      v.setUint8(abi.RUN.requestInterruptWindow, 0);
    } else {
      v.setUint8(abi.RUN.requestInterruptWindow, 1);
    }
  }

  /**
   * KVM completes an intercepted Xen hypercall on the next KVM_RUN by writing
   * hcall.result to RAX and stepping over the VMCALL: the result is the RAX the
   * domain left (dispatchHypercall writes its answer there).
   */
  private completeXenHypercall(): void {
    this.xenHypercallPending = false;
    const w = this.regs32();
    const rax = (BigInt(w[1]) << 32n) | BigInt(w[0]);
    this.runView.setBigUint64(RUN_XEN.result, rax, true);
  }

  /**
   * KVM finishes an MSR or Xen-hypercall exit (result into RAX/RDX, RIP past the
   * instruction) only inside the next KVM_RUN, and that pending step is in no state
   * userspace can read (api.rst §5, "the corresponding operations are complete ...
   * only after userspace has re-entered the kernel with KVM_RUN"). Before a state is
   * taken, re-enter with immediate_exit set: KVM finishes the exit and returns
   * -EINTR without running a guest instruction.
   */
  private finishPendingExit(): void {
    if (this.xenHypercallPending) this.completeXenHypercall();
    if (!this.exitToFinish) return;
    this.exitToFinish = false;
    const v = this.runView;
    v.setUint8(abi.RUN.immediateExit, 1);
    this.regsCache = null;
    this.sregsCache = null;
    // A string I/O or split MMIO access may need more exits before it is done: serve those too.
    for (let step = 0; ; step++) {
      const rc = ioctlRaw(this.fd, abi.KVM_RUN);
      this.syncSerial = -1;
      if (rc === -EINTR || rc === -EAGAIN) break;
      const reason = this.runU32[abi.RUN.exitReason >> 2];
      if (rc < 0 || step >= 64 || (reason !== abi.KVM_EXIT_IO && reason !== abi.KVM_EXIT_MMIO)) {
        v.setUint8(abi.RUN.immediateExit, 0);
        throw new Error(`KVM_RUN (immediate_exit, finishing the last exit) returned ${rc < 0 ? `errno ${-rc}` : `exit ${abi.EXIT_REASON_NAMES[reason] ?? reason}`}, expected -EINTR`);
      }
      if (reason === abi.KVM_EXIT_IO) this.serveIo();
      else this.serveMmio();
    }
    v.setUint8(abi.RUN.immediateExit, 0);
  }

  /** How Xen hypercalls reach tsxen on this host (for the domain log). */
  get hypercallRoute(): string {
    return this.vm.xenHypercallIntercept
      ? 'KVM_XEN_HVM_CONFIG intercepts VMCALL/VMMCALL (KVM_EXIT_XEN)'
      : `KVM cannot intercept Xen hypercalls here (no KVM_CAP_XEN_HVM INTERCEPT_HCALL): only calls through the hypercall page reach tsxen (port 0x${HYPERCALL_PORT.toString(16)} stubs); a guest that executes VMCALL/VMMCALL directly (Linux 6.1.119+ and 6.12+) gets KVM's -ENOSYS instead`;
  }

  /** Serve a port exit through VmOps; returns the hypercall exit for the stub port. */
  private serveIo(): VmExit | null {
    const b = this.runBytes;
    const out = b[abi.RUN.ioDirection] === abi.KVM_EXIT_IO_OUT;
    const size = b[abi.RUN.ioSize];
    const port = this.runU16[abi.RUN.ioPort >> 1];
    const count = this.runU32[abi.RUN.ioCount >> 2];
    // data_offset is a u64 inside the kvm_run mapping; a high half means it is not.
    const dataOffset = this.runU32[(abi.RUN.ioDataOffset >> 2) + 1] === 0 ? this.runU32[abi.RUN.ioDataOffset >> 2] : Infinity;
    if (out && port === HYPERCALL_PORT && size === 4 && count === 1 && this.inHypercallPage()) {
      this.note('hypercall');
      return { kind: 'hypercall' };
    }
    if ((size !== 1 && size !== 2 && size !== 4) || dataOffset + size * count > b.length) return null;
    // KVM puts the data at a page offset (aligned), so whole-element typed-array access works; any other offset goes byte-wise.
    const aligned = (dataOffset & 3) === 0;
    for (let i = 0; i < count; i++) {
      const at = dataOffset + i * size;
      if (out) this.ops.pioWrite(port, size, aligned ? this.readRun(at, size) : readLe(this.runView, at, size));
      else if (aligned) this.writeRun(at, size, this.ops.pioRead(port, size));
      else writeLe(this.runView, at, size, this.ops.pioRead(port, size));
    }
    return null;
  }

  private serveMmio(): void {
    const u32 = this.runU32;
    const address = u32[abi.RUN.mmioPhysAddr >> 2];
    const len = u32[abi.RUN.mmioLen >> 2];
    const write = this.runBytes[abi.RUN.mmioIsWrite] !== 0;
    if (u32[(abi.RUN.mmioPhysAddr >> 2) + 1] !== 0) {
      // Above 4 GiB nothing is decoded in tsxen's platform (a long-mode guest can reach
      // there): reads float high, writes are dropped, as on an unclaimed PCI cycle.
      if (!write) this.runBytes.fill(0xff, abi.RUN.mmioData, abi.RUN.mmioData + 8);
      return;
    }
    if (len === 1 || len === 2 || len === 4) {
      this.mmioPart(address, 0, len, write);
    } else if (len === 8) {
      // 8-byte accesses (MOVQ, 64-bit MOV) become two 4-byte device accesses, low first.
      this.mmioPart(address, 0, 4, write);
      this.mmioPart(address, 4, 4, write);
    }
  }

  private mmioPart(address: number, off: number, size: AccessSize, write: boolean): void {
    const at = abi.RUN.mmioData + off; // 8-aligned in kvm_run
    if (write) this.ops.mmioWrite((address + off) >>> 0, size, this.readRun(at, size));
    else this.writeRun(at, size, this.ops.mmioRead((address + off) >>> 0, size));
  }

  /** A little-endian value at an offset of kvm_run aligned to `size` (x86 hosts only, as KVM x86 is). */
  private readRun(at: number, size: number): number {
    return size === 1 ? this.runBytes[at] : size === 2 ? this.runU16[at >> 1] : this.runU32[at >> 2];
  }

  private writeRun(at: number, size: number, value: number): void {
    if (size === 1) this.runBytes[at] = value;
    else if (size === 2) this.runU16[at >> 1] = value;
    else this.runU32[at >> 2] = value;
  }

  /**
   * Did this OUT to the stub port come from the hypercall page? The full check walks
   * CS base + EIP through the guest's page tables (a KVM_GET_SREGS). Once a stub was
   * verified, an OUT whose EIP lies in the same page is accepted on EIP alone: only
   * the guest kernel can put other code at that (supervisor) address — by remapping
   * it or changing CS base — and the guest kernel may make hypercalls anyway; guest
   * user code cannot execute there. The cache is dropped when the page moves or the
   * vCPU is reset or restored.
   */
  private inHypercallPage(): boolean {
    if (this.hypercallPage === null) return false;
    const w = this.regs32();
    const eip = w[abi.REG_INDEX.eip * 2];
    const ripHigh = w[abi.REG_INDEX.eip * 2 + 1];
    const ripPage = (eip & ~0xfff) >>> 0;
    if (ripPage === this.verifiedStubRipPage && ripHigh === this.verifiedStubRipHigh) return true;
    // The stubs run with CS base + EIP inside the page (flat segments, SeaBIOS and Linux);
    // in 64-bit code the linear address is RIP itself.
    const s = this.getSpecialRegisters();
    const long = runs64BitCode(s);
    const linear = long ? (ripHigh | 0) * 2 ** 32 + eip : (s.cs.base + eip) >>> 0; // signed64 form
    const paging = (s.cr0 & 0x80000000) !== 0;
    const pa = paging ? this.translate(linear, false) : linear;
    // EIP is past the OUT or still on it depending on the kernel: accept both.
    const inPage = pa !== undefined && pa >= this.hypercallPage && pa < this.hypercallPage + 4096;
    if (inPage) {
      this.verifiedStubRipPage = ripPage;
      this.verifiedStubRipHigh = ripHigh;
    }
    return inPage;
  }

  /** The kvm_run mapping (a koffi pointer), for bench/kvm-exit's in-process C loop. */
  get runPointer(): unknown {
    return this.run_.pointer;
  }

  /** Counts of KVM exits by reason name, for benchmarks and diagnostics. */
  get exitCounts(): Map<string, number> {
    const m = new Map<string, number>();
    this.exitsByReason.forEach((n, reason) => {
      if (n) m.set(reason === EXIT_REASON_SLOTS - 1 ? 'other' : abi.EXIT_REASON_NAMES[reason] ?? `exit ${reason}`, n);
    });
    return m;
  }

  requestExit(): void {
    this.exitRequested = true;
    this.runView.setUint8(abi.RUN.immediateExit, 1);
  }

  setIrqLine(level: boolean): void {
    this.irqLine = level;
  }

  completeMsr(value: bigint | undefined): void {
    const m = this.pendingMsr;
    if (!m) return;
    this.pendingMsr = null;
    const v = this.runView;
    v.setUint8(abi.RUN.msrError, value === undefined ? 1 : 0);
    if (!m.write && value !== undefined) v.setBigUint64(abi.RUN.msrData, BigInt.asUintN(64, value), true);
    // The domain has just filled the page with VMCALL stubs; replace them with ours.
    if (m.write && value !== undefined && m.index === XEN_MSR_HYPERCALL_PAGE) this.hypercallPageInstalled(Number(m.value & 0xfffff000n));
  }

  hypercallPageInstalled(gpa: number): void {
    // With KVM's interception the domain's own VMCALL/VMMCALL stubs reach tsxen as they are.
    if (this.vm.xenHypercallIntercept) return;
    try {
      this.memory.write(gpa, kvmHypercallPageBytes());
      this.hypercallPage = gpa;
      this.verifiedStubRipPage = -1;
    } catch {
      // Not RAM: the domain already refused it with #GP; nothing to rewrite.
    }
  }

  // ---- registers -------------------------------------------------------------

  getRegisters(): VcpuRegisters {
    // The low halves of kvm_regs' u64s through one Uint32Array (x86 is little-endian): no BigInt on the hypercall path.
    const w = this.regs32();
    const x = abi.REG_INDEX;
    return { eax: w[x.eax * 2], ebx: w[x.ebx * 2], ecx: w[x.ecx * 2], edx: w[x.edx * 2], esi: w[x.esi * 2], edi: w[x.edi * 2], esp: w[x.esp * 2], ebp: w[x.ebp * 2], eip: w[x.eip * 2], eflags: w[x.eflags * 2] };
  }

  setRegisters(regs: VcpuRegisters): void {
    const w = this.regs32();
    const x = abi.REG_INDEX;
    // A 32-bit view: unchanged registers keep their upper halves (64-bit guests);
    // a changed one is written as a 32-bit write would (zero-extended).
    setLow32(w, x.eax, regs.eax);
    setLow32(w, x.ebx, regs.ebx);
    setLow32(w, x.ecx, regs.ecx);
    setLow32(w, x.edx, regs.edx);
    setLow32(w, x.esi, regs.esi);
    setLow32(w, x.edi, regs.edi);
    setLow32(w, x.esp, regs.esp);
    setLow32(w, x.ebp, regs.ebp);
    setLow32(w, x.eip, regs.eip);
    setLow32(w, x.eflags, regs.eflags);
    this.commitRegs();
  }

  readonly longMode = true;
  /** KVM_GET_TSC_KHZ at creation (0 if the host refuses it: then no PV clock is offered). */
  readonly tscKhz: number;

  /** IA32_TSC through KVM_GET_MSRS (~12 µs on kvm-pvm; the PV clock reads it about once a second). */
  readTsc(): bigint {
    return this.getMsrs([abi.MSR_INDEX_TSC])[0] ?? 0n;
  }

  getRegisters64(): VcpuRegisters64 {
    const b = this.regs();
    const v = new DataView(b.buffer, b.byteOffset, abi.REGS_BYTES);
    const out = {} as VcpuRegisters64;
    REGISTERS64.forEach((name, i) => (out[name] = v.getBigUint64(i * 8, true)));
    return out;
  }

  setRegisters64(regs: VcpuRegisters64): void {
    const b = this.regs();
    const v = new DataView(b.buffer, b.byteOffset, abi.REGS_BYTES);
    REGISTERS64.forEach((name, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, regs[name]), true));
    this.commitRegs();
  }

  /** regs()'s buffer, changed in place, goes to KVM: through kvm_run's sync area right after an exit, else KVM_SET_REGS. */
  private commitRegs(): void {
    const b = this.regs();
    if (this.syncSerial >= 0 && this.syncSerial === ioctlSerial()) {
      // Right after an exit kvm_run's copy is the whole current kvm_regs: put the new
      // values there and let the next KVM_RUN load them (kvm_dirty_regs, api.rst
      // "kvm_valid_regs / kvm_dirty_regs") instead of a KVM_SET_REGS now. Any other
      // ioctl on this vCPU first writes them back (flushDirtyRegs), so it sees them.
      this.runSyncRegs.set(b);
      this.runU32[RUN_SYNC.dirtyRegs >> 2] |= KVM_SYNC_X86_REGS;
      return;
    }
    try {
      ioctlBuf(this.fd, abi.KVM_SET_REGS, b, 'KVM_SET_REGS');
    } finally {
      this.regsCache = null;
    }
  }

  /** Registers left for KVM_RUN to load, written back with KVM_SET_REGS before another ioctl on this vCPU. */
  private flushDirtyRegs(): void {
    const dirty = RUN_SYNC.dirtyRegs >> 2;
    if ((this.runU32[dirty] & KVM_SYNC_X86_REGS) === 0) return;
    this.runU32[dirty] &= ~KVM_SYNC_X86_REGS; // first: the ioctl below runs this hook again
    this.flushRegsArg.set(this.runSyncRegs);
    ioctlBuf(this.fd, abi.KVM_SET_REGS, this.flushRegsArg, 'KVM_SET_REGS (registers left for KVM_RUN)');
  }

  getSpecialRegisters(): VcpuSpecialRegisters {
    const v = new DataView(this.sregs().buffer);
    // signed64: exact for 32-bit values and for canonical 64-bit addresses (backend.ts).
    const u64 = (at: number) => signed64(v.getBigUint64(at, true));
    const seg = (i: number): SegmentRegister => {
      const at = i * abi.SEGMENT_BYTES;
      return {
        base: u64(at), limit: v.getUint32(at + 8, true), selector: v.getUint16(at + 12, true), type: v.getUint8(at + 14),
        present: v.getUint8(at + 15), dpl: v.getUint8(at + 16), db: v.getUint8(at + 17), s: v.getUint8(at + 18),
        l: v.getUint8(at + 19), g: v.getUint8(at + 20), avl: v.getUint8(at + 21), unusable: v.getUint8(at + 22),
      };
    };
    const dt = (at: number): DescriptorTableRegister => ({ base: u64(at), limit: v.getUint16(at + 8, true) });
    const [cs, ds, es, fs, gs, ss, tr, ldt] = abi.SREGS.segments.map((_, i) => seg(i));
    return {
      cs, ds, es, fs, gs, ss, tr, ldt, gdt: dt(abi.SREGS.gdt), idt: dt(abi.SREGS.idt),
      cr0: u64(abi.SREGS.cr0), cr2: u64(abi.SREGS.cr2), cr3: u64(abi.SREGS.cr3), cr4: u64(abi.SREGS.cr4),
      efer: u64(abi.SREGS.efer), apicBase: u64(abi.SREGS.apicBase),
    };
  }

  setSpecialRegisters(s: VcpuSpecialRegisters): void {
    // Start from KVM's current sregs so cr8 and the pending-interrupt bitmap stay as they are.
    const b = this.sregs().slice();
    const v = new DataView(b.buffer);
    // In long mode (EFER.LMA) bases and CR2/CR3 are 64-bit (signed64 numbers); outside it
    // they are 32-bit values, whatever sign a caller's 32-bit arithmetic left them with.
    const long = (s.efer & EFER_LMA) !== 0;
    const wide = (n: number): bigint => (long ? unsigned64(n) : BigInt(n >>> 0));
    abi.SREGS.segments.forEach((name, i) => {
      const g = s[name];
      const at = i * abi.SEGMENT_BYTES;
      v.setBigUint64(at, wide(g.base), true);
      v.setUint32(at + 8, g.limit >>> 0, true);
      v.setUint16(at + 12, g.selector & 0xffff, true);
      [g.type, g.present, g.dpl, g.db, g.s, g.l, g.g, g.avl, g.unusable].forEach((x, k) => v.setUint8(at + 14 + k, x & 0xff));
    });
    for (const [at, d] of [[abi.SREGS.gdt, s.gdt], [abi.SREGS.idt, s.idt]] as const) {
      v.setBigUint64(at, wide(d.base), true);
      v.setUint16(at + 8, d.limit & 0xffff, true);
    }
    v.setBigUint64(abi.SREGS.cr0, BigInt(s.cr0 >>> 0), true);
    v.setBigUint64(abi.SREGS.cr2, wide(s.cr2), true);
    v.setBigUint64(abi.SREGS.cr3, wide(s.cr3), true);
    v.setBigUint64(abi.SREGS.cr4, BigInt(s.cr4 >>> 0), true);
    v.setBigUint64(abi.SREGS.efer, BigInt(s.efer >>> 0), true);
    v.setBigUint64(abi.SREGS.apicBase, BigInt(s.apicBase >>> 0), true);
    this.sregsCache = null;
    this.verifiedStubRipPage = -1; // CS base or paging may differ now
    ioctlBuf(this.fd, abi.KVM_SET_SREGS, b, 'KVM_SET_SREGS');
  }

  setCpuid(entries: CpuidEntry[]): void {
    const b = new Uint8Array(8 + entries.length * abi.CPUID_ENTRY_BYTES);
    const v = new DataView(b.buffer);
    v.setUint32(0, entries.length, true);
    entries.forEach((e, i) => {
      const at = 8 + i * abi.CPUID_ENTRY_BYTES;
      v.setUint32(at, e.leaf >>> 0, true);
      v.setUint32(at + 4, e.indexed ? e.subleaf >>> 0 : 0, true);
      v.setUint32(at + 8, e.indexed ? abi.KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0, true);
      v.setUint32(at + 12, e.eax >>> 0, true);
      v.setUint32(at + 16, e.ebx >>> 0, true);
      v.setUint32(at + 20, e.ecx >>> 0, true);
      v.setUint32(at + 24, e.edx >>> 0, true);
    });
    ioctlBuf(this.fd, abi.KVM_SET_CPUID2, b, 'KVM_SET_CPUID2');
  }

  // ---- state record (vcpu-state.ts) ----------------------------------------------

  getState(): VcpuState {
    this.finishPendingExit();
    const { state, notes } = readKvmState(this, this.halted, this.irqLine);
    this.stateNotes = notes;
    return state;
  }

  setState(state: VcpuState): string[] {
    this.finishPendingExit(); // else KVM would apply the old exit's result on top of the new state
    const { state: s, notes } = writeKvmState(this, state);
    this.halted = s.halted;
    this.irqLine = s.intrLine;
    this.pendingMsr = null;
    this.stateNotes = notes;
    return notes;
  }

  /** A halted vCPU stays in HLT until the INTR line is up with IF = 1 (as the emu's run loop): the `hlt` exit again, or null to run. */
  private stayHalted(): VmExit | null {
    const ifFlag = (this.getRegisters().eflags & 0x200) !== 0;
    if (ifFlag && this.irqLine) {
      this.halted = false;
      return null;
    }
    return { kind: 'hlt', interruptsEnabled: ifFlag };
  }

  /** kvm_fpu as raw bytes (x87 + SSE state; 416 bytes, arch/x86/include/uapi/asm/kvm.h), for save/restore. */
  getFpu(): Uint8Array {
    return this.rawGet(abi.KVM_GET_FPU, abi.FPU_BYTES);
  }

  setFpu(fpu: Uint8Array): void {
    if (fpu.length !== abi.FPU_BYTES) throw new RangeError(`kvm_fpu is ${abi.FPU_BYTES} bytes, got ${fpu.length}`);
    ioctlBuf(this.fd, abi.KVM_SET_FPU, fpu.slice(), 'KVM_SET_FPU');
  }

  /** FNINIT's x87 state and MXCSR's reset value (SDM vol. 1 §8.1.9, §10.2.3.1). */
  initFpu(): void {
    const b = new Uint8Array(abi.FPU_BYTES);
    const v = new DataView(b.buffer);
    v.setUint16(abi.FPU.fcw, 0x37f, true);
    v.setUint32(abi.FPU.mxcsr, 0x1f80, true);
    this.setFpu(b);
  }

  /** RDMSR through KVM (MSRs KVM owns); returns undefined for those it refuses. */
  getMsrs(indices: number[]): Array<bigint | undefined> {
    const b = new Uint8Array(8 + indices.length * 16);
    const v = new DataView(b.buffer);
    v.setUint32(0, indices.length, true);
    indices.forEach((index, i) => v.setUint32(8 + i * 16, index >>> 0, true));
    const n = ioctlBuf(this.fd, abi.KVM_GET_MSRS, b, 'KVM_GET_MSRS');
    return indices.map((_, i) => (i < n ? v.getBigUint64(8 + i * 16 + 8, true) : undefined));
  }

  /** WRMSR through KVM; returns how many were accepted (in order). */
  setMsrs(entries: Array<[number, bigint]>): number {
    const b = new Uint8Array(8 + entries.length * 16);
    const v = new DataView(b.buffer);
    v.setUint32(0, entries.length, true);
    entries.forEach(([index, value], i) => {
      v.setUint32(8 + i * 16, index >>> 0, true);
      v.setBigUint64(8 + i * 16 + 8, BigInt.asUintN(64, value), true);
    });
    return ioctlBuf(this.fd, abi.KVM_SET_MSRS, b, 'KVM_SET_MSRS');
  }

  /**
   * Linear → physical by walking the guest's 32-bit, PAE or 4-level long-mode page
   * tables in RAM (SDM vol. 3A §4.3-4.5; no A/D updates, supervisor access). In long
   * mode `linear` is a signed64() number (canonical upper-half addresses are negative);
   * a non-canonical one, or a frame above 4 GiB (tsxen's guests have none), is undefined.
   * A write needs R/W at every level when CR0.WP is set (§4.6.1), as Xen's copy to a
   * guest handle does: a read-only mapping is -EFAULT, not written through.
   */
  translate(linear: number, write: boolean): number | undefined {
    const s = this.getSpecialRegisters();
    const rw = write && (s.cr0 & CR0_WP) !== 0;
    if ((s.efer & EFER_LMA) !== 0 && (s.cr0 & 0x80000000) !== 0) return this.translateLong(s.cr3, linear, rw);
    linear >>>= 0;
    if ((s.cr0 & 0x80000000) === 0) return linear;
    if ((s.cr4 & 0x20) === 0) {
      const pde = this.readPhys32(((s.cr3 & 0xfffff000) + ((linear >>> 22) << 2)) >>> 0);
      if (pde === undefined || !(pde & 1) || (rw && !(pde & 2))) return undefined;
      if (pde & 0x80 && s.cr4 & 0x10) return ((pde & 0xffc00000) | (linear & 0x3fffff)) >>> 0;
      const pte = this.readPhys32(((pde & 0xfffff000) + (((linear >>> 12) & 0x3ff) << 2)) >>> 0);
      if (pte === undefined || !(pte & 1) || (rw && !(pte & 2))) return undefined;
      return ((pte & 0xfffff000) | (linear & 0xfff)) >>> 0;
    }
    // PAE: PDPTE (index 31:30; it has no R/W bit), PDE (29:21, PS = 2 MiB), PTE (20:12).
    const pdpte = this.readEntry((s.cr3 & 0xffffffe0) + (linear >>> 30) * 8, false, false);
    if (pdpte === undefined) return undefined;
    const pde = this.readEntry(pdpte + ((linear >>> 21) & 0x1ff) * 8, true, rw);
    if (pde === undefined) return undefined;
    if (pde < 0) return (((-pde - 1) & 0xffe00000) + (linear & 0x1fffff)) >>> 0;
    const pte = this.readEntry(pde + ((linear >>> 12) & 0x1ff) * 8, false, rw);
    return pte === undefined ? undefined : (pte + (linear & 0xfff)) >>> 0;
  }

  /** The 4-level walk: PML4 (47:39), PDPT (38:30, PS = 1 GiB), PD (29:21, PS = 2 MiB), PT (20:12). */
  private translateLong(cr3: number, linear: number, rw: boolean): number | undefined {
    if (!Number.isSafeInteger(linear) || linear < -(2 ** 47) || linear >= 2 ** 47) return undefined;
    const hi = Math.floor(linear / 2 ** 32) >>> 0; // bits 63:32 (two's complement)
    const lo = linear >>> 0;
    const pml4e = this.readEntry((cr3 & 0xfffff000) + ((hi >>> 7) & 0x1ff) * 8, false, rw);
    if (pml4e === undefined) return undefined;
    const pdpte = this.readEntry(pml4e + (((hi & 0x7f) << 2) | (lo >>> 30)) * 8, true, rw);
    if (pdpte === undefined) return undefined;
    if (pdpte < 0) return (((-pdpte - 1) & 0xc0000000) + (lo & 0x3fffffff)) >>> 0;
    const pde = this.readEntry(pdpte + ((lo >>> 21) & 0x1ff) * 8, true, rw);
    if (pde === undefined) return undefined;
    if (pde < 0) return (((-pde - 1) & 0xffe00000) + (lo & 0x1fffff)) >>> 0;
    const pte = this.readEntry(pde + ((lo >>> 12) & 0x1ff) * 8, false, rw);
    return pte === undefined ? undefined : (pte + (lo & 0xfff)) >>> 0;
  }

  /**
   * A present 8-byte paging entry at `pa` (writable too when `rw`): the frame it names
   * (bits 51:12; undefined when above 4 GiB, not present or read-only for `rw`), or with
   * `leafOk` and PS set, -(frame + 1) for a large page (the caller masks off the PAT bit
   * and what else lies below the large frame).
   */
  private readEntry(pa: number, leafOk: boolean, rw: boolean): number | undefined {
    const low = this.readPhys32(pa);
    const high = this.readPhys32(pa + 4);
    if (low === undefined || high === undefined || (low & 1) === 0 || (high & 0xfffff) !== 0 || (rw && (low & 2) === 0)) return undefined;
    const frame = (low & 0xfffff000) >>> 0;
    return leafOk && (low & 0x80) !== 0 ? -frame - 1 : frame;
  }

  private readPhys32(pa: number): number | undefined {
    try {
      return this.memory.readU32(pa);
    } catch {
      return undefined;
    }
  }

  reset(): void {
    if (!this.powerOn) return;
    this.finishPendingExit();
    this.regsCache = null;
    this.sregsCache = null;
    ioctlBuf(this.fd, abi.KVM_SET_REGS, this.powerOn.regs.slice(), 'KVM_SET_REGS');
    ioctlBuf(this.fd, abi.KVM_SET_SREGS, this.powerOn.sregs.slice(), 'KVM_SET_SREGS');
    this.irqLine = false;
    this.halted = false;
    this.pendingMsr = null;
    this.hypercallPage = null;
    this.verifiedStubRipPage = -1;
    this.verifiedStubRipHigh = 0;
  }

  close(): void {
    setBeforeIoctl(this.fd, null);
    this.kick.withdrawThread();
    this.sliceTimer.close();
    // A timer signal or kick still pending would end the next KVM_RUN of this thread (another vCPU's) at once.
    this.kickSignal.take();
    unmap(this.run_);
    closeFd(this.fd);
  }

  // ---- diagnostics -----------------------------------------------------------

  private regs(): Uint8Array {
    if (this.regsCache) return this.regsCache;
    // Right after an exit (no ioctl since), KVM's copy in kvm_run is current: no KVM_GET_REGS.
    if (this.syncSerial >= 0 && this.syncSerial === ioctlSerial()) {
      this.syncRegsCopy.set(this.runSyncRegs);
      return (this.regsCache = this.syncRegsCopy);
    }
    return (this.regsCache = this.rawGet(abi.KVM_GET_REGS, abi.REGS_BYTES));
  }

  /** regs() as 32-bit words (the sync copy has a view made once). */
  private regs32(): Uint32Array {
    const b = this.regs();
    return b === this.syncRegsCopy ? this.syncRegsCopy32 : new Uint32Array(b.buffer, b.byteOffset, abi.REGS_BYTES >> 2);
  }

  private sregs(): Uint8Array {
    return (this.sregsCache ??= this.rawGet(abi.KVM_GET_SREGS, abi.SREGS.bytes));
  }

  private rawGet(req: number, size: number): Uint8Array {
    const b = new Uint8Array(size);
    ioctlBuf(this.fd, req, b, 'KVM_GET');
    return b;
  }

  /** CS:RIP for messages (RIP in full when the vCPU runs 64-bit code). */
  private where(): string {
    try {
      const s = this.getSpecialRegisters();
      const rip = this.getRegisters64().rip;
      const digits = runs64BitCode(s) ? 16 : 8;
      return `${s.cs.selector.toString(16).padStart(4, '0')}:${rip.toString(16).padStart(digits, '0')}`;
    } catch {
      return '?';
    }
  }

  private note(what: string): void {
    this.recentExits.push(what);
    if (this.recentExits.length > 16) this.recentExits.shift();
  }

  private internalError(reason: string): VmExit {
    const lines: string[] = [];
    try {
      const r = this.getRegisters64();
      const s = this.getSpecialRegisters();
      const long = runs64BitCode(s);
      const h = (n: number | bigint, digits = 8) => BigInt.asUintN(64, BigInt(n)).toString(16).padStart(digits, '0');
      if (long) {
        lines.push(`rax=${h(r.rax, 16)} rbx=${h(r.rbx, 16)} rcx=${h(r.rcx, 16)} rdx=${h(r.rdx, 16)}`);
        lines.push(`rsi=${h(r.rsi, 16)} rdi=${h(r.rdi, 16)} rsp=${h(r.rsp, 16)} rbp=${h(r.rbp, 16)}`);
        lines.push(`r8=${h(r.r8, 16)} r9=${h(r.r9, 16)} r10=${h(r.r10, 16)} r11=${h(r.r11, 16)}`);
        lines.push(`r12=${h(r.r12, 16)} r13=${h(r.r13, 16)} r14=${h(r.r14, 16)} r15=${h(r.r15, 16)}`);
        lines.push(`rip=${h(r.rip, 16)} rflags=${h(r.rflags)} cs=${s.cs.selector.toString(16)} cr0=${h(s.cr0)} cr2=${h(s.cr2, 16)} cr3=${h(s.cr3, 16)} cr4=${h(s.cr4)} efer=${h(s.efer)}`);
      } else {
        const l = (x: bigint) => h(BigInt.asUintN(32, x));
        lines.push(`eax=${l(r.rax)} ebx=${l(r.rbx)} ecx=${l(r.rcx)} edx=${l(r.rdx)} esi=${l(r.rsi)} edi=${l(r.rdi)} esp=${l(r.rsp)} ebp=${l(r.rbp)}`);
        lines.push(`eip=${l(r.rip)} eflags=${l(r.rflags)} cs=${s.cs.selector.toString(16)} base=${h(s.cs.base)} cr0=${h(s.cr0)} cr2=${h(s.cr2)} cr3=${h(s.cr3)} cr4=${h(s.cr4)} efer=${h(s.efer)}`);
      }
      // The instruction bytes at CS:RIP, through the guest's page tables when paging is on.
      const linear = long ? signed64(r.rip) : (s.cs.base + Number(BigInt.asUintN(32, r.rip))) >>> 0;
      const bytes: string[] = [];
      for (let i = 0; i < 16; i++) {
        const pa = (s.cr0 & 0x80000000) !== 0 ? this.translate(linear + i, false) : (linear + i) >>> 0;
        if (pa === undefined) break;
        try {
          bytes.push(this.memory.readU8(pa).toString(16).padStart(2, '0'));
        } catch {
          break;
        }
      }
      lines.push(`bytes at cs:${long ? 'rip' : 'eip'}: ${bytes.join(' ') || '(not mapped RAM)'}`);
    } catch (e) {
      lines.push(`registers unavailable: ${(e as Error).message}`);
    }
    lines.push(`last kvm exits: ${this.recentExits.join(', ') || '(none)'}`);
    lines.push(`guest time ${this.clock.nowNs()} ns`);
    return { kind: 'internal-error', reason, diagnostic: lines.join('\n') };
  }
}

/** Store a 32-bit register value into kvm_regs' u64 slot `index` if its low half changed (zero-extending). */
function setLow32(w: Uint32Array, index: number, value: number): void {
  const low = value >>> 0;
  if (w[index * 2] !== low) {
    w[index * 2] = low;
    w[index * 2 + 1] = 0;
  }
}

/** exitsByReason slots: KVM's exit reasons are small numbers; the last slot counts any larger one. */
const EXIT_REASON_SLOTS = 64;

function readLe(v: DataView, at: number, size: AccessSize): number {
  return size === 1 ? v.getUint8(at) : size === 2 ? v.getUint16(at, true) : v.getUint32(at, true);
}

function writeLe(v: DataView, at: number, size: AccessSize, value: number): void {
  if (size === 1) v.setUint8(at, value & 0xff);
  else if (size === 2) v.setUint16(at, value & 0xffff, true);
  else v.setUint32(at, value >>> 0, true);
}
