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
    const p = g.cfg('unknown.cfg', 'name = "u"\nkernel = "vmlinuz"\ndisk = [ "x.img,raw,xvda,rw" ]\nvnc = 1\n');
    const c = loadConfigFile(p, { hostMemoryMiB: HOST_MIB, warn: (w) => warnings.push(w) });
    assert.equal(c.name, 'u');
    assert.equal(c.memoryMiB, 128);
    assert.deepEqual(warnings, [`${p}:3: warning: unknown key "disk" ignored`, `${p}:4: warning: unknown key "vnc" ignored`]);
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
