// Help text, generated from the command table.

import type { CommandSpec } from './command-table.js';

export function commandUsage(cmd: CommandSpec): string {
  return `usage: tsxen ${cmd.name} ${cmd.usage}`;
}

export function commandHelp(cmd: CommandSpec): string {
  const lines = [commandUsage(cmd), '', cmd.summary, '', 'options:'];
  const opts = Object.entries(cmd.options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}`, o.help]);
  const width = Math.max(...opts.map(([f]) => f.length));
  for (const [flag, help] of opts) lines.push(`  ${flag.padEnd(width)}  ${help}`);
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n') + '\n';
}

export function overviewHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: tsxen COMMAND [ARGS]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'tsxen help COMMAND' or 'tsxen COMMAND --help' for a command's options.",
    '',
  ].join('\n');
}
