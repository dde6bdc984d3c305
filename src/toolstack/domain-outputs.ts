// Routes a running domain's byte streams to where its config says: COM1 to a file
// (serial="file:PATH", or the console log for serial="pty" when no terminal is
// attached) or to stdout (serial="stdio"), and each debugcon port to a file, stdout
// or the domain log (lines).

import { createWriteStream, mkdirSync, appendFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { dirname } from 'node:path';
import type { DomainConfig } from './domain-config.js';
import type { DomainHandle } from './domain-handle.js';
import { consoleLogPath } from './log-paths.js';

export interface DomainOutputs {
  /** Where COM1 output is written, when it goes to a file. */
  consoleFile?: string;
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

  let consoleFile: string | undefined;
  let serialSink: NodeJS.WritableStream | undefined;
  if (config.serial.kind === 'file') consoleFile = config.serial.path;
  else if (config.serial.kind === 'pty' && !opts.terminalAttached) consoleFile = consoleLogPath(config.name);
  if (consoleFile) serialSink = openFile(consoleFile);
  else if (config.serial.kind === 'stdio' && !opts.terminalAttached) serialSink = opts.stdout;
  if (serialSink) {
    const sink = serialSink;
    handle.on('serial', (port, bytes) => {
      if (port === 0) sink.write(bytes);
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
    consoleFile,
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
