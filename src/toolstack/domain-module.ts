// The shape of a domain as the worker drives it: src/hypervisor/domain.ts's Domain,
// or a scripted stand-in in tests. Written structurally so the worker can load the
// implementation by URL (WorkerStart.domainModule).

import type { Clock } from '../hypervisor/clock.js';
import type { DomainSpec, RunResult } from '../hypervisor/domain-spec.js';
import type { DomainEventMap } from '../devices/events.js';

export interface RunnableDomain {
  readonly events: { on<K extends keyof DomainEventMap>(name: K, listener: (payload: DomainEventMap[K]) => void): unknown };
  serialInput(port: number, bytes: Uint8Array): void;
  /** The UARTs, when the domain exposes them: input is held back while COM1 is full. */
  readonly uarts?: ReadonlyArray<{ canReceive(): boolean }>;
  run(budgetMs: number): RunResult;
  diagnostic(): string;
}

export type DomainConstructor = new (spec: DomainSpec, host: { clock: Clock; ram: SharedArrayBuffer }) => RunnableDomain;

/** The real hypervisor's domain module, next to the toolstack in dist/. */
export const HYPERVISOR_DOMAIN_MODULE = new URL('../hypervisor/domain.js', import.meta.url).href;
