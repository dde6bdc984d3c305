// dom0's xenstored and domain ids: one store per tsxen process (Xen has one per host),
// shared by every domain the process runs; the domids in use, in shared memory every
// domain's worker reads (Xen tells "no such domain" (-ESRCH) from "not yours" (-EPERM)).

import { XenStore } from '../pv/xenstore/store.js';

/** Domids below this (Xen's DOMID_FIRST_RESERVED). */
export const DOMID_LIMIT = 0x7ff0;

let store: XenStore | undefined;
let nextDomid = 1;
/** One byte per domid: 1 while a domain holds it. dom0 (0) always exists. */
const live = new Uint8Array(new SharedArrayBuffer(DOMID_LIMIT));
live[0] = 1;

/** The process's xenstored, created on first use. */
export function dom0XenStore(): XenStore {
  store ??= new XenStore();
  return store;
}

/** A fresh domain id (Xen's domids count up from 1; 0x7FF0 and above are reserved). */
export function allocateDomid(): number {
  if (nextDomid >= DOMID_LIMIT) throw new RangeError('no domain ids left in this tsxen process');
  const d = nextDomid++;
  Atomics.store(live, d, 1);
  return d;
}

/** The domain is gone: its id no longer names a domain. */
export function releaseDomid(domid: number): void {
  if (Number.isInteger(domid) && domid > 0 && domid < DOMID_LIMIT) Atomics.store(live, domid, 0);
}

/** The live-domain table, for workers (read with Atomics.load). */
export function liveDomainTable(): SharedArrayBuffer {
  return live.buffer as SharedArrayBuffer;
}
