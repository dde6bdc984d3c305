// The node tree: a flat map from absolute path to node, with each node's child
// names, a generation (bumped on every change, used to detect transaction
// conflicts) and per-owner node counts for the entry quota. Cloned for each
// transaction's snapshot.

import { PERM_NONE, type XsPerm } from './permissions.js';
import { baseName, parentPath } from './path.js';

export interface XsNode {
  value: Uint8Array;
  perms: readonly XsPerm[];
  readonly children: Set<string>;
  gen: number;
}

/** Generations are unique across the live tree and every snapshot. */
let generation = 0;
const nextGen = (): number => ++generation;

export class XsTree {
  private readonly nodes = new Map<string, XsNode>();
  private readonly owned = new Map<number, number>();

  static create(): XsTree {
    const t = new XsTree();
    // The root and /local, /local/domain exist from the start, owned by dom0.
    t.nodes.set('/', { value: new Uint8Array(0), perms: [{ domid: 0, access: PERM_NONE }], children: new Set(), gen: nextGen() });
    t.count(0, 1);
    return t;
  }

  clone(): XsTree {
    const t = new XsTree();
    for (const [p, n] of this.nodes) t.nodes.set(p, { value: n.value, perms: n.perms, children: new Set(n.children), gen: n.gen });
    for (const [d, c] of this.owned) t.owned.set(d, c);
    return t;
  }

  get(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  /** Generation of `path`, or -1 when it does not exist. */
  genOf(path: string): number {
    return this.nodes.get(path)?.gen ?? -1;
  }

  /** Nodes owned by `domid` (the entry quota counts these). */
  ownedBy(domid: number): number {
    return this.owned.get(domid) ?? 0;
  }

  /** Every path, each parent before its children (a child is always added after its parent). */
  paths(): string[] {
    return [...this.nodes.keys()];
  }

  get size(): number {
    return this.nodes.size;
  }

  /** The nearest existing node at or above `path`. */
  nearestExisting(path: string): { path: string; node: XsNode } {
    let p: string | null = path;
    while (p !== null) {
      const n = this.nodes.get(p);
      if (n) return { path: p, node: n };
      p = parentPath(p);
    }
    throw new Error('xenstore tree has no root');
  }

  /** Paths that `create(path)` would add, top-down. */
  missingAncestry(path: string): string[] {
    const out: string[] = [];
    let p: string | null = path;
    while (p !== null && !this.nodes.has(p)) {
      out.unshift(p);
      p = parentPath(p);
    }
    return out;
  }

  /** Adds one node under an existing parent, inheriting its permissions (owner replaced by `owner` if given). */
  add(path: string, value: Uint8Array, owner: number | null): XsNode {
    const parent = parentPath(path);
    const pn = parent === null ? undefined : this.nodes.get(parent);
    if (!pn) throw new Error(`xenstore: add ${path} without parent`);
    const perms = owner === null || owner === pn.perms[0].domid ? pn.perms : [{ domid: owner, access: pn.perms[0].access }, ...pn.perms.slice(1)];
    const node: XsNode = { value, perms, children: new Set(), gen: nextGen() };
    this.nodes.set(path, node);
    pn.children.add(baseName(path));
    pn.gen = nextGen();
    this.count(perms[0].domid, 1);
    return node;
  }

  setValue(node: XsNode, value: Uint8Array): void {
    node.value = value;
    node.gen = nextGen();
  }

  setPerms(node: XsNode, perms: readonly XsPerm[]): void {
    this.count(node.perms[0].domid, -1);
    node.perms = perms;
    this.count(perms[0].domid, 1);
    node.gen = nextGen();
  }

  /** Removes `path` and everything below it; returns the removed nodes' paths, parents first. */
  remove(path: string): string[] {
    const removed: string[] = [];
    const walk = (p: string): void => {
      const n = this.nodes.get(p);
      if (!n) return;
      removed.push(p);
      for (const c of n.children) walk(p === '/' ? `/${c}` : `${p}/${c}`);
      this.nodes.delete(p);
      this.count(n.perms[0].domid, -1);
    };
    walk(path);
    const parent = parentPath(path);
    const pn = parent === null ? undefined : this.nodes.get(parent);
    if (pn) {
      pn.children.delete(baseName(path));
      pn.gen = nextGen();
    }
    return removed;
  }

  private count(domid: number, delta: number): void {
    const c = (this.owned.get(domid) ?? 0) + delta;
    if (c === 0) this.owned.delete(domid);
    else this.owned.set(domid, c);
  }
}
