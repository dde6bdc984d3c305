// The nodes the toolstack writes for a Linux HVM guest (xen-abi.md §11.3,
// docs/misc/xenstore-paths.pandoc): the domain's home /local/domain/D owned by
// dom0 and readable by D, with the guest-writable subtrees (control/feature-*,
// device/, data/, drivers, attr, error) owned by D.

import { domainPath } from './path.js';
import type { XsClient } from './client.js';

export interface GuestPathsSpec {
  name: string;
  /** Memory in KiB (memory/target and memory/static-max). */
  memoryKiB: number;
  vcpus: number;
  /** /vm/<uuid> path; defaults to /vm/<domid>. */
  uuid?: string;
  /** Store ring and console ring, if the domain has them (console/ring-ref, port). */
  storeGfn?: number;
  storeEvtchn?: number;
  consoleGfn?: number;
  consoleEvtchn?: number;
}

/** Writes the guest's nodes through dom0's in-process client `xs` (in one transaction, retried on EAGAIN). */
export function writeGuestPaths(xs: XsClient, domid: number, spec: GuestPathsSpec): void {
  for (let attempt = 0; ; attempt++) {
    const tx = xs.transactionStart();
    try {
      writeAll(xs, tx, domid, spec);
      xs.transactionEnd(tx, true);
      return;
    } catch (e) {
      try {
        xs.transactionEnd(tx, false);
      } catch {
        // Already ended by a failed commit.
      }
      if (attempt < 5 && (e as { code?: string }).code === 'EAGAIN') continue;
      throw e;
    }
  }
}

function writeAll(xs: XsClient, tx: number, domid: number, spec: GuestPathsSpec): void {
  const home = domainPath(domid);
  const vm = `/vm/${spec.uuid ?? String(domid)}`;
  // Readable by the guest, writable only by dom0.
  const ro = ['n0', `r${domid}`];
  // Owned by the guest (it may write and create below); dom0 has full access anyway.
  const rw = [`n${domid}`];
  const put = (path: string, value: string, perms: string[]): void => {
    xs.write(path, value, tx);
    xs.setPerms(path, perms, tx);
  };
  put(home, '', ro);
  put(`${vm}`, '', ro);
  put(`${vm}/name`, spec.name, ro);
  put(`${vm}/uuid`, spec.uuid ?? '', ro);
  put(`${home}/vm`, vm, ro);
  put(`${home}/name`, spec.name, ro);
  put(`${home}/domid`, String(domid), ro);
  put(`${home}/memory`, '', ro);
  put(`${home}/memory/target`, String(spec.memoryKiB), ro);
  put(`${home}/memory/static-max`, String(spec.memoryKiB), ro);
  put(`${home}/memory/videoram`, '-1', ro);
  put(`${home}/cpu`, '', ro);
  for (let i = 0; i < spec.vcpus; i++) {
    put(`${home}/cpu/${i}`, '', ro);
    put(`${home}/cpu/${i}/availability`, 'online', ro);
  }
  // control/: the guest writes feature-* and acks shutdown requests; dom0 writes shutdown.
  put(`${home}/control`, '', ro);
  put(`${home}/control/shutdown`, '', rw);
  put(`${home}/control/sysrq`, '', rw);
  for (const f of ['feature-poweroff', 'feature-reboot', 'feature-suspend', 'feature-s3', 'feature-s4']) put(`${home}/control/${f}`, '', rw);
  put(`${home}/control/platform-feature-multiprocessor-suspend`, '1', ro);
  put(`${home}/control/platform-feature-xs_reset_watches`, '1', ro);
  for (const dir of ['device', 'data', 'drivers', 'attr', 'error', 'feature']) put(`${home}/${dir}`, '', rw);
  // The primary console's metadata (written here for the in-process console backend).
  put(`${home}/console`, '', ro);
  put(`${home}/console/type`, 'xenconsoled', ro);
  put(`${home}/console/limit`, '1048576', ro);
  if (spec.consoleGfn !== undefined) put(`${home}/console/ring-ref`, String(spec.consoleGfn), ro);
  if (spec.consoleEvtchn !== undefined) put(`${home}/console/port`, String(spec.consoleEvtchn), ro);
  if (spec.storeGfn !== undefined) put(`${home}/store/ring-ref`, String(spec.storeGfn), ro);
  if (spec.storeEvtchn !== undefined) put(`${home}/store/port`, String(spec.storeEvtchn), ro);
  // dom0's backend tree for this guest exists and is readable by the guest.
  put(`/local/domain/0/backend`, '', ['n0']);
}
