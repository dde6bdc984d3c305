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

/** An IDE drive (xl-disk-configuration(5)); the device model opens it through DomainOptions.openDisk. */
export interface DiskSpec {
  vdev: 'hda' | 'hdb' | 'hdc' | 'hdd';
  devtype: 'disk' | 'cdrom';
  /** Host path of the raw image; null = a CD drive with no medium. */
  path: string | null;
  readOnly: boolean;
  format: 'raw';
}

/** Firmware boot (no kernel=): hvmloader's work, then the BIOS from the reset vector. */
export interface FirmwareSpec {
  /** System BIOS image (Debian's bios-256k.bin, or the bios_path_override file). */
  bios: Uint8Array;
  /** true = bios_path_override: mapped as ROM below 4 GiB and 1 MiB, started at the reset vector, no hvmloader. */
  override: boolean;
  /** The VGA card's option ROM (vgabios-stdvga.bin), or null for none. */
  vgaBios: Uint8Array | null;
  /** xl `boot`: c = disk, d = CD, n = network, in order. */
  bootOrder: string;
  acpi: boolean;
  apic: boolean;
}

/** Multiboot v1 direct boot (QEMU -kernel style). */
export interface MultibootSpec {
  kernel: Uint8Array;
  cmdline: string;
  modules: { bytes: Uint8Array; cmdline: string }[];
}

/**
 * PVH direct boot (Xen docs/misc/pvh.pandoc): an ELF kernel entered at its
 * XEN_ELFNOTE_PHYS32_ENTRY with an hvm_start_info; no firmware. Needs the Xen
 * interface (DomainSpec.xen): the guest finds its memory map, console and xenstore there.
 */
export interface PvhSpec {
  /** The ELF file's bytes (an uncompressed vmlinux, not a bzImage). */
  kernel: Uint8Array;
  /** The initrd, passed as start_info module 0. */
  ramdisk?: Uint8Array;
  cmdline: string;
}

export interface DomainSpec {
  name: string;
  /** Guest RAM in bytes (multiple of 1 MiB). */
  memoryBytes: number;
  vcpus: number;
  /**
   * CPUID flags hidden from the guest (xl.cfg `cpuid = "host,<flag>=0,..."`, libxl's flag
   * names: cpuid-policy.ts CPUID_FLAGS). Pinning a KVM domain to the software CPU's set
   * lets it be saved on kvm and restored on emu.
   */
  cpuidHidden?: string[];
  /** Direct kernel boot (issue 3's only boot path; firmware boot comes later). */
  linux?: LinuxBootSpec;
  /**
   * A raw code image instead of a kernel: loaded at `load`, entered at `entry` in
   * real mode (CS:IP = 0:entry) or flat 32-bit protected mode. Tiny test guests use it.
   */
  rawImage?: { load: number; bytes: Uint8Array; entry: number; mode: 'real' | 'flat32' };
  /** Firmware boot: hvmloader + BIOS (SeaBIOS), with the HVM platform (PCI, ACPI, APICs). */
  firmware?: FirmwareSpec;
  /** Multiboot v1 kernel instead of a bzImage. */
  multiboot?: MultibootSpec;
  /** PVH ELF kernel instead of a bzImage (set xen: true with it). */
  pvh?: PvhSpec;
  /** IDE drives; empty for none. */
  disks?: DiskSpec[];
  /** Emulated graphics card (firmware boot). Default 'none' for direct boot, 'stdvga' for firmware. */
  vga?: 'stdvga' | 'none';
  /**
   * Present the Xen interface (CPUID leaves, hypercall page, hypercalls). Default: on for
   * firmware boot (SeaBIOS needs it), off for direct boot and bios_path_override.
   */
  xen?: boolean;
  /** Xen's platform PCI device (xl xen_platform_pci); default on for firmware boot. */
  xenPlatformPci?: boolean;
  /** QEMU's isa-debug-exit: a write of V ends the domain with exit status (V << 1) | 1. */
  debugExit?: { iobase: number; size: number };
  /** Number of 16550A UARTs at COM1, COM2... (0..4). */
  serialPorts: number;
  /** isa-debugcon ports (QEMU-style), each byte written goes to the `debugcon.tx` event. */
  debugconPorts: number[];
}

/** Where dom0 finds a Xen domain's store and console rings (special pages Xen's toolstack places). */
export interface PvRings {
  domid: number;
  storeGfn: number;
  /** Offset of the page in the backing store (the shared RAM buffer dom0 also sees). */
  storeOffset: number;
  /** The guest's store port and dom0's end of it. */
  storeGuestPort: number;
  storeDom0Port: number;
  consoleGfn: number;
  consoleOffset: number;
  consoleGuestPort: number;
  consoleDom0Port: number;
}

/** What one call of Domain.run() ended with. */
export type RunResult =
  | { kind: 'running' }
  /** Every vCPU is halted with interrupts enabled: sleep until `wakeAtNs` (the host clock given to the Domain) or input. */
  | { kind: 'idle'; wakeAtNs: number }
  /** `exitStatus` is set when the guest ended through isa-debug-exit: the process should exit with it. */
  | { kind: 'shutdown'; reason: ShutdownReason; detail: string; exitStatus?: number };

/**
 * Whether the domain sees the Xen interface (CPUID leaves, hypercall page,
 * hypercalls): firmware boot always (SeaBIOS's Xen path), direct boot on request
 * (DomainSpec.xen), never a bios_path_override machine unless asked.
 */
export function presentsXen(spec: DomainSpec): boolean {
  return spec.xen ?? (!!spec.firmware && !spec.firmware.override);
}
