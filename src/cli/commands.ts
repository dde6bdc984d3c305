// Every `tsxen` command, in the order help lists them.

import type { CommandSpec } from './command-table.js';
import { createCommand } from './create-command.js';

export const COMMANDS: readonly CommandSpec[] = [createCommand];
