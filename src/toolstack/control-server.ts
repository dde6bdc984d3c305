// Each running domain's control socket (~/.cache/tsxen/run/NAME.sock): `tsxen list`,
// `destroy`, `screenshot`, `screen-text`, `trigger`, `save` and `pause` talk to the tsxen process that
// runs the domain through it. Claiming the socket is also how a second domain of the
// same name is refused: a socket that answers belongs to a live domain, one that
// refuses connections is stale (its process died) and is removed.

import { mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, isAbsolute } from 'node:path';
import type { DomainHandle } from './domain-handle.js';
import { saveDomainImage } from './save-domain.js';
import { MAX_REQUEST_BYTES, type ControlRequest, type ControlResponse } from './control-protocol.js';

export class DomainRunningError extends Error {
  constructor(readonly domainName: string, readonly socketPath: string) {
    super(`a domain named ${domainName} is already running (its control socket ${socketPath} answers)`);
    this.name = 'DomainRunningError';
  }
}

export interface ControlTarget {
  handle: DomainHandle;
  /** `tsxen destroy NAME`: the owner ends the domain its own way (messages, exit status). */
  destroy: () => void;
}

export class ControlServer {
  private server: Server | undefined;
  private target: ControlTarget | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly name: string,
    readonly path: string,
  ) {}

  /** Listens on `path`, removing a stale socket; rejects with DomainRunningError when a live one answers. */
  static async claim(name: string, path: string): Promise<ControlServer> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const cs = new ControlServer(name, path);
    for (let attempt = 0; ; attempt++) {
      try {
        await cs.listen();
        return cs;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) throw e;
      }
      if (await answers(path)) throw new DomainRunningError(name, path);
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first.
      }
    }
  }

  /** From now on requests reach this domain (before: "still starting"). */
  attach(target: ControlTarget): void {
    this.target = target;
  }

  close(): void {
    if (!this.server) return;
    this.server.close();
    for (const s of this.sockets) s.destroy();
    this.server = undefined;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.serve(socket));
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        // A late error (fd exhaustion…) must not crash dom0.
        server.on('error', () => undefined);
        // An open control socket alone must not keep tsxen alive.
        server.unref();
        this.server = server;
        resolve();
      });
    });
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.unref();
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let chain = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        // Answers go out in request order.
        chain = chain.then(() => this.answer(line)).then((r) => void (socket.writable && socket.write(JSON.stringify(r) + '\n')));
      }
      if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
    });
  }

  private async answer(line: string): Promise<ControlResponse> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
    } catch {
      return { ok: false, error: 'not a JSON request' };
    }
    const t = this.target;
    if (!t) return { ok: false, error: `domain ${this.name} is still starting` };
    try {
      switch (req?.op) {
        case 'info': {
          const i = t.handle.info();
          return { ok: true, info: { name: i.name, id: process.pid, memoryMiB: i.memoryMiB, vcpus: i.vcpus, state: i.state, uptimeSeconds: i.uptimeSeconds } };
        }
        case 'destroy':
          t.destroy();
          return { ok: true };
        case 'screen': {
          const s = await t.handle.screen();
          return { ok: true, screen: s ? { width: s.width, height: s.height, rgba: Buffer.from(s.rgba.buffer, s.rgba.byteOffset, s.rgba.byteLength).toString('base64') } : null };
        }
        case 'screen-text':
          return { ok: true, text: await t.handle.screenText() };
        case 'trigger':
          if (req.what === 'power') {
            return (await t.handle.pressPowerButton()) ? { ok: true } : { ok: false, error: `domain ${this.name} has no ACPI power button` };
          }
          if (req.what === 'reset') return t.handle.reset() ? { ok: true } : { ok: false, error: `domain ${this.name} is not running` };
          return { ok: false, error: `unknown trigger "${String((req as { what?: unknown }).what)}"` };
        case 'shutdown':
          if (req.kind !== 'poweroff' && req.kind !== 'reboot') return { ok: false, error: `unknown shutdown kind "${String(req.kind)}"` };
          return { ok: true, via: await t.handle.shutdown(req.kind, req.fallback === true) };
        case 'save': {
          if (typeof req.file !== 'string' || !isAbsolute(req.file)) return { ok: false, error: 'save: the file must be an absolute path' };
          const bytes = await saveDomainImage(t.handle, req.file, { checkpoint: req.checkpoint === true, paused: req.paused === true });
          // xl save: the domain ends once its image is safe, unless -c or -p.
          if (!req.checkpoint && !req.paused) t.destroy();
          return { ok: true, saved: { file: req.file, bytes } };
        }
        case 'pause':
          t.handle.pause();
          return { ok: true };
        case 'unpause':
          t.handle.unpause();
          return { ok: true };
        default:
          return { ok: false, error: `unknown request "${String((req as { op?: unknown })?.op)}"` };
      }
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }
}

/** True when something accepts connections on the socket. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
