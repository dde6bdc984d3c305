// The Debian amd64 guest on the software CPU: `tsxen create` refuses it up front
// (the kernel's xloadflags say x86-64; emu has no long mode), exit status 1, one
// message naming the kernel and what to do, and no worker. The same config with the
// 686 kernel is not refused. Runs the CLI as a user does, with the real cached
// default-amd64.cfg (guests/build.sh); no guest boots.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseCpuBackend, kvmAvailability } from '../../src/cpu/kvm/availability.js';
import { GuestSession } from '../../src/toolstack/harness.js';
import { allocateDomid, liveDomainTable, releaseDomid } from '../../src/toolstack/dom0-xenstore.js';
import { bzImageArch, LongModeKernelError } from '../../src/toolstack/kernel-kind.js';
import { kvmDevicePath } from '../../src/toolstack/run-paths.js';
import { guestFile, guestFileMissing } from './guest-cache.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SCRIPTED = new URL('../../src/toolstack/testing/scripted-domain.js', import.meta.url).href;
const CFG = 'default-amd64.cfg';

const missing = guestFileMissing(CFG) ?? guestFileMissing('vmlinuz-amd64') ?? guestFileMissing('vmlinuz-686') ?? guestFileMissing('initramfs.cpio.gz');
if (missing) process.stderr.write(`\n*** SKIPPED the amd64-on-emu refusal tests: ${missing} ***\n\n`);

/** The kernel= path default-amd64.cfg names (absolute, into the cache's keyed directory). */
function cfgKernel(): string {
  const m = /^kernel = "(.*)"$/m.exec(readFileSync(guestFile(CFG), 'utf8'));
  assert.ok(m, `${guestFile(CFG)} has no kernel = "..." line`);
  return m[1];
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The domain logs written under this run's TSXEN_LOG_DIR, by file name. */
  logs: Map<string, string>;
  /** Files left in this run's TSXEN_RUN_DIR (control and xenstore sockets). */
  runFiles: string[];
}

/** `tsxen create default-amd64.cfg ARGS...` in a child process with its own log and run directories. */
function create(args: string[], opts: { scripted?: boolean; input?: string } = {}): Run {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-amd64-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, TSXEN_LOG_DIR: join(dir, 'log'), TSXEN_RUN_DIR: join(dir, 'run') };
    delete env.TSXEN_TEST_DOMAIN_MODULE;
    if (opts.scripted) env.TSXEN_TEST_DOMAIN_MODULE = SCRIPTED;
    const r = spawnSync(process.execPath, [MAIN, 'create', guestFile(CFG), ...args], { env, input: opts.input ?? '', encoding: 'utf8', timeout: 60_000 });
    const logDir = join(dir, 'log');
    const logs = new Map<string, string>();
    if (existsSync(logDir)) for (const f of readdirSync(logDir)) logs.set(f, readFileSync(join(logDir, f), 'utf8'));
    const runFiles = existsSync(join(dir, 'run')) ? readdirSync(join(dir, 'run')) : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, logs, runFiles };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const refusal = (name: string, kernel: string): string =>
  `tsxen: cannot start domain ${name}: kernel ${kernel} is an x86-64 kernel (xloadflags XLF_KERNEL_64); ` +
  'the software CPU (cpu_backend="emu") runs 32-bit guests only — use cpu_backend="kvm" on a host with VT-x/AMD-V, or a 686 kernel\n';

/** A refused create: status 1, exactly the one message, nothing on stdout, no worker (its log has no line from one). */
function assertRefused(r: Run, name: string, kernel: string): void {
  assert.equal(r.stderr, refusal(name, kernel));
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  // The handle logs "created" before choosing the backend; the backend choice, a
  // worker's lines (boot, shutdown) would follow. Only the first line may be there.
  const log = r.logs.get(`${name}.log`) ?? '';
  assert.match(log, new RegExp(`^\\S+ info toolstack: domain ${name} created: 256 MiB, 1 vCPU\n?$`), `log of a refused domain:\n${log}`);
  assert.deepEqual(r.runFiles, [], 'no control or xenstore socket was left');
}

test('the cached kernels: vmlinuz-amd64 is x86-64, the 686 kernels are 32-bit', { skip: missing ?? false }, () => {
  assert.equal(bzImageArch(readFileSync(cfgKernel())), 'x86-64');
  assert.equal(bzImageArch(readFileSync(guestFile('vmlinuz-686'))), 'x86-32');
  if (!guestFileMissing('vmlinuz-686-pae')) assert.equal(bzImageArch(readFileSync(guestFile('vmlinuz-686-pae'))), 'x86-32');
});

test('tsxen create default-amd64.cfg cpu_backend="emu": exit 1, the reason and the fix, no worker', { skip: missing ?? false }, () => {
  const r = create(['name="amd64-emu"', 'cpu_backend="emu"']);
  assertRefused(r, 'amd64-emu', cfgKernel());
});

test('cpu_backend="auto" (the config has no cpu_backend line) refuses the same way where auto picks the software CPU', { skip: missing ?? false }, (t) => {
  assert.doesNotMatch(readFileSync(guestFile(CFG), 'utf8'), /^cpu_backend/m);
  const choice = chooseCpuBackend('auto', () => kvmAvailability({ devicePath: kvmDevicePath() }));
  if (choice.backend === 'kvm') {
    // A real-VT host: auto picks KVM, which runs x86-64 kernels; booting it is kvm-debian.test.ts's job.
    t.diagnostic(`auto picks KVM here (${choice.message}): not refused, not booted by this test`);
    return;
  }
  assertRefused(create(['name="amd64-auto"']), 'amd64-auto', cfgKernel());
});

test('the same config with the 686 kernel is not refused (scripted domain: it starts, then powers off)', { skip: missing ?? false }, () => {
  const k686 = guestFile('vmlinuz-686');
  const base = ['name="amd64-as-686"', 'cpu_backend="emu"', 'serial="stdio"'];
  const ok = create([...base, `kernel="${k686}"`, `ramdisk="${guestFile('initramfs.cpio.gz')}"`], { scripted: true, input: 'p' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /tsxen: domain amd64-as-686 started; log: /);
  assert.match(ok.stdout, /^boot 1 /);
  assert.match(ok.logs.get('amd64-as-686.log') ?? '', /cpu_backend=emu/);
  // The control: the identical run with the amd64 kernel is refused, scripted domain or not.
  assertRefused(create(base, { scripted: true, input: 'p' }), 'amd64-as-686', cfgKernel());
});

test('the harness (GuestSession.start) rejects with the typed LongModeKernelError', { skip: missing ?? false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-amd64-'));
  const saved = process.env.TSXEN_LOG_DIR;
  process.env.TSXEN_LOG_DIR = dir;
  try {
    const before = allocateDomid();
    releaseDomid(before);
    await assert.rejects(GuestSession.start(guestFile(CFG), ['name="amd64-harness"', 'cpu_backend="emu"']), (e: unknown) => e instanceof LongModeKernelError && e.kernel === cfgKernel());
    // The refused domain's id was given back: no live domain holds it.
    const refused = before + 1;
    assert.equal(new Uint8Array(liveDomainTable())[refused], 0, `domid ${refused} is not left live`);
  } finally {
    if (saved === undefined) delete process.env.TSXEN_LOG_DIR;
    else process.env.TSXEN_LOG_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
