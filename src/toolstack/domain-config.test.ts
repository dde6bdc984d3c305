import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile, loadConfigObject } from './config-file.js';
import { ConfigError, type DomainConfig } from './domain-config.js';
import { makeGuestDir, TESTDATA } from './testing/guest-files.js';
import { BAD_CONFIGS } from './testing/bad-configs.js';

const HOST_MIB = 8192;
const golden = (name: string): unknown => JSON.parse(readFileSync(join(TESTDATA, name), 'utf8'));
/** The config as `create -n` prints it, with the temp directory written as <dir>. */
const asGolden = (c: DomainConfig, dir: string): unknown => JSON.parse(JSON.stringify(c).replaceAll(dir, '<dir>'));

test('many spellings of one config give the same DomainConfig (golden JSON)', () => {
  const g = makeGuestDir();
  try {
    for (const f of ['spelling-plain.cfg', 'spelling-compact.cfg', 'spelling-crlf.cfg', 'spelling-append.cfg']) {
      const warnings: string[] = [];
      const c = loadConfigFile(g.cfg(f), { hostMemoryMiB: HOST_MIB, warn: (w) => warnings.push(w) });
      assert.deepEqual(asGolden(c, g.dir), golden('spelling.golden.json'), f);
      if (f === 'spelling-crlf.cfg') assert.deepEqual(warnings, [`${g.cfg(f)}:9: warning: ignoring root= and extra= in favour of cmdline=`]);
      else assert.deepEqual(warnings, [], f);
    }
    // Overrides from the command line win over the file.
    const o = loadConfigFile(g.cfg('spelling-plain.cfg'), { hostMemoryMiB: HOST_MIB, overrides: ['name=spell', 'memory=256'], warn: () => {} });
    assert.deepEqual(asGolden(o, g.dir), golden('spelling.golden.json'));
  } finally {
    g.remove();
  }
});

test('every supported key (golden JSON)', () => {
  const g = makeGuestDir();
  try {
    const c = loadConfigFile(g.cfg('full.cfg'), { hostMemoryMiB: HOST_MIB, warn: () => assert.fail('no warnings expected') });
    assert.deepEqual(asGolden(c, g.dir), golden('full.golden.json'));
  } finally {
    g.remove();
  }
});

test('a config object is validated like a file, paths relative to baseDir', () => {
  const g = makeGuestDir();
  try {
    const c = loadConfigObject(
      { name: 'spell', memory: 256, kernel: 'vmlinuz', ramdisk: 'initrd.img', cmdline: 'console=ttyS0 nokaslr', debugcon: ['port=0xe9,file=debug.log'] },
      { baseDir: g.dir, hostMemoryMiB: HOST_MIB },
    );
    assert.deepEqual(asGolden(c, g.dir), golden('spelling.golden.json'));
    assert.throws(() => loadConfigObject({ name: 'x', kernel: 'vmlinuz', memory: 'lots' }, { baseDir: g.dir }), {
      message: '<config object>:3: memory: expected a number, got "lots"',
    });
  } finally {
    g.remove();
  }
});

test('unknown keys warn with file, line and key, and are not fatal', () => {
  const g = makeGuestDir();
  try {
    const warnings: string[] = [];
    const p = g.cfg('unknown.cfg', 'name = "u"\nkernel = "vmlinuz"\nvif = [ "bridge=br0" ]\nvnc = 1\n');
    const c = loadConfigFile(p, { hostMemoryMiB: HOST_MIB, warn: (w) => warnings.push(w) });
    assert.equal(c.name, 'u');
    assert.equal(c.memoryMiB, 128);
    assert.deepEqual(warnings, [`${p}:3: warning: unknown key "vif" ignored`, `${p}:4: warning: unknown key "vnc" ignored`]);
  } finally {
    g.remove();
  }
});


test('each bad input gives one clear message naming file, line, key and value', () => {
  const g = makeGuestDir();
  try {
    for (const [what, text, message] of BAD_CONFIGS) {
      const p = g.cfg('guest.cfg', text);
      // Load by the relative name a user would type, from the config's directory.
      const cwd = process.cwd();
      process.chdir(g.dir);
      try {
        assert.throws(() => loadConfigFile('guest.cfg', { hostMemoryMiB: 2048, warn: () => {} }), { message: message.replaceAll('<dir>', g.dir) }, what);
      } finally {
        process.chdir(cwd);
      }
      assert.ok(p);
    }
  } finally {
    g.remove();
  }
});

test('a missing config file is one ConfigError', () => {
  assert.throws(() => loadConfigFile('/nonexistent/guest.cfg'), (e: unknown) => e instanceof ConfigError && e.message === '/nonexistent/guest.cfg: config: no such file');
});

test('serial as a list (golden JSON): trailing "none" dropped, a "none" between devices kept', () => {
  const g = makeGuestDir();
  try {
    const c = loadConfigFile(g.cfg('serial-list.cfg'), { hostMemoryMiB: HOST_MIB, warn: () => assert.fail('no warnings expected') });
    assert.deepEqual(asGolden(c, g.dir), golden('serial-list.golden.json'));
  } finally {
    g.remove();
  }
});

test('serial: a string is a one-entry list; "none" and [] give no UART; up to four devices', () => {
  const g = makeGuestDir();
  try {
    const load = (serial: string | string[]): DomainConfig => loadConfigObject({ name: 's', kernel: 'vmlinuz', serial }, { baseDir: g.dir, hostMemoryMiB: HOST_MIB });
    assert.deepEqual(load('stdio').serials, [{ kind: 'stdio' }]);
    assert.deepEqual(load(['stdio']).serials, [{ kind: 'stdio' }]);
    assert.deepEqual(load('none').serials, []);
    assert.deepEqual(load([]).serials, []);
    assert.deepEqual(load(['none', 'none']).serials, []);
    const four = load(['none', 'pty', 'file:a.txt', 'file:/abs/b.txt']);
    assert.deepEqual(four.serials, [{ kind: 'none' }, { kind: 'pty' }, { kind: 'file', path: join(g.dir, 'a.txt') }, { kind: 'file', path: '/abs/b.txt' }]);
    // The command line's serial=[...] replaces the file's list (last setting wins).
    const o = loadConfigFile(g.cfg('spelling-plain.cfg'), { hostMemoryMiB: HOST_MIB, overrides: ['serial=["pty","stdio"]'], warn: () => {} });
    assert.deepEqual(o.serials, [{ kind: 'pty' }, { kind: 'stdio' }]);
  } finally {
    g.remove();
  }
});

test('serial list errors name file, line, key, port and value; debugcon may not overlap any COM port', () => {
  const g = makeGuestDir();
  try {
    const bad: Array<[string, string]> = [
      ['serial = [ "pty", "pty", "pty", "pty", "none" ]', 'serial: more than 4 serial devices (COM1-COM4), got 5'],
      ['serial = [ "pty", "tcp:1234" ]', 'serial: COM2: expected "pty", "file:PATH", "stdio" or "none", got "tcp:1234"'],
      ['serial = [ "pty", "file:" ]', 'serial: COM2: expected "pty", "file:PATH", "stdio" or "none", got "file:"'],
      ['serial = [ "pty", 3 ]', 'serial: COM2: expected a string, got 3'],
      ['serial = [ [ "pty" ] ]', 'serial: COM1: expected a string, got a list of 1'],
      ['serial = 7', 'serial: expected a string, got 7'],
      ['serial = [ "stdio", "none", "stdio" ]', 'serial: COM3: "stdio" is already COM1\'s'],
      ['serial = [ "file:x.log", "file:./x.log" ]', 'serial: COM2: "file:./x.log" is already COM1\'s'],
      ['serial = [ "pty", "pty" ]\ndebugcon = "port=0x2fc"', 'debugcon: "port=0x2fc": port 0x2fc is COM2\'s'],
      ['serial = [ "none", "none", "none", "pty" ]\ndebugcon = "port=0x2ef"', 'debugcon: "port=0x2ef": port 0x2ef is COM4\'s'],
      ['serial = [ "none", "pty" ]\ndebugcon = "port=0x3ff"', 'debugcon: "port=0x3ff": port 0x3ff is COM1\'s'],
    ];
    for (const [text, message] of bad) {
      const p = g.cfg('list.cfg', `name = "l"\nkernel = "vmlinuz"\n${text}\n`);
      const line = text.includes('debugcon') ? 4 : 3;
      assert.throws(() => loadConfigFile(p, { hostMemoryMiB: HOST_MIB, warn: () => {} }), { message: `${p}:${line}: ${message}` }, text);
    }
    // Ports just outside a configured UART's 8, or of a UART that does not exist, are free.
    const ok = (text: string): DomainConfig => loadConfigFile(g.cfg('ok.cfg', `name = "l"\nkernel = "vmlinuz"\n${text}\n`), { hostMemoryMiB: HOST_MIB, warn: () => {} });
    assert.deepEqual(ok('serial = [ "pty", "pty" ]\ndebugcon = [ "port=0x300", "port=0x2f7", "port=0x3e8" ]').debugcon.map((d) => d.port), [0x300, 0x2f7, 0x3e8]);
    assert.deepEqual(ok('serial = "none"\ndebugcon = "port=0x3f8"').debugcon.map((d) => d.port), [0x3f8]);
  } finally {
    g.remove();
  }
});
