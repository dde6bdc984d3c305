// Instruction-level differential tests: every group's snippets run on the host
// CPU (an AMD EPYC here; 32-bit user mode) and on tsxen's software CPU at CPL 3
// in the same flat layout; registers, EFLAGS (minus each case's undefined-flag
// mask), EIP, exceptions, the data buffer and the stack window must agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuTestRig } from '../../src/cpu/emu/test-rig.js';
import { GROUP_BUILDERS } from './groups/index.js';
import { hostCpuVendor } from './host-cpu.js';
import { compareGroup, hostOutcomes, matchesKnown, prepareGroup, summarise, uniqueCases, type CaseFailure, type GroupResult } from './differential.js';

/**
 * Cases that fail because of bugs in the emu CPU, not in the tests: "group/case
 * name", or a prefix ending in `*`. They still run; their failures are printed
 * (loudly) instead of failing the suite. The lead decides what happens to them;
 * an entry that no longer fails is reported so it can be removed.
 */
export const KNOWN_EMU_BUGS: readonly string[] = [];

const rig = new CpuTestRig();
const results: GroupResult[] = [];

/** Failures grouped by instruction (the first word of the case name), one example each. */
function byInstruction(failures: readonly CaseFailure[]): string {
  const clusters = new Map<string, { count: number; example: string }>();
  for (const f of failures) {
    const insn = f.key.slice(f.key.indexOf('/') + 1).split(' ')[0];
    const c = clusters.get(insn);
    if (c) c.count++;
    else clusters.set(insn, { count: 1, example: f.report });
  }
  return [...clusters.entries()].map(([insn, c]) => `${insn}: ${c.count} failing case(s), e.g.\n${c.example}`).join('\n\n');
}

for (const build of GROUP_BUILDERS) {
  const group = uniqueCases(build());
  test(`differential: ${group.name} (${group.cases.length} cases)`, async () => {
    const prepared = await prepareGroup(group);
    const host = hostOutcomes(prepared);
    const emu = prepared.cases.map((c) => rig.run({ code: c.input.code, regs: c.input.regs, eflags: c.input.eflags, data: c.input.data }));
    const result = compareGroup(prepared, await host, emu, KNOWN_EMU_BUGS);
    results.push(result);
    if (result.failures.length > 0) {
      assert.fail(`${result.failures.length} of ${result.total} ${group.name} cases differ from the host CPU:\n\n${byInstruction(result.failures)}`);
    }
  });
}

test('differential: summary', () => {
  console.log(summarise(results));
  const vendor = hostCpuVendor();
  if (vendor !== 'AuthenticAMD') {
    // The emu implements AMD's values of undefined flags (fact sheet §6); other hosts differ there.
    console.log(`!!! host CPU vendor is ${vendor}, not AuthenticAMD: differences in flags the SDM leaves undefined are expected`);
  }
  const knownFailures = results.flatMap((r) => r.knownFailures);
  if (KNOWN_EMU_BUGS.length > 0) {
    const banner = '!'.repeat(78);
    console.log(`${banner}\n!!! KNOWN_EMU_BUGS is not empty: ${KNOWN_EMU_BUGS.length} entries, ${knownFailures.length} cases excused (test/cpu/differential.test.ts)\n${banner}`);
    if (knownFailures.length > 0) console.log(byInstruction(knownFailures));
    const allKeys = results.flatMap((r) => r.knownFailures.map((f) => f.key));
    const stale = KNOWN_EMU_BUGS.filter((k) => !allKeys.some((key) => matchesKnown(key, [k])));
    if (stale.length > 0) console.log(`!!! these KNOWN_EMU_BUGS entries no longer fail (remove them): ${stale.join(', ')}`);
  }
  assert.equal(results.length, GROUP_BUILDERS.length, 'every group ran');
});
