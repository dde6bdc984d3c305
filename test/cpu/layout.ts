// Where a test snippet lives, identical on the host (test/cpu/host-runner.c) and
// in the emu rig, which owns the definitions.

export { CODE_ADDR, CODE_MAX, DATA_ADDR, DATA_LEN, STACK_TOP, STACK_WINDOW, STACK_WINDOW_LEN, type SnippetOutcome } from '../../src/cpu/emu/test-rig.js';
