// Layout of the PV console ring page (Xen public/io/console.h, struct
// xencons_interface; xen-abi.md §16). One 4 KiB page at HVM_PARAM_CONSOLE_PFN:
// in[] carries host → guest bytes, out[] guest → host. Indices are free-running
// u32s; byte i of a buffer lives at MASK_XENCONS_IDX(i) = i & (size − 1).
// These are ABI facts; they belong in src/abi/ once the lead moves them there.

/** Host → guest buffer (keystrokes): in[1024] at offset 0. */
export const XENCONS_IN = 0;
export const XENCONS_IN_SIZE = 1024;
/** Guest → host buffer (console output): out[2048] at offset 1024. */
export const XENCONS_OUT = 1024;
export const XENCONS_OUT_SIZE = 2048;
/** XENCONS_RING_IDX fields after the buffers. */
export const XENCONS_IN_CONS = 3072;
export const XENCONS_IN_PROD = 3076;
export const XENCONS_OUT_CONS = 3080;
export const XENCONS_OUT_PROD = 3084;
/** uint8_t connection: whether the backend services the ring. */
export const XENCONS_CONNECTION = 3088;
export const XENCONSOLE_CONNECTED = 0;
export const XENCONSOLE_DISCONNECTED = 1;
/** Bytes of the page the interface uses (the rest of the page is padding). */
export const XENCONS_INTERFACE_SIZE = 3089;
