// `tsxen list`, `destroy`, `screenshot`, `screen-text`, `trigger`, `shutdown`,
// `reboot`, `save`, `pause`, `unpause`: xl's commands for running domains, sent over
// each domain's control socket to the `tsxen create` (or `restore`) process that runs it.

import { resolve } from 'node:path';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE, HELP_OPTION, type CommandSpec } from './command-table.js';
import { controlRequest, listDomains, NoSuchDomainError } from '../toolstack/control-client.js';
import type { ControlRequest, ControlResponse } from '../toolstack/control-protocol.js';
import { DOMAIN_NAME, runDirectory } from '../toolstack/run-paths.js';
import { writePng } from '../console/screenshot.js';

const say = (text: string): void => void process.stderr.write(`${text}\n`);

/** Sends `req` to NAME; prints the failure and returns null when it did not work. */
async function ask(command: string, name: string, req: ControlRequest, timeoutMs?: number): Promise<ControlResponse | null> {
  if (!DOMAIN_NAME.test(name)) {
    say(`tsxen ${command}: "${name}" is not a valid domain name`);
    return null;
  }
  try {
    const r = await controlRequest(name, req, timeoutMs);
    if (!r.ok) {
      say(`tsxen ${command}: ${r.error}`);
      return null;
    }
    return r;
  } catch (e) {
    say(`tsxen ${command}: ${e instanceof NoSuchDomainError ? `${e.message} (see tsxen list)` : (e as Error).message}`);
    return null;
  }
}

/** xl list's six state columns: r b p s c d, the domain's letter in its place. */
export function stateColumns(letter: string): string {
  return 'rbpscd'.split('').map((c) => (c === letter ? c : '-')).join('');
}

export const listCommand: CommandSpec = {
  name: 'list',
  summary: 'list the running domains (name, id, memory, vCPUs, state, time)',
  usage: '',
  options: { help: HELP_OPTION },
  minPositionals: 0,
  maxPositionals: 0,
  details: [
    'Like xl list. ID is the process id of the `tsxen create` running the domain. State:',
    'r running, b blocked (idle), p paused, s shut down (preserved), c crashed. Time(s)',
    `is the time since the domain was created. Domains are found through their control`,
    `sockets in ${runDirectory()} ($TSXEN_RUN_DIR); stale ones are removed.`,
  ].join('\n'),
  async run() {
    const domains = await listDomains();
    const rows = [['Name', 'ID', 'Mem', 'VCPUs', 'State', 'Time(s)'], ...domains.map((d) => [d.name, String(d.id), String(d.memoryMiB), String(d.vcpus), stateColumns(d.state), d.uptimeSeconds.toFixed(1)])];
    const nameWidth = Math.max(...rows.map((r) => r[0].length));
    for (const r of rows) process.stdout.write(`${r[0].padEnd(nameWidth)} ${r[1].padStart(8)} ${r[2].padStart(5)} ${r[3].padStart(5)}  ${r[4].padEnd(6)} ${r[5].padStart(9)}\n`);
    return EXIT_OK;
  },
};

export const destroyCommand: CommandSpec = {
  name: 'destroy',
  summary: 'end a running domain at once (its `tsxen create` exits with status 0)',
  usage: 'NAME',
  options: { help: HELP_OPTION },
  minPositionals: 1,
  maxPositionals: 1,
  async run({ positionals: [name] }) {
    return (await ask('destroy', name, { op: 'destroy' })) ? EXIT_OK : EXIT_ERROR;
  },
};

export const screenshotCommand: CommandSpec = {
  name: 'screenshot',
  summary: "save a domain's screen as a PNG file",
  usage: 'NAME FILE.png',
  options: { help: HELP_OPTION },
  minPositionals: 2,
  maxPositionals: 2,
  details: 'The screen as the VGA card shows it (text modes rendered with the card font). Fails when the domain has no VGA card (vga="none").',
  async run({ positionals: [name, file] }) {
    const r = await ask('screenshot', name, { op: 'screen' });
    if (!r) return EXIT_ERROR;
    const screen = 'screen' in r ? r.screen : null;
    if (!screen) {
      say(`tsxen screenshot: domain ${name} has no screen to take (no VGA card, or nothing drawn yet)`);
      return EXIT_ERROR;
    }
    try {
      writePng(file, { width: screen.width, height: screen.height, rgba: new Uint8Array(Buffer.from(screen.rgba, 'base64')) });
    } catch (e) {
      say(`tsxen screenshot: cannot write ${file}: ${(e as Error).message}`);
      return EXIT_ERROR;
    }
    return EXIT_OK;
  },
};

export const screenTextCommand: CommandSpec = {
  name: 'screen-text',
  summary: "print a domain's VGA text screen",
  usage: 'NAME',
  options: { help: HELP_OPTION },
  minPositionals: 1,
  maxPositionals: 1,
  details: 'One line per row, trailing blanks removed. Fails when the card is not in a text mode.',
  async run({ positionals: [name] }) {
    const r = await ask('screen-text', name, { op: 'screen-text' });
    if (!r) return EXIT_ERROR;
    const text = 'text' in r ? r.text : null;
    if (!text) {
      say(`tsxen screen-text: domain ${name} is not showing a text screen (no VGA card, or a graphics mode: use tsxen screenshot)`);
      return EXIT_ERROR;
    }
    process.stdout.write(text.lines.map((l) => l.replace(/\s+$/, '')).join('\n') + '\n');
    return EXIT_OK;
  },
};

const TRIGGERS = ['power', 'reset'] as const;

export const triggerCommand: CommandSpec = {
  name: 'trigger',
  summary: 'send a domain an event: power (ACPI power button) or reset',
  usage: 'NAME power|reset',
  options: { help: HELP_OPTION },
  minPositionals: 2,
  maxPositionals: 2,
  details: [
    'As xl trigger: "power" presses the ACPI power button (the guest OS decides: most shut',
    'down cleanly); "reset" resets the domain at once, handled like a guest reboot (on_reboot).',
  ].join('\n'),
  async run({ positionals: [name, what] }) {
    if (!(TRIGGERS as readonly string[]).includes(what)) {
      say(`tsxen trigger: unknown trigger "${what}" (power or reset)`);
      return EXIT_USAGE;
    }
    return (await ask('trigger', name, { op: 'trigger', what: what as (typeof TRIGGERS)[number] })) ? EXIT_OK : EXIT_ERROR;
  },
};

/** xl shutdown and xl reboot: the same request, two verbs. */
function shutdownVerb(name: 'shutdown' | 'reboot', kind: 'poweroff' | 'reboot'): CommandSpec {
  return {
    name,
    summary: kind === 'poweroff' ? 'ask a domain to shut down (PV control, or -F: ACPI power button)' : 'ask a domain to reboot (PV control, or -F: reset)',
    usage: 'NAME',
    options: { help: HELP_OPTION, fallback: { type: 'boolean', short: 'F', help: kind === 'poweroff' ? 'without PV drivers, press the ACPI power button' : 'without PV drivers, reset the domain' } },
    minPositionals: 1,
    maxPositionals: 1,
    details: [
      `As xl ${name}: writes "${kind}" to the guest's control/shutdown xenstore node, which a`,
      'Linux guest with Xen support watches (it then shuts down cleanly). A guest without PV',
      `control is refused unless -F is given. The domain then follows on_${kind}.`,
    ].join('\n'),
    async run({ positionals: [domain], values }) {
      const r = await ask(name, domain, { op: 'shutdown', kind, fallback: values.fallback === true });
      if (!r) return EXIT_ERROR;
      const via = 'via' in r ? r.via : 'pv';
      say(`tsxen ${name}: ${domain}: ${via === 'pv' ? `asked the guest (control/shutdown = ${kind})` : via === 'acpi' ? 'pressed the ACPI power button' : 'reset'}`);
      return EXIT_OK;
    },
  };
}

export const shutdownCommand = shutdownVerb('shutdown', 'poweroff');
export const rebootCommand = shutdownVerb('reboot', 'reboot');

// Writing a large guest's image takes seconds on a loaded host.
const SAVE_TIMEOUT_MS = 10 * 60_000;

export const saveCommand: CommandSpec = {
  name: 'save',
  summary: "save a domain's state to a file, then destroy it (xl save)",
  usage: '[-c] [-p] NAME FILE',
  options: {
    checkpoint: { type: 'boolean', short: 'c', help: 'leave the domain running after saving (a checkpoint)' },
    paused: { type: 'boolean', short: 'p', help: 'leave the domain paused after saving' },
    help: HELP_OPTION,
  },
  minPositionals: 2,
  maxPositionals: 2,
  details: [
    'As xl save: pauses the domain, writes its image (configuration, vCPU, devices,',
    'memory) to FILE, then destroys it (its `tsxen create` exits with status 0). The',
    'image is independent of the CPU backend: `tsxen restore FILE` continues the guest',
    'where it stopped, on emu or kvm (--cpu-backend).',
  ].join('\n'),
  async run({ positionals: [name, file], values }) {
    const r = await ask('save', name, { op: 'save', file: resolve(file), checkpoint: values.checkpoint === true, paused: values.paused === true }, SAVE_TIMEOUT_MS);
    if (!r) return EXIT_ERROR;
    if ('saved' in r) say(`tsxen save: domain ${name} saved to ${r.saved.file} (${(r.saved.bytes / (1 << 20)).toFixed(1)} MiB)`);
    return EXIT_OK;
  },
};

function pauseVerb(name: 'pause' | 'unpause'): CommandSpec {
  return {
    name,
    summary: name === 'pause' ? 'pause a domain (its vCPUs stop; xl pause)' : 'unpause a paused domain (xl unpause)',
    usage: 'NAME',
    options: { help: HELP_OPTION },
    minPositionals: 1,
    maxPositionals: 1,
    async run({ positionals: [domain] }) {
      return (await ask(name, domain, { op: name })) ? EXIT_OK : EXIT_ERROR;
    },
  };
}

export const pauseCommand = pauseVerb('pause');
export const unpauseCommand = pauseVerb('unpause');
