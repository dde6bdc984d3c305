// `tsxen save` and `tsxen restore` end to end, as a user runs them: a Multiboot
// guest counts PIT periods and writes each count's low byte to debugcon (stdout);
// it is saved mid-run (its `tsxen create` exits 0), restored by another process —
// on the same or the other CPU backend — and must continue the count with nothing
// repeated or lost, ending with its isa-debug-exit status as tsxen's exit status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeGuestDir } from '../toolstack/testing/guest-files.js';
import { assemble, kvmSkipReason, skipLoudly } from '../cpu/kvm/kvm-test-support.js';
import { X86_64_ONLY_FLAGS } from '../hypervisor/cpuid-policy.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const TICKS = 3000;

/**
 * Flat 32-bit Multiboot kernel (a.out kludge). PIT channel 0 runs at 1 kHz and the
 * guest polls its latched count: each reload (the count going up) is one tick. It
 * polls rather than taking IRQ 0 because kvm-pvm, the KVM of these machines, cannot
 * emulate a protected-mode IRET (domain-save.test.ts covers IRQs across backends in
 * real mode). Exit status (0x10 << 1) | 1 = 33 after TICKS ticks.
 */
const COUNTER = `bits 32
org 0x100000
MAGIC equ 0x1BADB002
FLAGS equ 1 << 16
header:
  dd MAGIC, FLAGS, -(MAGIC + FLAGS)
  dd header, 0x100000, 0, 0, start
start:
  mov al, 0x34        ; channel 0, lo/hi, mode 2
  out 0x43, al
  mov ax, 1193        ; 1.193182 MHz / 1193 = 1 kHz
  out 0x40, al
  mov al, ah
  out 0x40, al
  mov ebx, 0xffff
poll:
  mov al, 0x00        ; latch channel 0
  out 0x43, al
  in al, 0x40
  mov cl, al
  in al, 0x40
  mov ch, al
  movzx ecx, cx
  cmp ecx, ebx
  mov ebx, ecx
  jbe poll
  inc dword [count]
  mov eax, [count]
  out 0xe9, al
  cmp dword [count], ${TICKS}
  jb poll
  mov al, 0x10
  out 0xf4, al
  cli
  hlt
count: dd 0
`;

interface Run {
  out: number[];
  stderr: () => string;
  exited: Promise<number | null>;
  kill: () => void;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: number[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(...d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': the exit can come before the last stdout bytes are read.
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exited.then(() => clearTimeout(killer));
  return { out, stderr: () => stderr, exited, kill: () => child.kill('SIGKILL') };
}

async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** xl cpuid pinning a KVM domain to the software CPU's CPUID, so its image restores on emu. */
const PIN_TO_EMU = `cpuid = "host,${X86_64_ONLY_FLAGS.map((f) => `${f}=0`).join(',')}"\n`;

async function saveAndRestore(from: 'emu' | 'kvm', to: 'emu' | 'kvm'): Promise<void> {
  const g = makeGuestDir();
  try {
    writeFileSync(join(g.dir, 'counter.bin'), assemble(COUNTER));
    const pin = from === 'kvm' && to === 'emu' ? PIN_TO_EMU : '';
    g.cfg('cnt.cfg', `name = "cnt"\nkernel = "counter.bin"\nmemory = 32\nserial = "none"\n${pin}cpu_backend = "${from}"\ndebugcon = [ "port=0xe9,stdio" ]\nisa_debug_exit = "iobase=0xf4,iosize=0x04"\n`);
    const env = { ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run') };
    const image = join(g.dir, 'cnt.save');

    const first = run(['create', 'cnt.cfg'], g.dir, env);
    try {
      await waitFor(() => first.out.length >= 200, `200 ticks from the ${from} guest (stderr: ${first.stderr()})`);
      // Not spawnSync: this process must keep reading the guest's output meanwhile. (A
      // reader that stalls makes tsxen queue stdout writes, and its process.exit drops them.)
      const save = run(['save', 'cnt', 'cnt.save'], g.dir, env);
      assert.equal(await save.exited, 0, save.stderr());
      assert.match(save.stderr(), new RegExp(`^tsxen save: domain cnt saved to ${image.replace(/[.]/g, '\\.')} \\(\\d+\\.\\d MiB\\)\n$`));
      assert.equal(await first.exited, 0, first.stderr());
    } finally {
      first.kill();
    }
    assert.ok(existsSync(image));
    assert.ok(first.out.length < TICKS, `the first run counted to the end (${first.out.length}) before the save`);

    const second = run(['restore', '--cpu-backend', to, 'cnt.save'], g.dir, env);
    try {
      assert.equal(await second.exited, 33, second.stderr());
    } finally {
      second.kill();
    }
    assert.match(second.stderr(), new RegExp(`tsxen: domain cnt restored from cnt\\.save \\(saved .* on ${from}, running on ${to}\\)`));
    const all = [...first.out, ...second.out];
    assert.equal(all.length, TICKS, `${first.out.length} ticks before the save + ${second.out.length} after`);
    all.forEach((b, i) => assert.equal(b, (i + 1) & 0xff, `tick ${i + 1} wrote ${b} (save after ${first.out.length})`));
  } finally {
    g.remove();
  }
}

test('tsxen save, then tsxen restore: the emu guest counts on with no tick repeated or lost', async () => {
  await saveAndRestore('emu', 'emu');
});

test('an image saved on emu restores on kvm, and one saved on kvm restores on emu', async (t) => {
  const skip = kvmSkipReason();
  if (skip) return skipLoudly(t, skip);
  await saveAndRestore('emu', 'kvm');
  await saveAndRestore('kvm', 'emu');
});

test('tsxen restore of a missing, foreign or truncated file, and tsxen save of no domain: exit 1 with the reason', async () => {
  const g = makeGuestDir();
  try {
    const env = { ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run') };
    const status = async (args: string[]) => {
      const r = run(args, g.dir, env);
      return { code: await r.exited, stderr: r.stderr() };
    };
    let r = await status(['restore', 'none.save']);
    assert.deepEqual(r, { code: 1, stderr: 'tsxen restore: none.save: no such file\n' });
    writeFileSync(join(g.dir, 'cfg.save'), 'name = "x"\nmemory = 64\n');
    r = await status(['restore', 'cfg.save']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'tsxen restore: cfg.save: not a tsxen save image (it starts with "name = \\"", not "TSXENSAV")\n');
    writeFileSync(join(g.dir, 'cut.save'), Uint8Array.from([...'TSXENSAV'].map((c) => c.charCodeAt(0)).concat([1, 0, 0, 0, 0, 0, 0, 0, 1, 0])));
    r = await status(['restore', 'cut.save']);
    assert.deepEqual(r, { code: 1, stderr: 'tsxen restore: cut.save: truncated: record 0 starts at byte 16 but the file ends at 18 (no END record)\n' });
    r = await status(['restore', '--cpu-backend', 'fast', 'cut.save']);
    assert.deepEqual(r, { code: 1, stderr: 'tsxen restore: --cpu-backend must be auto, kvm or emu, not "fast"\n' });
    r = await status(['save', 'nosuch', 'x.save']);
    assert.deepEqual(r, { code: 1, stderr: 'tsxen save: no running domain named nosuch (see tsxen list)\n' });
    assert.ok(!existsSync(join(g.dir, 'x.save')));
  } finally {
    g.remove();
  }
});

test('tsxen save -c keeps the guest running; tsxen restore -p waits paused until tsxen unpause', async () => {
  const g = makeGuestDir();
  try {
    writeFileSync(join(g.dir, 'counter.bin'), assemble(COUNTER));
    g.cfg('cnt.cfg', 'name = "cntc"\nkernel = "counter.bin"\nmemory = 32\nserial = "none"\ncpu_backend = "emu"\ndebugcon = [ "port=0xe9,stdio" ]\nisa_debug_exit = "iobase=0xf4,iosize=0x04"\n');
    const env = { ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run') };
    const tsxen = async (args: string[]) => {
      const r = run(args, g.dir, env);
      return { code: await r.exited, stdout: Buffer.from(r.out).toString(), stderr: r.stderr() };
    };

    // The checkpoint: the original runs on to its end, untouched.
    const first = run(['create', 'cnt.cfg'], g.dir, env);
    let atSave: number;
    try {
      await waitFor(() => first.out.length >= 200, `200 ticks (stderr: ${first.stderr()})`);
      const save = await tsxen(['save', '-c', 'cntc', 'ck.save']);
      atSave = first.out.length;
      assert.equal(save.code, 0, save.stderr);
      assert.equal(await first.exited, 33, first.stderr());
    } finally {
      first.kill();
    }
    assert.equal(first.out.length, TICKS);
    first.out.forEach((b, i) => assert.equal(b, (i + 1) & 0xff));

    // The restored copy starts paused: no tick until unpause, then it counts from the checkpoint on.
    const second = run(['restore', '-p', 'ck.save'], g.dir, env);
    try {
      let row = '';
      await waitFor(() => existsSync(join(g.dir, 'run', 'cntc.sock')), 'the restored control socket');
      for (let i = 0; i < 100 && !/--p---/.test(row); i++) {
        row = (await tsxen(['list'])).stdout.split('\n')[1] ?? '';
      }
      assert.match(row, /^cntc +\d+ +32 +1  --p--- /);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(second.out.length, 0, 'a paused domain counted');
      assert.equal((await tsxen(['unpause', 'cntc'])).code, 0);
      assert.equal(await second.exited, 33, second.stderr());
    } finally {
      second.kill();
    }
    const from = TICKS - second.out.length;
    // The checkpoint was taken between the first 200 ticks seen and the save's answer.
    assert.ok(from >= 200 && from < TICKS, `restored from tick ${from} (the save answered when ${atSave} were seen)`);
    second.out.forEach((b, i) => assert.equal(b, (from + i + 1) & 0xff, `restored tick ${from + i + 1}`));
  } finally {
    g.remove();
  }
});
