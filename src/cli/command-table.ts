// The `tsxen` commands, one table (Xen's tools/xl/xl_cmdtable.c idea): each entry's
// options drive node's util.parseArgs AND the help text, so they cannot disagree.

export interface OptionSpec {
  type: 'boolean' | 'string';
  short?: string;
  help: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CommandSpec {
  name: string;
  /** One line for `tsxen help`. */
  summary: string;
  /** Arguments after the command name, e.g. "[-c] CONFIG [KEY=VALUE ...]". */
  usage: string;
  /** More help: paragraphs printed after the options. */
  details?: string;
  options: Record<string, OptionSpec>;
  minPositionals: number;
  maxPositionals?: number;
  /** Resolves with the process exit status. */
  run(args: ParsedArgs): Promise<number>;
}

/** Exit statuses shared by commands. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };
