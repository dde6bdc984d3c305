// Domain builder: turns a validated DomainConfig into the DomainSpec the pure
// hypervisor runs (files read, sizes in bytes). Like libxl's domain build step, it is
// the last place that touches the host's files for this domain.

import { readFileSync } from 'node:fs';
import type { DomainSpec } from '../hypervisor/domain-spec.js';
import type { DomainConfig } from './domain-config.js';

const MiB = 1024 * 1024;

export function buildDomainSpec(config: DomainConfig): DomainSpec {
  const kernel = new Uint8Array(readFileSync(config.kernel));
  const spec: DomainSpec = {
    name: config.name,
    memoryBytes: config.memoryMiB * MiB,
    vcpus: config.vcpus,
    linux: { kernel, cmdline: config.cmdline },
    // One UART per listed device; a "none" between two devices keeps its UART so the
    // later ones stay at their COM addresses (trailing "none"s are already dropped).
    serialPorts: config.serials.length,
    debugconPorts: config.debugcon.map((d) => d.port),
  };
  if (config.ramdisk !== undefined) spec.linux!.ramdisk = new Uint8Array(readFileSync(config.ramdisk));
  return spec;
}
