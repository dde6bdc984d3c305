// One decoded instruction: the compact record the decode cache keeps per
// physical address. Every field is a number or a function of fixed type so all
// records share one hidden class (monomorphic access in the handlers).

import type { CpuState } from './state.js';

export type Handler = (cpu: CpuState, i: Insn) => void;

export class Insn {
  /** Executes the instruction; cpu.eip already points past it. */
  exec: Handler = noHandler;
  /** Opcode: one-byte map 0x00-0xFF, two-byte map 0x100 | second byte. */
  op = 0;
  /** Length in bytes (prefixes included). */
  len = 0;
  /** Operand size in bytes: 1, 2 or 4. */
  osz = 4;
  /** Size code for flags.ts: 0 = 8, 1 = 16, 2 = 32 bits. */
  szc = 2;
  /** Address size 32 (else 16). */
  asz32 = true;
  /** ModRM fields (mod = -1 when the instruction has no ModRM byte). */
  mod = -1;
  reg = 0;
  rm = 0;
  /** Segment of the memory operand (default or override). */
  seg = 3;
  /** Segment override prefix, or -1. */
  segOverride = -1;
  /** Effective address = disp + regs[base] + (regs[index] << scale), -1 = absent. */
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  /** Immediates (sign-extended where the encoding says so); imm2 = selector of far pointers, ENTER level. */
  imm = 0;
  imm2 = 0;
  /** REP prefix: 0, 0xF2 (REPNE) or 0xF3 (REP/REPE). */
  rep = 0;
  lock = false;
  /** Ends its decoded block (control transfers, mode or privileged-state changes). */
  endsBlock = false;
  /**
   * The next block may be chained to this instruction's block: it ends the block
   * only as a near branch (no change of CS, CPL, mode or translations).
   */
  chainable = true;
  /** Mnemonic for diagnostics. */
  name = '';
}

function noHandler(): void {
  throw new Error('instruction record without a handler');
}
