// Where a test snippet lives, identical on the host (test/cpu/host-runner.c) and
// in the emu rig (src/cpu/emu/test-rig.ts), so addresses and ESP compare exactly.

export const CODE_ADDR = 0x00200000;
export const CODE_MAX = 0x4000 - 5;
export const DATA_ADDR = 0x00210000;
export const DATA_LEN = 64;
export const STACK_TOP = 0x00220f00;
export const STACK_WINDOW = 0x00220e00;
export const STACK_WINDOW_LEN = 0x140;

/** What a snippet left behind, on either CPU. */
export interface SnippetOutcome {
  /** Exception vector raised, or -1 when the snippet ran to its end. */
  vector: number;
  /** Error code of that exception, or -1 when it has none. */
  errorCode: number;
  /** EAX ECX EDX EBX ESP EBP ESI EDI, as uint32 numbers (at the fault, if any). */
  regs: number[];
  /** EIP at the end (snippet end) or of the faulting instruction (trap: the next one). */
  eip: number;
  eflags: number;
  data: Uint8Array;
  stack: Uint8Array;
}
