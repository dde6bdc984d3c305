// The other end of a domain's control socket (control-server.ts): one request, one
// answer. `listDomains` walks the run directory and removes sockets nobody answers on.

import { readdirSync, unlinkSync } from 'node:fs';
import { createConnection } from 'node:net';

import type { ControlInfo, ControlRequest, ControlResponse } from './control-protocol.js';
import { controlSocketPath, runDirectory, SOCKET_SUFFIX } from './run-paths.js';

export class NoSuchDomainError extends Error {
  constructor(readonly domainName: string) {
    super(`no running domain named ${domainName}`);
    this.name = 'NoSuchDomainError';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
// A screen answer is a few MiB of base64 at most; anything bigger is not ours.
const MAX_ANSWER_BYTES = 64 << 20;

/** Sends one request to the domain NAME; rejects with NoSuchDomainError when none runs (a stale socket is removed). */
export function controlRequest(name: string, req: ControlRequest, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ControlResponse> {
  const path = controlSocketPath(name);
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let text = '';
    let done = false;
    const finish = (f: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      c.destroy();
      f();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`domain ${name} did not answer within ${timeoutMs} ms`))), timeoutMs);
    c.setEncoding('utf8');
    c.once('connect', () => c.write(JSON.stringify(req) + '\n'));
    c.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        finish(() => {
          try {
            resolve(JSON.parse(text.slice(0, nl)) as ControlResponse);
          } catch {
            reject(new Error(`domain ${name} sent a malformed answer`));
          }
        });
      } else if (text.length > MAX_ANSWER_BYTES) {
        finish(() => reject(new Error(`domain ${name} sent an answer over ${MAX_ANSWER_BYTES} bytes`)));
      }
    });
    c.on('error', (e: NodeJS.ErrnoException) => {
      finish(() => {
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
          if (e.code === 'ECONNREFUSED') removeStale(path);
          reject(new NoSuchDomainError(name));
        } else {
          reject(new Error(`cannot reach domain ${name}: ${e.message}`));
        }
      });
    });
    c.on('end', () => finish(() => reject(new Error(`domain ${name} closed the connection without an answer`))));
  });
}

/** Every running domain's info, by name; stale sockets are removed on the way. */
export async function listDomains(): Promise<ControlInfo[]> {
  let names: string[];
  try {
    names = readdirSync(runDirectory())
      .filter((f) => f.endsWith(SOCKET_SUFFIX))
      .map((f) => f.slice(0, -SOCKET_SUFFIX.length))
      .sort();
  } catch {
    return [];
  }
  const infos = await Promise.all(
    names.map(async (n) => {
      try {
        const r = await controlRequest(n, { op: 'info' }, 2000);
        return r.ok && 'info' in r ? r.info : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return infos.filter((i): i is ControlInfo => i !== undefined);
}

function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}

