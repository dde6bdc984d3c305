// The differential harness: assemble each group's snippets, run them on the host
// CPU and on a second CPU (tsxen's emu), compare, and summarise per group.

import { assembleSnippets } from './toolchain.js';
import { runOnHost, type SnippetInput } from './host-cpu.js';
import { diffOutcomes, describeOutcome } from './compare.js';
import { ASM_PRELUDE, flagsName, initialData, initialRegs, type DiffCase, type DiffGroup } from './diff-case.js';
import { STACK_TOP, type SnippetOutcome } from './layout.js';

export interface PreparedCase {
  /** "group/case name", the key KNOWN_EMU_BUGS entries match. */
  key: string;
  source: DiffCase;
  input: SnippetInput;
}

export interface PreparedGroup {
  name: string;
  cases: PreparedCase[];
}

/** EFLAGS a snippet starts with: the case's flags plus IF and bit 1 (user mode). */
export function startEflags(c: DiffCase): number {
  return ((c.flags ?? 0) | 0x202) >>> 0;
}

/**
 * The group with identical cases collapsed into one (edge-value lists overlap,
 * e.g. 0x81 is both "top+1" and a pattern at 8 bits); a reused name with other
 * content is a bug in the generator.
 */
export function uniqueCases(group: DiffGroup): DiffGroup {
  const byName = new Map<string, string>();
  const cases: DiffCase[] = [];
  for (const c of group.cases) {
    const content = JSON.stringify([c.asm, c.regs, c.flags, c.data && Array.from(c.data), c.flagMask]);
    const prev = byName.get(c.name);
    if (prev === undefined) {
      byName.set(c.name, content);
      cases.push(c);
    } else if (prev !== content) {
      throw new Error(`group ${group.name}: two different cases named "${c.name}"`);
    }
  }
  return { name: group.name, cases };
}

export async function prepareGroup(group: DiffGroup): Promise<PreparedGroup> {
  const { cases } = uniqueCases(group);
  const codes = await assembleSnippets(cases.map((c) => c.asm), ASM_PRELUDE);
  return {
    name: group.name,
    cases: cases.map((c, i) => ({
      key: `${group.name}/${c.name}`,
      source: c,
      input: { code: codes[i], regs: initialRegs(c, STACK_TOP), eflags: startEflags(c), data: initialData(c) },
    })),
  };
}

export async function hostOutcomes(group: PreparedGroup): Promise<SnippetOutcome[]> {
  return runOnHost(group.cases.map((c) => c.input));
}

export interface CaseFailure {
  key: string;
  report: string;
}

export interface GroupResult {
  name: string;
  total: number;
  passed: number;
  /** Failures not listed as known emu bugs: these fail the test. */
  failures: CaseFailure[];
  /** Failures listed in KNOWN_EMU_BUGS. */
  knownFailures: CaseFailure[];
}

/** True when `key` matches an entry: exact, or a prefix ending in `*`. */
export function matchesKnown(key: string, known: readonly string[]): boolean {
  return known.some((k) => (k.endsWith('*') ? key.startsWith(k.slice(0, -1)) : key === k));
}

/** A readable account of one failing case: source, inputs, both outcomes, the differences. */
export function failureReport(c: PreparedCase, expected: SnippetOutcome, actual: SnippetOutcome, diffs: string[]): string {
  const bytes = Array.from(c.input.code, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const regs = Object.entries(c.source.regs ?? {})
    .map(([r, v]) => `${r}=0x${((v as number) >>> 0).toString(16)}`)
    .join(' ');
  return [
    `${c.key}`,
    `  code: ${c.source.asm.replace(/\n/g, '; ')}  [${bytes}]`,
    `  in:   ${regs || '(default registers)'} flags=${flagsName(c.input.eflags)}`,
    `  host: ${describeOutcome(expected)}`,
    `  emu:  ${describeOutcome(actual)}`,
    ...diffs.map((d) => `  - ${d}`),
  ].join('\n');
}

/** Compare host and emu outcomes for a group. */
export function compareGroup(group: PreparedGroup, host: SnippetOutcome[], emu: SnippetOutcome[], known: readonly string[]): GroupResult {
  const result: GroupResult = { name: group.name, total: group.cases.length, passed: 0, failures: [], knownFailures: [] };
  group.cases.forEach((c, i) => {
    const diffs = diffOutcomes(host[i], emu[i], c.source.flagMask ?? 0);
    if (diffs.length === 0) {
      result.passed++;
      return;
    }
    const failure = { key: c.key, report: failureReport(c, host[i], emu[i], diffs) };
    (matchesKnown(c.key, known) ? result.knownFailures : result.failures).push(failure);
  });
  return result;
}

/** Summary lines: cases per group, pass/fail counts. */
export function summarise(results: readonly GroupResult[]): string {
  const lines = ['CPU differential tests (host CPU vs tsxen emu):'];
  let total = 0, passed = 0, failed = 0, known = 0;
  for (const r of results) {
    lines.push(`  ${r.name.padEnd(10)} ${String(r.total).padStart(6)} cases  ${String(r.passed).padStart(6)} pass  ${String(r.failures.length).padStart(5)} fail  ${String(r.knownFailures.length).padStart(5)} known-emu-bug`);
    total += r.total;
    passed += r.passed;
    failed += r.failures.length;
    known += r.knownFailures.length;
  }
  lines.push(`  ${'total'.padEnd(10)} ${String(total).padStart(6)} cases  ${String(passed).padStart(6)} pass  ${String(failed).padStart(5)} fail  ${String(known).padStart(5)} known-emu-bug`);
  return lines.join('\n');
}
