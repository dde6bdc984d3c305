// The control channel end to end: a `tsxen create` child runs the scripted domain,
// other `tsxen` children list, inspect, trigger and destroy it through its socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { makeGuestDir, type GuestDir } from '../toolstack/testing/guest-files.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const SCRIPTED = new URL('../toolstack/testing/scripted-domain.js', import.meta.url).href;

const env = (g: GuestDir): NodeJS.ProcessEnv => ({ ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run'), TSXEN_TEST_DOMAIN_MODULE: SCRIPTED });

function tsxen(g: GuestDir, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: g.dir, env: env(g), encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `tsxen create` of the scripted domain "spell" (COM1 on stdio), ready once its socket answers. */
async function startDomain(g: GuestDir, extra: string[] = []) {
  const child = spawn(process.execPath, [MAIN, 'create', 'spelling-plain.cfg', 'memory=32', 'serial=stdio', ...extra], { cwd: g.dir, env: env(g), stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  void exited.then(() => clearTimeout(killer));
  const until = async (what: () => boolean, why: string): Promise<void> => {
    for (let i = 0; !what(); i++) {
      if (child.exitCode !== null || i > 400) assert.fail(`${why}: ${JSON.stringify(out)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await until(() => out.stdout.includes('boot 1 spell') && existsSync(join(g.dir, 'run', 'spell.sock')), 'domain did not start');
  return { child, out, exited, until };
}

test('list, screen-text, screenshot, a second domain of one name refused, destroy', async () => {
  const g = makeGuestDir();
  try {
    const d = await startDomain(g);
    d.child.stdin.write('ab');
    await d.until(() => d.out.stdout.includes('ab'), 'no echo');

    const list = tsxen(g, ['list']);
    assert.equal(list.status, 0);
    const [head, row, ...rest] = list.stdout.split('\n');
    assert.match(head, /^Name +ID +Mem +VCPUs +State +Time\(s\)$/);
    assert.match(row, new RegExp(`^spell +${d.child.pid} +32 +1  -b---- +\\d+\\.\\d$`));
    assert.deepEqual(rest, ['']);

    const text = tsxen(g, ['screen-text', 'spell']);
    assert.equal(text.status, 0);
    assert.equal(text.stdout, 'boot 1 spell\nab\n');

    const png = tsxen(g, ['screenshot', 'spell', 'shot.png']);
    assert.equal(png.status, 0, png.stderr);
    const image = PNG.sync.read(readFileSync(join(g.dir, 'shot.png')));
    assert.equal(image.width, 2);
    assert.equal(image.height, 1);
    // The scripted screen's first red value counts the bytes typed.
    assert.deepEqual(Array.from(image.data), [2, 0, 0, 255, 0, 0, 255, 255]);

    const twice = tsxen(g, ['create', 'spelling-plain.cfg', 'memory=32']);
    assert.equal(twice.status, 1);
    assert.equal(twice.stderr, `tsxen: a domain named spell is already running (its control socket ${join(g.dir, 'run', 'spell.sock')} answers)\n`);

    const destroy = tsxen(g, ['destroy', 'spell']);
    assert.equal(destroy.status, 0, destroy.stderr);
    assert.equal(await d.exited, 0);
    assert.match(d.out.stderr, /tsxen: domain spell destroyed\n$/);
    assert.equal(existsSync(join(g.dir, 'run', 'spell.sock')), false, 'the socket goes with the domain');
    assert.equal(tsxen(g, ['list']).stdout.split('\n').length, 2, 'only the heading is left');

    const gone = tsxen(g, ['destroy', 'spell']);
    assert.equal(gone.status, 1);
    assert.equal(gone.stderr, 'tsxen destroy: no running domain named spell (see tsxen list)\n');
    assert.equal(tsxen(g, ['screen-text', '../x']).stderr, 'tsxen screen-text: "../x" is not a valid domain name\n');
  } finally {
    g.remove();
  }
});

test('trigger power presses the power button; trigger reset follows on_reboot', async () => {
  const g = makeGuestDir();
  try {
    const d = await startDomain(g);
    assert.equal(tsxen(g, ['trigger', 'spell', 'power']).status, 0);
    assert.equal(await d.exited, 0);
    assert.match(d.out.stderr, /tsxen: domain spell: poweroff \(ACPI power button\); action: destroy\n/);

    const r = await startDomain(g, ['on_reboot=destroy']);
    assert.equal(tsxen(g, ['trigger', 'spell', 'reset']).status, 0);
    assert.equal(await r.exited, 3);
    assert.match(r.out.stderr, /tsxen: domain spell: reboot \(reset \(tsxen trigger\)\); action: destroy\n/);

    const bad = tsxen(g, ['trigger', 'spell', 'nmi']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'tsxen trigger: unknown trigger "nmi" (power or reset)\n');
  } finally {
    g.remove();
  }
});

test('shutdown/reboot without PV control are refused unless -F, which falls back to ACPI / reset', async () => {
  const g = makeGuestDir();
  try {
    const d = await startDomain(g);
    const refused = tsxen(g, ['shutdown', 'spell']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^tsxen shutdown: domain spell has no PV control node \(its kernel did not write control\/feature-poweroff\); use -F to press the ACPI power button\n$/);
    const forced = tsxen(g, ['shutdown', '-F', 'spell']);
    assert.equal(forced.status, 0);
    assert.equal(forced.stderr, 'tsxen shutdown: spell: pressed the ACPI power button\n');
    assert.equal(await d.exited, 0);

    const r = await startDomain(g, ['on_reboot=destroy']);
    assert.match(tsxen(g, ['reboot', 'spell']).stderr, /use -F to reset it/);
    assert.equal(tsxen(g, ['reboot', '-F', 'spell']).status, 0);
    assert.equal(await r.exited, 3);
  } finally {
    g.remove();
  }
});

test('a stale socket (its process killed) is removed by list and by create', async () => {
  const g = makeGuestDir();
  try {
    const run = join(g.dir, 'run');
    mkdirSync(run);
    const sock = join(run, 'spell.sock');
    // A process that listens and is killed leaves its socket file behind.
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    assert.equal(existsSync(sock), true);
    assert.equal(tsxen(g, ['list']).stdout.split('\n').length, 2);
    assert.equal(existsSync(sock), false, 'list removed the stale socket');

    const holder2 = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder2.stdout.once('data', () => resolve()));
    holder2.kill('SIGKILL');
    await new Promise((r) => holder2.once('exit', r));
    const d = await startDomain(g);
    d.child.stdin.write('q');
    // isa-debug-exit: the scripted guest writes 3, tsxen exits with (3 << 1) | 1.
    assert.equal(await d.exited, 7);
  } finally {
    g.remove();
  }
});

test('help lists the new commands and their usage', () => {
  const g = makeGuestDir();
  try {
    const help = tsxen(g, ['--help']).stdout;
    for (const c of ['create', 'list', 'destroy', 'screenshot', 'screen-text', 'trigger']) assert.match(help, new RegExp(`\\n  ${c} +\\S`), c);
    assert.match(tsxen(g, ['help', 'trigger']).stdout, /^usage: tsxen trigger NAME power\|reset\n/);
    assert.match(tsxen(g, ['help', 'screenshot']).stdout, /^usage: tsxen screenshot NAME FILE\.png\n/);
    const wrong = tsxen(g, ['screenshot', 'spell']);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /wrong number of arguments\nusage: tsxen screenshot NAME FILE\.png\n$/);
  } finally {
    g.remove();
  }
});
