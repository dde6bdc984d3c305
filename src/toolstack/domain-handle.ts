// dom0's handle on one running domain: allocates guest RAM, starts the domain's worker,
// carries console bytes both ways, and applies the xl.cfg lifecycle policy when the
// guest shuts down (on_poweroff / on_reboot / on_crash: destroy, restart, preserve).
// A worker that dies (JS exception, failed start) is the domain crashing: dom0 logs
// it and carries on.

import { EventEmitter } from 'node:events';
import { appendFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { DomainSpec, PvRings, ShutdownReason } from '../hypervisor/domain-spec.js';
import { ConsoleRing } from './console-ring.js';
import { ControlWord, DomainControl, WorkerState } from './domain-control.js';
import type { DomainConfig, LifecycleAction } from './domain-config.js';
import { buildDomainSpec } from './domain-builder.js';
import { HYPERVISOR_DOMAIN_MODULE, RAW_IMAGE_MODULE } from './domain-module.js';
import { domainBackingBytes } from '../hypervisor/domain.js';
import { chooseCpuBackend, kvmAvailability } from '../cpu/kvm/availability.js';
import { allocateGuestRam } from '../cpu/kvm/kvm-system.js';
import { unmap } from '../cpu/kvm/libc.js';
import { VcpuKick } from '../cpu/kvm/vcpu-kick.js';
import { kvmDevicePath } from './run-paths.js';
import { refuseLongModeKernel } from './kernel-kind.js';
import type { DomainRequest, LogEntry, ScreenImage, ScreenText, WorkerMessage, WorkerReply, WorkerStart } from './worker-protocol.js';
import { Dom0Link } from '../hypervisor/dom0-link.js';
import { Dom0Backends, type XenStoreSnapshot } from './dom0-backends.js';
import { allocateDomid, dom0XenStore, liveDomainTable, releaseDomid } from './dom0-xenstore.js';
import type { XenStore } from '../pv/xenstore/store.js';
import type { DomainState } from '../hypervisor/domain-save.js';
import type { DomainImage } from '../hypervisor/save/image-format.js';
import { XsClient } from '../pv/xenstore/client.js';

export type StopReason = ShutdownReason | 'destroyed';

export interface DomainStop {
  reason: StopReason;
  detail: string;
  /** How many times the domain was re-created by a restart action. */
  restarts: number;
  /** True when the domain was kept (paused) by a `preserve` action rather than ended. */
  preserved: boolean;
  /** True when the domain never started (bad kernel for its memory, missing module…). */
  startFailed?: boolean;
  /** The guest ended through isa-debug-exit: the status tsxen exits with ((V << 1) | 1). */
  exitStatus?: number;
}

/** xl list's state letters: r running, b blocked (idle), p paused, s shut down, c crashed. */
export type DomainStateLetter = 'r' | 'b' | 'p' | 's' | 'c' | '-';

export interface DomainInfo {
  name: string;
  memoryMiB: number;
  vcpus: number;
  state: DomainStateLetter;
  /** Seconds since the domain was created. */
  uptimeSeconds: number;
  restarts: number;
}

export interface DomainHandleEvents {
  serial: [port: number, bytes: Uint8Array];
  debugcon: [ioport: number, bytes: Uint8Array];
  log: [entry: LogEntry];
  shutdown: [reason: ShutdownReason, detail: string, action: LifecycleAction];
  restart: [restarts: number];
  stopped: [stop: DomainStop];
}

export interface DomainHandleOptions {
  /** Append the domain log (log events, crash diagnostics) to this file. */
  logFile?: string;
  /** Override the spec the builder would make (tests: raw code images). */
  spec?: DomainSpec;
  /** Module URL whose `Domain` runs the guest; default the hypervisor's. */
  domainModule?: string;
  sliceMs?: number;
  /** Console input ring size (bytes, power of two). */
  inputRingBytes?: number;
  /** Module URL of the disk image opener; default the Node raw-image backend. */
  diskModule?: string;
  /** dom0's xenstored; default the process's one (dom0-xenstore.ts). */
  xenstore?: XenStore;
  /** tsxen restore: the first start continues this saved state (pass the image's spec as `spec`); a restart boots afresh. */
  restore?: DomainState;
  /** tsxen restore of a Xen domain: dom0's saved xenstore home and the guest's watches. */
  restoreXenstore?: XenStoreSnapshot;
  /** tsxen restore -p: the restored domain starts paused (unpause() runs it). */
  startPaused?: boolean;
}

const WORKER_URL = new URL('./domain-worker.js', import.meta.url);
const DESTROY_GRACE_MS = 2000;
// Console bytes typed faster than the guest reads them wait here, up to this cap.
const MAX_INPUT_BACKLOG = 1 << 20;
const INPUT_RETRY_MS = 5;

export class DomainHandle extends EventEmitter<DomainHandleEvents> {
  private worker: Worker | undefined;
  private control!: DomainControl;
  private ring!: ConsoleRing;
  private backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private state: 'running' | 'stopping' | 'preserved' | 'stopped' = 'running';
  private stopInfo: DomainStop | undefined;
  private readonly stopped: Promise<DomainStop>;
  private resolveStopped!: (s: DomainStop) => void;
  private readonly spec: DomainSpec;
  /** The CPU backend chosen for this domain (cpu_backend resolved). */
  readonly cpuBackend: 'kvm' | 'emu';
  private destroying: Promise<void> | undefined;
  /** Resolves when the current (or last) worker thread has exited. */
  private workerGone: Promise<void> = Promise.resolve();
  private requestPort: MessagePort | undefined;
  private nextRequestId = 1;
  /** Requests awaiting their reply, with the worker that will answer (a restart starts a new one). */
  private readonly pending = new Map<number, { worker: Worker; resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private readonly createdAt = Date.now();
  private lastReason: ShutdownReason | undefined;
  /** The domain's id in this process (xenstore paths, event channels); kept across restarts. */
  readonly domid = allocateDomid();
  /** dom0's xenstored and console backends for the current worker (Xen domains only). */
  private backends: Dom0Backends | undefined;
  /** The xenstored this domain's store ring talks to. */
  readonly xenstore: XenStore;

  constructor(
    readonly config: DomainConfig,
    private readonly opts: DomainHandleOptions = {},
  ) {
    super();
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    this.spec = opts.spec ?? buildDomainSpec(config);
    this.xenstore = opts.xenstore ?? dom0XenStore();
    if (opts.logFile) startLogFile(opts.logFile);
    this.log({ level: 'info', source: 'toolstack', message: `domain ${config.name} created: ${config.memoryMiB} MiB, ${config.vcpus} vCPU` });
    // ARCHITECTURE.md: "auto" says why it chose what it chose.
    // cpu_backend: "kvm" where KVM is unusable throws KvmUnavailableError (the CLI
    // prints it and exits 1); a scripted test domain always runs as emu.
    let decision: { backend: 'kvm' | 'emu'; message: string };
    try {
      decision = opts.domainModule ? { backend: 'emu' as const, message: `cpu_backend=${config.cpuBackend}: scripted domain module, no CPU backend` } : chooseCpuBackend(config.cpuBackend, () => kvmAvailability({ devicePath: kvmDevicePath() }));
      refuseLongModeKernel(decision.backend, config.kernel, this.spec.linux); // emu has no long mode: LongModeKernelError, before any worker
    } catch (e) {
      releaseDomid(this.domid); // never started: its id goes back at once
      throw e;
    }
    this.cpuBackend = decision.backend;
    this.log({ level: 'info', source: 'toolstack', message: decision.message });
    this.startWorker();
  }

  /** Resolves once the domain is destroyed, or preserved after a shutdown. */
  whenStopped(): Promise<DomainStop> {
    return this.stopped;
  }

  get restartCount(): number {
    return this.restarts;
  }

  /**
   * Host → the domain's console: hvc0 once the guest writes to it (its PV console),
   * else COM1. Bytes beyond the ring's room wait in a capped backlog; excess is dropped.
   */
  serialInput(bytes: Uint8Array): void {
    if (this.state !== 'running' || bytes.length === 0) return;
    if (this.backends?.consoleInUse) {
      this.backends.consoleInput(bytes.slice());
      return;
    }
    if (this.backlogBytes + bytes.length > MAX_INPUT_BACKLOG) {
      this.log({ level: 'warn', source: 'console', message: `console input backlog full: dropped ${bytes.length} bytes` });
      return;
    }
    this.backlog.push(bytes.slice());
    this.backlogBytes += bytes.length;
    this.pumpInput();
  }

  /** What `tsxen list` shows. */
  info(): DomainInfo {
    return { name: this.config.name, memoryMiB: this.config.memoryMiB, vcpus: this.config.vcpus, state: this.stateLetter(), uptimeSeconds: (Date.now() - this.createdAt) / 1000, restarts: this.restarts };
  }

  private stateLetter(): DomainStateLetter {
    if (this.state === 'preserved' || this.state === 'stopped') return this.lastReason === 'crash' ? 'c' : 's';
    if (this.state === 'stopping' || !this.worker) return '-';
    const w = this.control.get(ControlWord.State) as WorkerState;
    if (w === WorkerState.Paused) return 'p';
    if (w === WorkerState.Idle) return 'b';
    if (w === WorkerState.Stopped || w === WorkerState.Exited) return this.lastReason === 'crash' ? 'c' : 's';
    return 'r';
  }

  /** The graphics screen (RGBA), or null without a VGA card or before the guest draws. */
  async screen(): Promise<ScreenImage | null> {
    const r = await this.request({ kind: 'screen' });
    return r.kind === 'screen' ? r.screen : null;
  }

  /** The VGA text screen, or null when the card is not in a text mode (or absent). */
  async screenText(): Promise<ScreenText | null> {
    const r = await this.request({ kind: 'screen-text' });
    return r.kind === 'screen-text' ? r.text : null;
  }

  /** xl trigger power: presses the ACPI power button; false when the domain has none. */
  async pressPowerButton(): Promise<boolean> {
    const r = await this.request({ kind: 'power-button' });
    return r.kind === 'power-button' && r.pressed;
  }

  /**
   * xl shutdown / xl reboot: asks the guest through its PV control node
   * (control/shutdown, which Linux's xenbus watches once it has written
   * control/feature-poweroff / feature-reboot). `fallback` (xl's -F): a guest without
   * PV control gets the ACPI power button (shutdown) or a hard reset (reboot).
   * Resolves with how the request went out; throws when neither is possible.
   */
  async shutdown(kind: 'poweroff' | 'reboot', fallback: boolean): Promise<'pv' | 'acpi' | 'reset'> {
    if (this.state !== 'running' || !this.worker) throw new Error(`domain ${this.config.name} is not running`);
    const home = `/local/domain/${this.domid}/control`;
    const xs = new XsClient(this.xenstore);
    try {
      if (this.backends && xs.tryRead(`${home}/feature-${kind}`) === '1') {
        xs.write(`${home}/shutdown`, kind);
        return 'pv';
      }
    } finally {
      xs.close();
    }
    const why = `domain ${this.config.name} has no PV control node (its kernel did not write control/feature-${kind})`;
    if (!fallback) throw new Error(`${why}; use -F to ${kind === 'poweroff' ? 'press the ACPI power button' : 'reset it'}`);
    if (kind === 'reboot') {
      if (!this.reset()) throw new Error(`domain ${this.config.name} is not running`);
      return 'reset';
    }
    if (!(await this.pressPowerButton())) throw new Error(`${why} and no ACPI power button`);
    return 'acpi';
  }

  /**
   * xl trigger reset: a hard reset, which the toolstack sees as the guest rebooting:
   * on_reboot decides (restart: a fresh domain from the same config).
   */
  reset(): boolean {
    const worker = this.worker;
    if (!worker || this.state !== 'running') return false;
    void this.onShutdown(worker, 'reboot', 'reset (tsxen trigger)', undefined, false);
    return true;
  }

  private request(body: { kind: DomainRequest['kind'] }): Promise<WorkerReply> {
    const port = this.requestPort;
    const worker = this.worker;
    if (!port || !worker) return Promise.reject(new Error(`domain ${this.config.name} is not running`));
    const id = this.nextRequestId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      port.postMessage({ id, ...body } as DomainRequest);
      this.control.ring();
    }).then((r) => {
      if (r.kind === 'error') throw new Error(`domain ${this.config.name}: ${r.message}`);
      return r;
    });
  }

  private failPending(worker: Worker, why: string): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(new Error(`domain ${this.config.name} ${why}`));
    }
  }

  /**
   * xl save's image of this domain: its state from the worker (taken between run
   * slices; pause() first unless it is a checkpoint) with the config, spec and backend.
   */
  async saveImage(): Promise<DomainImage> {
    if (this.state !== 'running') throw new Error(`domain ${this.config.name} is not running (${this.state}): nothing to save`);
    const r = await this.request({ kind: 'save' });
    if (r.kind !== 'save') throw new Error(`domain ${this.config.name}: the worker answered a save with ${r.kind}`);
    return {
      header: { name: this.config.name, cpuBackend: this.cpuBackend, savedAt: new Date().toISOString() },
      config: { config: this.config, ...(this.backends ? { xenstore: this.backends.snapshot() } : {}) },
      spec: this.spec,
      state: r.state,
    };
  }

  pause(): void {
    this.control.request(ControlWord.Pause, 1);
  }

  unpause(): void {
    this.control.request(ControlWord.Pause, 0);
  }

  /** Ends the domain (running, restarting or preserved); resolves when its worker is gone. */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      if (this.state === 'stopped') return;
      this.state = 'stopping';
      await this.endWorker();
      // Already reported when preserved; otherwise the user ended it.
      this.finish({ reason: 'destroyed', detail: 'destroyed by the user', restarts: this.restarts, preserved: false });
      this.state = 'stopped';
    })();
    return this.destroying;
  }

  private pumpInput(): void {
    while (this.backlog.length > 0) {
      const head = this.backlog[0];
      const n = this.ring.write(head);
      this.backlogBytes -= n;
      if (n < head.length) {
        this.backlog[0] = head.subarray(n);
        break;
      }
      this.backlog.shift();
    }
    this.control.ring();
    if (this.backlog.length > 0 && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.state === 'running') this.pumpInput();
      }, INPUT_RETRY_MS);
    }
  }

  private startWorker(): void {
    this.control = new DomainControl();
    // Only the first incarnation is the restored one; a restart (on_reboot) boots afresh.
    const restore = this.restarts === 0 ? this.opts.restore : undefined;
    if (restore && this.opts.startPaused) this.control.request(ControlWord.Pause, 1);
    this.ring = new ConsoleRing(this.opts.inputRingBytes ?? 4096);
    this.backlog = [];
    this.backlogBytes = 0;
    const channel = new MessageChannel();
    const link = new Dom0Link();
    // RAM plus the backing store for VRAM, ROMs and ACPI tables (Domain decides how much):
    // a SharedArrayBuffer, or with kvm a page-aligned mapping KVM can use (kvm-backend.ts).
    const ramBytes = this.spec.memoryBytes + domainBackingBytes(this.spec);
    const kvmRam = this.cpuBackend === 'kvm' ? allocateGuestRam(ramBytes) : null;
    const ram = kvmRam ? (kvmRam.buffer as unknown as SharedArrayBuffer) : new SharedArrayBuffer(ramBytes);
    const start: WorkerStart = {
      spec: this.spec,
      ram: kvmRam ? new SharedArrayBuffer(0) : ram,
      ...(kvmRam ? { kvmRam: { address: kvmRam.address, length: kvmRam.length } } : {}),
      domid: this.domid,
      dom0Link: link.buffer,
      liveDomains: liveDomainTable(),
      control: this.control.buffer,
      consoleInput: this.ring.buffer,
      requests: channel.port2,
      domainModule: this.opts.domainModule ?? HYPERVISOR_DOMAIN_MODULE,
      diskModule: this.opts.diskModule ?? RAW_IMAGE_MODULE,
      sliceMs: this.opts.sliceMs ?? 20,
      cpuBackend: this.cpuBackend,
      ...(restore ? { restore } : {}),
    };
    const worker = new Worker(WORKER_URL, { workerData: start, transferList: [channel.port2], name: `domain ${this.spec.name}` });
    this.worker = worker;
    this.requestPort?.close();
    this.requestPort = channel.port1;
    // Replies come as worker messages; this port only sends and must not keep dom0 alive.
    channel.port1.unref();
    // Requests still out when the worker exits will never be answered.
    this.workerGone = new Promise((resolve) =>
      worker.once('exit', () => {
        this.failPending(worker, 'stopped before answering');
        // dom0's backends were closed before the worker was asked to go; nothing views it now.
        if (kvmRam) unmap(kvmRam);
        resolve();
      }),
    );
    let reported = false;
    let started = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'started') {
        started = true;
        const kick = m.vcpuKick ? new VcpuKick(m.vcpuKick) : null;
        if (m.pvRings && this.worker === worker) {
          const saved = restore ? this.opts.restoreXenstore : undefined;
          this.startBackends(m.pvRings, ram, link, kick, saved);
          // Say so rather than leave the guest's xenbus silently deaf after a restore.
          if (restore && !saved) this.log({ level: 'warn', source: 'toolstack', message: "restored Xen domain: the image has no xenstore record; dom0 wrote fresh nodes, and the guest's PV drivers keep waiting on watches xenstored no longer has" });
        }
      } else if (m.type === 'output') {
        for (const s of m.serial) this.emit('serial', s.port, s.bytes);
        for (const d of m.debugcon) this.emit('debugcon', d.ioport, d.bytes);
        for (const l of m.logs) this.log(l);
      } else if (m.type === 'shutdown') {
        reported = true;
        void this.onShutdown(worker, m.reason, m.detail, m.diagnostic, !started, m.exitStatus);
      } else if (m.type === 'reply') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m);
      }
    });
    // A worker that dies without a shutdown report crashed (uncaught error, out of memory).
    const died = (why: string, stack?: string): void => {
      if (reported || this.worker !== worker) return;
      reported = true;
      void this.onShutdown(worker, 'crash', `${started ? 'internal error' : 'could not start'}: ${why}`, stack, !started);
    };
    worker.on('error', (e) => died(e.message, e.stack));
    worker.on('exit', (code) => died(`domain worker exited with code ${code}`));
  }

  /** dom0's xenstored and console backends for a Xen domain's rings (dom0-backends.ts). */
  private startBackends(rings: PvRings, ram: SharedArrayBuffer, link: Dom0Link, kick: VcpuKick | null, restore: XenStoreSnapshot | undefined): void {
    this.backends?.close();
    this.backends = undefined;
    try {
      this.backends = new Dom0Backends({
        store: this.xenstore,
        name: this.config.name,
        memoryBytes: this.spec.memoryBytes,
        backingBytes: domainBackingBytes(this.spec),
        vcpus: this.spec.vcpus,
        rings,
        ram,
        link,
        // An idle worker sleeps on the doorbell; a kvm vCPU inside KVM_RUN needs the kick.
        wakeWorker: () => {
          this.control.ring();
          kick?.kick();
        },
        consoleOutput: (bytes) => this.emit('serial', 0, bytes),
        log: (entry) => this.log(entry),
        ...(restore ? { restore } : {}),
      });
    } catch (e) {
      this.log({ level: 'error', source: 'toolstack', message: `dom0 backends for domain ${rings.domid}: ${(e as Error).message}` });
    }
  }

  private async onShutdown(worker: Worker, reason: ShutdownReason, detail: string, diagnostic: string | undefined, startFailed: boolean, exitStatus?: number): Promise<void> {
    if (this.worker !== worker || this.state !== 'running') return;
    this.lastReason = reason;
    // A domain that cannot even start would fail the same way again: never restart it.
    // isa-debug-exit ends tsxen itself (as QEMU exits): no restart, no preserve.
    const configured = reason === 'poweroff' ? this.config.onPoweroff : reason === 'reboot' ? this.config.onReboot : this.config.onCrash;
    const action: LifecycleAction = startFailed || exitStatus !== undefined ? 'destroy' : configured;
    this.log({ level: reason === 'crash' ? 'error' : 'info', source: 'toolstack', message: `domain ${this.config.name} shut down: ${reason} (${detail}); on_${reason === 'poweroff' ? 'poweroff' : reason}=${action}` });
    if (diagnostic) this.log({ level: 'error', source: 'toolstack', message: `diagnostic:\n${diagnostic}` });
    this.emit('shutdown', reason, detail, action);
    if (action === 'preserve') {
      this.state = 'preserved';
      this.finish({ reason, detail, restarts: this.restarts, preserved: true });
      return;
    }
    this.state = 'stopping';
    await this.endWorker();
    // destroy() came in meanwhile: it reports the end; do not restart.
    if (this.destroying) return;
    if (action === 'restart') {
      this.restarts++;
      this.state = 'running';
      try {
        this.startWorker();
      } catch (e) {
        // E.g. no memory left for a fresh RAM buffer: the domain ends here.
        this.log({ level: 'error', source: 'toolstack', message: `restart failed: ${(e as Error).message}` });
        this.state = 'stopped';
        this.finish({ reason, detail: `${detail}; restart failed: ${(e as Error).message}`, restarts: this.restarts, preserved: false, startFailed: true });
        return;
      }
      this.emit('restart', this.restarts);
      return;
    }
    this.state = 'stopped';
    this.finish({ reason, detail, restarts: this.restarts, preserved: false, ...(startFailed ? { startFailed } : {}), ...(exitStatus !== undefined ? { exitStatus } : {}) });
  }

  /** Asks the worker to exit; terminates it if it does not within the grace period. */
  private endWorker(): Promise<void> {
    this.backends?.close();
    this.backends = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const worker = this.worker;
    if (!worker) return this.workerGone;
    this.worker = undefined;
    const exited = this.workerGone;
    this.control.request(ControlWord.Destroy, 1);
    const timer = setTimeout(() => void worker.terminate(), DESTROY_GRACE_MS);
    return exited.then(() => clearTimeout(timer));
  }

  private finish(stop: DomainStop): void {
    if (this.stopInfo) return;
    this.stopInfo = stop;
    // A preserved domain still exists (xl list shows it); any other end frees its id.
    if (!stop.preserved) releaseDomid(this.domid);
    this.emit('stopped', stop);
    this.resolveStopped(stop);
  }

  private log(entry: LogEntry): void {
    if (this.opts.logFile) {
      try {
        appendFileSync(this.opts.logFile, `${new Date().toISOString()} ${entry.level} ${entry.source}: ${entry.message}\n`);
      } catch {
        // A full disk must not take the domain down; the event below still fires.
      }
    }
    this.emit('log', entry);
  }
}

/** Each run gets a fresh log; the previous run's is kept as NAME.log.1 (xl keeps a few the same way). */
function startLogFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  try {
    renameSync(path, `${path}.1`);
  } catch {
    // No previous log.
  }
}
