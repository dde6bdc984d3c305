// XenStore node permissions (docs/misc/xenstore.txt "Permissions"): the first
// entry names the owner (full access) and the access of every domain without an
// entry of its own; later entries give one domain r, w, b (both) or n (none).
// The control domain (dom0) always has full access.

import { XsError } from './path.js';

export const PERM_NONE = 0;
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_BOTH = 3;

export interface XsPerm {
  readonly domid: number;
  readonly access: number;
}

/** Domain ids a permission may name (below DOMID_FIRST_RESERVED, 0x7FF0). */
const DOMID_LIMIT = 0x7ff0;

const LETTERS = ['n', 'r', 'w', 'b'];

export function parsePerm(s: string): XsPerm {
  const access = LETTERS.indexOf(s[0] ?? '');
  const digits = s.slice(1);
  if (access < 0 || !/^[0-9]{1,5}$/.test(digits)) throw new XsError('EINVAL');
  const domid = Number(digits);
  if (domid >= DOMID_LIMIT) throw new XsError('EINVAL');
  return { domid, access };
}

export const formatPerm = (p: XsPerm): string => `${LETTERS[p.access]}${p.domid}`;

export const isPrivileged = (domid: number): boolean => domid === 0;

/** The access `domid` has to a node with `perms`. */
export function accessFor(perms: readonly XsPerm[], domid: number): number {
  if (isPrivileged(domid) || perms[0].domid === domid) return PERM_BOTH;
  for (let i = 1; i < perms.length; i++) if (perms[i].domid === domid) return perms[i].access;
  return perms[0].access;
}

export const canRead = (perms: readonly XsPerm[], domid: number): boolean => (accessFor(perms, domid) & PERM_READ) !== 0;
export const canWrite = (perms: readonly XsPerm[], domid: number): boolean => (accessFor(perms, domid) & PERM_WRITE) !== 0;
