// Every `tsxen` command, in the order help lists them.

import type { CommandSpec } from './command-table.js';
import { createCommand } from './create-command.js';
import { destroyCommand, listCommand, rebootCommand, screenshotCommand, screenTextCommand, shutdownCommand, triggerCommand } from './domain-commands.js';
import { xenstoreLsCommand, xenstoreReadCommand, xenstoreWriteCommand } from './xenstore-commands.js';

export const COMMANDS: readonly CommandSpec[] = [createCommand, listCommand, destroyCommand, screenshotCommand, screenTextCommand, triggerCommand, shutdownCommand, rebootCommand, xenstoreLsCommand, xenstoreReadCommand, xenstoreWriteCommand];
