// The Xen platform device's saved state. What must survive a save/restore is what
// the guest already did through ports 0x10-0x12: the platform flags, the product
// number, and above all which emulated devices it unplugged — the restored device
// model must take the same disks away again before the IDE record is loaded, or the
// guest's PV drivers and the emulated controller would both own one image
// (Xen docs/misc/hvm-emulated-unplug).

export interface XenPlatformState {
  version: 1;
  /** Platform flags (port 0x10 / BAR0+0 byte; bit 0 = ROM lock). */
  flags: number;
  /** Product number the guest's PV drivers announced at port 0x12 (3 = Linux). */
  product: number;
  /** OR of every unplug mask written to port 0x10 (UNPLUG_* bits). */
  unplugged: number;
  /** A log line still being written (printable bytes, at most the device's line cap). */
  line: number[];
}

/** An integer in [0, max], or 0 for anything else a damaged image may hold. */
function field(v: unknown, max: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : 0;
}

/** A checked copy of a saved record; throws RangeError only for a wrong version. */
export function restoreXenPlatformState(s: unknown, lineMax: number): XenPlatformState {
  const r = (typeof s === 'object' && s !== null ? s : {}) as Partial<Record<keyof XenPlatformState, unknown>>;
  if (r.version !== 1) throw new RangeError(`xen-platform state version ${String(r.version)} is not 1`);
  const line = Array.isArray(r.line) ? r.line.slice(0, lineMax).filter((b): b is number => typeof b === 'number' && b >= 0x20 && b < 0x7f && Number.isInteger(b)) : [];
  return { version: 1, flags: field(r.flags, 0xff), product: field(r.product, 0xffff), unplugged: field(r.unplugged, 0xffff), line };
}
