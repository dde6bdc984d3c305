// cpu_backend choice and the errors for an unusable /dev/kvm (issue 6 §2): a
// missing path, a mode-000 file (opened as an unprivileged user when we are
// root, since root ignores file modes), a file that is not KVM, a missing capability.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseCpuBackend, kvmAvailability, KvmUnavailableError, type KvmAvailability } from './availability.js';

const probe = fileURLToPath(new URL('./kvm-probe.js', import.meta.url));

function runProbe(args: string[], asNobody = false): { status: number | null; stdout: string; stderr: string } {
  const cmd = asNobody ? 'setpriv' : process.execPath;
  const argv = asNobody ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, probe, ...args] : [probe, ...args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a missing device: not usable, and cpu_backend="kvm" exits 1 naming the path and the fallback', () => {
  const a = kvmAvailability({ devicePath: '/nonexistent/kvm' });
  assert.equal(a.usable, false);
  assert.match(a.reason, /\/nonexistent\/kvm does not exist/);
  assert.match(a.fix, /cpu_backend = "emu"/);
  const r = runProbe(['--choice', 'kvm', '--device', '/nonexistent/kvm']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^tsxen: cpu_backend = "kvm": \/nonexistent\/kvm does not exist; to fix: .*cpu_backend = "emu"/);
  // auto falls back and says why; emu never probes.
  assert.match(chooseCpuBackend('auto', () => a).message, /^cpu_backend=auto: using the software CPU \(\/nonexistent\/kvm does not exist/);
  assert.deepEqual(chooseCpuBackend('emu', () => assert.fail('emu must not probe')), { backend: 'emu', message: 'cpu_backend=emu: using the software CPU' });
});

test('a mode-000 device node: permission denied, exit 1 with how to fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-kvm-perm-'));
  try {
    const path = join(dir, 'kvm');
    writeFileSync(path, '');
    chmodSync(path, 0o000);
    chmodSync(dir, 0o755);
    const root = process.getuid?.() === 0;
    const r = runProbe(['--choice', 'kvm', '--device', path], root);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /permission denied; to fix: add this user to the device's group \(usually "kvm"\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not KVM: a clear error, never a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-kvm-file-'));
  try {
    const path = join(dir, 'kvm');
    writeFileSync(path, 'not a device');
    const a = kvmAvailability({ devicePath: path });
    assert.equal(a.usable, false);
    assert.match(a.reason, /KVM_GET_API_VERSION: Inappropriate ioctl for device/);
    const r = runProbe(['--choice', 'kvm', '--device', path]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not a working KVM device/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing capability makes cpu_backend="kvm" a KvmUnavailableError; auto needs real VT', () => {
  const lacking: KvmAvailability = { usable: false, realVt: true, pvm: false, reason: '/dev/kvm: KVM lacks KVM_CAP_X86_MSR_FILTER', fix: 'use a newer kernel (5.10+ for the MSR filter), or use cpu_backend = "emu" (the software CPU)' };
  assert.throws(() => chooseCpuBackend('kvm', () => lacking), (e: unknown) => e instanceof KvmUnavailableError && /KVM lacks KVM_CAP_X86_MSR_FILTER; to fix: use a newer kernel/.test(e.message));
  const vt: KvmAvailability = { usable: true, realVt: true, pvm: false, reason: '/dev/kvm with Intel VT-x', fix: '' };
  assert.deepEqual(chooseCpuBackend('auto', () => vt), { backend: 'kvm', message: 'cpu_backend=auto: using KVM (/dev/kvm with Intel VT-x)' });
  const soft: KvmAvailability = { ...vt, realVt: false, pvm: true, reason: '/dev/kvm is kvm-pvm' };
  assert.equal(chooseCpuBackend('auto', () => soft).backend, 'emu');
  assert.equal(chooseCpuBackend('kvm', () => soft).backend, 'kvm');
});

test('this host: /dev/kvm is probed without throwing, and kvm-pvm is never taken for real VT', () => {
  const a = kvmAvailability();
  process.stderr.write(`this host: usable=${a.usable} realVt=${a.realVt} pvm=${a.pvm}: ${a.reason}\n`);
  if (a.pvm) assert.equal(a.realVt, false);
  if (!a.usable) assert.notEqual(a.fix, '');
});
