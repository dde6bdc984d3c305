// sched_op commands and shutdown reasons (xen/include/public/sched.h).

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

/** struct sched_poll, 32-bit layout: ports handle @0, nr_ports u32 @4, timeout u64 @8 (absolute system time, 0 = none). */
export const SCHED_POLL_32 = { size: 16, ports: 0, nrPorts: 4, timeout: 8 } as const;
/** Xen's do_poll limit on nr_ports. */
export const SCHED_POLL_MAX_PORTS = 128;
