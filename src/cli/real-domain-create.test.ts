// `tsxen create` of a real (tiny) Multiboot kernel on the hypervisor's Domain: the
// config detects Multiboot, the domain boots it, the guest writes 3 to isa-debug-exit
// and tsxen exits with (3 << 1) | 1 = 7, as QEMU would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MULTIBOOT_MAGIC } from '../toolstack/kernel-kind.js';
import { makeGuestDir } from '../toolstack/testing/guest-files.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const LOAD = 0x100000;
const AOUT_KLUDGE = 1 << 16;

/** A Multiboot a.out-kludge image (header at offset 0) whose code writes `value` to port 0xf4 and halts. */
function debugExitKernel(value: number): Uint8Array {
  const bytes = new Uint8Array(4096);
  const v = new DataView(bytes.buffer);
  const fields = [MULTIBOOT_MAGIC, AOUT_KLUDGE, (-(MULTIBOOT_MAGIC + AOUT_KLUDGE)) >>> 0, LOAD, LOAD, 0, 0, LOAD + 0x20];
  fields.forEach((f, i) => v.setUint32(i * 4, f, true));
  // mov al, value; out 0xf4, al; hlt; jmp $-1
  bytes.set([0xb0, value, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd], 0x20);
  return bytes;
}

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
