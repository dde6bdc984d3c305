#!/usr/bin/env node
// The `tsxen` command: looks the command up in the table, parses its options with
// util.parseArgs from the same table, runs it, exits with its status.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { COMMANDS } from './commands.js';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE, type CommandSpec } from './command-table.js';
import { commandHelp, commandUsage, overviewHelp } from './help.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const cmd = topic ? COMMANDS.find((c) => c.name === topic) : undefined;
    if (topic && !cmd) {
      process.stderr.write(`tsxen: no command "${topic}"\n${overviewHelp(COMMANDS)}`);
      return EXIT_USAGE;
    }
    (name === undefined ? process.stderr : process.stdout).write(cmd ? commandHelp(cmd) : overviewHelp(COMMANDS));
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`tsxen: no command "${name}"\n${overviewHelp(COMMANDS)}`);
    return EXIT_USAGE;
  }
  let parsed: ReturnType<typeof parseCommandArgs>;
  try {
    parsed = parseCommandArgs(cmd, rest);
  } catch (e) {
    process.stderr.write(`tsxen ${cmd.name}: ${(e as Error).message}\n${commandUsage(cmd)}\n`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp(cmd));
    return EXIT_OK;
  }
  const n = parsed.positionals.length;
  if (n < cmd.minPositionals || (cmd.maxPositionals !== undefined && n > cmd.maxPositionals)) {
    process.stderr.write(`tsxen ${cmd.name}: wrong number of arguments\n${commandUsage(cmd)}\n`);
    return EXIT_USAGE;
  }
  return cmd.run(parsed);
}

function parseCommandArgs(cmd: CommandSpec, args: string[]) {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [long, o] of Object.entries(cmd.options)) options[long] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  return { values: values as Record<string, string | boolean | undefined>, positionals };
}

/**
 * Exit once what was written to stdout/stderr has been handed to the OS: pipes are
 * asynchronous in Node, and process.exit() would drop a slow reader's tail (the
 * guest's last console lines). An empty write's callback runs after the queued ones.
 */
function exitAfterOutput(status: number): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(status);
  };
  for (const s of [process.stdout, process.stderr]) {
    if (s.destroyed || !s.writable) {
      done();
      continue;
    }
    let settled = false;
    const once = (): void => {
      if (!settled) {
        settled = true;
        done();
      }
    };
    // A reader that went away (EPIPE) ends the wait instead of crashing tsxen.
    s.on('error', once);
    s.write('', once);
  }
  // A reader that never drains must not keep tsxen alive.
  setTimeout(() => process.exit(status), 5000).unref();
}

main(process.argv.slice(2)).then(
  (status) => exitAfterOutput(status),
  (e: unknown) => {
    process.stderr.write(`tsxen: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    exitAfterOutput(EXIT_ERROR);
  },
);
