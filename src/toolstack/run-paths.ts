// Where running domains can be found: one Unix socket per domain, named after it
// (xl keeps this in xenstore; tsxen has no daemon, so the socket IS the registry).
// $TSXEN_RUN_DIR, else $XDG_CACHE_HOME/tsxen/run, else ~/.cache/tsxen/run.

import { homedir } from 'node:os';
import { join } from 'node:path';

export function runDirectory(): string {
  if (process.env.TSXEN_RUN_DIR) return process.env.TSXEN_RUN_DIR;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'tsxen', 'run');
}

export const SOCKET_SUFFIX = '.sock';

export const controlSocketPath = (name: string): string => join(runDirectory(), `${name}${SOCKET_SUFFIX}`);

/** The rule validateDomainConfig applies to names; the CLI checks NAME arguments with it too. */
export const DOMAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The KVM device (TSXEN_KVM_DEVICE overrides /dev/kvm: tests point it at an unusable file). */
export function kvmDevicePath(): string {
  return process.env.TSXEN_KVM_DEVICE || '/dev/kvm';
}
