// What dom0 and a domain's worker say to each other. Start data goes in workerData;
// the worker answers with postMessage, one output batch per run() slice. Input and
// requests go the other way through shared memory (console-ring.ts, domain-control.ts).

import type { DomainSpec, ShutdownReason } from '../hypervisor/domain-spec.js';
import type { DomainEventMap } from '../devices/events.js';

export interface WorkerStart {
  spec: DomainSpec;
  /** Guest RAM, allocated by dom0: spec.memoryBytes long. */
  ram: SharedArrayBuffer;
  control: SharedArrayBuffer;
  consoleInput: SharedArrayBuffer;
  /** URL of the module whose `Domain` export runs the guest (tests substitute a scripted one). */
  domainModule: string;
  /** Milliseconds of guest work per Domain.run() slice. */
  sliceMs: number;
}

export type LogEntry = DomainEventMap['log'];

export type WorkerMessage =
  | {
      type: 'output';
      serial: Array<{ port: number; bytes: Uint8Array }>;
      debugcon: Array<{ ioport: number; bytes: Uint8Array }>;
      logs: LogEntry[];
    }
  | { type: 'started' }
  | { type: 'shutdown'; reason: ShutdownReason; detail: string; diagnostic?: string }
  | { type: 'exited' };
