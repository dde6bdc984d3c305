// Layouts of the x87 control and status words (SDM vol. 1 §8.1.3, §8.1.5) and
// the numbering of the FPU's register-file slots, shared by the fpu-*.ts files.

// FSW bits (SDM vol. 1 §8.1.3).
export const FSW_IE = 0x0001, FSW_DE = 0x0002, FSW_ZE = 0x0004, FSW_OE = 0x0008, FSW_UE = 0x0010, FSW_PE = 0x0020;
export const FSW_SF = 0x0040, FSW_ES = 0x0080, FSW_C0 = 0x0100, FSW_C1 = 0x0200, FSW_C2 = 0x0400, FSW_C3 = 0x4000, FSW_B = 0x8000;
export const FSW_TOP = 0x3800;
export const FSW_CC = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;
export const EXC_MASK = 0x3f;

/** FNINIT's control word (SDM vol. 1 Table 8-8); RESET uses 0x0040. */
export const FCW_INIT = 0x037f;
export const MXCSR_INIT = 0x1f80;
/** MXCSR bits FXRSTOR accepts (no DAZ on this model): others ⇒ #GP(0). */
export const MXCSR_MASK = 0xffbf;

// Scratch slots after the eight physical registers.
export const MEM = 8, TMP = 9, TMP2 = 10;

// Operation codes shared by D8/DC/DA/DE (the ModRM reg field).
export const OP_ADD = 0, OP_MUL = 1, OP_COM = 2, OP_COMP = 3, OP_SUB = 4, OP_SUBR = 5, OP_DIV = 6, OP_DIVR = 7;
