// Can this host run domains on /dev/kvm, and should `cpu_backend = "auto"` pick it?
// Each "no" names what is wrong and how to fix it or fall back (issue 6 §2).

import { existsSync, readFileSync } from 'node:fs';
import * as abi from './kvm-abi.js';
import { KvmSystem } from './kvm-system.js';
import { EACCES, ENOENT, SyscallError } from './libc.js';

export interface KvmAvailability {
  /** /dev/kvm opens, speaks API 12, has every capability the backend uses and creates a VM. */
  usable: boolean;
  /** The CPU has VT-x/AMD-V (vmx/svm) and KVM is not the kvm-pvm software module. */
  realVt: boolean;
  /** kvm-pvm (software virtualisation inside a VM without VT) is what serves /dev/kvm. */
  pvm: boolean;
  /** One line: what is wrong, or what is there. */
  reason: string;
  /** How to fix it or fall back; empty when usable with real VT. */
  fix: string;
}

/** Capabilities the backend cannot work without (checked in this order). */
export const REQUIRED_CAPS: Array<[number, string]> = [
  [abi.KVM_CAP_USER_MEMORY, 'KVM_CAP_USER_MEMORY'],
  [abi.KVM_CAP_IMMEDIATE_EXIT, 'KVM_CAP_IMMEDIATE_EXIT'],
  [abi.KVM_CAP_EXT_CPUID, 'KVM_CAP_EXT_CPUID'],
  [abi.KVM_CAP_X86_USER_SPACE_MSR, 'KVM_CAP_X86_USER_SPACE_MSR'],
  [abi.KVM_CAP_X86_MSR_FILTER, 'KVM_CAP_X86_MSR_FILTER'],
];

const FALL_BACK = 'or use cpu_backend = "emu" (the software CPU)';

export interface ProbeOptions {
  devicePath?: string;
  cpuinfoPath?: string;
  /** Where loaded modules appear (kvm-pvm is /sys/module/kvm_pvm; /proc/modules may be absent). */
  sysModulePath?: string;
}

export function kvmAvailability(opts: ProbeOptions = {}): KvmAvailability {
  const path = opts.devicePath ?? '/dev/kvm';
  const flags = cpuFlags(opts.cpuinfoPath ?? '/proc/cpuinfo');
  const vt = flags.has('vmx') || flags.has('svm');
  const pvm = existsSync(`${opts.sysModulePath ?? '/sys/module'}/kvm_pvm`);
  const realVt = vt && !pvm;
  const no = (reason: string, fix: string): KvmAvailability => ({ usable: false, realVt, pvm, reason, fix });
  if (!existsSync(path)) {
    return no(`${path} does not exist`, vt ? `load the KVM module (modprobe ${flags.has('svm') ? 'kvm_amd' : 'kvm_intel'}), ${FALL_BACK}` : `this CPU has no VT-x/AMD-V (no vmx/svm in /proc/cpuinfo): run on a host with hardware virtualisation, ${FALL_BACK}`);
  }
  let system: KvmSystem;
  try {
    system = KvmSystem.open(path);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === EACCES) return no(`${path}: permission denied`, `add this user to the device's group (usually "kvm") or grant read/write on ${path}, ${FALL_BACK}`);
    if (e instanceof SyscallError && e.errno === ENOENT) return no(`${path} does not exist`, `load the KVM module, ${FALL_BACK}`);
    return no(`${path}: ${(e as Error).message}`, `${path} is not a working KVM device; ${FALL_BACK}`);
  }
  try {
    for (const [cap, name] of REQUIRED_CAPS) {
      if (system.checkExtension(cap) <= 0) return no(`${path}: KVM lacks ${name}`, `use a newer kernel (5.10+ for the MSR filter), ${FALL_BACK}`);
    }
    const vm = system.createVm();
    vm.close();
  } catch (e) {
    return no(`${path}: ${(e as Error).message}`, FALL_BACK);
  } finally {
    system.close();
  }
  if (pvm) return { usable: true, realVt: false, pvm, reason: `${path} is kvm-pvm (software virtualisation, no VT-x/AMD-V): guest kernel code is emulated at about 1 µs per instruction`, fix: `it works with cpu_backend = "kvm"; "auto" prefers the software CPU here` };
  if (!vt) return { usable: true, realVt: false, pvm, reason: `${path} works but /proc/cpuinfo shows no vmx/svm`, fix: `it works with cpu_backend = "kvm"; "auto" prefers the software CPU here` };
  return { usable: true, realVt: true, pvm, reason: `${path} with ${flags.has('vmx') ? 'Intel VT-x' : 'AMD-V'}`, fix: '' };
}

export type CpuBackendChoice = 'auto' | 'kvm' | 'emu';

export interface CpuBackendDecision {
  backend: 'kvm' | 'emu';
  /** What to print: which backend and why. */
  message: string;
}

/** cpu_backend = "kvm" on a host where KVM is unusable. The CLI prints `message` and exits with status 1. */
export class KvmUnavailableError extends Error {
  constructor(readonly availability: KvmAvailability) {
    super(`cpu_backend = "kvm": ${availability.reason}; to fix: ${availability.fix}`);
    this.name = 'KvmUnavailableError';
  }
}

/** Resolve xl.cfg's cpu_backend. Throws KvmUnavailableError for "kvm" where KVM is unusable; never probes for "emu". */
export function chooseCpuBackend(choice: CpuBackendChoice, probe: () => KvmAvailability = () => kvmAvailability()): CpuBackendDecision {
  if (choice === 'emu') return { backend: 'emu', message: 'cpu_backend=emu: using the software CPU' };
  const a = probe();
  if (choice === 'kvm') {
    if (!a.usable) throw new KvmUnavailableError(a);
    return { backend: 'kvm', message: `cpu_backend=kvm: using KVM (${a.reason})` };
  }
  if (a.usable && a.realVt) return { backend: 'kvm', message: `cpu_backend=auto: using KVM (${a.reason})` };
  return { backend: 'emu', message: `cpu_backend=auto: using the software CPU (${a.reason}${a.usable ? '' : '; ' + a.fix})` };
}

function cpuFlags(cpuinfoPath: string): Set<string> {
  try {
    const line = readFileSync(cpuinfoPath, 'utf8').split('\n').find((l) => /^flags\s*:/.test(l));
    return new Set(line ? line.replace(/^flags\s*:/, '').trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}
