// Save mid-run, restore into a fresh Domain, and the guest carries on exactly where
// it stopped: a real-mode guest counts PIT interrupts (8259 + PIT state must move
// with it) and writes each count's low byte to debugcon 0xe9; the concatenated
// output of both halves must be 1, 2, 3 … with no repeat and no gap, and the guest
// ends through isa-debug-exit with its status. Across backends too (emu → kvm,
// kvm → emu) where /dev/kvm works. Through Domain.save() / Domain.restore().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X86_64_ONLY_FLAGS } from './cpuid-policy.js';
import { Domain, domainBackingBytes } from './domain.js';
import { HostClock, type Clock } from './clock.js';
import type { DomainSpec, RunResult } from './domain-spec.js';
import { applyFrameRuns, frameRuns, RestoreError, type DomainState } from './domain-save.js';
import { ResumedClock } from './save/resumed-clock.js';
import { GuestMemory } from './memory/guest-memory.js';
import { assemble, kvmSkipReason, skipLoudly } from '../cpu/kvm/kvm-test-support.js';
import { createKvmDomainBackend, type KvmDomainBackend } from '../cpu/kvm/kvm-backend.js';

const TICKS = 300;

/** IRQ0 at ~1 kHz, count in a handler, HLT between ticks, exit status (0x10 << 1) | 1 at TICKS. */
const COUNTER = assemble(`bits 16
org 0x1000
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [8*4], tick
  mov word [8*4+2], 0
  mov al, 0x11
  out 0x20, al
  mov al, 0x08
  out 0x21, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x01
  out 0x21, al
  mov al, 0xfe
  out 0x21, al
  mov al, 0x34        ; PIT channel 0, lo/hi, mode 2
  out 0x43, al
  mov ax, 1193        ; 1.193182 MHz / 1193 = 1 kHz
  out 0x40, al
  mov al, ah
  out 0x40, al
  sti
idle:
  hlt
  cmp word [count], ${TICKS}
  jb idle
  mov al, 0x10
  out 0xf4, al
  cli
  hlt
tick:
  push ax
  inc word [count]
  mov ax, [count]
  out 0xe9, al
  mov al, 0x20
  out 0x20, al
  pop ax
  iret
count: dw 0
`);

const SPEC: DomainSpec = {
  name: 'counter',
  memoryBytes: 1 << 20,
  vcpus: 1,
  serialPorts: 1,
  debugconPorts: [0xe9],
  debugExit: { iobase: 0xf4, size: 1 },
  rawImage: { load: 0x1000, bytes: COUNTER, entry: 0x1000, mode: 'real' },
};

const hostClock = (): Clock => new HostClock(() => performance.now());

interface Running {
  domain: Domain;
  out: number[];
  kvm: KvmDomainBackend | null;
}

/** SPEC pinned to the software CPU's CPUID (xl cpuid = "host,sse=0,..."), so it may move from kvm to emu. */
const PINNED: DomainSpec = { ...SPEC, cpuidHidden: [...X86_64_ONLY_FLAGS] };

function start(backend: 'emu' | 'kvm', clock: Clock, spec = SPEC): Running {
  let kvm: KvmDomainBackend | null = null;
  let domain: Domain;
  if (backend === 'kvm') {
    kvm = createKvmDomainBackend(spec.memoryBytes + domainBackingBytes(spec));
    domain = new Domain(spec, { clock, ram: kvm.ram, createVcpu: kvm.createVcpu });
  } else {
    domain = new Domain(spec, { clock });
  }
  const out: number[] = [];
  domain.events.on('debugcon.tx', (e) => out.push(...e.bytes));
  return { domain, out, kvm };
}

/** Run until `until` holds or the domain shuts down (10 s at most). */
function runUntil(r: Running, until: () => boolean): RunResult {
  const deadline = Date.now() + 10_000;
  let result: RunResult = { kind: 'running' };
  while (Date.now() < deadline && !until()) {
    result = r.domain.run(2);
    if (result.kind === 'shutdown') break;
  }
  return result;
}

function expectCounting(out: number[]): void {
  assert.equal(out.length, TICKS, `the guest counted ${out.length} ticks, not ${TICKS}`);
  out.forEach((b, i) => assert.equal(b, (i + 1) & 0xff, `tick ${i + 1} wrote ${b}`));
}

function saveAndRestore(from: 'emu' | 'kvm', to: 'emu' | 'kvm', spec = SPEC): void {
  const a = start(from, hostClock(), spec);
  let state: DomainState;
  try {
    runUntil(a, () => a.out.length >= 100);
    assert.ok(a.out.length >= 100 && a.out.length < TICKS, `saved after ${a.out.length} ticks`);
    state = a.domain.save();
  } finally {
    a.kvm?.close();
  }
  const b = start(to, new ResumedClock(hostClock(), state.guestNs), spec);
  try {
    const warnings: string[] = [];
    b.domain.events.on('log', (e) => void (e.source === 'restore' && warnings.push(e.message)));
    b.domain.restore(state);
    assert.deepEqual(warnings.filter((w) => w.startsWith('device')), []);
    const result = runUntil(b, () => false);
    assert.deepEqual(result, { kind: 'shutdown', reason: 'poweroff', detail: 'isa-debug-exit: guest wrote 10', exitStatus: 0x21 });
    expectCounting([...a.out, ...b.out]);
  } finally {
    b.kvm?.close();
  }
}

test('emu → emu: the count continues after restore, no tick repeated or lost, exit status kept', () => {
  saveAndRestore('emu', 'emu');
});

test('emu → kvm and kvm → emu: the same image restores on the other backend', (t) => {
  const skip = kvmSkipReason();
  if (skip) return skipLoudly(t, skip);
  saveAndRestore('emu', 'kvm');
  saveAndRestore('kvm', 'emu', PINNED);
});

test('kvm → emu is refused for a guest that was shown SSE and long mode, naming them and the cpuid pin', (t) => {
  const skip = kvmSkipReason();
  if (skip) return skipLoudly(t, skip);
  const a = start('kvm', hostClock());
  let state: DomainState;
  try {
    runUntil(a, () => a.out.length >= 5);
    state = a.domain.save();
  } finally {
    a.kvm?.close();
  }
  assert.ok(state.cpuid?.some((e) => e.leaf === 0x80000001 && e.edx & (1 << 29)), 'the image records the x86-64 CPUID the guest saw');
  const b = start('emu', new ResumedClock(hostClock(), state.guestNs));
  const before = b.domain.memory.bytes.slice(0, 0x2000);
  assert.throws(
    () => b.domain.restore(state),
    (e: unknown) => e instanceof RestoreError && /cpuid: the guest was shown clfsh, mmx, sse, sse2, lahfsahf, syscall, lm, which this domain's CPU backend does not have/.test(e.message) && /cpuid = "host,clfsh=0,mmx=0,sse=0,sse2=0,lahfsahf=0,syscall=0,lm=0"/.test(e.message),
  );
  assert.deepEqual(b.domain.memory.bytes.slice(0, 0x2000), before, 'nothing was applied');
});

test('a state for another memory size is refused before anything changes', () => {
  const a = start('emu', hostClock());
  const state = a.domain.save();
  const big = new Domain({ ...SPEC, memoryBytes: 2 << 20 }, { clock: hostClock() });
  assert.throws(() => big.restore(state), (e: unknown) => e instanceof RestoreError && /memory: the image has 1048576 bytes/.test(e.message));
});

test('frame runs: ROM over RAM, a punched RAM frame and a backing BAR move to a fresh memory exactly', () => {
  const layout = { ramBytes: 1 << 20, romBytes: 64 << 10 };
  const a = new GuestMemory(layout);
  const rom = a.allocateBacking(32 << 10);
  a.mapBacking(0xe0000, rom, 32 << 10, true, true); // BIOS alias below 1 MiB hides RAM
  a.mapBacking(0xfffe0000, rom, 32 << 10, true);
  const page = a.allocateBacking(4096);
  a.mapBacking(0x5000, page, 4096, false, true); // a Xen page placed over RAM
  a.mapBacking(0x7000, page, 4096, false, true);
  a.unmapBacking(0x7000, 4096); // and a punched hole
  const runs = frameRuns(a);
  assert.ok(runs.length < 20, `${runs.length} runs`);
  const b = new GuestMemory(layout);
  applyFrameRuns(b, runs);
  assert.deepEqual(b.frameOffset, a.frameOffset);
  assert.deepEqual(b.frameReadOnly, a.frameReadOnly);
  // Nothing makes a covered frame RAM again: that image does not fit.
  assert.throws(() => applyFrameRuns(a, frameRuns(new GuestMemory(layout))), /are RAM in the image but not in this domain/);
  assert.throws(() => applyFrameRuns(b, [{ gfn: 0, count: 5, offset: 3, readOnly: false }]), /is malformed/);
});
