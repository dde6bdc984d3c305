// dom0's backends for one Xen domain, in the main thread: xenstored's end of the
// guest's store ring and xenconsoled's end of its console ring (hvc0). The rings are
// pages of the guest's memory, which dom0 sees directly (the shared RAM buffer);
// events cross threads through the domain's Dom0Link, never by postMessage.
//
// The toolstack part is here too: the guest's xenstore nodes (libxl's) are written
// and the domain introduced before the guest can read them, and released again when
// the domain goes.

import type { DomainEventMap } from '../devices/events.js';
import { Dom0Link } from '../hypervisor/dom0-link.js';
import { GuestMemory, PAGE_SIZE } from '../hypervisor/memory/guest-memory.js';
import { PvConsoleBackend } from '../pv/console/backend.js';
import type { PvConsoleState } from '../pv/console/state.js';
import { XsClient } from '../pv/xenstore/client.js';
import { writeGuestPaths } from '../pv/xenstore/guest-paths.js';
import { domainPath } from '../pv/xenstore/path.js';
import { XenStoreRingConnection } from '../pv/xenstore/ring-connection.js';
import type { XenStore } from '../pv/xenstore/store.js';
import type { PvRings } from '../hypervisor/domain-spec.js';

/** A lost notification costs at most this long: both rings are also serviced on this period. */
const FALLBACK_POLL_MS = 100;

/**
 * dom0's part of a Xen domain in a save image: its xenstore home (paths relative to
 * /local/domain/D, values as latin1, Xen permission strings) and the watches the
 * guest had registered, so its PV drivers find their store as they left it.
 */
export interface XenStoreSnapshot {
  version: 1;
  /** The domid the permissions name (a restore may get another one). */
  domid: number;
  nodes: Array<{ path: string; value: string; perms: string[] }>;
  watches: Array<{ path: string; token: string }>;
  /** The PV console backend's own state (queued input; whether hvc0 is in use). */
  console?: PvConsoleState;
}

/** Nodes in a snapshot at most (C xenstored's per-domain quota is 1000). */
const MAX_SNAPSHOT_NODES = 4096;

export interface Dom0BackendsOptions {
  store: XenStore;
  name: string;
  memoryBytes: number;
  /** Bytes of backing store after RAM (domainBackingBytes): the shared buffer is RAM + this. */
  backingBytes: number;
  vcpus: number;
  rings: PvRings;
  /** The guest's RAM + backing store, as the worker's GuestMemory sees it. */
  ram: SharedArrayBuffer;
  link: Dom0Link;
  /** Wake the domain's worker (an idle guest sleeps until then). */
  wakeWorker: () => void;
  /** hvc0 output. */
  consoleOutput: (bytes: Uint8Array) => void;
  log: (entry: DomainEventMap['log']) => void;
  /** A restored domain: its saved xenstore home and watches instead of a fresh start. */
  restore?: XenStoreSnapshot;
}

export class Dom0Backends {
  private readonly store: XenStoreRingConnection;
  private readonly console: PvConsoleBackend;
  private readonly xs: XsClient;
  private closed = false;
  private readonly domid: number;

  constructor(private readonly o: Dom0BackendsOptions) {
    const r = o.rings;
    this.domid = r.domid;
    // Check both pages before anything is written to the store.
    const storePage = pageOf(o.ram, r.storeOffset, 'store');
    pageOf(o.ram, r.consoleOffset, 'console');
    this.xs = new XsClient(o.store);
    // A domid reused in this process (a restart) starts from a clean home.
    this.forget();
    writeGuestPaths(this.xs, r.domid, {
      name: o.name,
      memoryKiB: o.memoryBytes / 1024,
      vcpus: o.vcpus,
      storeGfn: r.storeGfn,
      storeEvtchn: r.storeGuestPort,
      consoleGfn: r.consoleGfn,
      consoleEvtchn: r.consoleGuestPort,
    });
    if (o.restore) this.restoreNodes(o.restore);
    this.xs.introduce(r.domid, r.storeGfn, r.storeGuestPort);

    this.store = new XenStoreRingConnection(o.store, r.domid, storePage, () => this.notify(r.storeDom0Port));
    if (o.restore) this.restoreWatches(o.restore);
    // The console backend reads its frame through a GuestMemory: dom0's own view of the
    // domain's memory, with only the console page mapped beside RAM.
    const memory = new GuestMemory({ ramBytes: o.memoryBytes, romBytes: o.backingBytes }, o.ram);
    memory.mapBacking(r.consoleGfn * PAGE_SIZE, r.consoleOffset, PAGE_SIZE, false);
    this.console = new PvConsoleBackend(memory, r.consoleGfn, () => this.notify(r.consoleDom0Port), o.consoleOutput, {
      log: (message) => o.log({ level: 'warn', source: 'pvconsole', message }),
    });
    if (o.restore?.console) {
      try {
        this.console.restore(o.restore.console);
      } catch (e) {
        o.log({ level: 'warn', source: 'pvconsole', message: `the saved console state does not load: ${(e as Error).message}` });
      }
    }
    void this.serve();
  }

  /** The guest has written to hvc0: keystrokes go there rather than to COM1. */
  get consoleInUse(): boolean {
    return this.console.outputBytes > 0;
  }

  /** Host keystrokes for hvc0. */
  consoleInput(bytes: Uint8Array): void {
    if (!this.closed) this.console.input(bytes);
  }

  /** The domain is gone: stop serving and release it from xenstored (fires @releaseDomain). */
  close(): void {
    if (this.closed) return;
    // What the guest wrote just before it stopped is still shown (xenconsoled drains a
    // shut-down domain's ring before it is destroyed).
    this.console.process();
    this.closed = true;
    this.o.link.wakeDom0();
    try {
      this.forget();
    } catch (e) {
      this.o.log({ level: 'warn', source: 'xenstore', message: `releasing domain ${this.domid}: ${(e as Error).message}` });
    }
  }

  /** The domain's xenstore home and the guest's watches, for a save image. */
  snapshot(): XenStoreSnapshot {
    const home = domainPath(this.domid);
    const nodes: XenStoreSnapshot['nodes'] = [];
    const walk = (path: string): void => {
      if (nodes.length >= MAX_SNAPSHOT_NODES) return;
      const value = this.xs.tryRead(path);
      if (value === null) return;
      nodes.push({ path: path.slice(home.length), value, perms: this.xs.getPerms(path) });
      for (const child of this.xs.directory(path)) walk(`${path}/${child}`);
    };
    walk(home);
    const watches = this.store.connection.watches.map((w) => ({ path: w.given, token: w.token }));
    return { version: 1, domid: this.domid, nodes, watches, console: this.console.save() };
  }

  /** A saved home over the fresh one dom0 just wrote: the guest's own nodes come back. */
  private restoreNodes(snap: XenStoreSnapshot): void {
    if (snap?.version !== 1 || !Array.isArray(snap.nodes)) throw new RangeError('the saved xenstore record is not version 1');
    const home = domainPath(this.domid);
    for (const n of snap.nodes.slice(0, MAX_SNAPSHOT_NODES)) {
      // Relative paths only, under this domain's home: an edited image cannot write elsewhere.
      if (typeof n?.path !== 'string' || (n.path !== '' && !n.path.startsWith('/')) || n.path.includes('/../') || typeof n.value !== 'string') continue;
      const path = home + n.path;
      try {
        this.xs.write(path, n.value);
        if (Array.isArray(n.perms) && n.perms.length > 0) this.xs.setPerms(path, n.perms.map((p) => renumber(String(p), snap.domid, this.domid)));
      } catch (e) {
        this.o.log({ level: 'warn', source: 'xenstore', message: `restoring ${path}: ${(e as Error).message}` });
      }
    }
  }

  private restoreWatches(snap: XenStoreSnapshot): void {
    for (const w of (Array.isArray(snap.watches) ? snap.watches : []).slice(0, MAX_SNAPSHOT_NODES)) {
      try {
        this.o.store.restoreWatch(this.store.connection, String(w.path), String(w.token));
      } catch (e) {
        this.o.log({ level: 'warn', source: 'xenstore', message: `restoring the guest's watch ${String(w.path)}: ${(e as Error).message}` });
      }
    }
  }

  /** Releases the domain and removes its nodes (its home and the /vm/ entry it names), as libxl does on destroy. */
  private forget(): void {
    const home = domainPath(this.domid);
    if (this.xs.isDomainIntroduced(this.domid)) this.xs.release(this.domid);
    const vm = this.xs.tryRead(`${home}/vm`);
    if (vm !== null && vm.startsWith('/vm/') && this.xs.tryRead(vm) !== null) this.xs.rm(vm);
    if (this.xs.tryRead(home) !== null) this.xs.rm(home);
  }

  /** Waits on the link's dom0 bell (Atomics.waitAsync: the main thread never blocks). */
  private async serve(): Promise<void> {
    const { link, rings } = this.o;
    while (!this.closed) {
      const seen = link.dom0Bell;
      const ports = link.takeDom0Ports();
      const all = ports.length === 0; // a timeout: service both, in case a notification was lost
      if (all || ports.includes(rings.storeDom0Port)) this.store.process();
      if (all || ports.includes(rings.consoleDom0Port)) this.console.process();
      await link.waitForDom0(seen, FALLBACK_POLL_MS);
    }
  }

  private notify(dom0Port: number): void {
    if (this.closed) return;
    this.o.link.sendFromDom0(dom0Port);
    this.o.wakeWorker();
  }
}

/** A permission string ("r5", "n0"…) naming `from` names `to` instead. */
function renumber(perm: string, from: number, to: number): string {
  const m = /^([nrwb])(\d+)$/.exec(perm);
  return m && Number(m[2]) === from ? `${m[1]}${to}` : perm;
}

function pageOf(ram: SharedArrayBuffer, offset: number, what: string): Uint8Array {
  if (!Number.isInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0 || offset + PAGE_SIZE > ram.byteLength) {
    throw new RangeError(`the ${what} ring at backing offset ${offset} is outside the domain's memory (${ram.byteLength} bytes)`);
  }
  return new Uint8Array(ram, offset, PAGE_SIZE);
}
