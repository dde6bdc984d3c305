// The 64-bit hypercall fuzz from a guest on the KVM backend. kernel.asm (+ its .inc
// files, built here with nasm -f bin) enters long mode itself and makes tens of
// thousands of seeded hypercalls from 64-bit code (RAX = number; RDI RSI RDX R10 R8;
// x86_64 struct layouts; 64-bit handles) through the real toolstack, while the 32-bit
// fuzzer's bystander domain (test/guests/xen-fuzz, on the software CPU) holds 8 MiB of
// known RAM beside it. Asserted: the isa-debug-exit status, the call count, no result
// outside "≥ 0 or minus a Xen errno", every call with bits above 31 in RAX answered
// -ENOSYS, per-family coverage with successes, the fixed list of 64-bit bad-argument
// calls with Xen's exact answers, the guest's code and page tables unchanged, no
// hypercall handler failing (the dispatcher hides that as -ENOSYS: the domain log is
// read), the bystander's RAM unchanged, and dom0 (this process) still answering with
// its xenstore unchanged but for the fuzzer's own nodes, although the guest also
// scribbles on its xenstore and console rings and signals dom0.
//
// Replay a seed: XEN64_FUZZ_SEED=0x1234 node --test dist/test/guests/xen64-fuzz/
// (XEN64_FUZZ_CALLS=N changes the count).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as XEN_ERRNOS from '../../../src/abi/xen-errno.js';
import { XEN_EDOM } from '../../../src/abi/memory.js';
import { GNTST_bad_virt_addr, GNTST_okay } from '../../../src/abi/grant-table.js';
import { debugExitStatus } from '../../../src/devices/debug-exit/device.js';
import { GuestSession } from '../../../src/toolstack/harness.js';
import type { LogEntry } from '../../../src/toolstack/worker-protocol.js';
import { XsClient } from '../../../src/pv/xenstore/client.js';
import { kvmSkipReason, skipLoudly } from '../../../src/cpu/kvm/kvm-test-support.js';
import { buildFlatNasmKernel, buildNasmKernel, nasmToolsMissing } from '../nasm-kernel.js';
import { BYSTANDER_SEED, bystanderHash, dumpStore, waitForDebugcon } from '../xen-guest-support.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const SOURCE = join(root, 'test/guests/xen64-fuzz');
const BYSTANDER_SOURCE = join(root, 'test/guests/xen-fuzz');

const SEED = BigInt.asUintN(64, BigInt(process.env.XEN64_FUZZ_SEED ?? '0x64f0220c5eed1234'));
const CALLS = Number(process.env.XEN64_FUZZ_CALLS ?? 50_000);
/** The families the fuzz aims at (kernel.asm's family_tab). */
const FAMILIES = [12, 13, 17, 18, 20, 24, 29, 32, 33, 34];

const { XEN_EPERM, XEN_EFAULT, XEN_EINVAL, XEN_ENOSYS } = XEN_ERRNOS;

// Every negative result must be one of Xen's errnos (xen/include/public/errno.h):
// xen-errno.ts's set plus EDOM (33), which memory_op gives for a start extent that
// does not fit.
const ALLOWED_ERRNOS = [...new Set([...Object.values(XEN_ERRNOS), XEN_EDOM])].sort((a, b) => a - b);

/**
 * checks.inc's list in its order, with Xen's answers to a 64-bit HVM caller ('nonneg':
 * any result ≥ 0; `status`: the element's GNTST code, the call itself returning 0).
 */
const EXPECTED: Array<[name: string, rc: number | 'nonneg', status?: number]> = [
  ['xen_version_version', 'nonneg'],
  ['xen_version_features_kernel_alias', 0],
  ['xen_version_features_noncanonical', -XEN_EFAULT],
  ['xen_version_features_across_hole', -XEN_EFAULT],
  ['xen_version_features_hole_high_edge', -XEN_EFAULT],
  ['xen_version_features_first_high_unmapped', -XEN_EFAULT],
  ['xen_version_features_unmapped_pml4', -XEN_EFAULT],
  ['xen_version_features_unmapped_pte', -XEN_EFAULT],
  ['xen_version_features_across_ram_end', -XEN_EFAULT],
  ['xen_version_features_lapic_mmio', -XEN_EFAULT],
  ['xen_version_features_ioapic_mmio', -XEN_EFAULT],
  // hvm_copy_to_guest_linear walks with PFEC_write_access: a read-only page refuses
  // (get_features reads index 0 from it first, then cannot write the submap).
  ['xen_version_features_readonly_page', -XEN_EFAULT],
  ['xen_version_extraversion_readonly_page', -XEN_EFAULT],
  ['rax_high_xen_version', -XEN_ENOSYS],
  ['rax_bit63_xen_version', -XEN_ENOSYS],
  ['rax_high_memory_op', -XEN_ENOSYS],
  ['unknown_op_63', -XEN_ENOSYS],
  ['unknown_op_127', -XEN_ENOSYS],
  ['memory_map_noncanonical_arg', -XEN_EFAULT],
  ['memory_map_noncanonical_buffer', -XEN_EFAULT],
  ['memory_map_readonly_buffer', -XEN_EFAULT],
  ['memory_map_upper_half_buffer', 0],
  ['memory_add_to_physmap_shared_info_idx1', -XEN_EINVAL],
  // guest_handle_okay() is true for HVM callers: the bad list shows when written.
  ['gnttab_setup_table_noncanonical_list', 0, GNTST_bad_virt_addr],
  ['gnttab_setup_table_upper_half_list', 0, GNTST_okay],
  ['gnttab_query_size_noncanonical_uop', -XEN_EFAULT],
  ['sched_poll_200_ports', -XEN_EINVAL],
  ['sched_poll_noncanonical_ports', -XEN_EFAULT],
  ['multicall_noncanonical_list', -XEN_EFAULT],
  ['multicall_one_entry', 0],
  ['multicall_entry_result', -XEN_EFAULT],
  // The multicall entry's op is a xen_ulong_t: bits above 31 make it no hypercall.
  ['multicall_entry_op_high_bits', 0],
  ['multicall_entry_op_high_bits_result', -XEN_ENOSYS],
  // A multicall inside a multicall: the entry is refused (common/multicall.c's reentry check).
  ['multicall_nested', 0],
  ['multicall_nested_result', -XEN_EINVAL],
  // do_xen_version(int cmd), do_vcpu_op(int cmd, unsigned int vcpuid),
  // do_grant_table_op(unsigned int cmd, handle, unsigned int count): the low halves.
  ['xen_version_cmd_high_bits', 0x40011],
  ['vcpu_is_up_vcpuid_high_bits', 1],
  ['gnttab_query_size_count_high_bits', 0, GNTST_okay],
  // do_memory_op(unsigned long cmd): start extent 2^40 >= nr_extents 0 is returned whole.
  ['memory_increase_reservation_start_2pow40', 2 ** 40],
  ['evtchn_status_noncanonical', -XEN_EFAULT],
  ['hvm_get_param_noncanonical', -XEN_EFAULT],
  ['console_io_write_noncanonical', -XEN_EFAULT],
  ['console_io_write_across_hole', -XEN_EFAULT],
  ['vcpu_register_vcpu_info_noncanonical', -XEN_EFAULT],
  ['evtchn_status_foreign', -XEN_EPERM],
  ['memory_current_reservation_foreign', -XEN_EPERM],
];

/** The checks that hand Xen a read-only mapping to write through (the second test). */
const readOnlyCheck = (name: string): boolean => name.includes('readonly');

const skip = kvmSkipReason() ?? nasmToolsMissing('the 64-bit Xen fuzz guest');





interface FuzzRun {
  out: string;
  exitStatus: number | undefined;
  exitDetail: string;
  log: LogEntry[];
  wallMs: number;
  storeChanged: string[];
  dom0Read: string | null | undefined;
  fuzzerName: string;
  bystanderState: string;
  bystanderExpected: string;
  bystanderReady: string;
  bystanderFinal: string | undefined;
  bystanderExit: number | undefined;
}

/** One fuzz run (the bystander beside it), everything the two tests look at collected. */
async function runFuzz(): Promise<FuzzRun> {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-xen64-fuzz-'));
  const sessions: GuestSession[] = [];
  try {
    const common = { xen_interface: 1, debugcon: 'port=0xe9', isa_debug_exit: 'iobase=0xf4,iosize=0x04', on_crash: 'destroy', on_poweroff: 'destroy' };
    const warn = (): void => {};

    // The bystander (xen-fuzz's, 32-bit, on the software CPU) fills its region first.
    const bystander = await GuestSession.start(
      {
        ...common,
        name: 'xen64-fuzz-bystander',
        kernel: buildNasmKernel(BYSTANDER_SOURCE, dir, 'bystander.elf'),
        cpu_backend: 'emu',
        memory: 32,
        serial: 'pty',
        cmdline: `xen-fuzz.elf bystander seed=0x${BYSTANDER_SEED.toString(16)}`,
      },
      [],
      { baseDir: dir, warn },
    );
    sessions.push(bystander);
    const bystanderExpected = bystanderHash(BYSTANDER_SEED);
    const ready = await waitForDebugcon(bystander, /bystander ready hash=([0-9a-f]{8})\n/, 60_000);

    // dom0's xenstore before the fuzzer exists: afterwards only its own nodes may differ.
    const xs = new XsClient(bystander.handle.xenstore);
    const storeBefore = dumpStore(xs);

    const log: LogEntry[] = [];
    const started = performance.now();
    const fuzzer = await GuestSession.start(
      {
        ...common,
        name: 'xen64-fuzz',
        kernel: buildFlatNasmKernel(SOURCE, dir, 'xen64-fuzz.bin'),
        cpu_backend: 'kvm',
        memory: 64,
        serial: 'none',
        cmdline: `xen64-fuzz seed=0x${SEED.toString(16)} calls=${CALLS} foreign=${bystander.domid} errnos=${ALLOWED_ERRNOS.join(',')}`,
      },
      [],
      { baseDir: dir, warn },
    );
    sessions.push(fuzzer);
    fuzzer.handle.on('log', (e) => log.push(e));
    const exit = await fuzzer.waitForExit({ timeoutMs: 150_000 });
    const wallMs = performance.now() - started;
    const out = fuzzer.debugconOutput(0xe9);
    const warnings = log.filter((e) => e.level === 'warn');
    console.log(
      `xen64-fuzz seed 0x${SEED.toString(16)}, ${CALLS} calls, ${(wallMs / 1000).toFixed(1)} s wall, ` +
        `${warnings.length} warnings in the domain log (first: ${warnings.slice(0, 3).map((e) => e.message).join(' | ')}):\n${out}`,
    );

    // Nothing outside the fuzzer's own xenstore nodes may change.
    const ownRoots = [`/local/domain/${fuzzer.domid}`, `/vm/${fuzzer.domid}`];
    const own = (p: string): boolean => ownRoots.some((r) => p === r || p.startsWith(`${r}/`));
    const storeAfter = dumpStore(xs);
    const storeChanged = [...new Set([...storeBefore.keys(), ...storeAfter.keys()])]
      .filter((p) => !own(p) && storeBefore.get(p) !== storeAfter.get(p))
      .map((p) => `${p}: ${storeBefore.get(p)} -> ${storeAfter.get(p)}`);
    // dom0 (this process) still answers: a xenstore read, the fuzzer's record.
    const dom0Read = xs.tryRead(`/local/domain/${bystander.domid}/name`);
    const fuzzerName = fuzzer.handle.info().name;

    // The bystander, still running, hashes its region again.
    const bystanderState = bystander.handle.info().state;
    bystander.type('q');
    const byExit = await bystander.waitForExit({ timeoutMs: 60_000 });
    const final = /bystander final hash=([0-9a-f]{8})\n/.exec(bystander.debugconOutput(0xe9));
    return {
      out,
      exitStatus: exit.exitStatus,
      exitDetail: JSON.stringify(exit),
      log,
      wallMs,
      storeChanged,
      dom0Read,
      fuzzerName,
      bystanderState,
      bystanderExpected,
      bystanderReady: ready[1],
      bystanderFinal: final?.[1],
      bystanderExit: byExit.exitStatus,
    };
  } finally {
    for (const s of sessions) await s.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

let run: Promise<FuzzRun> | undefined;
const fuzzRun = (): Promise<FuzzRun> => (run ??= runFuzz());

type CheckLine = { name: string; rc: number; status: number | undefined; verdict: string };

/** The guest's "check ..." lines. */
function checkLines(out: string): CheckLine[] {
  return [...out.matchAll(/^check (\S+) rc=(-?\d+) want=(\S+?)(?: status=(-?\d+) want=(-?\d+))? (ok|FAIL)$/gm)].map((m) => ({
    name: m[1],
    rc: Number(m[2]),
    status: m[4] === undefined ? undefined : Number(m[4]),
    verdict: m[6],
  }));
}

/** What is wrong with the lines for `which` of EXPECTED, compared with Xen's answers. */
function wrongChecks(lines: CheckLine[], which: (name: string) => boolean): string[] {
  const wrong: string[] = [];
  EXPECTED.forEach(([name, rc, status], i) => {
    if (!which(name)) return;
    const l = lines[i];
    const rcOk = rc === 'nonneg' ? l.rc >= 0 : l.rc === rc;
    const statusOk = status === undefined ? l.status === undefined : l.status === status;
    if (!rcOk || !statusOk || l.verdict !== 'ok') wrong.push(`${name}: rc ${l.rc} (want ${rc})${l.status !== undefined ? `, status ${l.status} (want ${status})` : ''}, guest says ${l.verdict}`);
  });
  return wrong;
}

test(
  '64-bit Xen hypercall fuzz guest on KVM: seeded long-mode hypercalls answer ≥ 0 or a Xen errno, bad 64-bit handles and RAX give Xen’s answers, a bystander domain and dom0 untouched',
  { timeout: 180_000 },
  async (t) => {
    if (skip) return skipLoudly(t, skip);
    const r = await fuzzRun();
    const out = r.out;
    assert.equal(r.bystanderReady, r.bystanderExpected, 'the bystander filled its RAM as the test computes it');
    assert.deepEqual(r.storeChanged, [], "dom0's and the bystander's xenstore nodes are unchanged");
    assert.equal(r.dom0Read, 'xen64-fuzz-bystander', "dom0's xenstore still answers");
    assert.equal(r.fuzzerName, 'xen64-fuzz');
    assert.ok(r.bystanderState !== 's' && r.bystanderState !== 'c', `the bystander ran beside the whole fuzz (state ${r.bystanderState})`);
    assert.ok(r.bystanderFinal, 'the bystander hashed its RAM again');
    assert.equal(r.bystanderFinal, r.bystanderExpected, "the bystander's RAM is unchanged after the fuzz");
    assert.equal(r.bystanderExit, debugExitStatus(0), 'the bystander exits 0 (its hash unchanged)');

    // No exception in the guest, no handler failure hidden behind -ENOSYS.
    assert.doesNotMatch(out, /^exception /m);
    const failures = r.log.filter((e) => e.level === 'error' || /handler failed/.test(e.message));
    assert.deepEqual(failures.map((e) => e.message), [], 'hypercall handlers never threw');

    // The fuzz phase: calls, violations, per-op coverage.
    const total = /^fuzz calls=(\d+) violations=(\d+)$/m.exec(out);
    assert.ok(total, `no summary line in:\n${out}`);
    assert.ok(Number(total[1]) >= CALLS, `only ${total[1]} hypercalls`);
    assert.equal(Number(total[2]), 0, `violations:\n${out.split('\n').filter((l) => l.startsWith('violation')).join('\n')}`);
    const perOp = [...out.matchAll(/^op (\d+) calls=(\d+) ok=(\d+) violations=(\d+)$/gm)];
    const high = /^rax_high calls=(\d+) ok=(\d+) violations=(\d+) enosys=(\d+)$/m.exec(out);
    const unknown = /^rax_unknown calls=(\d+) ok=(\d+) violations=(\d+) enosys=(\d+)$/m.exec(out);
    assert.ok(high && unknown, 'rax_high and rax_unknown lines');
    assert.equal(perOp.reduce((n, m) => n + Number(m[2]), 0) + Number(high[1]) + Number(unknown[1]), Number(total[1]), 'per-op counts add up');
    const minPerFamily = Math.floor(CALLS / 60);
    for (const op of FAMILIES) {
      const m = perOp.find((x) => Number(x[1]) === op);
      assert.ok(m && Number(m[2]) >= minPerFamily, `op ${op} was fuzzed (${m?.[2] ?? 0} calls, want ≥ ${minPerFamily})`);
    }
    // Mostly-valid sub-ops and structs reach the families' success paths, not only their errors.
    const minOk = Math.max(1, Math.floor(CALLS / 600));
    for (const op of [12, 13, 17, 18, 20, 24, 29, 32, 34]) {
      const m = perOp.find((x) => Number(x[1]) === op)!;
      assert.ok(Number(m[3]) >= minOk, `op ${op}: only ${m[3]} of ${m[2]} calls succeeded (want ≥ ${minOk})`);
    }
    // RAX with bits above 31 is never taken for its low half.
    assert.ok(Number(high[1]) >= CALLS / 64, `only ${high[1]} calls with RAX above 32 bits`);
    assert.equal(Number(high[4]), Number(high[1]), 'every call with bits above 31 in RAX was -ENOSYS');
    // Nor is a 32-bit number past the table (bit 31 too: no Viridian here).
    assert.ok(Number(unknown[1]) >= CALLS / 200, `only ${unknown[1]} calls with unknown numbers`);
    assert.equal(Number(unknown[4]), Number(unknown[1]), 'every unknown 32-bit number was -ENOSYS');

    // dom0's side: the guest found and scribbled on its xenstore and console rings, and
    // dom0 read what it wrote (and, above, kept its own nodes and kept answering).
    assert.match(out, /^rings store_port=[1-9]\d* cons_port=[1-9]\d* mapped=1,1$/m, 'both ring pages mapped, both ports known');
    const xsRing = /^xenstore ring req_cons=(\d+) rsp_prod=(\d+)$/m.exec(out);
    const consRing = /^console ring out_cons=(\d+)$/m.exec(out);
    assert.ok(xsRing && consRing, 'ring indices printed');
    assert.ok(Number(xsRing[1]) + Number(consRing[1]) > 0, 'dom0 consumed what the guest put on its rings');

    // The fixed list (but the read-only ones, the next test's), with Xen's values.
    const lines = checkLines(out);
    assert.deepEqual(lines.map((l) => l.name), EXPECTED.map((e) => e[0]), 'the guest ran the whole list, in order');
    assert.deepEqual(wrongChecks(lines, (n) => !readOnlyCheck(n)), [], 'bad 64-bit arguments answer as Xen does');

    const integrity = /^integrity code=(\w+) tables=(\w+) readonly=(\w+)$/m.exec(out);
    assert.ok(integrity, 'an integrity line');
    assert.equal(integrity[1], 'ok', "the fuzzer's code and constants are unchanged");
    assert.equal(integrity[2], 'ok', "the fuzzer's page tables and IDT are unchanged");
    // The guest ends deliberately, its verdict agreeing with the list and the hashes.
    const pass = wrongChecks(lines, () => true).length === 0 && integrity[3] === 'ok';
    assert.match(out, pass ? /^result pass$/m : /^result fail \d+$/m);
    assert.equal(r.exitStatus, debugExitStatus(pass ? 0 : 1), `fuzzer exit: ${r.exitDetail}`);
  },
);

test(
  '64-bit Xen hypercall fuzz guest on KVM: a handle to a read-only mapping is refused for writes (-EFAULT) and nothing is written there',
  { timeout: 180_000 },
  async (t) => {
    if (skip) return skipLoudly(t, skip);
    const r = await fuzzRun();
    const lines = checkLines(r.out);
    assert.deepEqual(lines.map((l) => l.name), EXPECTED.map((e) => e[0]), 'the guest ran the whole list, in order');
    assert.deepEqual(wrongChecks(lines, readOnlyCheck), [], 'Xen\'s hvm_copy_to_guest_linear honours the guest PTE\'s R/W bit (CR0.WP set)');
    assert.match(r.out, /^integrity code=\w+ tables=\w+ readonly=ok$/m, 'the read-only boot page the fuzz hands out and the checks\' read-only page are unchanged');
  },
);
