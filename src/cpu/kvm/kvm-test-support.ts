// Test support for the KVM backend: nasm assembly, a GuestMemory over KVM RAM,
// a VmOps that records what reaches it, and the loud skip where /dev/kvm is absent.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../hypervisor/clock.js';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { domainCpuidPolicy } from '../../hypervisor/cpuid-policy.js';
import type { SegmentRegister, VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import { kvmAvailability } from './availability.js';
import { createKvmDomainBackend, type KvmDomainBackend } from './kvm-backend.js';
import type { KvmVcpu } from './kvm-vcpu.js';

/** Why KVM tests cannot run here, or null. Printed loudly by the caller. */
export function kvmSkipReason(): string | null {
  const a = kvmAvailability();
  return a.usable ? null : `${a.reason} (${a.fix})`;
}

export function skipLoudly(t: { skip(msg: string): void }, reason: string): void {
  process.stderr.write(`\n*** KVM TESTS SKIPPED: ${reason} ***\n\n`);
  t.skip(`KVM unavailable: ${reason}`);
}

/** test/guests/include: assembly the test kernels share (long-mode.inc...), from dist/src/cpu/kvm. */
const SHARED_INCLUDES = join(dirname(fileURLToPath(import.meta.url)), '../../../../test/guests/include');

/** nasm -f bin of `source`; `%include`s are found in test/guests/include. */
export function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-kvm-'));
  try {
    writeFileSync(join(dir, 'g.asm'), source);
    execFileSync('nasm', ['-f', 'bin', '-i', `${SHARED_INCLUDES}/`, '-o', join(dir, 'g.bin'), join(dir, 'g.asm')], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'g.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RecordedAccess {
  kind: 'in' | 'out' | 'mmio-read' | 'mmio-write';
  address: number;
  size: number;
  value: number;
}

export interface KvmGuest {
  backend: KvmDomainBackend;
  memory: GuestMemory;
  vcpu: KvmVcpu;
  accesses: RecordedAccess[];
  /** Bytes written to the UART data port 0x3f8. */
  uart: number[];
  /** Bytes written to the debug port 0xe9. */
  debug: number[];
  /** Vectors handed out by acknowledgeInterrupt, and what it returns next. */
  acked: number[];
  nextVector: number;
  /** What MMIO reads return. */
  mmioValue: number;
  /** Show the x86-64 CPUID set a KVM domain gets (long mode, SSE2...), so the guest may enter long mode. */
  setLongModeCpuid(): void;
  close(): void;
}

/**
 * A bare KvmVcpu over `ramBytes` of RAM. Run slices are long by default so a test sees
 * the exit it expects even on a loaded machine (kvm-pvm runs guest code ~1000x slower;
 * a 5 ms slice can end before a few real-mode instructions do); pass a short
 * `sliceMs` to test the slice timer itself.
 */
export function kvmGuest(ramBytes = 4 << 20, sliceMs = 2000): KvmGuest {
  const backend = createKvmDomainBackend(ramBytes, '/dev/kvm', sliceMs);
  const memory = new GuestMemory({ ramBytes }, backend.ram);
  const g = { backend, memory, accesses: [], uart: [], debug: [], acked: [], nextVector: 0x20, mmioValue: 0 } as unknown as KvmGuest;
  const ops: VmOps = {
    pioRead: (port, size) => {
      g.accesses.push({ kind: 'in', address: port, size, value: 0 });
      return port === 0x3fd ? 0x60 : 0xff; // LSR: transmitter empty
    },
    pioWrite: (port, size, value) => {
      g.accesses.push({ kind: 'out', address: port, size, value });
      if (port === 0x3f8) g.uart.push(value & 0xff);
      if (port === 0xe9) g.debug.push(value & 0xff);
    },
    mmioRead: (address, size) => {
      g.accesses.push({ kind: 'mmio-read', address, size, value: g.mmioValue });
      return g.mmioValue;
    },
    mmioWrite: (address, size, value) => {
      g.accesses.push({ kind: 'mmio-write', address, size, value });
    },
    acknowledgeInterrupt: () => {
      g.acked.push(g.nextVector);
      g.vcpu.setIrqLine(false);
      return g.nextVector;
    },
  };
  g.vcpu = backend.createVcpu(memory, ops, new ManualClock()) as KvmVcpu;
  // The same CPUID policy a Domain gives both backends (FPU, SSE... as the emu has them).
  g.vcpu.setCpuid(domainCpuidPolicy());
  g.setLongModeCpuid = () => g.vcpu.setCpuid(domainCpuidPolicy({ apic: false, longMode: true }));
  g.close = () => backend.close();
  return g;
}

function seg(selector: number, base: number, limit: number, type: number, db: number, g: number): SegmentRegister {
  return { selector, base, limit, type, s: 1, dpl: 0, present: 1, db, g, avl: 0, l: 0, unusable: 0 };
}

/** Real mode at 0000:ip. */
export function startRealMode(guest: KvmGuest, ip: number): void {
  const s = guest.vcpu.getSpecialRegisters();
  s.cs = seg(0, 0, 0xffff, 0xb, 0, 0);
  guest.vcpu.setSpecialRegisters(s);
  guest.vcpu.setRegisters({ ...guest.vcpu.getRegisters(), eip: ip, esp: 0x7000, eflags: 2 });
}

/** Flat 32-bit protected mode at CPL 0 (GDT loaded by tsxen's sregs only: the guest never reloads a selector). */
export function startProtectedMode(guest: KvmGuest, eip: number): void {
  const s: VcpuSpecialRegisters = guest.vcpu.getSpecialRegisters();
  s.cs = seg(0x08, 0, 0xffffffff, 0xb, 1, 1);
  for (const n of ['ds', 'es', 'fs', 'gs', 'ss'] as const) s[n] = seg(0x10, 0, 0xffffffff, 0x3, 1, 1);
  s.cr0 = 0x11 | 0x20; // PE, ET, NE
  guest.vcpu.setSpecialRegisters(s);
  guest.vcpu.setRegisters({ eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: 0x7000, eip, eflags: 2 });
}
