// The seam between a CPU backend and the hypervisor: why `VcpuBackend.run()` stopped.
// Both backends (cpu/emu and cpu/kvm) produce exactly these values, like VT's exit
// reasons or KVM's `kvm_run.exit_reason`.
//
// PIO and MMIO are served synchronously through VmOps while the vCPU runs, so a
// running guest does not return to the hypervisor loop for them; the `io` and
// `mmio` shapes are still here because the exit trace (the "last exits" of a
// diagnostic) records them, and a backend whose device model lives elsewhere
// (kvm with an ioreq server) reports them.

export interface ExitIo {
  kind: 'io';
  port: number;
  size: 1 | 2 | 4;
  write: boolean;
  value: number;
}
export interface ExitMmio {
  kind: 'mmio';
  address: number;
  size: 1 | 2 | 4;
  write: boolean;
  value: number;
}
/** HLT with interrupts enabled: nothing to run until an interrupt arrives. */
export interface ExitHlt {
  kind: 'hlt';
  /** EFLAGS.IF at the HLT. IF=0 means the vCPU is down for good (as on Xen). */
  interruptsEnabled: boolean;
}
/** The run slice ended or `requestExit()` was called; nothing is wrong, call run() again. */
export interface ExitInterrupted {
  kind: 'interrupted';
}
/** RDMSR/WRMSR of an MSR the backend does not own; answer with `completeMsr`. */
export interface ExitMsr {
  kind: 'msr';
  write: boolean;
  index: number;
  /** Value written (WRMSR), as an unsigned 64-bit integer. */
  value: bigint;
}
/** VMCALL/VMMCALL (Xen hypercall) at CPL 0. Registers hold the arguments. */
export interface ExitHypercall {
  kind: 'hypercall';
}
/** A reset requested by the CPU itself (e.g. the guest executed a triple fault). */
export interface ExitTripleFault {
  kind: 'triple-fault';
  /** Human-readable account of the fault chain. */
  detail: string;
}
/** The guest did something the backend cannot emulate; the domain must stop. */
export interface ExitInternalError {
  kind: 'internal-error';
  /** One-line reason, e.g. "unimplemented instruction 0f 0f". */
  reason: string;
  /** Multi-line diagnostic: registers, instruction bytes at CS:EIP, last exits. */
  diagnostic: string;
}

export type VmExit = ExitIo | ExitMmio | ExitHlt | ExitInterrupted | ExitMsr | ExitHypercall | ExitTripleFault | ExitInternalError;
export type VmExitKind = VmExit['kind'];

/** One-line description of an exit, for traces and logs. */
export function describeExit(e: VmExit): string {
  const h = (n: number) => '0x' + (n >>> 0).toString(16);
  switch (e.kind) {
    case 'io':
      return `io ${e.write ? 'out' : 'in'}${e.size * 8} port ${h(e.port)} = ${h(e.value)}`;
    case 'mmio':
      return `mmio ${e.write ? 'write' : 'read'}${e.size * 8} ${h(e.address)} = ${h(e.value)}`;
    case 'hlt':
      return `hlt (IF=${e.interruptsEnabled ? 1 : 0})`;
    case 'interrupted':
      return 'interrupted';
    case 'msr':
      return `${e.write ? 'wrmsr' : 'rdmsr'} ${h(e.index)}${e.write ? ' = 0x' + e.value.toString(16) : ''}`;
    case 'hypercall':
      return 'hypercall';
    case 'triple-fault':
      return `triple fault: ${e.detail}`;
    case 'internal-error':
      return `internal error: ${e.reason}`;
  }
}
