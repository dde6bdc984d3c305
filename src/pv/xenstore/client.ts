// The in-process XenStore client for dom0's toolstack: typed methods over the same
// wire requests a guest sends, so the toolstack sees exactly Xen's semantics.

import * as W from '../../abi/xs-wire.js';
import { XsError } from './path.js';
import { bytesToLatin1, latin1ToBytes, type XenStore, type XsConnection, type XsWatchEvent } from './store.js';

export class XsClient {
  readonly conn: XsConnection;
  private readonly listeners: ((ev: XsWatchEvent) => void)[] = [];

  constructor(private readonly store: XenStore, domid = 0) {
    this.conn = store.connect(domid, (ev) => this.listeners.forEach((l) => l(ev)));
  }

  /** Called with every watch event of this client (path as watched, token). */
  onWatch(listener: (ev: XsWatchEvent) => void): void {
    this.listeners.push(listener);
  }

  private call(type: number, payload: string | Uint8Array, tx: number): string {
    const r = this.conn.request(type, tx, typeof payload === 'string' ? latin1ToBytes(payload) : payload);
    this.store.flushAll();
    const text = bytesToLatin1(r.payload);
    if (r.type === W.XS_ERROR) throw new XsError(text.replace(/\0$/, '') as W.XsErrorName);
    return text;
  }

  read(path: string, tx = 0): string {
    return this.call(W.XS_READ, `${path}\0`, tx);
  }

  readBytes(path: string, tx = 0): Uint8Array {
    return latin1ToBytes(this.read(path, tx));
  }

  /** read() that gives null for ENOENT. */
  tryRead(path: string, tx = 0): string | null {
    try {
      return this.read(path, tx);
    } catch (e) {
      if (e instanceof XsError && e.code === 'ENOENT') return null;
      throw e;
    }
  }

  write(path: string, value: string | Uint8Array, tx = 0): void {
    const v = typeof value === 'string' ? latin1ToBytes(value) : value;
    const head = latin1ToBytes(`${path}\0`);
    const msg = new Uint8Array(head.length + v.length);
    msg.set(head);
    msg.set(v, head.length);
    this.call(W.XS_WRITE, msg, tx);
  }

  mkdir(path: string, tx = 0): void {
    this.call(W.XS_MKDIR, `${path}\0`, tx);
  }

  rm(path: string, tx = 0): void {
    this.call(W.XS_RM, `${path}\0`, tx);
  }

  directory(path: string, tx = 0): string[] {
    const s = this.call(W.XS_DIRECTORY, `${path}\0`, tx);
    return s === '' ? [] : s.slice(0, -1).split('\0');
  }

  /** Permissions as strings, owner first: ["n0", "r5"]. */
  getPerms(path: string, tx = 0): string[] {
    return this.call(W.XS_GET_PERMS, `${path}\0`, tx).slice(0, -1).split('\0');
  }

  setPerms(path: string, perms: readonly string[], tx = 0): void {
    this.call(W.XS_SET_PERMS, `${path}\0${perms.map((p) => `${p}\0`).join('')}`, tx);
  }

  watch(path: string, token: string): void {
    this.call(W.XS_WATCH, `${path}\0${token}\0`, 0);
  }

  unwatch(path: string, token: string): void {
    this.call(W.XS_UNWATCH, `${path}\0${token}\0`, 0);
  }

  transactionStart(): number {
    return Number(this.call(W.XS_TRANSACTION_START, '\0', 0).slice(0, -1));
  }

  /** Commits (or aborts); throws XsError EAGAIN on a conflict. */
  transactionEnd(tx: number, commit = true): void {
    this.call(W.XS_TRANSACTION_END, commit ? 'T\0' : 'F\0', tx);
  }

  introduce(domid: number, gfn: number, evtchn: number): void {
    this.call(W.XS_INTRODUCE, `${domid}\0${gfn}\0${evtchn}\0`, 0);
  }

  release(domid: number): void {
    this.call(W.XS_RELEASE, `${domid}\0`, 0);
  }

  isDomainIntroduced(domid: number): boolean {
    return this.call(W.XS_IS_DOMAIN_INTRODUCED, `${domid}\0`, 0) === 'T\0';
  }

  getDomainPath(domid: number): string {
    return this.call(W.XS_GET_DOMAIN_PATH, `${domid}\0`, 0).slice(0, -1);
  }

  resetWatches(): void {
    this.call(W.XS_RESET_WATCHES, '\0', 0);
  }

  close(): void {
    this.conn.close();
  }
}
