// Routes a running domain's byte streams to where its config says. Each COM port
// (serial.tx `port` 0 = COM1 … 3 = COM4) goes to a file (serial="file:PATH"), to
// stdout ("stdio") or, for "pty", to a console log: COM1's is the console
// (NAME.console.log unless a terminal is attached), COM2-COM4 have no terminal and
// always log to NAME.console.N.log beside it (N is the guest's ttySN). "none" drops
// the bytes. Each debugcon port goes to a file, stdout or the domain log (lines).

import { createWriteStream, mkdirSync, appendFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import type { DomainConfig } from './domain-config.js';
import type { DomainHandle } from './domain-handle.js';
import { consoleLogPath, logDirectory } from './log-paths.js';

export interface DomainOutputs {
  /** Where COM1 output is written, when it goes to a file. */
  consoleFile?: string;
  /** Per COM port (index 0 = COM1): the file its output is written to, if any. */
  serialFiles: Array<string | undefined>;
  close(): Promise<void>;
}

// A debugcon line longer than this is logged in pieces (a guest may never send "\n").
const MAX_LOG_LINE = 4096;

export function connectOutputs(
  handle: DomainHandle,
  config: DomainConfig,
  opts: { terminalAttached: boolean; stdout: NodeJS.WritableStream; logFile?: string },
): DomainOutputs {
  const streams: WriteStream[] = [];
  const openFile = (path: string): WriteStream => {
    mkdirSync(dirname(path), { recursive: true });
    const s = createWriteStream(path, { flags: 'w' });
    // A write error (disk full) must not kill dom0; stop writing to that file.
    s.on('error', () => undefined);
    streams.push(s);
    return s;
  };

  const serialFiles: Array<string | undefined> = [];
  const serialSinks: Array<NodeJS.WritableStream | undefined> = [];
  config.serials.forEach((device, port) => {
    let file: string | undefined;
    if (device.kind === 'file') file = device.path;
    else if (device.kind === 'pty' && port === 0 && !opts.terminalAttached) file = consoleLogPath(config.name);
    else if (device.kind === 'pty' && port > 0) file = serialLogPath(config.name, port);
    serialFiles.push(file);
    // With -c the terminal is COM1's stdout and stdin; other ports' "stdio" still writes there.
    if (file) serialSinks.push(openFile(file));
    else if (device.kind === 'stdio' && (port > 0 || !opts.terminalAttached)) serialSinks.push(opts.stdout);
    else serialSinks.push(undefined);
  });
  if (serialSinks.some((s) => s !== undefined)) {
    handle.on('serial', (port, bytes) => {
      serialSinks[port]?.write(bytes);
    });
  }

  const debugSinks = new Map<number, (bytes: Uint8Array) => void>();
  for (const d of config.debugcon) {
    if (d.output.kind === 'file') {
      const s = openFile(d.output.path);
      debugSinks.set(d.port, (b) => void s.write(b));
    } else if (d.output.kind === 'stdio') {
      debugSinks.set(d.port, (b) => void opts.stdout.write(b));
    } else {
      let line = '';
      const logFile = opts.logFile;
      debugSinks.set(d.port, (b) => {
        line += new TextDecoder('latin1').decode(b);
        let nl: number;
        while ((nl = line.indexOf('\n')) >= 0 || line.length >= MAX_LOG_LINE) {
          const end = nl >= 0 ? nl : MAX_LOG_LINE;
          const text = line.slice(0, end).replace(/\r$/, '');
          line = line.slice(nl >= 0 ? end + 1 : end);
          if (logFile) {
            try {
              appendFileSync(logFile, `${new Date().toISOString()} info debugcon-0x${d.port.toString(16)}: ${text}\n`);
            } catch {
              // See domain-handle.ts: logging never takes the domain down.
            }
          }
        }
      });
    }
  }
  handle.on('debugcon', (ioport, bytes) => debugSinks.get(ioport)?.(bytes));

  return {
    consoleFile: serialFiles[0],
    serialFiles,
    async close() {
      await Promise.all(
        streams.map(async (s) => {
          s.end();
          if (!s.closed) await once(s, 'close').catch(() => undefined);
        }),
      );
    },
  };
}

/** A "pty" COM2-COM4 has no terminal: its output goes to NAME.console.N.log (N = ttySN). */
export const serialLogPath = (name: string, port: number): string => join(logDirectory(), `${name}.console.${port}.log`);
