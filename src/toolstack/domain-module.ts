// The shape of a domain as the worker drives it: src/hypervisor/domain.ts's Domain,
// or a scripted stand-in in tests. Written structurally so the worker can load the
// implementation by URL (WorkerStart.domainModule).

import type { Clock } from '../hypervisor/clock.js';
import type { DiskSpec, DomainSpec, PvRings, RunResult } from '../hypervisor/domain-spec.js';
import type { DomainEventMap } from '../devices/events.js';
import type { ScreenImage, ScreenText } from './worker-protocol.js';

export interface RunnableDomain {
  readonly events: { on<K extends keyof DomainEventMap>(name: K, listener: (payload: DomainEventMap[K]) => void): unknown };
  serialInput(port: number, bytes: Uint8Array): void;
  /** The UARTs, when the domain exposes them: input is held back while COM1 is full. */
  readonly uarts?: ReadonlyArray<{ canReceive(): boolean }>;
  run(budgetMs: number): RunResult;
  diagnostic(): string;
  /** The graphics screen, or null when there is no VGA / nothing drawn (optional: older domains lack it). */
  screen?(): ScreenImage | null;
  /** The VGA text screen, or null when not in a text mode. */
  screenText?(): ScreenText | null;
  /** ACPI power button (PM1 status PWRBTN_STS + SCI): the guest decides what to do. */
  pressPowerButton?(): void;
  /** A Xen domain's store and console rings for dom0 (null without them). */
  readonly pvRings?: PvRings | null;
}

/** What the worker passes besides the spec (a subset of hypervisor DomainOptions). */
export interface DomainHost {
  clock: Clock;
  ram: SharedArrayBuffer;
  domid?: number;
  /** Event channels to dom0's backends (src/hypervisor/dom0-link.ts). */
  dom0Link?: SharedArrayBuffer;
  /** The process's live-domain table (one byte per domid). */
  liveDomains?: SharedArrayBuffer;
  /**
   * Opens a drive's image; the domain calls it for each disk with a path. Its result
   * is the device layer's BlockBackend; typed loosely so this structural contract
   * does not depend on that module.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  openDisk?: (d: DiskSpec) => any;
  /** With the kvm backend: the vCPU factory (the guest RAM is then KVM's mapping, in `ram`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createVcpu?: (...args: any[]) => any;
}

/** The KVM backend's pieces the worker hands the Domain (src/cpu/kvm/kvm-backend.ts). */
export interface KvmHost {
  ram: SharedArrayBuffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createVcpu: (...args: any[]) => any;
}

export type DomainConstructor = new (spec: DomainSpec, host: DomainHost) => RunnableDomain;

/** The real hypervisor's domain module, next to the toolstack in dist/. */
export const HYPERVISOR_DOMAIN_MODULE = new URL('../hypervisor/domain.js', import.meta.url).href;

/** The Node raw-image opener (the IDE developer's src/host/disk/raw-image.ts). */
export const RAW_IMAGE_MODULE = new URL('../host/disk/raw-image.js', import.meta.url).href;

/** The KVM backend (src/cpu/kvm/kvm-backend.ts), loaded by the worker only for cpu_backend kvm. */
export const KVM_BACKEND_MODULE = new URL('../cpu/kvm/kvm-backend.js', import.meta.url).href;
