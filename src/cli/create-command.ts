// `tsxen create [-c] [-n] CONFIG [KEY=VALUE ...]`: xl create, in the foreground.

import { EXIT_ERROR, EXIT_OK, HELP_OPTION, type CommandSpec, type ParsedArgs } from './command-table.js';
import { loadConfigFile } from '../toolstack/config-file.js';
import { isConfigProblem, type DomainConfig } from '../toolstack/domain-config.js';
import { DomainHandle, type DomainHandleOptions, type StopReason } from '../toolstack/domain-handle.js';
import { connectOutputs } from '../toolstack/domain-outputs.js';
import { domainLogPath } from '../toolstack/log-paths.js';
import { ControlServer, DomainRunningError } from '../toolstack/control-server.js';
import { XenStoreSocketServer, xenstoreSocketPath } from '../pv/xenstore/socket-server.js';
import { controlSocketPath } from '../toolstack/run-paths.js';
import { attachSerialConsole, type SerialConsole } from '../console/serial-console.js';

/** Exit status by how the domain ended (documented in the command's help). */
export const EXIT_BY_REASON: Record<StopReason, number> = { poweroff: 0, destroyed: 0, reboot: 3, crash: 4 };

export const createCommand: CommandSpec = {
  name: 'create',
  summary: 'create a domain from an xl.cfg file and run it in the foreground',
  usage: '[-c] [-n] CONFIG [KEY=VALUE ...]',
  options: {
    console: { type: 'boolean', short: 'c', help: 'attach this terminal to the guest serial console (COM1); Ctrl-] destroys the domain' },
    'dry-run': { type: 'boolean', short: 'n', help: 'parse and check the config, print it as JSON, start nothing' },
    help: HELP_OPTION,
  },
  minPositionals: 1,
  details: [
    'KEY=VALUE arguments after CONFIG override settings of the file, in xl.cfg syntax',
    '(memory=256, cmdline="console=ttyS0 quiet"); a value that is not xl.cfg syntax is',
    'taken as a string (name=web1).',
    '',
    'Without -c the guest serial output goes where serial= says (file:PATH, stdio), or for',
    'serial="pty" to a console log file whose path is printed at start. Ctrl-C destroys.',
    'The domain log (tsxen messages, guest crash diagnostics) is written to',
    '$TSXEN_LOG_DIR/NAME.log (default ~/.local/state/tsxen/log/NAME.log).',
    '',
    'The running domain answers tsxen list, destroy, screenshot, screen-text and trigger',
    'through its control socket ~/.cache/tsxen/run/NAME.sock ($TSXEN_RUN_DIR); a second',
    'domain of the same name is refused while one runs.',
    '',
    'exit status: 0 the guest powered off or the user destroyed it; 1 bad config, the',
    'name is taken, or the domain could not start; 2 bad command line; 3 the guest',
    'rebooted and on_reboot was not "restart"; 4 the guest crashed (or tsxen failed',
    'inside the domain); with isa_debug_exit, the status the guest wrote: (V << 1) | 1.',
  ].join('\n'),
  run: runCreate,
};

async function runCreate({ values, positionals }: ParsedArgs): Promise<number> {
  const [file, ...overrides] = positionals;
  let config: DomainConfig;
  try {
    config = loadConfigFile(file, { overrides });
  } catch (e) {
    if (!isConfigProblem(e)) throw e;
    process.stderr.write(`${e.message}\n`);
    return EXIT_ERROR;
  }
  if (values['dry-run']) {
    process.stdout.write(JSON.stringify(config, null, 2) + '\n');
    return EXIT_OK;
  }
  const attach = values.console === true;
  const com1 = config.serials[0] ?? { kind: 'none' };
  if (attach && com1.kind === 'none') {
    process.stderr.write(`${file}: serial: "none" leaves no console for -c\n`);
    return EXIT_ERROR;
  }
  return runForeground(config, attach);
}

/** How restore differs from create: the handle's options and the first line it prints. */
export interface ForegroundOptions {
  handle?: Omit<DomainHandleOptions, 'logFile'>;
  /** The start notice (default "domain NAME started; log: FILE"). */
  started?: (handle: DomainHandle, logFile: string) => string;
  /** "start" (create) or "restore", for the error when the domain cannot be built. */
  verb?: string;
}

/**
 * A domain's life in the foreground (tsxen create and restore): its control socket
 * (refused while another domain has the name), outputs, console, xenstore socket,
 * signals, and the exit status by how it ended.
 */
export async function runForeground(config: DomainConfig, attach: boolean, fg: ForegroundOptions = {}): Promise<number> {
  let control: ControlServer;
  try {
    control = await ControlServer.claim(config.name, controlSocketPath(config.name));
  } catch (e) {
    process.stderr.write(e instanceof DomainRunningError ? `tsxen: ${e.message}\n` : `tsxen: cannot create the control socket ${controlSocketPath(config.name)}: ${(e as Error).message}\n`);
    return EXIT_ERROR;
  }
  try {
    return await runClaimed(config, attach, control, fg);
  } finally {
    control.close();
  }
}

async function runClaimed(config: DomainConfig, attach: boolean, control: ControlServer, fg: ForegroundOptions): Promise<number> {
  const name = config.name;
  const logFile = domainLogPath(name);
  let terminal: SerialConsole | undefined;
  const notice = (text: string): void => void process.stderr.write(`tsxen: ${text}${terminal?.raw ? '\r\n' : '\n'}`);

  let handle: DomainHandle;
  try {
    // TSXEN_TEST_DOMAIN_MODULE: the CLI tests run a scripted domain instead of the CPU.
    handle = new DomainHandle(config, { logFile, domainModule: process.env.TSXEN_TEST_DOMAIN_MODULE || undefined, ...fg.handle });
  } catch (e) {
    process.stderr.write(`tsxen: cannot ${fg.verb ?? 'start'} domain ${name}: ${(e as Error).message}\n`);
    return EXIT_ERROR;
  }
  const outputs = connectOutputs(handle, config, { terminalAttached: attach, stdout: process.stdout, logFile });
  // dom0's xenstored, reachable by `tsxen xenstore-ls/-read/-write -d NAME`.
  let xenstoreSocket: XenStoreSocketServer | undefined;
  try {
    xenstoreSocket = await XenStoreSocketServer.listen(handle.xenstore, xenstoreSocketPath(name));
  } catch (e) {
    notice(`xenstore socket ${xenstoreSocketPath(name)} not available: ${(e as Error).message}`);
  }
  notice(fg.started ? fg.started(handle, logFile) : `domain ${name} started; log: ${logFile}`);
  if (outputs.consoleFile) notice(`serial console output: ${outputs.consoleFile}`);
  outputs.serialFiles.forEach((f, i) => {
    if (i > 0 && f) notice(`COM${i + 1} (ttyS${i}) output: ${f}`);
  });
  if (attach) notice('console attached; Ctrl-] detaches and destroys the domain');

  handle.on('shutdown', (reason, detail, action) => {
    notice(detail.startsWith('could not start') ? `domain ${name} ${detail}` : `domain ${name}: ${reason} (${detail}); action: ${action}`);
    if (reason === 'crash') notice(`domain log: ${logFile}`);
  });
  handle.on('restart', (n) => notice(`domain ${name} restarted (${n} so far)`));

  let stdinForGuest: ((chunk: Buffer) => void) | undefined;
  if (attach) {
    terminal = attachSerialConsole(handle, { input: process.stdin, output: process.stdout });
  } else if (config.serials[0]?.kind === 'stdio') {
    stdinForGuest = (chunk) => handle.serialInput(new Uint8Array(chunk));
    process.stdin.on('data', stdinForGuest);
  }

  // Ctrl-] (attached) or a signal ends the domain.
  let onSignal!: () => void;
  const userDestroy = new Promise<'user'>((resolve) => {
    onSignal = () => resolve('user');
    terminal?.escaped.then(onSignal);
  });
  // `tsxen destroy NAME` ends it the same way.
  control.attach({ handle, destroy: () => onSignal() });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  // Whoever reads our stdout went away (`| head`): end the domain rather than dom0.
  const onStdoutError = (): void => onSignal();
  process.stdout.on('error', onStdoutError);

  let status: number;
  const first = await Promise.race([handle.whenStopped(), userDestroy]);
  if (first === 'user') {
    await handle.destroy();
    notice(`domain ${name} destroyed`);
    status = EXIT_OK;
  } else if (first.preserved) {
    notice(`domain ${name} preserved (paused) after ${first.reason}: ${first.detail}`);
    notice(attach ? 'press Ctrl-] to destroy it' : `press Ctrl-C (or kill ${process.pid}) to destroy it`);
    await userDestroy;
    await handle.destroy();
    notice(`domain ${name} destroyed`);
    status = EXIT_BY_REASON[first.reason];
  } else if (first.startFailed) {
    status = EXIT_ERROR;
  } else if (first.exitStatus !== undefined) {
    // isa-debug-exit: the guest chose the status (test kernels report pass/fail this way).
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
  await xenstoreSocket?.close();
  await outputs.close();
  return status;
}
