// Domain builder: turns a validated DomainConfig into the DomainSpec the pure
// hypervisor runs (files read, sizes in bytes). Like libxl's domain build step, it is
// the last place that touches the host's files for this domain, except the disk
// images, which the domain's worker opens (DomainOptions.openDisk).

import { readFileSync } from 'node:fs';
import type { DomainSpec } from '../hypervisor/domain-spec.js';
import type { DomainConfig } from './domain-config.js';

const MiB = 1024 * 1024;

const read = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

export function buildDomainSpec(config: DomainConfig): DomainSpec {
  const spec: DomainSpec = {
    name: config.name,
    memoryBytes: config.memoryMiB * MiB,
    vcpus: config.vcpus,
    // One UART per listed device; a "none" between two devices keeps its UART so the
    // later ones stay at their COM addresses (trailing "none"s are already dropped).
    serialPorts: config.serials.length,
    debugconPorts: config.debugcon.map((d) => d.port),
    disks: config.disks.map((d) => ({ ...d })),
    vga: config.vga,
  };
  if (config.debugExit) spec.debugExit = { ...config.debugExit };
  if (config.cpuidHidden.length) spec.cpuidHidden = [...config.cpuidHidden];
  if (config.xenInterface !== undefined) spec.xen = config.xenInterface;
  if (!config.xenPlatformPci) spec.xenPlatformPci = false;
  if (config.boot === 'linux') {
    spec.linux = { kernel: read(config.kernel!), cmdline: config.cmdline };
    if (config.ramdisk !== undefined) spec.linux.ramdisk = read(config.ramdisk);
  } else if (config.boot === 'multiboot') {
    spec.multiboot = { kernel: read(config.kernel!), cmdline: config.cmdline, modules: config.modules.map((m) => ({ bytes: read(m.path), cmdline: m.cmdline })) };
  } else if (config.boot === 'pvh') {
    spec.pvh = { kernel: read(config.kernel!), cmdline: config.cmdline, ...(config.ramdisk !== undefined ? { ramdisk: read(config.ramdisk) } : {}) };
  } else {
    const f = config.firmware!;
    spec.firmware = { bios: read(f.bios), override: f.override, vgaBios: f.vgaBios ? read(f.vgaBios) : null, bootOrder: f.bootOrder, acpi: f.acpi, apic: f.apic };
  }
  return spec;
}
