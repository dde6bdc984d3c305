// dom0's xenstored and domain ids: one store per tsxen process (Xen has one per host),
// shared by every domain the process runs, and the next free domid (dom0 is 0).

import { XenStore } from '../pv/xenstore/store.js';

let store: XenStore | undefined;
let nextDomid = 1;

/** The process's xenstored, created on first use. */
export function dom0XenStore(): XenStore {
  store ??= new XenStore();
  return store;
}

/** A fresh domain id (Xen's domids count up from 1; 0x7FF0 and above are reserved). */
export function allocateDomid(): number {
  if (nextDomid >= 0x7ff0) throw new RangeError('no domain ids left in this tsxen process');
  return nextDomid++;
}
