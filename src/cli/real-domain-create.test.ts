// `tsxen create` of real (tiny) Multiboot kernels on the hypervisor's Domain: the
// config detects Multiboot, the domain boots it, the guest writes 3 to isa-debug-exit
// and tsxen exits with (3 << 1) | 1 = 7, as QEMU would; an idle one is listed,
// inspected and destroyed through its control socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MULTIBOOT_MAGIC } from '../toolstack/kernel-kind.js';
import { makeGuestDir } from '../toolstack/testing/guest-files.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const LOAD = 0x100000;
const AOUT_KLUDGE = 1 << 16;

/** A Multiboot a.out-kludge image (header at offset 0) running `code` at 0x100020. */
function multibootImage(code: number[]): Uint8Array {
  const bytes = new Uint8Array(4096);
  const v = new DataView(bytes.buffer);
  const fields = [MULTIBOOT_MAGIC, AOUT_KLUDGE, (-(MULTIBOOT_MAGIC + AOUT_KLUDGE)) >>> 0, LOAD, LOAD, 0, 0, LOAD + 0x20];
  fields.forEach((f, i) => v.setUint32(i * 4, f, true));
  bytes.set(code, 0x20);
  return bytes;
}

// mov al, value; out 0xf4, al; hlt; jmp $-1
const debugExitKernel = (value: number): Uint8Array => multibootImage([0xb0, value, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd]);
// sti; hlt; jmp $-1: idles forever
const idleKernel = (): Uint8Array => multibootImage([0xfb, 0xf4, 0xeb, 0xfd]);

test('tsxen create exits with the isa-debug-exit status of a Multiboot guest', () => {
  const g = makeGuestDir();
  try {
    writeFileSync(join(g.dir, 'exit3.bin'), debugExitKernel(3));
    g.cfg('mb.cfg', 'name = "mb"\nkernel = "exit3.bin"\nmemory = 32\nserial = "none"\nisa_debug_exit = "iobase=0xf4,iosize=0x04"\n');
    const env = { ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run') };
    const dry = spawnSync(process.execPath, [MAIN, 'create', '-n', 'mb.cfg'], { cwd: g.dir, env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(JSON.parse(dry.stdout).boot, 'multiboot');
    const r = spawnSync(process.execPath, [MAIN, 'create', 'mb.cfg'], { cwd: g.dir, env, encoding: 'utf8', timeout: 30_000 });
    assert.match(r.stderr, /tsxen: domain mb: poweroff \(isa-debug-exit: guest wrote 3\); action: destroy\n/);
    assert.equal(r.status, 7, r.stderr);
  } finally {
    g.remove();
  }
});

test('the control socket of a real domain: list shows it idle, screen-text has no screen (vga="none"), destroy ends it', async () => {
  const g = makeGuestDir();
  try {
    writeFileSync(join(g.dir, 'idle.bin'), idleKernel());
    g.cfg('idle.cfg', 'name = "idle"\nkernel = "idle.bin"\nmemory = 32\nserial = "none"\n');
    const env = { ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run') };
    const tsxen = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { cwd: g.dir, env, encoding: 'utf8', timeout: 20_000 });
    const child = spawn(process.execPath, [MAIN, 'create', 'idle.cfg'], { cwd: g.dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      // Listed once the guest idles in hlt (state b).
      let row = '';
      for (let i = 0; i < 300 && !/-b----/.test(row); i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (existsSync(join(g.dir, 'run', 'idle.sock'))) row = tsxen(['list']).stdout.split('\n')[1] ?? '';
      }
      assert.match(row, new RegExp(`^idle +${child.pid} +32 +1  -b---- +\\d+\\.\\d$`));
      const text = tsxen(['screen-text', 'idle']);
      assert.equal(text.status, 1);
      assert.equal(text.stderr, 'tsxen screen-text: domain idle is not showing a text screen (no VGA card, or a graphics mode: use tsxen screenshot)\n');
      assert.equal(tsxen(['destroy', 'idle']).status, 0);
      assert.equal(await exited, 0);
      assert.match(stderr, /tsxen: domain idle destroyed\n$/);
    } finally {
      clearTimeout(killer);
    }
  } finally {
    g.remove();
  }
});

// The kvm backend through `tsxen create` (issue 6): where /dev/kvm is usable (here a
// kvm-pvm module without VT, still able to run this tiny guest) the same Multiboot
// kernel runs in a KVM vCPU and ends through isa-debug-exit; an unusable device is a
// clear error and exit status 1.
const kvmUsable = (() => {
  try {
    return existsSync('/dev/kvm') && spawnSync('test', ['-r', '/dev/kvm', '-a', '-w', '/dev/kvm']).status === 0;
  } catch {
    return false;
  }
})();
if (!kvmUsable) console.warn('SKIPPING tsxen create on cpu_backend="kvm": /dev/kvm is missing or not read/writable here');

test('tsxen create with cpu_backend="kvm" runs the Multiboot guest in a KVM vCPU', { skip: !kvmUsable }, () => {
  const g = makeGuestDir();
  try {
    writeFileSync(join(g.dir, 'exit5.bin'), debugExitKernel(5));
    g.cfg('mbk.cfg', 'name = "mbk"\nkernel = "exit5.bin"\nmemory = 32\nserial = "none"\ncpu_backend = "kvm"\nisa_debug_exit = "iobase=0xf4,iosize=0x04"\n');
    const env = { ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run') };
    const r = spawnSync(process.execPath, [MAIN, 'create', 'mbk.cfg'], { cwd: g.dir, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 11, r.stderr);
    const log = spawnSync('cat', [join(g.dir, 'log', 'mbk.log')], { encoding: 'utf8' }).stdout;
    assert.match(log, /cpu_backend=kvm: using KVM/);
  } finally {
    g.remove();
  }
});

test('cpu_backend="kvm" with an unusable KVM device is a clear error, exit status 1', () => {
  const g = makeGuestDir();
  try {
    writeFileSync(join(g.dir, 'exit5.bin'), debugExitKernel(5));
    g.cfg('mbk.cfg', 'name = "mbk2"\nkernel = "exit5.bin"\nmemory = 32\nserial = "none"\ncpu_backend = "kvm"\nisa_debug_exit = "iobase=0xf4,iosize=0x04"\n');
    const env = { ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run'), TSXEN_KVM_DEVICE: join(g.dir, 'no-such-kvm') };
    const r = spawnSync(process.execPath, [MAIN, 'create', 'mbk.cfg'], { cwd: g.dir, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cpu_backend = "kvm": .*no-such-kvm.*; to fix: /);
  } finally {
    g.remove();
  }
});
