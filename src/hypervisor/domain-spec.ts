// What the domain builder hands to a domain: a validated, fully resolved
// description (files already read, sizes checked). The toolstack turns an xl.cfg
// into this; the pure hypervisor never reads files.

export type ShutdownReason = 'poweroff' | 'reboot' | 'crash';

export interface LinuxBootSpec {
  /** The bzImage file's bytes. */
  kernel: Uint8Array;
  /** The initrd/initramfs bytes, if any. */
  ramdisk?: Uint8Array;
  cmdline: string;
}

export interface DomainSpec {
  name: string;
  /** Guest RAM in bytes (multiple of 1 MiB). */
  memoryBytes: number;
  vcpus: number;
  /** Direct kernel boot (issue 3's only boot path; firmware boot comes later). */
  linux?: LinuxBootSpec;
  /**
   * A raw code image instead of a kernel: loaded at `load`, entered at `entry` in
   * real mode (CS:IP = 0:entry) or flat 32-bit protected mode. Tiny test guests use it.
   */
  rawImage?: { load: number; bytes: Uint8Array; entry: number; mode: 'real' | 'flat32' };
  /** Number of 16550A UARTs at COM1, COM2... (0..4). */
  serialPorts: number;
  /** isa-debugcon ports (QEMU-style), each byte written goes to the `debugcon.tx` event. */
  debugconPorts: number[];
}

/** What one call of Domain.run() ended with. */
export type RunResult =
  | { kind: 'running' }
  /** Every vCPU is halted with interrupts enabled: sleep until `wakeAtNs` (the host clock given to the Domain) or input. */
  | { kind: 'idle'; wakeAtNs: number }
  | { kind: 'shutdown'; reason: ShutdownReason; detail: string };
