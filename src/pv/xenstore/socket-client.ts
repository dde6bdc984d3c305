// A dom0 client for the xenstored socket (socket-server.ts), used by the
// `tsxen xenstore-*` commands: requests with increasing req_id, replies matched by it.

import { createConnection, type Socket } from 'node:net';
import * as W from '../../abi/xs-wire.js';
import { XsError } from './path.js';
import { encodeMessage, XsFrameReader } from './protocol.js';
import { bytesToLatin1, latin1ToBytes } from './store.js';

export class XsSocketClient {
  private readonly reader = new XsFrameReader();
  private readonly waiting = new Map<number, { resolve: (s: string) => void; reject: (e: Error) => void }>();
  private nextReq = 1;
  private failure: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of this.reader.push(new Uint8Array(chunk))) {
          const w = this.waiting.get(m.reqId);
          if (m.type === W.XS_WATCH_EVENT || !w) continue;
          this.waiting.delete(m.reqId);
          const text = bytesToLatin1(m.payload);
          if (m.type === W.XS_ERROR) w.reject(new XsError(text.replace(/\0$/, '') as W.XsErrorName));
          else w.resolve(text);
        }
      } catch (e) {
        this.fail(e as Error);
      }
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('xenstored closed the connection')));
  }

  static connect(path: string): Promise<XsSocketClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new XsSocketClient(s));
      });
      s.once('error', reject);
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  request(type: number, payload: string | Uint8Array, tx = 0): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    const reqId = this.nextReq++;
    const body = typeof payload === 'string' ? latin1ToBytes(payload) : payload;
    return new Promise((resolve, reject) => {
      this.waiting.set(reqId, { resolve, reject });
      this.socket.write(encodeMessage({ type, reqId, txId: tx, payload: body }));
    });
  }

  read(path: string): Promise<string> {
    return this.request(W.XS_READ, `${path}\0`);
  }

  /** Writes `value` (a string is sent as UTF-8). */
  write(path: string, value: string | Uint8Array): Promise<string> {
    const v = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    const head = latin1ToBytes(`${path}\0`);
    const msg = new Uint8Array(head.length + v.length);
    msg.set(head);
    msg.set(v, head.length);
    return this.request(W.XS_WRITE, msg);
  }

  async directory(path: string): Promise<string[]> {
    const s = await this.request(W.XS_DIRECTORY, `${path}\0`);
    return s === '' ? [] : s.slice(0, -1).split('\0');
  }

  async getPerms(path: string): Promise<string[]> {
    return (await this.request(W.XS_GET_PERMS, `${path}\0`)).slice(0, -1).split('\0');
  }

  close(): void {
    this.socket.destroy();
  }
}
