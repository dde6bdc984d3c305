// Save and restore of a domain's live state, independent of the CPU backend: what
// Xen's save image holds after its header and config (libxc/libxl: HVM context
// records, then the memory pages), gathered from and applied to the parts of a
// Domain named in DomainParts. The byte format is save/image-format.ts.
//
// Time: every timer state (PIT, RTC, LAPIC…) holds absolute guest nanoseconds. A
// restored domain must therefore be built on a clock that resumes at the saved
// `guestNs` (save/resumed-clock.ts) — then no timer fires early, late, or twice.
//
// Apply to a fresh domain of the same spec that has not run yet: its devices exist,
// its memory is laid out, and the image then overwrites all of it.

import { PAGE_SHIFT, PAGE_SIZE, type GuestMemory } from './memory/guest-memory.js';
import type { CpuidEntry, VcpuBackend } from './vcpu/backend.js';
import { missingCpuidFlags } from './cpuid-policy.js';
import type { VcpuState } from './vcpu/vcpu-state.js';
import { hex } from './types.js';

/** A device's save()/restore() pair (every stateful device has one beside its code). */
export interface SaveableState {
  save(): unknown;
  restore(state: unknown): void;
}

/**
 * Frames [gfn, gfn+count) and what backs them: `offset` is the byte offset of the
 * first frame in GuestMemory.bytes (the next frames follow page by page), or -1
 * for MMIO/unbacked. RAM frames are their own identity offset.
 */
export interface FrameRun {
  gfn: number;
  count: number;
  offset: number;
  readOnly: boolean;
}

export interface DomainState {
  /** Guest time at the save, in ns of the domain clock. */
  guestNs: number;
  /** The backend-neutral vCPU state (vcpu-state.ts): loads into emu or kvm alike. */
  vcpu: VcpuState;
  /** The CPUID table the guest was shown (absent in older images). */
  cpuid?: CpuidEntry[];
  /** Each device's save() result, by the name DomainParts gives it. */
  devices: Array<{ name: string; state: unknown }>;
  /** The Xen state's save(), or null when the domain has none (or it cannot save yet). */
  xen: unknown;
  memoryMap: FrameRun[];
  /** RAM then the backing store (ROMs, VRAM, ACPI tables, Xen pages): GuestMemory.bytes. */
  memory: Uint8Array;
}

export interface DomainParts {
  memory: GuestMemory;
  vcpu: VcpuBackend;
  /** The CPUID table this domain shows (cpuid-policy.ts). */
  cpuid: readonly CpuidEntry[];
  /** Guest time now (the domain clock). */
  nowNs(): number;
  /** Every stateful device, by a name unique in the domain ("pit", "com1", "ide"…). */
  devices: ReadonlyArray<{ name: string; device: SaveableState }>;
  /** The Xen state (createXenDomain's result) when the domain presents Xen and it can save. */
  xen: SaveableState | null;
}

export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

/**
 * Snapshot the domain. Call between run slices (no exit half-handled). The memory
 * is copied, so the domain may keep running afterwards (xl save -c).
 */
export function gatherDomainState(parts: DomainParts): DomainState {
  const names = new Set<string>();
  const devices = parts.devices.map(({ name, device }) => {
    if (names.has(name)) throw new RangeError(`save: two devices are named ${name}`);
    names.add(name);
    return { name, state: device.save() };
  });
  return {
    guestNs: parts.nowNs(),
    vcpu: parts.vcpu.getState(),
    cpuid: parts.cpuid.map((e) => ({ ...e })),
    devices,
    xen: parts.xen ? parts.xen.save() : null,
    memoryMap: frameRuns(parts.memory),
    memory: parts.memory.bytes.slice(),
  };
}

/**
 * Put a saved state into a fresh domain. Throws RestoreError (naming the part) when
 * the image does not fit this domain; warnings (a device only one side has) are
 * returned for the domain log.
 */
export function applyDomainState(parts: DomainParts, state: DomainState): string[] {
  const warnings: string[] = [];
  // A guest keeps using what CPUID showed it (SSE, long mode...): never move it to a
  // domain that lacks one of those (the software CPU has no SSE or long mode).
  const missing = state.cpuid ? missingCpuidFlags(state.cpuid, parts.cpuid) : [];
  if (missing.length) {
    throw new RestoreError(
      `cpuid: the guest was shown ${missing.join(', ')}, which this domain's CPU backend does not have; restore it on a backend that does (cpu_backend = "kvm"), or create the domain with cpuid = "host,${missing.map((f) => `${f}=0`).join(',')}" so it never sees them`,
    );
  }
  const mem = parts.memory;
  if (state.memory.length !== mem.bytes.length) {
    throw new RestoreError(`memory: the image has ${state.memory.length} bytes of RAM and backing store, this domain ${mem.bytes.length} (${mem.ramBytes} RAM)`);
  }
  applyFrameRuns(mem, state.memoryMap);
  // Straight into the store: nothing has run, so no decode cache or TLB holds these frames.
  mem.bytes.set(state.memory);

  const saved = new Map<string, unknown>();
  for (const d of state.devices) saved.set(d.name, d.state);
  for (const { name, device } of parts.devices) {
    if (!saved.has(name)) {
      warnings.push(`device ${name} is not in the image: it starts from its reset state`);
      continue;
    }
    try {
      device.restore(saved.get(name));
    } catch (e) {
      throw new RestoreError(`device ${name}: its saved state does not restore: ${(e as Error).message}`);
    }
    saved.delete(name);
  }
  for (const name of saved.keys()) warnings.push(`device ${name} in the image does not exist in this domain: its state is dropped`);

  if (state.xen !== null && state.xen !== undefined) {
    if (!parts.xen) throw new RestoreError('the image has Xen state but this domain has no Xen interface that can restore it');
    try {
      parts.xen.restore(state.xen);
    } catch (e) {
      throw new RestoreError(`Xen state does not restore: ${(e as Error).message}`);
    }
  }

  // Last: a vCPU state the backend refuses (VcpuStateError) leaves the guest unstarted anyway.
  try {
    for (const note of parts.vcpu.setState(state.vcpu)) warnings.push(`vcpu: ${note}`);
  } catch (e) {
    throw new RestoreError(`vcpu: its saved state does not load: ${(e as Error).message}`);
  }
  return warnings;
}

/** The whole 4 GiB frame table as runs (a few dozen for a PC). */
export function frameRuns(mem: GuestMemory): FrameRun[] {
  const runs: FrameRun[] = [];
  const off = mem.frameOffset;
  const ro = mem.frameReadOnly;
  let cur: FrameRun | null = null;
  for (let gfn = 0; gfn < off.length; gfn++) {
    const o = off[gfn];
    const r = ro[gfn] !== 0;
    if (cur && cur.readOnly === r && (o < 0 ? cur.offset < 0 : cur.offset >= 0 && o === cur.offset + cur.count * PAGE_SIZE)) {
      cur.count++;
      continue;
    }
    cur = { gfn, count: 1, offset: o < 0 ? -1 : o, readOnly: r };
    runs.push(cur);
  }
  return runs;
}

/**
 * Make the frame table say what the runs say, through GuestMemory's own mapping
 * calls (so the CPU backends and KVM's slots hear of every change). RAM frames can
 * be covered or punched, as the Xen physmap does, but nothing makes a frame RAM
 * again: an image that needs that does not belong to this domain's layout.
 */
export function applyFrameRuns(mem: GuestMemory, runs: FrameRun[]): void {
  const frames = mem.frameOffset.length;
  const ramFrames = mem.ramBytes >>> PAGE_SHIFT;
  let expect = 0;
  for (const run of runs) {
    const { gfn, count, offset } = run;
    const ok = Number.isInteger(gfn) && Number.isInteger(count) && Number.isInteger(offset) && count > 0 && gfn === expect && gfn + count <= frames &&
      typeof run.readOnly === 'boolean' && (offset === -1 || (offset >= 0 && offset % PAGE_SIZE === 0 && offset + count * PAGE_SIZE <= mem.bytes.length));
    if (!ok) throw new RestoreError(`memory map: run ${JSON.stringify(run)} is malformed`);
    expect = gfn + count;
    if (runMatches(mem, run)) continue;
    const at = gfn << PAGE_SHIFT;
    if (offset >= mem.ramBytes) {
      // Backing store (ROM, VRAM, Xen pages): also over RAM frames, as a BIOS alias or a Xen placement did.
      mem.mapBacking(at >>> 0, offset, count * PAGE_SIZE, run.readOnly, true);
    } else if (offset >= 0) {
      throw new RestoreError(`memory map: frames ${hex(at)}+${count} pages are RAM in the image but not in this domain`);
    } else {
      for (let g = gfn; g < gfn + count; g++) {
        if (mem.frameOffset[g] < 0) continue;
        if (g < ramFrames && mem.frameOffset[g] === g * PAGE_SIZE) {
          // unmapBacking leaves RAM alone: cover the RAM frame with backing first, then punch it (xen-domain.ts does the same).
          if (mem.bytes.length <= mem.ramBytes) throw new RestoreError(`memory map: cannot punch RAM frame ${hex(g * PAGE_SIZE)} without a backing store`);
          mem.mapBacking((g * PAGE_SIZE) >>> 0, mem.ramBytes, PAGE_SIZE, false, true);
        }
        mem.unmapBacking((g * PAGE_SIZE) >>> 0, PAGE_SIZE);
      }
    }
    if (!runMatches(mem, run)) throw new RestoreError(`memory map: frames ${hex(at)}+${count} pages cannot be mapped as the image says`);
  }
  if (expect !== frames) throw new RestoreError(`memory map: the runs cover ${expect} frames, not ${frames}`);
}

function runMatches(mem: GuestMemory, run: FrameRun): boolean {
  for (let i = 0; i < run.count; i++) {
    const g = run.gfn + i;
    const want = run.offset < 0 ? -1 : run.offset + i * PAGE_SIZE;
    if (mem.frameOffset[g] !== want || (mem.frameReadOnly[g] !== 0) !== run.readOnly) return false;
  }
  return true;
}
