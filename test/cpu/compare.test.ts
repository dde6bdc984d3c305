// The comparison the differential tests rest on: what it ignores (RF, masked
// undefined flags) and what it must never ignore.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffOutcomes } from './compare.js';
import { matchesKnown, uniqueCases } from './differential.js';
import { AF, CF, OF, RF } from './diff-case.js';
import { CODE_ADDR, DATA_LEN, STACK_WINDOW_LEN, type SnippetOutcome } from './layout.js';

function outcome(over: Partial<SnippetOutcome> = {}): SnippetOutcome {
  return {
    vector: -1,
    errorCode: -1,
    regs: [1, 2, 3, 4, 5, 6, 7, 8],
    eip: CODE_ADDR + 3,
    eflags: 0x202,
    data: new Uint8Array(DATA_LEN),
    stack: new Uint8Array(STACK_WINDOW_LEN),
    ...over,
  };
}

test('compare: identical outcomes agree; RF is never compared', () => {
  assert.deepEqual(diffOutcomes(outcome(), outcome(), 0), []);
  assert.deepEqual(diffOutcomes(outcome({ eflags: 0x202 | RF }), outcome(), 0), []);
});

test('compare: masked flags are ignored, unmasked ones are not', () => {
  assert.deepEqual(diffOutcomes(outcome({ eflags: 0x202 | OF }), outcome(), OF), []);
  const d = diffOutcomes(outcome({ eflags: 0x202 | OF | CF }), outcome(), OF | AF);
  assert.equal(d.length, 1);
  assert.match(d[0], /eflags.*differing 0x1\b/);
});

test('compare: registers, EIP, data, stack, vectors and #GP error codes all count', () => {
  const regs = [1, 2, 3, 4, 5, 6, 7, 9];
  assert.match(diffOutcomes(outcome(), outcome({ regs }), 0)[0], /^edi: expected 0x8, got 0x9/);
  assert.match(diffOutcomes(outcome(), outcome({ eip: CODE_ADDR + 4 }), 0)[0], /^eip/);
  const data = new Uint8Array(DATA_LEN);
  data[17] = 1;
  assert.match(diffOutcomes(outcome(), outcome({ data }), 0)[0], /^data\[17\]/);
  const stack = new Uint8Array(STACK_WINDOW_LEN);
  stack[300] = 1;
  assert.match(diffOutcomes(outcome(), outcome({ stack }), 0)[0], /^stack/);
  assert.match(diffOutcomes(outcome({ vector: 0 }), outcome(), 0)[0], /vector: expected #DE, got no exception/);
  assert.match(diffOutcomes(outcome({ vector: 13, errorCode: 0 }), outcome({ vector: 13, errorCode: 0x182 }), 0)[0], /error code/);
  assert.match(diffOutcomes(outcome(), outcome({ abnormal: 'emu stopped with triple fault' }), 0)[0], /triple fault/);
});

test('known-bug entries match exactly or by a trailing-* prefix', () => {
  assert.ok(matchesKnown('bcd/aaa al=0x1', ['bcd/aaa *']));
  assert.ok(matchesKnown('x87/fsqrt 7', ['x87/fsqrt 7']));
  assert.ok(!matchesKnown('x87/fsqrt 70', ['x87/fsqrt 7']));
  assert.ok(!matchesKnown('bcd/aas al=0x1', ['bcd/aaa *']));
});

test('identical generated cases collapse; a reused name with other content throws', () => {
  const same = { name: 'x', asm: 'nop' };
  assert.equal(uniqueCases({ name: 'g', cases: [same, { ...same }] }).cases.length, 1);
  assert.throws(() => uniqueCases({ name: 'g', cases: [same, { name: 'x', asm: 'hlt' }] }), /two different cases named "x"/);
});
