// sched_op commands and shutdown reasons (xen/include/public/sched.h).

import type { ByWidth } from './guest-width.js';

export const SCHEDOP_yield = 0;
export const SCHEDOP_block = 1;
export const SCHEDOP_shutdown = 2;
export const SCHEDOP_poll = 3;
export const SCHEDOP_remote_shutdown = 4;
export const SCHEDOP_shutdown_code = 5;
export const SCHEDOP_watchdog = 6;
export const SCHEDOP_pin_override = 7;

export const SHUTDOWN_poweroff = 0;
export const SHUTDOWN_reboot = 1;
export const SHUTDOWN_suspend = 2;
export const SHUTDOWN_crash = 3;
export const SHUTDOWN_watchdog = 4;
export const SHUTDOWN_soft_reset = 5;
/** Highest reason Xen accepts (SHUTDOWN_MAX). */
export const SHUTDOWN_MAX = 5;

/** console_io commands (xen/include/public/xen.h). */
export const CONSOLEIO_write = 0;
export const CONSOLEIO_read = 1;

/** struct sched_poll: ports handle (evtchn_port_t[], u32 each), nr_ports u32, timeout u64 (absolute system time, 0 = none). */
export const SCHED_POLL: ByWidth<{ size: number; ports: number; nrPorts: number; timeout: number }> = {
  4: { size: 16, ports: 0, nrPorts: 4, timeout: 8 },
  8: { size: 24, ports: 0, nrPorts: 8, timeout: 16 },
};
export const SCHED_POLL_32 = SCHED_POLL[4];
/** Xen's do_poll limit on nr_ports. */
export const SCHED_POLL_MAX_PORTS = 128;
