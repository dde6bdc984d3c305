import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverride, parseXlCfg, type CfgSettings, type CfgValue } from './xl-cfg-parser.js';
import { CfgSyntaxError, parseCfgNumber } from './xl-cfg-lexer.js';

const values = (s: CfgSettings): Record<string, CfgValue> => Object.fromEntries([...s].map(([k, v]) => [k, v.value]));
const str = (value: string): CfgValue => ({ kind: 'string', value });

test('numbers are read like strtoul(…, 0): decimal, 0x hex, leading-0 octal', () => {
  assert.equal(parseCfgNumber('256'), 256);
  assert.equal(parseCfgNumber('0x100'), 256);
  assert.equal(parseCfgNumber('0400'), 256);
  assert.equal(parseCfgNumber('0'), 0);
  assert.ok(Number.isNaN(parseCfgNumber('09')));
  assert.ok(Number.isNaN(parseCfgNumber('12ab')));
  const s = parseXlCfg('a = 0x1f\nb=010\n', 'f.cfg');
  assert.deepEqual(s.get('b')?.value, { kind: 'number', value: 8, text: '010' });
  assert.throws(() => parseXlCfg('a = 0x1F\n', 'f.cfg'), /f\.cfg:1: lexical error/); // upper-case hex digit: not in xl's number rule
});

test('strings: both quotes, C escapes, \\x and octal', () => {
  const s = parseXlCfg(String.raw`a = "q\"s\'\\ \a\b\f\n\r\t\v|\x41\101\0" ; b = 'x'` + '\n', 'f.cfg');
  assert.equal((s.get('a')?.value as { value: string }).value, 'q"s\'\\ \x07\b\f\n\r\t\v|AA\0');
  assert.throws(() => parseXlCfg("b = 'it''s'", 'f.cfg'), /f\.cfg:1: b: expected end of setting, got "s"/);
  assert.throws(() => parseXlCfg('a = "\\q"', 'f.cfg'), /f\.cfg:1: invalid escape "\\q"/);
  assert.throws(() => parseXlCfg('a = "\\x4"', 'f.cfg'), /invalid escape "\\x4"/);
  assert.throws(() => parseXlCfg('\n\na = "open\nb = 1', 'f.cfg'), (e: unknown) => e instanceof CfgSyntaxError && e.line === 3 && /unterminated string/.test(e.message));
});

test('settings end at newline or ";", comments and blank lines are ignored', () => {
  const s = parseXlCfg('# head\n\n a=1 ; b="x";c=[]\n\n# tail', 'f.cfg');
  assert.deepEqual(values(s), { a: { kind: 'number', value: 1, text: '1' }, b: str('x'), c: { kind: 'list', items: [] } });
  assert.equal(s.get('c')?.line, 3);
});

test('lists span lines, allow a trailing comma, and nest', () => {
  const s = parseXlCfg('l = [\n  "a",\n\n  0x2 ,\n  [ "n" ],\n]\nafter = 1\n', 'f.cfg');
  assert.deepEqual(s.get('l')?.value, { kind: 'list', items: [str('a'), { kind: 'number', value: 2, text: '0x2' }, { kind: 'list', items: [str('n')] }] });
  assert.equal(s.get('after')?.line, 7);
  assert.throws(() => parseXlCfg('l = [ "a" "b" ]', 'f.cfg'), /f\.cfg:1: expected "," or "]" in list, got "b"/);
  assert.throws(() => parseXlCfg('l = [ , ]', 'f.cfg'), /expected a value, got ","/);
  assert.throws(() => parseXlCfg('l = [ "a"', 'f.cfg'), /expected "," or "]" in list, got end of file/);
  assert.throws(() => parseXlCfg('l = ' + '['.repeat(100), 'f.cfg'), /nested more than 16 deep/);
});

test('later settings replace earlier ones; += appends lists and concatenates strings', () => {
  const s = parseXlCfg('a = 1\nb = "x"\nb += "y"\nl = ["1"]\nl += ["2"]\na = 2\nn += "fresh"\n', 'f.cfg');
  assert.deepEqual(values(s), {
    b: str('xy'),
    l: { kind: 'list', items: [str('1'), str('2')] },
    a: { kind: 'number', value: 2, text: '2' },
    n: str('fresh'),
  });
  assert.equal(s.get('a')?.line, 6);
  assert.throws(() => parseXlCfg('a = "x"\na += ["y"]', 'f.cfg'), /f\.cfg:2: a: "\+=" needs two strings or two lists/);
});

test('syntax errors name the file and line', () => {
  const cases: Array<[string, RegExp]> = [
    ['ok = 1\nmemory 512\n', /^g\.cfg:2: memory: expected "=" or "\+=", got 512$/],
    ['name = debian\n', /^g\.cfg:1: expected a value, got "debian" \(strings need quotes\)$/],
    ['Memory = 1', /^g\.cfg:1: lexical error at "Memory" \(keys are lower case\)$/],
    ["name = 'x' + 'y'", /^g\.cfg:1: lexical error at "\+" \(this looks like Python/],
    ['a = 1 2', /^g\.cfg:1: a: expected end of setting, got 2$/],
    ['= 1', /^g\.cfg:1: expected a setting name, got "="$/],
    ['a =\n1', /^g\.cfg:1: expected a value, got end of line$/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseXlCfg(text, 'g.cfg'), { message: re }, text);
});

test('command-line overrides: xl.cfg syntax when it parses, a bare string otherwise', () => {
  const s = parseXlCfg('name = "a"\nmemory = 64\n', 'g.cfg');
  applyOverride(s, 'memory=0x80', 1);
  applyOverride(s, 'name=web1', 2);
  applyOverride(s, 'cmdline="console=ttyS0 quiet"', 3);
  applyOverride(s, 'debugcon=["port=0xe9"]', 4);
  applyOverride(s, 'extra=a=b c', 5);
  assert.deepEqual(values(s), {
    memory: { kind: 'number', value: 128, text: '0x80' },
    name: str('web1'),
    cmdline: str('console=ttyS0 quiet'),
    debugcon: { kind: 'list', items: [str('port=0xe9')] },
    extra: str('a=b c'),
  });
  assert.equal(s.get('name')?.file, '<command line>');
  assert.equal(s.get('name')?.line, 2);
  assert.throws(() => applyOverride(s, 'memory', 6), /<command line>:6: override "memory" is not KEY=VALUE/);
  assert.throws(() => applyOverride(s, '=5', 7), /not KEY=VALUE/);
});
