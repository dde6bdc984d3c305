// Every differential group, in report order.

import type { DiffGroup } from '../diff-case.js';
import { aluGroup } from './alu.js';
import { shiftGroup } from './shift.js';
import { muldivGroup } from './muldiv.js';
import { bcdGroup } from './bcd.js';
import { bitsGroup } from './bits.js';
import { condGroup } from './cond.js';
import { moveGroup } from './move.js';
import { leaGroup } from './lea.js';
import { stringGroup } from './string.js';
import { stackGroup } from './stack.js';
import { miscGroup } from './misc.js';
import { flagflowGroup } from './flagflow.js';
import { encodingsGroup } from './encodings.js';
import { x87Group } from './x87.js';

export const GROUP_BUILDERS: ReadonlyArray<() => DiffGroup> = [
  aluGroup,
  shiftGroup,
  muldivGroup,
  bcdGroup,
  bitsGroup,
  condGroup,
  moveGroup,
  leaGroup,
  stringGroup,
  stackGroup,
  x87Group,
  miscGroup,
  flagflowGroup,
  encodingsGroup,
];
