// Event channel ABI (xen/include/public/event_channel.h, xen.h VIRQ_*): sub-op
// numbers, status codes, VIRQ numbers and the argument structs' byte offsets.
// The event_channel_op structs have the same layout for 32- and 64-bit guests.

export const EVTCHNOP_bind_interdomain = 0;
export const EVTCHNOP_bind_virq = 1;
export const EVTCHNOP_bind_pirq = 2;
export const EVTCHNOP_close = 3;
export const EVTCHNOP_send = 4;
export const EVTCHNOP_status = 5;
export const EVTCHNOP_alloc_unbound = 6;
export const EVTCHNOP_bind_ipi = 7;
export const EVTCHNOP_bind_vcpu = 8;
export const EVTCHNOP_unmask = 9;
export const EVTCHNOP_reset = 10;
export const EVTCHNOP_init_control = 11;
export const EVTCHNOP_expand_array = 12;
export const EVTCHNOP_set_priority = 13;
export const EVTCHNOP_reset_cont = 14;

/** evtchn_status.status values. */
export const EVTCHNSTAT_closed = 0;
export const EVTCHNSTAT_unbound = 1;
export const EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_pirq = 3;
export const EVTCHNSTAT_virq = 4;
export const EVTCHNSTAT_ipi = 5;

/** "This domain" in domid fields (xen.h). */
export const DOMID_SELF = 0x7ff0;

export const VIRQ_TIMER = 0;
export const VIRQ_DEBUG = 1;
export const VIRQ_CONSOLE = 2;
export const VIRQ_DOM_EXC = 3;
export const VIRQ_TBUF = 4;
export const VIRQ_DEBUGGER = 6;
export const VIRQ_XENOPROF = 7;
export const VIRQ_CON_RING = 8;
export const VIRQ_PCPU_STATE = 9;
export const VIRQ_MEM_EVENT = 10;
export const VIRQ_ARGO = 11;
export const VIRQ_ENOMEM = 12;
export const VIRQ_XENPMU = 13;
export const VIRQ_ARCH_0 = 16;
export const VIRQ_ARCH_7 = 23;
export const NR_VIRQS = 24;

/** 2-level ABI capacity: bits in evtchn_pending (32 x 32-bit words for a 32-bit guest, 64 x 64 for 64-bit). */
export const EVTCHN_2L_NR_CHANNELS_32 = 1024;
export const EVTCHN_2L_NR_CHANNELS_64 = 4096;

/** Struct sizes and field offsets (bytes). */
export const EVTCHN_ALLOC_UNBOUND = { size: 8, dom: 0, remoteDom: 2, port: 4 } as const;
export const EVTCHN_BIND_INTERDOMAIN = { size: 12, remoteDom: 0, remotePort: 4, localPort: 8 } as const;
export const EVTCHN_BIND_VIRQ = { size: 12, virq: 0, vcpu: 4, port: 8 } as const;
export const EVTCHN_BIND_IPI = { size: 8, vcpu: 0, port: 4 } as const;
export const EVTCHN_PORT_ARG = { size: 4, port: 0 } as const; // close, send, unmask
export const EVTCHN_STATUS = { size: 24, dom: 0, port: 4, status: 8, vcpu: 12, union: 16, unionPort: 20 } as const;
export const EVTCHN_BIND_VCPU = { size: 8, port: 0, vcpu: 4 } as const;
export const EVTCHN_RESET = { size: 2, dom: 0 } as const;
