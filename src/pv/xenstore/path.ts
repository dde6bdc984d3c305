// XenStore path rules (docs/misc/xenstore.txt "Paths"): absolute or relative to
// /local/domain/<caller>, alphanumerics and -/_@ only, no doubled or trailing '/',
// at most XENSTORE_ABS_PATH_MAX (relative: XENSTORE_REL_PATH_MAX) bytes.

import { XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX, type XsErrorName } from '../../abi/xs-wire.js';

/** A failure that becomes an XS_ERROR reply carrying `code`. */
export class XsError extends Error {
  constructor(readonly code: XsErrorName) {
    super(code);
  }
}

const LEGAL = /^[A-Za-z0-9\-/_@]+$/;

export const domainPath = (domid: number): string => `/local/domain/${domid}`;

/** True for "@introduceDomain"-style special watch paths. */
export const isSpecialPath = (p: string): boolean => p.startsWith('@');

/** Resolves `raw` (as sent by domain `domid`) to an absolute path; EINVAL when illegal. */
export function resolvePath(raw: string, domid: number): string {
  // '@' names only special watch paths, never a node (xenstore.txt "Paths").
  if (!LEGAL.test(raw) || raw.startsWith('@')) throw new XsError('EINVAL');
  if (!raw.startsWith('/') && raw.length > XENSTORE_REL_PATH_MAX) throw new XsError('EINVAL');
  const abs = raw.startsWith('/') ? raw : `${domainPath(domid)}/${raw}`;
  if (abs.length > XENSTORE_ABS_PATH_MAX) throw new XsError('EINVAL');
  if (abs !== '/' && (abs.endsWith('/') || abs.includes('//'))) throw new XsError('EINVAL');
  return abs;
}

/** A special watch path: the same character rules, any syntax after '@'. */
export function checkSpecialPath(raw: string): string {
  if (!LEGAL.test(raw) || raw.length > XENSTORE_ABS_PATH_MAX) throw new XsError('EINVAL');
  return raw;
}

/** Parent of an absolute path; null for the root. */
export function parentPath(p: string): string | null {
  if (p === '/') return null;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** Last component of an absolute path. */
export const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** True when `p` is `ancestor` or lies below it. */
export function isUnder(p: string, ancestor: string): boolean {
  return p === ancestor || ancestor === '/' || p.startsWith(ancestor + '/');
}

/** How a path is shown to a client that named it relatively (watch events). */
export function relativeTo(abs: string, domid: number): string {
  const prefix = domainPath(domid) + '/';
  return abs.startsWith(prefix) ? abs.slice(prefix.length) : abs;
}
