// `tsxen restore [-p] [-c] [--cpu-backend B] FILE`: xl restore, in the foreground.
// A new domain of the saved name, built from the image's own configuration and
// spec (no config file needed), continues where the save stopped it — on the CPU
// backend its configuration picks, or the one given.

import { EXIT_ERROR, HELP_OPTION, type CommandSpec, type ParsedArgs } from './command-table.js';
import { EXIT_BY_REASON } from './create-command.js';
import { readSaveImage, savedConfig, SaveImageError } from '../toolstack/save-image.js';
import type { DomainImage } from '../hypervisor/save/image-format.js';
import type { DomainConfig } from '../toolstack/domain-config.js';
import { DomainHandle } from '../toolstack/domain-handle.js';
import { connectOutputs } from '../toolstack/domain-outputs.js';
import { domainLogPath } from '../toolstack/log-paths.js';
import { ControlServer, DomainRunningError } from '../toolstack/control-server.js';
import { controlSocketPath } from '../toolstack/run-paths.js';
import { attachSerialConsole, type SerialConsole } from '../console/serial-console.js';

const BACKENDS = ['auto', 'kvm', 'emu'] as const;

export const restoreCommand: CommandSpec = {
  name: 'restore',
  summary: 'restore a domain saved by `tsxen save` and run it in the foreground',
  usage: '[-p] [-c] [--cpu-backend auto|kvm|emu] FILE',
  options: {
    paused: { type: 'boolean', short: 'p', help: 'leave the restored domain paused (tsxen unpause NAME runs it)' },
    console: { type: 'boolean', short: 'c', help: 'attach this terminal to the guest serial console (COM1); Ctrl-] destroys the domain' },
    'cpu-backend': { type: 'string', help: "run on this CPU backend instead of the saved configuration's cpu_backend" },
    help: HELP_OPTION,
  },
  minPositionals: 1,
  maxPositionals: 1,
  details: [
    'As xl restore: the image holds the configuration, so FILE is all it needs. The',
    'domain gets its saved name (refused while another domain has it), its console and',
    'log go where its configuration says, and the guest continues from the instruction',
    'where it was saved: same memory, devices and timers. An image saved on one CPU',
    'backend restores on the other. Exit statuses as for tsxen create.',
  ].join('\n'),
  run: runRestore,
};

async function runRestore({ values, positionals: [file] }: ParsedArgs): Promise<number> {
  const backend = values['cpu-backend'];
  if (backend !== undefined && !(BACKENDS as readonly unknown[]).includes(backend)) {
    process.stderr.write(`tsxen restore: --cpu-backend must be auto, kvm or emu, not "${String(backend)}"\n`);
    return EXIT_ERROR;
  }
  let image: DomainImage;
  let config: DomainConfig;
  try {
    image = readSaveImage(file);
    config = savedConfig(image, file);
  } catch (e) {
    if (!(e instanceof SaveImageError)) throw e;
    process.stderr.write(`tsxen restore: ${e.message}\n`);
    return EXIT_ERROR;
  }
  if (backend !== undefined) config = { ...config, cpuBackend: backend as (typeof BACKENDS)[number] };
  const attach = values.console === true;
  if (attach && (config.serials[0]?.kind ?? 'none') === 'none') {
    process.stderr.write(`tsxen restore: ${file}: the domain has no serial console for -c\n`);
    return EXIT_ERROR;
  }
  let control: ControlServer;
  try {
    control = await ControlServer.claim(config.name, controlSocketPath(config.name));
  } catch (e) {
    process.stderr.write(e instanceof DomainRunningError ? `tsxen: ${e.message}\n` : `tsxen: cannot create the control socket ${controlSocketPath(config.name)}: ${(e as Error).message}\n`);
    return EXIT_ERROR;
  }
  try {
    return await runRestored(config, image, { attach, paused: values.paused === true, file }, control);
  } finally {
    control.close();
  }
}

/**
 * The foreground life of the restored domain. It follows create-command.ts's
 * runForeground step for step (outputs, console, signals, exit status) and is a
 * copy only until that function accepts the handle's options.
 */
async function runRestored(config: DomainConfig, image: DomainImage, opts: { attach: boolean; paused: boolean; file: string }, control: ControlServer): Promise<number> {
  const name = config.name;
  const logFile = domainLogPath(name);
  let terminal: SerialConsole | undefined;
  const notice = (text: string): void => void process.stderr.write(`tsxen: ${text}${terminal?.raw ? '\r\n' : '\n'}`);

  let handle: DomainHandle;
  try {
    handle = new DomainHandle(config, { logFile, spec: image.spec, restore: image.state, startPaused: opts.paused });
  } catch (e) {
    process.stderr.write(`tsxen: cannot restore domain ${name}: ${(e as Error).message}\n`);
    return EXIT_ERROR;
  }
  const outputs = connectOutputs(handle, config, { terminalAttached: opts.attach, stdout: process.stdout, logFile });
  notice(`domain ${name} restored from ${opts.file} (saved ${image.header.savedAt} on ${image.header.cpuBackend}, running on ${handle.cpuBackend})${opts.paused ? `; paused: tsxen unpause ${name} runs it` : ''}; log: ${logFile}`);
  if (outputs.consoleFile) notice(`serial console output: ${outputs.consoleFile}`);
  handle.on('shutdown', (reason, detail, action) => {
    notice(detail.startsWith('could not start') ? `domain ${name} ${detail}` : `domain ${name}: ${reason} (${detail}); action: ${action}`);
    if (reason === 'crash') notice(`domain log: ${logFile}`);
  });
  handle.on('restart', (n) => notice(`domain ${name} restarted (${n} so far)`));

  let stdinForGuest: ((chunk: Buffer) => void) | undefined;
  if (opts.attach) {
    terminal = attachSerialConsole(handle, { input: process.stdin, output: process.stdout });
  } else if (config.serials[0]?.kind === 'stdio') {
    stdinForGuest = (chunk) => handle.serialInput(new Uint8Array(chunk));
    process.stdin.on('data', stdinForGuest);
  }

  let onSignal!: () => void;
  const userDestroy = new Promise<'user'>((resolve) => {
    onSignal = () => resolve('user');
    terminal?.escaped.then(onSignal);
  });
  control.attach({ handle, destroy: () => onSignal() });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const onStdoutError = (): void => onSignal();
  process.stdout.on('error', onStdoutError);

  let status: number;
  const first = await Promise.race([handle.whenStopped(), userDestroy]);
  if (first === 'user') {
    await handle.destroy();
    notice(`domain ${name} destroyed`);
    status = EXIT_BY_REASON.destroyed;
  } else if (first.preserved) {
    notice(`domain ${name} preserved (paused) after ${first.reason}: ${first.detail}`);
    await userDestroy;
    await handle.destroy();
    status = EXIT_BY_REASON[first.reason];
  } else if (first.startFailed) {
    status = EXIT_ERROR;
  } else if (first.exitStatus !== undefined) {
    status = first.exitStatus & 0xff;
  } else {
    status = EXIT_BY_REASON[first.reason];
  }

  for (const s of signals) process.off(s, onSignal);
  process.stdout.off('error', onStdoutError);
  process.stdout.on('error', () => undefined);
  terminal?.detach();
  if (stdinForGuest) process.stdin.off('data', stdinForGuest);
  process.stdin.pause();
  await outputs.close();
  return status;
}
