// Where a domain's files go when the config does not say: its log (log events, crash
// diagnostics) and its console log. Like Xen's /var/log/xen/{xl,qemu-dm}-NAME.log,
// but per user: $TSXEN_LOG_DIR, else $XDG_STATE_HOME/tsxen/log, else
// ~/.local/state/tsxen/log.

import { homedir } from 'node:os';
import { join } from 'node:path';

export function logDirectory(): string {
  if (process.env.TSXEN_LOG_DIR) return process.env.TSXEN_LOG_DIR;
  const state = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'tsxen', 'log');
}

export const domainLogPath = (name: string): string => join(logDirectory(), `${name}.log`);
export const consoleLogPath = (name: string): string => join(logDirectory(), `${name}.console.log`);
export const debugconLogPath = (name: string, port: number): string => join(logDirectory(), `${name}.debugcon-${port.toString(16)}.log`);
