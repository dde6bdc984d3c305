// `tsxen xenstore-ls`, `xenstore-read`, `xenstore-write`: Xen's xenstore-* tools over a
// running domain's xenstored socket (src/pv/xenstore/socket-server.ts), as dom0.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_ERROR, EXIT_OK, HELP_OPTION, type CommandSpec, type OptionSpec, type ParsedArgs } from './command-table.js';
import { DOMAIN_NAME, runDirectory } from '../toolstack/run-paths.js';
import { XENSTORE_SOCKET_SUFFIX, xenstoreSocketPath } from '../pv/xenstore/socket-server.js';
import { XsSocketClient } from '../pv/xenstore/socket-client.js';
import { XsError } from '../pv/xenstore/path.js';

const say = (text: string): void => void process.stderr.write(`${text}\n`);

const TARGET_OPTIONS: Record<string, OptionSpec> = {
  help: HELP_OPTION,
  domain: { type: 'string', short: 'd', help: 'the running domain NAME whose xenstore to use' },
  socket: { type: 'string', short: 'S', help: 'a xenstored socket PATH (instead of --domain)' },
};

const TARGET_DETAILS = [
  'The store is reached through the xenstored socket of the `tsxen create` process running',
  `the domain (${runDirectory()}/NAME${XENSTORE_SOCKET_SUFFIX}); without --domain or --socket the only`,
  'running domain that has one is used. Requests are made as dom0 (full access).',
].join('\n');

/** The socket to use, or an error message. */
export function xenstoreTarget(values: ParsedArgs['values']): { path: string } | { error: string } {
  if (typeof values.socket === 'string') return { path: values.socket };
  if (typeof values.domain === 'string') {
    if (!DOMAIN_NAME.test(values.domain)) return { error: `"${values.domain}" is not a valid domain name` };
    return { path: xenstoreSocketPath(values.domain) };
  }
  let found: string[] = [];
  try {
    found = readdirSync(runDirectory()).filter((f) => f.endsWith(XENSTORE_SOCKET_SUFFIX));
  } catch {
    // No run directory: nothing running.
  }
  if (found.length === 1) return { path: join(runDirectory(), found[0]) };
  if (found.length === 0) return { error: 'no running domain has a xenstore (see tsxen list)' };
  return { error: `several domains are running (${found.map((f) => f.slice(0, -XENSTORE_SOCKET_SUFFIX.length)).join(', ')}): choose one with -d NAME` };
}

/** Connects, runs `fn`, reports failures as `tsxen CMD: ...`. */
async function withStore(cmd: string, values: ParsedArgs['values'], fn: (c: XsSocketClient) => Promise<void>): Promise<number> {
  const t = xenstoreTarget(values);
  if ('error' in t) {
    say(`tsxen ${cmd}: ${t.error}`);
    return EXIT_ERROR;
  }
  let c: XsSocketClient;
  try {
    c = await XsSocketClient.connect(t.path);
  } catch (e) {
    say(`tsxen ${cmd}: cannot reach xenstored at ${t.path}: ${(e as Error).message}`);
    return EXIT_ERROR;
  }
  try {
    await fn(c);
    return EXIT_OK;
  } catch (e) {
    say(`tsxen ${cmd}: ${e instanceof XsError ? `${e.code}` : (e as Error).message}`);
    return EXIT_ERROR;
  } finally {
    c.close();
  }
}

/** xenstore-ls shows values in quotes with backslash and non-printable bytes escaped. */
export function escapeValue(latin1: string): string {
  let s = '';
  for (let i = 0; i < latin1.length; i++) {
    const b = latin1.charCodeAt(i);
    if (b === 0x5c) s += '\\\\';
    else if (b >= 0x20 && b < 0x7f) s += latin1[i];
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

const child = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

export const xenstoreLsCommand: CommandSpec = {
  name: 'xenstore-ls',
  summary: "list a running domain's xenstore tree (as Xen's xenstore-ls)",
  usage: '[-d NAME | -S SOCKET] [-f] [-p] [PATH]',
  options: {
    ...TARGET_OPTIONS,
    full: { type: 'boolean', short: 'f', help: 'print full paths instead of an indented tree' },
    perms: { type: 'boolean', short: 'p', help: 'print each node\'s permissions, e.g. (n0,r3)' },
  },
  minPositionals: 0,
  maxPositionals: 1,
  details: TARGET_DETAILS,
  run({ values, positionals }) {
    const root = positionals[0] ?? '/';
    return withStore('xenstore-ls', values, async (c) => {
      const out: string[] = [];
      const walk = async (dir: string, depth: number): Promise<void> => {
        for (const name of await c.directory(dir)) {
          const path = child(dir, name);
          let line: string;
          try {
            const value = await c.read(path);
            line = `${values.full ? path : ' '.repeat(depth) + name} = "${escapeValue(value)}"`;
            if (values.perms) line += `  (${(await c.getPerms(path)).join(',')})`;
          } catch (e) {
            if (e instanceof XsError && e.code === 'ENOENT') continue; // removed while we walked
            throw e;
          }
          out.push(line);
          await walk(path, depth + 1);
        }
      };
      await walk(root, 0);
      process.stdout.write(out.map((l) => `${l}\n`).join(''));
    });
  },
};

export const xenstoreReadCommand: CommandSpec = {
  name: 'xenstore-read',
  summary: "print the values of xenstore nodes of a running domain",
  usage: '[-d NAME | -S SOCKET] PATH...',
  options: TARGET_OPTIONS,
  minPositionals: 1,
  details: TARGET_DETAILS,
  run({ values, positionals }) {
    return withStore('xenstore-read', values, async (c) => {
      for (const p of positionals) process.stdout.write(Buffer.concat([Buffer.from(await c.read(p), 'latin1'), Buffer.from('\n')]));
    });
  },
};

export const xenstoreWriteCommand: CommandSpec = {
  name: 'xenstore-write',
  summary: 'write xenstore nodes of a running domain (creating missing parents)',
  usage: '[-d NAME | -S SOCKET] PATH VALUE [PATH VALUE ...]',
  options: TARGET_OPTIONS,
  minPositionals: 2,
  details: TARGET_DETAILS,
  run({ values, positionals }) {
    if (positionals.length % 2 !== 0) {
      say('tsxen xenstore-write: PATH and VALUE come in pairs');
      return Promise.resolve(EXIT_ERROR);
    }
    return withStore('xenstore-write', values, async (c) => {
      for (let i = 0; i < positionals.length; i += 2) await c.write(positionals[i], positionals[i + 1]);
    });
  },
};
