// Every `tsxen` command, in the order help lists them.

import type { CommandSpec } from './command-table.js';
import { createCommand } from './create-command.js';
import { destroyCommand, listCommand, pauseCommand, rebootCommand, saveCommand, screenshotCommand, screenTextCommand, shutdownCommand, triggerCommand, unpauseCommand } from './domain-commands.js';
import { restoreCommand } from './restore-command.js';
import { xenstoreLsCommand, xenstoreReadCommand, xenstoreWriteCommand } from './xenstore-commands.js';

export const COMMANDS: readonly CommandSpec[] = [createCommand, listCommand, destroyCommand, screenshotCommand, screenTextCommand, triggerCommand, shutdownCommand, rebootCommand, saveCommand, restoreCommand, pauseCommand, unpauseCommand, xenstoreLsCommand, xenstoreReadCommand, xenstoreWriteCommand];
