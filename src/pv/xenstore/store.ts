// XenStore: the daemon's state and its operations (docs/misc/xenstore.txt), with no
// host dependencies. Each client (a guest's ring, a dom0 socket, the toolstack
// in-process) is an XsConnection; requests go through XsConnection.request() in
// wire form, so every transport shares one implementation.

import * as W from '../../abi/xs-wire.js';
import { checkSpecialPath, domainPath, isSpecialPath, isUnder, relativeTo, resolvePath, XsError } from './path.js';
import { canRead, canWrite, formatPerm, isPrivileged, parsePerm, PERM_BOTH, PERM_NONE, type XsPerm } from './permissions.js';
import { XsTree, type XsNode } from './tree.js';

export interface XsQuotas {
  nodes: number;
  watches: number;
  transactions: number;
  nodePerms: number;
  nodeSize: number;
}

export const DEFAULT_QUOTAS: XsQuotas = {
  nodes: W.XS_QUOTA_NODES,
  watches: W.XS_QUOTA_WATCHES,
  transactions: W.XS_QUOTA_TRANSACTIONS,
  nodePerms: W.XS_QUOTA_NODE_PERMS,
  nodeSize: W.XS_QUOTA_NODE_SIZE,
};

export interface XsReply {
  type: number;
  payload: Uint8Array;
}

export interface XsWatchEvent {
  path: string;
  token: string;
}

interface Watch {
  /** As the client sent it (relative, absolute or @special). */
  readonly given: string;
  /** Absolute path, or the special name. */
  readonly target: string;
  readonly relative: boolean;
  readonly token: string;
}

/** One change to report to watches. `perms` decide who may see it. */
interface Change {
  path: string;
  removed: boolean;
  perms: readonly XsPerm[];
}

/** A logged operation, replayed on the live tree at commit. */
type TxOp = { kind: 'write'; path: string; value: Uint8Array } | { kind: 'mkdir'; path: string } | { kind: 'rm'; path: string } | { kind: 'perms'; path: string; perms: XsPerm[] };

interface Transaction {
  readonly tree: XsTree;
  /** Generation of every path read or written, as the transaction first saw it. */
  readonly seen: Map<string, number>;
  readonly ops: TxOp[];
}

export const SPECIAL_INTRODUCE = '@introduceDomain';
export const SPECIAL_RELEASE = '@releaseDomain';

export interface IntroducedDomain {
  domid: number;
  gfn: number;
  evtchn: number;
}

/** Bytes <-> strings, one char per byte (paths are ASCII; tokens and values stay byte-exact). */
export function bytesToLatin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}
export function latin1ToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

const OK = latin1ToBytes('OK\0');
const DOMID_MAX = 0x7fef;

function parseDomid(s: string | undefined): number {
  if (s === undefined || !/^[0-9]{1,5}$/.test(s)) throw new XsError('EINVAL');
  const d = Number(s);
  if (d > DOMID_MAX) throw new XsError('EINVAL');
  return d;
}

export class XsConnection {
  readonly watches: Watch[] = [];
  readonly transactions = new Map<number, Transaction>();
  private nextTx = 1;
  private readonly pending: XsWatchEvent[] = [];
  closed = false;

  constructor(
    private readonly store: XenStore,
    readonly domid: number,
    /** Receives this connection's watch events when the transport flushes them. */
    public onWatchEvent: (ev: XsWatchEvent) => void = () => {},
  ) {}

  get privileged(): boolean {
    return isPrivileged(this.domid);
  }

  /** Handles one request in wire form; never throws. Call flushEvents() after sending the reply. */
  request(type: number, txId: number, payload: Uint8Array): XsReply {
    if (this.closed) return errorReply('EINVAL');
    try {
      const out = this.store.dispatch(this, type >>> 0, txId >>> 0, payload);
      if (out.length > W.XENSTORE_PAYLOAD_MAX) return errorReply('E2BIG');
      return { type, payload: out };
    } catch (e) {
      if (e instanceof XsError) return errorReply(e.code);
      return errorReply('EIO');
    }
  }

  /** Delivers watch events queued for this connection, oldest first. */
  flushEvents(): void {
    while (this.pending.length > 0 && !this.closed) this.onWatchEvent(this.pending.shift()!);
  }

  get pendingEvents(): number {
    return this.pending.length;
  }

  /** @internal */
  queue(ev: XsWatchEvent): void {
    if (!this.closed) this.pending.push(ev);
  }

  allocTxId(): number {
    for (;;) {
      const id = this.nextTx;
      this.nextTx = this.nextTx >= 0xfffffffe ? 1 : this.nextTx + 1;
      if (!this.transactions.has(id)) return id;
    }
  }

  /** Drops the connection's watches, transactions and queued events. */
  close(): void {
    this.closed = true;
    this.watches.length = 0;
    this.transactions.clear();
    this.pending.length = 0;
    this.store.detach(this);
  }
}

export function errorReply(code: W.XsErrorName): XsReply {
  return { type: W.XS_ERROR, payload: latin1ToBytes(`${code}\0`) };
}

/** Splits a payload into NUL-terminated strings; EINVAL unless it is exactly `n` of them. */
function args(payload: Uint8Array, n: number): string[] {
  const s = bytesToLatin1(payload);
  if (!s.endsWith('\0')) throw new XsError('EINVAL');
  const parts = s.slice(0, -1).split('\0');
  if (parts.length !== n) throw new XsError('EINVAL');
  return parts;
}

export class XenStore {
  private tree = XsTree.create();
  private readonly connections = new Set<XsConnection>();
  private readonly domains = new Map<number, IntroducedDomain>();
  /** Permissions of the special watch paths: only dom0 hears them until it grants more (xenstore.txt SET_PERMS). */
  private readonly specialPerms = new Map<string, readonly XsPerm[]>([
    [SPECIAL_INTRODUCE, [{ domid: 0, access: PERM_NONE }]],
    [SPECIAL_RELEASE, [{ domid: 0, access: PERM_NONE }]],
  ]);
  /** Called after INTRODUCE so the host can attach the guest's ring. */
  onIntroduce: (d: IntroducedDomain) => void = () => {};
  /** Called after RELEASE. */
  onRelease: (domid: number) => void = () => {};

  constructor(readonly quotas: XsQuotas = DEFAULT_QUOTAS) {
    const dom0 = this.connect(0);
    for (const p of ['/local', '/local/domain', '/tool']) this.mkdir(dom0, p);
    dom0.close();
  }

  connect(domid: number, onWatchEvent?: (ev: XsWatchEvent) => void): XsConnection {
    const c = new XsConnection(this, domid, onWatchEvent);
    this.connections.add(c);
    return c;
  }

  /** @internal */
  detach(c: XsConnection): void {
    this.connections.delete(c);
  }

  /** Delivers every connection's queued watch events. */
  flushAll(): void {
    for (const c of this.connections) c.flushEvents();
  }

  isIntroduced(domid: number): boolean {
    return domid === 0 || this.domains.has(domid);
  }

  /** Number of nodes (for tests and diagnostics). */
  get nodeCount(): number {
    return this.tree.size;
  }

  /** @internal The request dispatcher: returns the success payload or throws XsError. */
  dispatch(c: XsConnection, type: number, txId: number, payload: Uint8Array): Uint8Array {
    switch (type) {
      case W.XS_READ: {
        const [p] = args(payload, 1);
        return this.inTx(c, txId, (t) => this.read(c, t, p)).value;
      }
      case W.XS_DIRECTORY: {
        const [p] = args(payload, 1);
        const names = this.inTx(c, txId, (t) => [...this.read(c, t, p).children]);
        return latin1ToBytes(names.map((n) => `${n}\0`).join(''));
      }
      case W.XS_GET_PERMS: {
        const [p] = args(payload, 1);
        if (isSpecialPath(p)) return latin1ToBytes(this.special(p).map((x) => `${formatPerm(x)}\0`).join(''));
        const perms = this.inTx(c, txId, (t) => this.read(c, t, p).perms);
        return latin1ToBytes(perms.map((x) => `${formatPerm(x)}\0`).join(''));
      }
      case W.XS_WRITE: {
        const s = bytesToLatin1(payload);
        const nul = s.indexOf('\0');
        if (nul < 0) throw new XsError('EINVAL');
        const path = s.slice(0, nul);
        this.inTx(c, txId, (t) => this.write(c, t, path, payload.slice(nul + 1)));
        return OK;
      }
      case W.XS_MKDIR: {
        const [p] = args(payload, 1);
        this.inTx(c, txId, (t) => this.mkdir(c, p, t));
        return OK;
      }
      case W.XS_RM: {
        const [p] = args(payload, 1);
        this.inTx(c, txId, (t) => this.rm(c, t, p));
        return OK;
      }
      case W.XS_SET_PERMS: {
        const s = bytesToLatin1(payload);
        if (!s.endsWith('\0')) throw new XsError('EINVAL');
        const [p, ...rest] = s.slice(0, -1).split('\0');
        if (rest.length < 1) throw new XsError('EINVAL');
        if (isSpecialPath(p)) {
          this.requirePrivileged(c);
          this.special(p);
          this.specialPerms.set(p, rest.map(parsePerm));
          return OK;
        }
        this.inTx(c, txId, (t) => this.setPerms(c, t, p, rest));
        return OK;
      }
      case W.XS_WATCH: {
        const [p, token] = args(payload, 2);
        this.watch(c, p, token);
        return OK;
      }
      case W.XS_UNWATCH: {
        const [p, token] = args(payload, 2);
        this.unwatch(c, p, token);
        return OK;
      }
      case W.XS_TRANSACTION_START: {
        args(payload, 1);
        return latin1ToBytes(`${this.txStart(c, txId)}\0`);
      }
      case W.XS_TRANSACTION_END: {
        const [how] = args(payload, 1);
        if (how !== 'T' && how !== 'F') throw new XsError('EINVAL');
        this.txEnd(c, txId, how === 'T');
        return OK;
      }
      case W.XS_GET_DOMAIN_PATH: {
        const [d] = args(payload, 1);
        return latin1ToBytes(`${domainPath(parseDomid(d))}\0`);
      }
      case W.XS_INTRODUCE: {
        this.requirePrivileged(c);
        const [d, gfn, port] = args(payload, 3);
        this.introduce(parseDomid(d), parseNumber(gfn), parseNumber(port));
        return OK;
      }
      case W.XS_RELEASE: {
        this.requirePrivileged(c);
        const [d] = args(payload, 1);
        this.release(parseDomid(d));
        return OK;
      }
      case W.XS_IS_DOMAIN_INTRODUCED: {
        this.requirePrivileged(c);
        const [d] = args(payload, 1);
        return latin1ToBytes(this.isIntroduced(parseDomid(d)) ? 'T\0' : 'F\0');
      }
      case W.XS_RESET_WATCHES: {
        c.watches.length = 0;
        c.transactions.clear();
        return OK;
      }
      case W.XS_CONTROL:
      case W.XS_RESUME:
      case W.XS_SET_TARGET:
      case W.XS_DIRECTORY_PART:
      case W.XS_GET_FEATURE:
      case W.XS_SET_FEATURE:
      case W.XS_GET_QUOTA:
      case W.XS_SET_QUOTA:
        throw new XsError('ENOSYS');
      default:
        // WATCH_EVENT and ERROR are replies only; anything else is not a message type.
        throw new XsError('EINVAL');
    }
  }

  /** The permissions of a special path; ENOENT for names xenstored does not know. */
  private special(p: string): readonly XsPerm[] {
    const perms = this.specialPerms.get(p);
    if (!perms) throw new XsError('ENOENT');
    return perms;
  }

  private requirePrivileged(c: XsConnection): void {
    if (!c.privileged) throw new XsError('EACCES');
  }

  /** Runs `fn` on the transaction's snapshot (tx_id ≠ 0) or on the live tree. */
  private inTx<T>(c: XsConnection, txId: number, fn: (t: Transaction | null) => T): T {
    if (txId === 0) return fn(null);
    const t = c.transactions.get(txId);
    if (!t) throw new XsError('ENOENT');
    return fn(t);
  }

  private treeOf(t: Transaction | null): XsTree {
    return t ? t.tree : this.tree;
  }

  /** Records that the transaction depends on `path` as it is now in its snapshot. */
  private see(t: Transaction | null, path: string): void {
    if (t && !t.seen.has(path)) t.seen.set(path, t.tree.genOf(path));
  }

  /** ENOENT for a missing node, but EACCES when the caller could not read its nearest existing ancestor (no leaks). */
  private missing(c: XsConnection, tree: XsTree, path: string): XsError {
    const near = tree.nearestExisting(path);
    return new XsError(canRead(near.node.perms, c.domid) ? 'ENOENT' : 'EACCES');
  }

  private read(c: XsConnection, t: Transaction | null, raw: string): XsNode {
    const path = resolvePath(raw, c.domid);
    const tree = this.treeOf(t);
    this.see(t, path);
    const n = tree.get(path);
    if (!n) throw this.missing(c, tree, path);
    if (!canRead(n.perms, c.domid)) throw new XsError('EACCES');
    return n;
  }

  /** Creates `path` and its missing parents (empty values); returns the node. */
  private create(c: XsConnection, tree: XsTree, t: Transaction | null, path: string): { node: XsNode; created: boolean } {
    const existing = tree.get(path);
    if (existing) {
      if (!canWrite(existing.perms, c.domid)) throw new XsError('EACCES');
      return { node: existing, created: false };
    }
    const near = tree.nearestExisting(path);
    if (!canWrite(near.node.perms, c.domid)) throw new XsError('EACCES');
    const missing = tree.missingAncestry(path);
    if (!c.privileged && tree.ownedBy(c.domid) + missing.length > this.quotas.nodes) throw new XsError('ENOSPC');
    this.see(t, near.path);
    let node: XsNode | undefined;
    for (const p of missing) {
      this.see(t, p);
      node = tree.add(p, new Uint8Array(0), c.privileged ? null : c.domid);
    }
    return { node: node!, created: true };
  }

  private write(c: XsConnection, t: Transaction | null, raw: string, value: Uint8Array): void {
    const path = resolvePath(raw, c.domid);
    if (!c.privileged && value.length > this.quotas.nodeSize) throw new XsError('ENOSPC');
    const tree = this.treeOf(t);
    this.see(t, path);
    const { node } = this.create(c, tree, t, path);
    tree.setValue(node, value);
    this.changed(t, { kind: 'write', path, value }, { path, removed: false, perms: node.perms });
  }

  private mkdir(c: XsConnection, raw: string, t: Transaction | null = null): void {
    const path = resolvePath(raw, c.domid);
    const tree = this.treeOf(t);
    this.see(t, path);
    if (tree.get(path)) return; // Existing directory: success, no event.
    const { node } = this.create(c, tree, t, path);
    this.changed(t, { kind: 'mkdir', path }, { path, removed: false, perms: node.perms });
  }

  private rm(c: XsConnection, t: Transaction | null, raw: string): void {
    const path = resolvePath(raw, c.domid);
    if (path === '/') throw new XsError('EINVAL');
    const tree = this.treeOf(t);
    this.see(t, path);
    const n = tree.get(path);
    if (!n) {
      // A missing node is fine if its parent exists (xenstore.txt RM).
      const parent = path.slice(0, path.lastIndexOf('/')) || '/';
      this.see(t, parent);
      if (tree.get(parent)) {
        if (!canRead(tree.get(parent)!.perms, c.domid)) throw new XsError('EACCES');
        return;
      }
      throw this.missing(c, tree, path);
    }
    if (!canWrite(n.perms, c.domid)) throw new XsError('EACCES');
    this.see(t, path.slice(0, path.lastIndexOf('/')) || '/');
    const perms = n.perms;
    tree.remove(path);
    this.changed(t, { kind: 'rm', path }, { path, removed: true, perms });
  }

  private setPerms(c: XsConnection, t: Transaction | null, raw: string, permStrings: string[]): void {
    const path = resolvePath(raw, c.domid);
    if (!c.privileged && permStrings.length > this.quotas.nodePerms) throw new XsError('ENOSPC');
    const perms = permStrings.map(parsePerm);
    const tree = this.treeOf(t);
    this.see(t, path);
    const n = tree.get(path);
    if (!n) throw this.missing(c, tree, path);
    // Only the owner (or dom0) may change permissions; only dom0 may change the owner.
    if (!c.privileged && (n.perms[0].domid !== c.domid || !canWrite(n.perms, c.domid))) throw new XsError('EACCES');
    if (!c.privileged && perms[0].domid !== n.perms[0].domid) throw new XsError('EPERM');
    const owner = perms[0].domid;
    if (!isPrivileged(owner) && owner !== n.perms[0].domid && tree.ownedBy(owner) + 1 > this.quotas.nodes) throw new XsError('ENOSPC');
    tree.setPerms(n, perms);
    this.changed(t, { kind: 'perms', path, perms }, { path, removed: false, perms });
  }

  /** Logs a transactional change, or fires watches for a live one. */
  private changed(t: Transaction | null, op: TxOp, ch: Change): void {
    if (t) t.ops.push(op);
    else this.fire(ch);
  }

  private fire(ch: Change): void {
    for (const c of this.connections) {
      for (const w of c.watches) {
        if (isSpecialPath(w.target)) continue;
        let hit: string | null = null;
        if (isUnder(ch.path, w.target)) hit = ch.path;
        else if (ch.removed && isUnder(w.target, ch.path)) hit = w.target;
        if (hit === null || !canRead(ch.perms, c.domid)) continue;
        c.queue({ path: w.relative ? relativeTo(hit, c.domid) : hit, token: w.token });
      }
    }
  }

  private fireSpecial(name: string): void {
    const perms = this.special(name);
    for (const c of this.connections) {
      if (!canRead(perms, c.domid)) continue;
      for (const w of c.watches) if (w.target === name) c.queue({ path: w.given, token: w.token });
    }
  }

  private watch(c: XsConnection, raw: string, token: string): void {
    this.addWatch(c, raw, token);
    // A new watch fires once at once (xenstore.txt WATCH).
    c.queue({ path: raw, token });
  }

  private addWatch(c: XsConnection, raw: string, token: string): void {
    const special = isSpecialPath(raw);
    const target = special ? checkSpecialPath(raw) : resolvePath(raw, c.domid);
    if (c.watches.some((w) => w.target === target && w.token === token)) throw new XsError('EEXIST');
    if (!c.privileged && c.watches.length >= this.quotas.watches) throw new XsError('ENOSPC');
    c.watches.push({ given: raw, target, relative: !special && !raw.startsWith('/'), token });
  }

  /**
   * A restored domain's watch, registered again on its new connection as the client
   * gave it, without the initial fire (the guest saw that before it was saved). Same
   * checks as WATCH; throws XsError.
   */
  restoreWatch(c: XsConnection, raw: string, token: string): void {
    this.addWatch(c, raw, token);
  }

  private unwatch(c: XsConnection, raw: string, token: string): void {
    const target = isSpecialPath(raw) ? checkSpecialPath(raw) : resolvePath(raw, c.domid);
    const i = c.watches.findIndex((w) => w.target === target && w.token === token);
    if (i < 0) throw new XsError('ENOENT');
    c.watches.splice(i, 1);
  }

  private txStart(c: XsConnection, txId: number): number {
    if (txId !== 0) throw new XsError('EBUSY');
    if (!c.privileged && c.transactions.size >= this.quotas.transactions) throw new XsError('ENOSPC');
    const id = c.allocTxId();
    c.transactions.set(id, { tree: this.tree.clone(), seen: new Map(), ops: [] });
    return id;
  }

  private txEnd(c: XsConnection, txId: number, commit: boolean): void {
    const t = c.transactions.get(txId);
    if (!t) throw new XsError('ENOENT');
    c.transactions.delete(txId);
    if (!commit) return;
    for (const [path, gen] of t.seen) if (this.tree.genOf(path) !== gen) throw new XsError('EAGAIN');
    if (t.ops.length === 0) return;
    // Replay on a copy so a failure (a quota hit) leaves the live tree untouched.
    const live = this.tree;
    const next = live.clone();
    const changes: Change[] = [];
    const replay: Transaction = { tree: next, seen: new Map(), ops: [] };
    for (const op of t.ops) {
      const before = replay.ops.length;
      if (op.kind === 'write') this.write(c, replay, op.path, op.value);
      else if (op.kind === 'mkdir') this.mkdir(c, op.path, replay);
      else if (op.kind === 'rm') {
        const perms = next.get(op.path)?.perms;
        this.rm(c, replay, op.path);
        if (perms) changes.push({ path: op.path, removed: true, perms });
        continue;
      } else this.setPerms(c, replay, op.path, op.perms.map(formatPerm));
      if (replay.ops.length > before) changes.push({ path: op.path, removed: false, perms: next.get(op.path)?.perms ?? [{ domid: 0, access: PERM_BOTH }] });
    }
    this.tree = next;
    for (const ch of changes) this.fire(ch);
  }

  /**
   * A released domain's nodes go with it (their subtrees included), and permission
   * entries naming it are dropped, as C xenstored does without --keep-orphans.
   */
  private removeOrphans(domid: number): void {
    const tree = this.tree;
    for (const path of tree.paths()) {
      const n = tree.get(path);
      if (!n) continue; // inside an already removed subtree
      if (n.perms[0].domid === domid) {
        const perms = n.perms;
        tree.remove(path);
        this.fire({ path, removed: true, perms });
      } else if (n.perms.some((p, i) => i > 0 && p.domid === domid)) {
        tree.setPerms(n, n.perms.filter((p, i) => i === 0 || p.domid !== domid));
      }
    }
  }

  private introduce(domid: number, gfn: number, evtchn: number): void {
    if (domid === 0) throw new XsError('EINVAL');
    const old = this.domains.get(domid);
    if (old) {
      if (old.gfn !== gfn || old.evtchn !== evtchn) throw new XsError('EEXIST');
      return;
    }
    const d = { domid, gfn, evtchn };
    this.domains.set(domid, d);
    this.onIntroduce(d);
    this.fireSpecial(SPECIAL_INTRODUCE);
  }

  private release(domid: number): void {
    if (!this.domains.delete(domid)) throw new XsError('ENOENT');
    for (const c of [...this.connections]) if (c.domid === domid) c.close();
    this.removeOrphans(domid);
    this.onRelease(domid);
    this.fireSpecial(SPECIAL_RELEASE);
  }
}

function parseNumber(s: string): number {
  if (!/^[0-9]{1,15}$/.test(s)) throw new XsError('EINVAL');
  return Number(s);
}
