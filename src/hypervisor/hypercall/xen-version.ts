// xen_version (hypercall 17; xen/include/public/version.h; behaviour of Xen 4.17's
// do_xen_version in common/kernel.c with the default XSM policy): version and
// platform queries every guest may make. SeaBIOS issues XENVER_extraversion once
// through the hypercall page; Linux reads version and get_features.

import {
  XENFEAT_auto_translated_physmap,
  XENFEAT_not_direct_mapped,
  XENFEAT_writable_page_tables,
  XENVER_build_id,
  XENVER_capabilities,
  XENVER_changeset,
  XENVER_commandline,
  XENVER_compile_info,
  XENVER_extraversion,
  XENVER_get_features,
  XENVER_guest_handle,
  XENVER_pagesize,
  XENVER_platform_parameters,
  XENVER_version,
  XEN_CAPABILITIES_INFO_LEN,
  XEN_CHANGESET_INFO_LEN,
  XEN_COMMANDLINE_LEN,
  XEN_COMPILE_INFO,
  XEN_DOMAIN_HANDLE_LEN,
  XEN_EXTRAVERSION_LEN,
  XEN_FEATURE_INFO_LEN,
  XEN_PLATFORM_PARAMETERS_32_LEN,
  XEN_PLATFORM_PARAMETERS_64_LEN,
} from '../../abi/xen-version.js';
import { XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS, XEN_EPERM } from '../../abi/xen-errno.js';
import type { HypercallCall } from './hypercall-context.js';
import { XEN_VERSION_MAJOR, XEN_VERSION_MINOR } from './xen-cpuid-leaves.js';

/** What the strings say. Plain ASCII; each is cut to its field with a NUL kept. */
export const XEN_VERSION_INFO = {
  extraversion: '.0',
  compiler: 'tsxen (TypeScript)',
  compileBy: 'tsxen',
  compileDomain: '',
  compileDate: '',
  /** The guest kinds this "Xen" runs on the software CPU: 32-bit HVM, with and without PAE (no long mode). */
  capabilities: 'hvm-3.0-x86_32 hvm-3.0-x86_32p',
  /** ... and on a backend with long mode (cpu/kvm), 64-bit HVM too, as Xen on x86-64 lists it. */
  capabilities64: 'hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64',
  changeset: 'unavailable',
  /** Xen's boot command line, shown to privileged domains only. */
  commandline: '',
} as const;

/** Xen's xen_deny(): what a denied string query returns instead. */
const DENIED = '<denied>';

/**
 * XENVER_get_features submap 0 by default. Only bits that describe what an HVM
 * domain already is (translated paging, not direct-mapped) — none that promise an
 * interface the domain may lack: hvm_callback_vector (8) and hvm_safe_pvclock (9)
 * are added per domain (createXenDomain's callbackVector/pvTime, XenDomainState.features);
 * never runstate/vcpu_time phys areas (18, 19) or vnode memory_op (13).
 */
export const HVM_FEATURE_SUBMAP0 = ((1 << XENFEAT_writable_page_tables) | (1 << XENFEAT_auto_translated_physmap) | (1 << XENFEAT_not_direct_mapped)) >>> 0;

/** A NUL-padded fixed-size char array holding `text` (at most size-1 characters, like safe_strcpy). */
function charArray(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const n = Math.min(text.length, size - 1);
  for (let i = 0; i < n; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

function copyOut(call: HypercallCall, arg: number, bytes: Uint8Array): number {
  return call.guest.copyTo(arg, bytes) ? 0 : -XEN_EFAULT;
}

export function doXenVersion(call: HypercallCall): number {
  const cmd = call.args[0];
  const arg = call.ptrs[1];
  const privileged = call.domain.privileged;
  switch (cmd) {
    case XENVER_version:
      return ((XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR) >>> 0;
    case XENVER_extraversion:
      return copyOut(call, arg, charArray(XEN_VERSION_INFO.extraversion, XEN_EXTRAVERSION_LEN));
    case XENVER_compile_info: {
      const c = XEN_COMPILE_INFO;
      const info = new Uint8Array(c.size);
      info.set(charArray(XEN_VERSION_INFO.compiler, c.compiler.size), c.compiler.offset);
      info.set(charArray(XEN_VERSION_INFO.compileBy, c.compileBy.size), c.compileBy.offset);
      info.set(charArray(XEN_VERSION_INFO.compileDomain, c.compileDomain.size), c.compileDomain.offset);
      info.set(charArray(XEN_VERSION_INFO.compileDate, c.compileDate.size), c.compileDate.offset);
      return copyOut(call, arg, info);
    }
    case XENVER_capabilities:
      return copyOut(call, arg, charArray(call.ctx.xen?.longMode ? XEN_VERSION_INFO.capabilities64 : XEN_VERSION_INFO.capabilities, XEN_CAPABILITIES_INFO_LEN));
    case XENVER_changeset:
      return copyOut(call, arg, charArray(XEN_VERSION_INFO.changeset, XEN_CHANGESET_INFO_LEN));
    case XENVER_platform_parameters:
      // virt_start (a xen_ulong_t: the caller's width) is 0 for HVM.
      return copyOut(call, arg, new Uint8Array(call.width === 8 ? XEN_PLATFORM_PARAMETERS_64_LEN : XEN_PLATFORM_PARAMETERS_32_LEN));
    case XENVER_get_features: {
      const fi = call.guest.copyFrom(arg, XEN_FEATURE_INFO_LEN);
      if (!fi) return -XEN_EFAULT;
      const idx = (fi[0] | (fi[1] << 8) | (fi[2] << 16) | (fi[3] << 24)) >>> 0;
      if (idx !== 0) return -XEN_EINVAL;
      const out = fi.slice();
      const submap = call.ctx.xen?.features ?? HVM_FEATURE_SUBMAP0;
      out[4] = submap & 0xff;
      out[5] = (submap >>> 8) & 0xff;
      out[6] = (submap >>> 16) & 0xff;
      out[7] = (submap >>> 24) & 0xff;
      return copyOut(call, arg, out);
    }
    case XENVER_pagesize:
      // Xen: a non-NULL handle is -EINVAL, else PAGE_SIZE.
      return arg !== 0 ? -XEN_EINVAL : 4096;
    case XENVER_guest_handle: {
      const h = new Uint8Array(XEN_DOMAIN_HANDLE_LEN);
      h.set(call.domain.handle.subarray(0, XEN_DOMAIN_HANDLE_LEN));
      return copyOut(call, arg, h);
    }
    case XENVER_commandline:
      // Xen 4.17 with the default XSM policy: an unprivileged domain gets "<denied>" and 0, not an error.
      if (!privileged) return copyOut(call, arg, charArray(DENIED, DENIED.length + 1));
      return copyOut(call, arg, charArray(XEN_VERSION_INFO.commandline, XEN_COMMANDLINE_LEN));
    case XENVER_build_id:
      // XSM_PRIV; tsxen has no build id to give even a privileged caller.
      return privileged ? -XEN_ENOSYS : -XEN_EPERM;
    default:
      return -XEN_ENOSYS;
  }
}
