// Reading a domain's configuration from where users keep it: an xl.cfg file plus
// `KEY=VALUE` overrides from the command line (as `xl create cfg k=v` does), or a
// plain object of the same keys (test scripts). Both end in validateDomainConfig.

import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { applyOverride, parseXlCfg, type CfgSettings, type CfgValue } from './xl-cfg-parser.js';
import { validateDomainConfig, ConfigError, type DomainConfig } from './domain-config.js';

/** xl.cfg keys as a JS object: strings, numbers and (nested) arrays of them. */
export type CfgObjectValue = string | number | CfgObjectValue[];
export type CfgObject = Record<string, CfgObjectValue>;

export interface LoadOptions {
  /** `KEY=VALUE` arguments applied after the file, in order. */
  overrides?: string[];
  /** Where warnings go (unknown keys…). Default: stderr. */
  warn?: (message: string) => void;
  /** Host RAM in MiB; default os.totalmem(). */
  hostMemoryMiB?: number;
  /** Where SeaBIOS's images are; default /usr/share/seabios (tests pass their own). */
  seabiosDir?: string;
}

const hostMemoryMiB = (): number => Math.floor(totalmem() / (1024 * 1024));
const warnOnStderr = (m: string): void => void process.stderr.write(`${m}\n`);

/** Reads, parses and validates the config file at `path` (as the user spelled it). */
export function loadConfigFile(path: string, opts: LoadOptions = {}): DomainConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(path, 0, 'config', code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`);
  }
  const settings = parseXlCfg(text, path);
  return finish(settings, path, dirname(resolve(path)), opts);
}

/** Validates a config given as an object; relative paths are relative to `baseDir` (default cwd). */
export function loadConfigObject(object: CfgObject, opts: LoadOptions & { baseDir?: string } = {}): DomainConfig {
  const file = '<config object>';
  const settings: CfgSettings = new Map();
  let line = 0;
  for (const [key, v] of Object.entries(object)) {
    settings.set(key, { key, value: toCfgValue(v), file, line: ++line });
  }
  return finish(settings, file, opts.baseDir ?? process.cwd(), opts);
}

function finish(settings: CfgSettings, file: string, baseDir: string, opts: LoadOptions): DomainConfig {
  (opts.overrides ?? []).forEach((arg, i) => applyOverride(settings, arg, i + 1));
  return validateDomainConfig(settings, {
    file,
    baseDir,
    hostMemoryMiB: opts.hostMemoryMiB ?? hostMemoryMiB(),
    warn: opts.warn ?? warnOnStderr,
    ...(opts.seabiosDir !== undefined ? { seabiosDir: opts.seabiosDir } : {}),
  });
}

function toCfgValue(v: CfgObjectValue): CfgValue {
  if (typeof v === 'number') return { kind: 'number', value: v, text: String(v) };
  if (typeof v === 'string') return { kind: 'string', value: v };
  return { kind: 'list', items: v.map(toCfgValue) };
}
