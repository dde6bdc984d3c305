// console_io (hypercall 18; xen/drivers/char/console.c do_console_io): a guest's
// writes go to the hypervisor console — here the domain's log, as `xl dmesg` shows
// "(dN)" lines. Only printable characters and newlines are kept; one call is capped
// like Xen's copy loop. Reading the hypervisor console is for the control domain.

import { CONSOLEIO_read, CONSOLEIO_write } from '../../abi/sched.js';
import { XEN_EFAULT, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import type { HypercallCall } from './hypercall-context.js';

/** Bytes taken from one CONSOLEIO_write (Xen copies in 128-byte chunks up to count; we cap a call). */
export const CONSOLE_WRITE_MAX = 4096;

export function doConsoleIo(call: HypercallCall): number {
  const [cmd, count] = call.args;
  const buffer = call.ptrs[2];
  if (cmd === CONSOLEIO_write) {
    const n = Math.min(count >>> 0, CONSOLE_WRITE_MAX);
    const bytes = n === 0 ? new Uint8Array(0) : call.guest.copyFrom(buffer, n);
    if (!bytes) return -XEN_EFAULT;
    let text = '';
    for (const b of bytes) if (b === 0x0a || (b >= 0x20 && b < 0x7f)) text += String.fromCharCode(b);
    if (text.length) call.ctx.console?.(text);
    return 0;
  }
  // XSM (xsm_console_io) is asked before the cmd switch: XSM_PRIV for a domU's every cmd
  // but CONSOLEIO_write (allowed here as on Xen's debug builds).
  if (!call.domain.privileged) return -XEN_EPERM;
  return cmd === CONSOLEIO_read ? 0 : -XEN_ENOSYS;
}
