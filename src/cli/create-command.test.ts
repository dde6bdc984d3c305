// `tsxen create` end to end, as a user runs it: a child process per case. Running
// domains use the scripted stand-in domain (TSXEN_TEST_DOMAIN_MODULE).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeGuestDir, TESTDATA, type GuestDir } from '../toolstack/testing/guest-files.js';
import { BAD_CONFIGS } from '../toolstack/testing/bad-configs.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const SCRIPTED = new URL('../toolstack/testing/scripted-domain.js', import.meta.url).href;

function env(g: GuestDir): NodeJS.ProcessEnv {
  return { ...process.env, TSXEN_LOG_DIR: join(g.dir, 'log'), TSXEN_RUN_DIR: join(g.dir, 'run'), TSXEN_TEST_DOMAIN_MODULE: SCRIPTED };
}

function tsxen(g: GuestDir, args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: g.dir, env: env(g), input, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('create -n prints the parsed config as JSON (golden)', () => {
  const g = makeGuestDir();
  try {
    const r = tsxen(g, ['create', '-n', 'spelling-compact.cfg']);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.deepEqual(JSON.parse(r.stdout.replaceAll(g.dir, '<dir>')), JSON.parse(readFileSync(join(TESTDATA, 'spelling.golden.json'), 'utf8')));
    const o = tsxen(g, ['create', '--dry-run', 'spelling-plain.cfg', 'memory=64', 'name=web1']);
    assert.equal(o.status, 0);
    assert.equal(JSON.parse(o.stdout).memoryMiB, 64);
    assert.equal(JSON.parse(o.stdout).name, 'web1');
  } finally {
    g.remove();
  }
});

test('each bad config: its one message on stderr, exit status 1', () => {
  const g = makeGuestDir();
  try {
    for (const [what, text, message] of BAD_CONFIGS) {
      if (what === 'memory above the host') continue; // depends on this host's RAM; covered in domain-config.test
      g.cfg('guest.cfg', text);
      const r = tsxen(g, ['create', 'guest.cfg']);
      assert.equal(r.stderr, message.replaceAll('<dir>', g.dir) + '\n', what);
      assert.equal(r.status, 1, what);
      assert.equal(r.stdout, '', what);
      assert.equal(existsSync(join(g.dir, 'log', 'b.log')), false, `${what}: no domain was started`);
    }
    const bad = tsxen(g, ['create', 'spelling-plain.cfg', 'memory=lots']);
    assert.equal(bad.stderr, '<command line>:1: memory: expected a number, got "lots"\n');
    assert.equal(bad.status, 1);
    const missing = tsxen(g, ['create', 'nope.cfg']);
    assert.equal(missing.stderr, 'nope.cfg: config: no such file\n');
    assert.equal(missing.status, 1);
  } finally {
    g.remove();
  }
});

test('usage errors exit 2 with the usage line; help comes from the command table', () => {
  const g = makeGuestDir();
  try {
    const none = tsxen(g, ['create']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /wrong number of arguments\nusage: tsxen create \[-c\] \[-n\] CONFIG \[KEY=VALUE \.\.\.\]\n$/);
    const unknownOpt = tsxen(g, ['create', '-q', 'x.cfg']);
    assert.equal(unknownOpt.status, 2);
    assert.match(unknownOpt.stderr, /Unknown option '-q'/);
    assert.equal(tsxen(g, ['frobnicate']).status, 2);
    const help = tsxen(g, ['help', 'create']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /-c, --console +attach this terminal/);
    assert.match(help.stdout, /-n, --dry-run +parse and check the config/);
    assert.equal(tsxen(g, ['create', '--help']).stdout, help.stdout);
    assert.match(tsxen(g, ['--help']).stdout, /commands:\n  create +create a domain/);
  } finally {
    g.remove();
  }
});

test('exit status tells how the guest ended; serial=stdio carries the console', () => {
  const g = makeGuestDir();
  try {
    const base = ['create', 'spelling-plain.cfg', 'serial=stdio', 'memory=32'];
    const off = tsxen(g, base, 'hp');
    assert.equal(off.stdout, 'boot 1 spell\r\nhp');
    assert.equal(off.status, 0);
    assert.match(off.stderr, /tsxen: domain spell: poweroff \(ACPI S5\); action: destroy\n/);
    const reboot = tsxen(g, [...base, 'on_reboot=destroy'], 'r');
    assert.equal(reboot.status, 3);
    const crash = tsxen(g, base, 'c');
    assert.equal(crash.status, 4);
    assert.match(crash.stderr, new RegExp(`tsxen: domain log: ${join(g.dir, 'log', 'spell.log')}\n`));
    const exception = tsxen(g, base, 'x');
    assert.equal(exception.status, 4);
    assert.match(readFileSync(join(g.dir, 'log', 'spell.log'), 'utf8'), /Error: scripted exception/);
    // A domain that cannot start is exit 1, even with on_crash=restart.
    const r = spawnSync(process.execPath, [MAIN, ...base, 'on_crash=restart'], {
      cwd: g.dir,
      env: { ...env(g), TSXEN_TEST_DOMAIN_MODULE: new URL('./no-such-domain.js', import.meta.url).href },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /tsxen: domain spell could not start: Cannot find module .*no-such-domain\.js/);
    // Each run starts a fresh domain log; the previous one is kept as .1.
    assert.doesNotMatch(readFileSync(join(g.dir, 'log', 'spell.log'), 'utf8'), /scripted exception/);
    assert.match(readFileSync(join(g.dir, 'log', 'spell.log.1'), 'utf8'), /Error: scripted exception/);
  } finally {
    g.remove();
  }
});

/** A running `tsxen` child whose output can be awaited. */
function start(g: GuestDir, args: string[]) {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: g.dir, env: env(g), stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const waiters: Array<() => void> = [];
  const poke = (): void => waiters.splice(0).forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => ((out.stdout += d.toString('latin1')), poke()));
  child.stderr.on('data', (d: Buffer) => ((out.stderr += d.toString()), poke()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  void exited.then(() => clearTimeout(killer));
  const waitFor = async (which: 'stdout' | 'stderr', text: string): Promise<void> => {
    while (!out[which].includes(text)) {
      if (child.exitCode !== null) assert.fail(`tsxen exited before "${text}" on ${which}: ${JSON.stringify(out)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { child, out, exited, waitFor };
}

test('-c: typed bytes reach the guest, guest bytes reach stdout unmodified, Ctrl-] destroys', async () => {
  const g = makeGuestDir();
  try {
    const t = start(g, ['create', '-c', 'spelling-plain.cfg', 'memory=32']);
    await t.waitFor('stdout', 'boot 1 spell\r\n');
    t.child.stdin.write('hi\x03\r\n');
    await t.waitFor('stdout', 'hi\x03\r\n');
    t.child.stdin.write('\x1d');
    assert.equal(await t.exited, 0);
    assert.equal(t.out.stdout, 'boot 1 spell\r\nhi\x03\r\n');
    assert.match(t.out.stderr, /console attached; Ctrl-\] detaches and destroys the domain\n/);
    assert.match(t.out.stderr, /tsxen: domain spell destroyed\n$/);
  } finally {
    g.remove();
  }
});

test('-c with on_poweroff=preserve: the domain is kept until Ctrl-]', async () => {
  const g = makeGuestDir();
  try {
    const t = start(g, ['create', '-c', 'spelling-plain.cfg', 'memory=32', 'on_poweroff="preserve"']);
    await t.waitFor('stdout', 'boot 1 spell');
    t.child.stdin.write('p');
    await t.waitFor('stderr', 'press Ctrl-] to destroy it');
    assert.match(t.out.stderr, /domain spell preserved \(paused\) after poweroff: ACPI S5\n/);
    assert.equal(t.child.exitCode, null);
    t.child.stdin.write('\x1d');
    assert.equal(await t.exited, 0);
  } finally {
    g.remove();
  }
});

test('without -c: serial="pty" output goes to the console log printed at start; SIGINT destroys', async () => {
  const g = makeGuestDir();
  try {
    const t = start(g, ['create', 'spelling-plain.cfg', 'memory=32']);
    const consoleLog = join(g.dir, 'log', 'spell.console.log');
    await t.waitFor('stderr', `tsxen: serial console output: ${consoleLog}\n`);
    while (!(existsSync(consoleLog) && readFileSync(consoleLog, 'latin1').includes('boot 1 spell'))) await new Promise((r) => setTimeout(r, 20));
    t.child.kill('SIGINT');
    assert.equal(await t.exited, 0);
    assert.match(t.out.stderr, /tsxen: domain spell destroyed\n$/);
    assert.equal(t.out.stdout, '');
    assert.equal(readFileSync(consoleLog, 'latin1'), 'boot 1 spell\r\n');
    assert.match(readFileSync(join(g.dir, 'log', 'spell.log'), 'utf8'), /toolstack: domain spell created: 32 MiB, 1 vCPU/);
  } finally {
    g.remove();
  }
});

test('debugcon bytes go to their file', async () => {
  const g = makeGuestDir();
  try {
    const r = tsxen(g, ['create', 'spelling-plain.cfg', 'serial=stdio', 'memory=32', 'debugcon=["port=0xe9,file=dbg.out"]'], 'ddp');
    assert.equal(r.status, 0);
    assert.equal(readFileSync(join(g.dir, 'dbg.out'), 'latin1'), 'DD');
  } finally {
    g.remove();
  }
});

test('-c on a real terminal (script(1) gives a pty): raw mode, Ctrl-C goes to the guest, output untranslated', async () => {
  const g = makeGuestDir();
  try {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} create -c spelling-plain.cfg memory=32`;
    const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { cwd: g.dir, env: env(g), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const seen = (text: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(out)}`)), 10_000);
        const check = (): void => {
          if (out.includes(text)) {
            clearTimeout(timer);
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await seen('boot 1 spell');
    child.stdin.write('ab\x03\r');
    await seen('ab\x03\r');
    child.stdin.write('\x1d');
    assert.equal(await exited, 0);
    // The guest's "\r\n" arrives as is (no ONLCR "\r\r\n"); Ctrl-C was a byte for the guest, not SIGINT.
    assert.match(out, /boot 1 spell\r\nab\x03\rtsxen: domain spell destroyed\r\n$/);
  } finally {
    g.remove();
  }
});

test('a closed stdout (`| head`) destroys the domain instead of crashing dom0', async () => {
  const g = makeGuestDir();
  try {
    const t = start(g, ['create', 'spelling-plain.cfg', 'memory=32', 'serial=stdio']);
    await t.waitFor('stdout', 'boot 1 spell');
    t.child.stdout.destroy();
    t.child.stdin.write('z'.repeat(200_000));
    assert.equal(await t.exited, 0);
    assert.match(t.out.stderr, /tsxen: domain spell destroyed\n$/);
  } finally {
    g.remove();
  }
});
