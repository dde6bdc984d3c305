// System instructions: control/debug registers, MSRs, CPUID, TSC, SYSENTER/SYSEXIT
// (SDM vol. 2; vol. 3A ch. 2 "System Architecture Overview", vol. 4 MSRs).
//
// CONTRACT: privilege checks (CPL 0) are done here; failures throw CpuException.
// STUB: the system helper implements it.

import type { CpuState } from './state.js';

export function readCr(cpu: CpuState, n: number): number {
  void cpu; void n;
  throw new Error('readCr: not implemented yet');
}
/** MOV CRn, r32 with all checks; flushes the TLB / reloads PDPTEs as needed. */
export function writeCr(cpu: CpuState, n: number, value: number): void {
  void cpu; void n; void value;
  throw new Error('writeCr: not implemented yet');
}
export function readDr(cpu: CpuState, n: number): number {
  void cpu; void n;
  throw new Error('readDr: not implemented yet');
}
export function writeDr(cpu: CpuState, n: number, value: number): void {
  void cpu; void n; void value;
  throw new Error('writeDr: not implemented yet');
}
/**
 * RDMSR: the value, or `undefined` for an MSR the CPU does not own (the core then
 * returns an `msr` exit for the hypervisor to answer).
 */
export function readMsr(cpu: CpuState, index: number): bigint | undefined {
  void cpu; void index;
  return undefined;
}
/** WRMSR: true if handled; false for an MSR the CPU does not own (→ `msr` exit). Throws #GP for bad values. */
export function writeMsr(cpu: CpuState, index: number, value: bigint): boolean {
  void cpu; void index; void value;
  return false;
}
/** CPUID from the policy table: [eax, ebx, ecx, edx]. */
export function cpuidLookup(cpu: CpuState, leaf: number, subleaf: number): [number, number, number, number] {
  void cpu; void leaf; void subleaf;
  return [0, 0, 0, 0];
}
/** The current TSC value. */
export function readTsc(cpu: CpuState): bigint {
  return BigInt(Math.floor(cpu.clock.nowNs() * cpu.tscPerNs)) + cpu.tscOffset;
}
export function sysenter(cpu: CpuState): void {
  void cpu;
  throw new Error('sysenter: not implemented yet');
}
export function sysexit(cpu: CpuState): void {
  void cpu;
  throw new Error('sysexit: not implemented yet');
}
