// physdev_op (hypercall 33; xen/include/public/physdev.h; xen-abi.md §9). Xen lets an
// HVM domU reach map_pirq/unmap_pirq, and eoi/irq_status_query/get_free_pirq only with
// emulated PIRQs (XENFEAT_hvm_pirqs); tsxen offers no PIRQs, so every op Linux probes
// on HVM — and everything else — is -ENOSYS, which makes Linux keep its native IRQs.

import { XEN_ENOSYS } from '../../abi/xen-errno.js';
import type { HypercallCall } from './hypercall-context.js';

export function doPhysdevOp(_call: HypercallCall): number {
  return -XEN_ENOSYS;
}
