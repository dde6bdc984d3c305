// What a CPU backend may ask of the hypervisor while a vCPU runs (rust-vmm's VmOps).
// Guest RAM itself is reached directly through the shared GuestMemory.

import type { AccessSize } from '../types.js';

export interface VmOps {
  /** IN from a port. Unmapped ports read all ones. */
  pioRead(port: number, size: AccessSize): number;
  /** OUT to a port. Unmapped ports ignore writes. */
  pioWrite(port: number, size: AccessSize, value: number): void;
  /** Read from a guest-physical address that is not RAM. */
  mmioRead(address: number, size: AccessSize): number;
  /** Write to a guest-physical address that is not RAM (ROM writes come here too and are dropped). */
  mmioWrite(address: number, size: AccessSize, value: number): void;
  /**
   * The INTA cycle: the vCPU accepts an external interrupt (INTR pin high, IF=1)
   * and asks the interrupt controller for its vector. Negative: nothing is pending
   * any more (the line was stale, e.g. a Xen callback the guest has already taken);
   * the vCPU delivers nothing and the hypervisor has lowered the line.
   */
  acknowledgeInterrupt(): number;
}
