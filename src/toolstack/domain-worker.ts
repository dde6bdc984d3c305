// Worker entry: runs ONE domain incarnation in its own thread. It calls Domain.run()
// in slices, forwards each slice's output to dom0 in one message, feeds console input
// from the shared ring, and sleeps in Atomics.wait while the guest is idle. When the
// guest shuts down (or the domain throws) it reports why and waits for dom0's
// decision: dom0 destroys it, restarts with a fresh worker, or leaves it preserved.

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { HostClock, type Clock } from '../hypervisor/clock.js';
import { ResumedClock } from '../hypervisor/save/resumed-clock.js';
import type { DomainState } from '../hypervisor/domain-save.js';
import { presentsXen, type DomainSpec, type RunResult } from '../hypervisor/domain-spec.js';
import { ConsoleRing } from './console-ring.js';
import { ControlWord, DomainControl, WorkerState } from './domain-control.js';
import { loadDiskOpener, type DiskOpener } from './disk-opener.js';
import { kvmDevicePath } from './run-paths.js';
import { KVM_BACKEND_MODULE, type DomainConstructor, type DomainHost, type RunnableDomain } from './domain-module.js';
import type { DomainRequest, LogEntry, WorkerMessage, WorkerReply, WorkerStart } from './worker-protocol.js';

// Sleep at most this long when idle, so a missed wake-up costs little.
const MAX_IDLE_SLEEP_MS = 500;
// Console bytes handed to the domain per slice: small enough that a nearly full UART
// queue overflows by little, large enough for pasted text.
const INPUT_CHUNK = 1024;

const start = workerData as WorkerStart;
const control = new DomainControl(start.control);
const input = new ConsoleRing(start.consoleInput);
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);

let serial: Array<{ port: number; bytes: Uint8Array }> = [];
let debugcon: Array<{ ioport: number; bytes: Uint8Array }> = [];
let logs: LogEntry[] = [];

function flushOutput(): void {
  if (serial.length === 0 && debugcon.length === 0 && logs.length === 0) return;
  post({ type: 'output', serial: mergeByKey(serial, 'port'), debugcon: mergeByKey(debugcon, 'ioport'), logs });
  serial = [];
  debugcon = [];
  logs = [];
}

/** Concatenates consecutive chunks of one port so a slice sends one array per port. */
function mergeByKey<K extends string, T extends Record<K, number> & { bytes: Uint8Array }>(chunks: T[], key: K): T[] {
  const byPort = new Map<number, Uint8Array[]>();
  for (const c of chunks) {
    let list = byPort.get(c[key]);
    if (!list) byPort.set(c[key], (list = []));
    list.push(c.bytes);
  }
  const out: T[] = [];
  for (const [p, list] of byPort) {
    const total = list.reduce((n, b) => n + b.length, 0);
    const bytes = new Uint8Array(total);
    let off = 0;
    for (const b of list) {
      bytes.set(b, off);
      off += b.length;
    }
    out.push({ [key]: p, bytes } as T);
  }
  return out;
}

/** Answers every queued dom0 request (screen, screen text, power button). */
function serveRequests(domain: RunnableDomain | undefined): void {
  for (;;) {
    const m = receiveMessageOnPort(start.requests);
    if (!m) return;
    const req = m.message as DomainRequest;
    let reply: WorkerReply;
    try {
      reply = answer(domain, req);
    } catch (e) {
      reply = { type: 'reply', id: req.id, kind: 'error', message: (e as Error)?.message ?? String(e) };
    }
    // Pixels (and a saved memory copy) are fresh buffers: transferred, not cloned twice.
    post(reply, reply.kind === 'screen' && reply.screen ? [reply.screen.rgba.buffer as ArrayBuffer] : reply.kind === 'save' ? [reply.state.memory.buffer as ArrayBuffer] : []);
  }
}

function answer(domain: RunnableDomain | undefined, req: DomainRequest): WorkerReply {
  if (req.kind === 'screen') {
    const s = domain?.screen?.() ?? null;
    return { type: 'reply', id: req.id, kind: 'screen', screen: s ? { width: s.width, height: s.height, rgba: s.rgba.slice() } : null };
  }
  if (req.kind === 'screen-text') {
    const t = domain?.screenText?.() ?? null;
    return { type: 'reply', id: req.id, kind: 'screen-text', text: t ? { cols: t.cols, rows: t.rows, lines: [...t.lines] } : null };
  }
  if (req.kind === 'save') {
    const d = domain as SaveableDomain | undefined;
    if (!d?.save) throw new Error('this domain cannot be saved');
    return { type: 'reply', id: req.id, kind: 'save', state: d.save() };
  }
  if (!domain?.pressPowerButton) return { type: 'reply', id: req.id, kind: 'power-button', pressed: false };
  domain.pressPowerButton();
  return { type: 'reply', id: req.id, kind: 'power-button', pressed: true };
}

/** After shutdown (or when preserved): stay until dom0 sets Destroy, still answering requests. */
function waitForDestroy(domain: RunnableDomain | undefined): void {
  control.setState(WorkerState.Stopped);
  while (control.get(ControlWord.Destroy) === 0) {
    const bell = control.doorbell();
    serveRequests(domain);
    control.sleep(bell, MAX_IDLE_SLEEP_MS);
  }
}

/** The save/restore pair of src/hypervisor/domain.ts's Domain (a scripted test domain may lack it). */
type SaveableDomain = RunnableDomain & { save?(): DomainState; restore?(state: DomainState): void };

function runDomain(domain: RunnableDomain, clock: Clock): void {
  for (;;) {
    const bell = control.doorbell();
    if (control.get(ControlWord.Destroy) !== 0) return;
    serveRequests(domain);
    if (control.get(ControlWord.Pause) !== 0) {
      control.setState(WorkerState.Paused);
      control.sleep(bell, MAX_IDLE_SLEEP_MS);
      continue;
    }
    // Bytes stay in the ring (and dom0's backlog) while COM1's input queue is full,
    // rather than being dropped by the UART.
    const com1 = domain.uarts?.[0];
    const typed = !com1 || com1.canReceive() ? input.read(INPUT_CHUNK) : null;
    if (typed) domain.serialInput(0, typed);
    control.setState(WorkerState.Running);
    const r: RunResult = domain.run(start.sliceMs);
    flushOutput();
    if (r.kind === 'shutdown') {
      // A guest crash (triple fault…) gets the registers in the domain log.
      post({
        type: 'shutdown', reason: r.reason, detail: r.detail,
        ...(r.reason === 'crash' ? { diagnostic: domain.diagnostic() } : {}),
        ...(r.exitStatus !== undefined ? { exitStatus: r.exitStatus } : {}),
      });
      waitForDestroy(domain);
      return;
    }
    // Input the domain can take now means another slice at once; otherwise sleep.
    const inputReady = input.length > 0 && (!com1 || com1.canReceive());
    if (r.kind === 'idle' && !inputReady) {
      control.setState(WorkerState.Idle);
      const ms = Number.isFinite(r.wakeAtNs) ? (r.wakeAtNs - clock.nowNs()) / 1e6 : MAX_IDLE_SLEEP_MS;
      if (ms > 0) control.sleep(bell, Math.min(ms, MAX_IDLE_SLEEP_MS));
    }
  }
}

async function main(): Promise<void> {
  let domain: RunnableDomain | undefined;
  try {
    const mod = (await import(start.domainModule)) as { Domain?: DomainConstructor };
    if (typeof mod.Domain !== 'function') throw new Error(`${start.domainModule} has no Domain export`);
    // A restored domain's guest time continues from the save (its timers hold absolute times).
    const hostClock = new HostClock(() => performance.now());
    const clock: Clock = start.restore ? new ResumedClock(hostClock, start.restore.guestNs) : hostClock;
    const host: DomainHost = { clock, ram: start.ram, domid: start.domid, dom0Link: start.dom0Link, liveDomains: start.liveDomains };
    let kickBuffer: () => SharedArrayBuffer | null = () => null;
    let hypercallRoute: () => string | undefined = () => undefined;
    if (start.cpuBackend === 'kvm') {
      // KVM needs page-aligned memory it can map: the VM's own anonymous shared mapping
      // becomes the guest RAM (it cannot be posted between threads, so it is made here).
      const kvm = await import(KVM_BACKEND_MODULE);
      const { domainBackingBytes } = (await import(start.domainModule)) as { domainBackingBytes?: (s: DomainSpec) => number };
      const backend = kvm.createKvmDomainBackend(start.spec.memoryBytes + (domainBackingBytes ? domainBackingBytes(start.spec) : 0), kvmDevicePath(), undefined, start.kvmRam);
      host.ram = backend.ram;
      host.createVcpu = backend.createVcpu;
      kickBuffer = () => backend.kickBuffer();
      hypercallRoute = () => backend.vcpu()?.hypercallRoute;
      process.on('exit', () => backend.close());
    }
    // Only a domain with a drive image needs the opener (and its module).
    if ((start.spec.disks ?? []).some((d) => d.path !== null)) {
      if (!start.diskModule) throw new Error('this domain has disks but no disk image opener');
      const open: DiskOpener = await loadDiskOpener(start.diskModule);
      host.openDisk = open;
    }
    const built: SaveableDomain = new mod.Domain(start.spec, host);
    built.events.on('serial.tx', (e) => serial.push({ port: e.port, bytes: e.bytes.slice() }));
    built.events.on('debugcon.tx', (e) => debugcon.push({ ioport: e.ioport, bytes: e.bytes.slice() }));
    built.events.on('log', (e) => logs.push(e));
    // How the guest's Xen hypercalls reach tsxen on KVM decides which guests can use them.
    const route = hypercallRoute();
    if (route && presentsXen(start.spec)) logs.push({ level: route.startsWith('KVM_XEN') ? 'info' : 'warn', source: 'kvm', message: `Xen hypercalls: ${route}` });
    if (start.restore) {
      // A restore that fails is a domain that could not start (never restarted).
      if (!built.restore) throw new Error(`${start.domainModule}'s Domain cannot restore a saved state`);
      try {
        if (clock instanceof ResumedClock) clock.anchor(); // the build's own time is not guest time
        built.restore(start.restore);
      } catch (e) {
        throw new Error(`restore failed: ${(e as Error).message}`);
      }
    }
    domain = built;
    const kick = kickBuffer();
    post({ type: 'started', ...(domain.pvRings ? { pvRings: { ...domain.pvRings } } : {}), ...(kick ? { vcpuKick: kick } : {}) });
    runDomain(domain, clock);
  } catch (e) {
    // A JS exception is the domain crashing, not tsxen: report it as on_crash.
    flushOutput();
    let diagnostic: string | undefined;
    try {
      diagnostic = domain?.diagnostic();
    } catch (d) {
      diagnostic = `(diagnostic failed: ${(d as Error).message})`;
    }
    const err = e as Error;
    const what = domain ? 'internal error' : 'could not start';
    post({ type: 'shutdown', reason: 'crash', detail: `${what}: ${err?.message ?? String(e)}`, diagnostic: [err?.stack ?? String(e), diagnostic].filter(Boolean).join('\n') });
    waitForDestroy(domain);
  }
  control.setState(WorkerState.Exited);
  post({ type: 'exited' });
}

void main();
