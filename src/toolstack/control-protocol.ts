// The control channel's messages: one JSON object per line each way, one answer per
// request, in order. Pixels travel as base64.

import type { DomainStateLetter } from './domain-handle.js';
import type { ScreenText } from './worker-protocol.js';

export type ControlRequest =
  | { op: 'info' }
  | { op: 'destroy' }
  | { op: 'screen' }
  | { op: 'screen-text' }
  | { op: 'trigger'; what: 'power' | 'reset' }
  /** xl shutdown / reboot; `fallback` = -F. */
  | { op: 'shutdown'; kind: 'poweroff' | 'reboot'; fallback: boolean }
  /**
   * xl save: write the domain's image to `file` (an absolute path), then destroy it;
   * `checkpoint` (-c) leaves it running, `paused` (-p) leaves it paused.
   */
  | { op: 'save'; file: string; checkpoint: boolean; paused: boolean }
  | { op: 'pause' }
  | { op: 'unpause' };

export interface ControlInfo {
  name: string;
  /** The tsxen process running the domain (tsxen's domain id). */
  id: number;
  memoryMiB: number;
  vcpus: number;
  state: DomainStateLetter;
  uptimeSeconds: number;
}

export type ControlResponse =
  | { ok: true; info: ControlInfo }
  | { ok: true; screen: { width: number; height: number; rgba: string } | null }
  | { ok: true; text: ScreenText | null }
  | { ok: true; saved: { file: string; bytes: number } }
  | { ok: true; via: 'pv' | 'acpi' | 'reset' }
  | { ok: true }
  | { ok: false; error: string };

/** A request line longer than this is not one of ours: the connection is dropped. */
export const MAX_REQUEST_BYTES = 4096;
