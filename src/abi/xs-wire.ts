// XenStore wire protocol and shared ring (xen/include/public/io/xs_wire.h,
// docs/misc/xenstore.txt, docs/misc/xenstore-ring.txt). Constants and layouts only.

/** enum xsd_sockmsg_type. 20 (XS_RESTRICT) was removed from Xen. */
export const XS_CONTROL = 0;
export const XS_DIRECTORY = 1;
export const XS_READ = 2;
export const XS_GET_PERMS = 3;
export const XS_WATCH = 4;
export const XS_UNWATCH = 5;
export const XS_TRANSACTION_START = 6;
export const XS_TRANSACTION_END = 7;
export const XS_INTRODUCE = 8;
export const XS_RELEASE = 9;
export const XS_GET_DOMAIN_PATH = 10;
export const XS_WRITE = 11;
export const XS_MKDIR = 12;
export const XS_RM = 13;
export const XS_SET_PERMS = 14;
export const XS_WATCH_EVENT = 15;
export const XS_ERROR = 16;
export const XS_IS_DOMAIN_INTRODUCED = 17;
export const XS_RESUME = 18;
export const XS_SET_TARGET = 19;
export const XS_RESET_WATCHES = 21;
export const XS_DIRECTORY_PART = 22;
export const XS_GET_FEATURE = 23;
export const XS_SET_FEATURE = 24;
export const XS_GET_QUOTA = 25;
export const XS_SET_QUOTA = 26;
export const XS_TYPE_COUNT = 27;
export const XS_INVALID = 0xffff;

/** The error names a reply may carry (struct xsd_errors, in Xen's order). */
export const XSD_ERRORS = [
  'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO',
  'ENOTEMPTY', 'ENOSYS', 'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
] as const;
export type XsErrorName = (typeof XSD_ERRORS)[number];

/** struct xsd_sockmsg: four u32 (little-endian on x86). */
export const XSD_SOCKMSG_SIZE = 16;
export const XSD_SOCKMSG_TYPE = 0;
export const XSD_SOCKMSG_REQ_ID = 4;
export const XSD_SOCKMSG_TX_ID = 8;
export const XSD_SOCKMSG_LEN = 12;

export const XENSTORE_PAYLOAD_MAX = 4096;
export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;

/** struct xenstore_domain_interface (one page at HVM_PARAM_STORE_PFN). */
export const XENSTORE_RING_SIZE = 1024;
export const XS_RING_REQ = 0;
export const XS_RING_RSP = 1024;
export const XS_RING_REQ_CONS = 2048;
export const XS_RING_REQ_PROD = 2052;
export const XS_RING_RSP_CONS = 2056;
export const XS_RING_RSP_PROD = 2060;
export const XS_RING_SERVER_FEATURES = 2064;
export const XS_RING_CONNECTION = 2068;
export const XS_RING_ERROR = 2072;
export const XS_RING_EVTCHN_PORT = 2076;
export const XS_RING_INTERFACE_SIZE = 2080;

export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
export const XENSTORE_SERVER_FEATURE_ERROR = 2;
export const XENSTORE_SERVER_FEATURE_WATCHDEPTH = 4;
export const XENSTORE_SERVER_FEATURE_DOMID_ANY = 8;

export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;

/**
 * A fresh xenstore_domain_interface as the domain builder leaves it (libxl zeroes the
 * special page): indices 0, the features this xenstored offers, connected, the port.
 */
export function initXenStoreInterface(page: Uint8Array, evtchn: number): void {
  if (page.length < XS_RING_INTERFACE_SIZE) throw new RangeError('xenstore page too small');
  page.fill(0, 0, XS_RING_INTERFACE_SIZE);
  const dv = new DataView(page.buffer, page.byteOffset, XS_RING_INTERFACE_SIZE);
  dv.setUint32(XS_RING_SERVER_FEATURES, XENSTORE_SERVER_FEATURE_ERROR, true);
  dv.setUint32(XS_RING_CONNECTION, XENSTORE_CONNECTED, true);
  dv.setUint32(XS_RING_EVTCHN_PORT, evtchn, true);
}

export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

/** Default per-domain quotas of C xenstored (tools/xenstored/domain.c); dom0 is exempt. */
export const XS_QUOTA_NODES = 1000;
export const XS_QUOTA_WATCHES = 128;
export const XS_QUOTA_TRANSACTIONS = 10;
export const XS_QUOTA_NODE_PERMS = 5;
export const XS_QUOTA_NODE_SIZE = 2048;
export const XS_QUOTA_PATH_MAX = XENSTORE_REL_PATH_MAX;
