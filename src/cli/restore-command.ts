// `tsxen restore [-p] [-c] [--cpu-backend B] FILE`: xl restore, in the foreground.
// A new domain of the saved name, built from the image's own configuration and
// spec (no config file needed), continues where the save stopped it — on the CPU
// backend its configuration picks, or the one given.

import { EXIT_ERROR, HELP_OPTION, type CommandSpec, type ParsedArgs } from './command-table.js';
import { runForeground } from './create-command.js';
import { readSaveImage, savedConfig, savedXenstore, SaveImageError } from '../toolstack/save-image.js';
import type { DomainImage } from '../hypervisor/save/image-format.js';
import type { DomainConfig } from '../toolstack/domain-config.js';

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
  const paused = values.paused === true;
  const xenstore = savedXenstore(image);
  return runForeground(config, attach, {
    handle: { spec: image.spec, restore: image.state, startPaused: paused, ...(xenstore ? { restoreXenstore: xenstore } : {}) },
    verb: 'restore',
    started: (handle, logFile) =>
      `domain ${config.name} restored from ${file} (saved ${image.header.savedAt} on ${image.header.cpuBackend}, running on ${handle.cpuBackend})${paused ? `; paused: tsxen unpause ${config.name} runs it` : ''}; log: ${logFile}`,
  });
}
