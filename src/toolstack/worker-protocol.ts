// What dom0 and a domain's worker say to each other. Start data goes in workerData;
// the worker answers with postMessage, one output batch per run() slice. Input and
// stop/pause go the other way through shared memory (console-ring.ts,
// domain-control.ts); requests that want an answer (the screen, the power button) go
// through a MessagePort the worker drains synchronously between slices
// (receiveMessageOnPort: its loop never returns to the event loop) and are answered
// with a 'reply' message carrying the same id.

import type { MessagePort } from 'node:worker_threads';
import type { DomainSpec, PvRings, ShutdownReason } from '../hypervisor/domain-spec.js';
import type { DomainEventMap } from '../devices/events.js';
import type { DomainState } from '../hypervisor/domain-save.js';

export interface WorkerStart {
  spec: DomainSpec;
  /** Guest RAM, allocated by dom0: spec.memoryBytes long. */
  ram: SharedArrayBuffer;
  control: SharedArrayBuffer;
  consoleInput: SharedArrayBuffer;
  /** dom0 → worker requests (DomainRequest); transferred to the worker. */
  requests: MessagePort;
  /** URL of the module whose `Domain` export runs the guest (tests substitute a scripted one). */
  domainModule: string;
  /** URL of the module that opens disk images for DomainOptions.openDisk (absent: no opener). */
  diskModule?: string;
  /** The CPU backend dom0 chose (cpu_backend, resolved): the worker builds a KVM VM for 'kvm'. */
  cpuBackend?: 'kvm' | 'emu';
  /** Milliseconds of guest work per Domain.run() slice. */
  sliceMs: number;
  /** The domain's id, allocated by dom0. */
  domid: number;
  /** Event channels to dom0's backends in the main thread (src/hypervisor/dom0-link.ts). */
  dom0Link: SharedArrayBuffer;
  /** tsxen restore: continue this saved state instead of the boot (Domain.restore). */
  restore?: DomainState;
  /** One byte per domid, 1 = a domain exists (dom0-xenstore.ts). */
  liveDomains: SharedArrayBuffer;
  /**
   * With kvm: dom0's mapping of the guest RAM + backing store (src/cpu/kvm libc
   * mapShared), which the worker views and hands KVM; dom0's backends see the same
   * pages, and dom0 unmaps it once the worker is gone. `ram` is then unused.
   */
  kvmRam?: { address: bigint; length: number };
}

export type LogEntry = DomainEventMap['log'];

/** The graphics screen as RGBA pixels, row by row. */
export interface ScreenImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** The VGA text screen, one string per row. */
export interface ScreenText {
  cols: number;
  rows: number;
  lines: string[];
}

export type DomainRequest =
  | { id: number; kind: 'screen' }
  | { id: number; kind: 'screen-text' }
  | { id: number; kind: 'power-button' }
  /** tsxen save: the domain's state (Domain.save), taken between run slices. */
  | { id: number; kind: 'save' };

export type WorkerReply =
  | { type: 'reply'; id: number; kind: 'screen'; screen: ScreenImage | null }
  | { type: 'reply'; id: number; kind: 'screen-text'; text: ScreenText | null }
  | { type: 'reply'; id: number; kind: 'power-button'; pressed: boolean }
  | { type: 'reply'; id: number; kind: 'save'; state: DomainState }
  | { type: 'reply'; id: number; kind: 'error'; message: string };

export type WorkerMessage =
  | {
      type: 'output';
      serial: Array<{ port: number; bytes: Uint8Array }>;
      debugcon: Array<{ ioport: number; bytes: Uint8Array }>;
      logs: LogEntry[];
    }
  /**
   * `pvRings`: the domain's xenstore and console rings, for dom0's backends. `vcpuKick`:
   * with kvm, the vCPU's kick record (src/cpu/kvm/vcpu-kick.ts): dom0 kicks the vCPU
   * out of KVM_RUN after raising an event for it.
   */
  | { type: 'started'; pvRings?: PvRings; vcpuKick?: SharedArrayBuffer }
  /** `exitStatus`: the guest ended through isa-debug-exit; tsxen exits with it. */
  | { type: 'shutdown'; reason: ShutdownReason; detail: string; diagnostic?: string; exitStatus?: number }
  | WorkerReply
  | { type: 'exited' };
