// Save record of the PIIX3 IDE function: PCI config, both channels (selection,
// device control, task files), every drive's registers and the command in flight
// (PIO buffer, step, position), and both bus masters mid-PRD-walk. Disk contents are
// not in it: they live in the images. Restore checks every field's type and range,
// so a damaged record leaves a legal device state (the commands re-check addresses
// against the medium anyway).

import type { TaskFile } from './task-file.js';

export interface TaskFileState {
  features: number;
  featuresHob: number;
  count: number;
  countHob: number;
  lbaLow: number;
  lbaLowHob: number;
  lbaMid: number;
  lbaMidHob: number;
  lbaHigh: number;
  lbaHighHob: number;
  device: number;
}

export interface DriveCommonState {
  tf: TaskFileState;
  status: number;
  error: number;
  irqPending: boolean;
  dmaPending: boolean;
  pioIn: boolean;
  pioPhase: number;
  pioPos: number;
  /** The PIO block, bytes [0, end). */
  pioData: number[];
}

export interface AtaDiskState {
  kind: 'disk';
  common: DriveCommonState;
  lba: number;
  remaining: number;
  ext: boolean;
  blockSectors: number;
  writing: boolean;
  multipleSectors: number;
  mwdmaMode: number;
  udmaMode: number;
  writeCache: boolean;
  heads: number;
  sectors: number;
}

export interface AtapiState {
  kind: 'cdrom';
  common: DriveCommonState;
  hasMedium: boolean;
  trayOpen: boolean;
  locked: boolean;
  sense: [number, number, number];
  unitAttention: boolean;
  mediaEvent: number;
  mwdmaMode: number;
  udmaMode: number;
  dmaRequested: boolean;
  byteLimit: number;
  reply: number[] | null;
  readLba: number;
  dataTotal: number;
  dataPos: number;
}

export type DriveState = AtaDiskState | AtapiState;

export interface ChannelState {
  selected: number;
  deviceControl: number;
  /** Per position: the task file latches (the drive's own, or an absent slave's). */
  latches: [TaskFileState, TaskFileState];
  drives: [DriveState | null, DriveState | null];
}

export interface BusMasterState {
  command: number;
  statusBits: number;
  active: boolean;
  prdTable: number;
  prdNext: number;
  entries: number;
  regionAddr: number;
  regionLeft: number;
  eot: boolean;
  failed: boolean;
}

export interface PiixIdeState {
  version: 1;
  /** The 256 configuration bytes. */
  config: number[];
  channels: [ChannelState, ChannelState];
  busMasters: [BusMasterState, BusMasterState];
}

/** An integer in [0, max], else `fallback`. */
export function int(v: unknown, max: number, fallback = 0): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : fallback;
}

export function bool(v: unknown): boolean {
  return v === true;
}

/** Up to `max` bytes from a saved number array (anything else reads as 0). */
export function byteArray(v: unknown, max: number): Uint8Array {
  if (!Array.isArray(v)) return new Uint8Array(0);
  const out = new Uint8Array(Math.min(v.length, max));
  for (let i = 0; i < out.length; i++) out[i] = int(v[i], 0xff);
  return out;
}

const TF_KEYS = ['features', 'featuresHob', 'count', 'countHob', 'lbaLow', 'lbaLowHob', 'lbaMid', 'lbaMidHob', 'lbaHigh', 'lbaHighHob', 'device'] as const;

export function saveTaskFile(tf: TaskFile): TaskFileState {
  const s = {} as TaskFileState;
  for (const k of TF_KEYS) s[k] = tf[k];
  return s;
}

export function restoreTaskFile(tf: TaskFile, s: TaskFileState | undefined): void {
  for (const k of TF_KEYS) tf[k] = int(s?.[k], 0xff);
}
