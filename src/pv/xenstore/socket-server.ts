// dom0's xenstored socket (Node): the same wire protocol as the guest ring, over a
// Unix socket, for `tsxen xenstore-*` and other dom0 tools. Socket clients are the
// control domain (domid 0), as on Xen where the socket is root-only; the socket file
// is created mode 0600.

import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { runDirectory } from '../../toolstack/run-paths.js';
import { XsSession } from './protocol.js';
import type { XenStore } from './store.js';

/** Not `.sock`: `tsxen list` treats every *.sock in the run directory as a control socket. */
export const XENSTORE_SOCKET_SUFFIX = '.xenstore';

export const xenstoreSocketPath = (domainName: string): string => join(runDirectory(), `${domainName}${XENSTORE_SOCKET_SUFFIX}`);

export class XenStoreSocketServer {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly path: string,
  ) {}

  /** Serves `store` on `path` (a stale file there is replaced). */
  static listen(store: XenStore, path: string): Promise<XenStoreSocketServer> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (existsSync(path)) unlinkSync(path);
    const server = createServer();
    const xs = new XenStoreSocketServer(server, path);
    server.on('connection', (s) => xs.serve(store, s));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        chmodSync(path, 0o600);
        // An idle xenstore socket must not keep the process alive.
        server.unref();
        resolve(xs);
      });
    });
  }

  private serve(store: XenStore, socket: Socket): void {
    this.sockets.add(socket);
    socket.unref();
    const session = new XsSession(
      store,
      0,
      (b) => void (socket.writable && socket.write(b)),
      () => socket.destroy(),
    );
    socket.on('data', (chunk: Buffer) => session.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      session.close('socket closed');
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) =>
      this.server.close(() => {
        try {
          unlinkSync(this.path);
        } catch {
          // Already gone.
        }
        resolve();
      }),
    );
  }
}
