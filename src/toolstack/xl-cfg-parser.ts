// xl.cfg(5) grammar (Xen's tools/libs/util/libxlu_cfg_y.y): a file is a sequence of
// `KEY = VALUE` or `KEY += VALUE` settings, each ended by a newline or `;`; a VALUE
// is a string, a number or a `[ … ]` list (items separated by commas, trailing comma
// allowed, newlines allowed anywhere inside). A later setting of the same key
// replaces an earlier one; `+=` appends to a list or concatenates a string.

import { CfgSyntaxError, tokenize, type Token } from './xl-cfg-lexer.js';

export type CfgValue =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number; text: string }
  | { kind: 'list'; items: CfgValue[] };

export interface CfgSetting {
  key: string;
  value: CfgValue;
  /** Where the value was (last) set: the config file's display name or `<command line>`. */
  file: string;
  line: number;
}

/** Settings by key, in first-seen order; a later setting replaced or extended an earlier one. */
export type CfgSettings = Map<string, CfgSetting>;

// A list nested deeper than this is surely a mistake; the cap keeps the recursive
// descent from running out of stack on a hostile file.
const MAX_LIST_DEPTH = 16;

export function parseXlCfg(text: string, file: string, into: CfgSettings = new Map()): CfgSettings {
  const tokens = tokenize(text, file);
  let pos = 0;
  const peek = (): Token => tokens[pos];
  const next = (): Token => tokens[pos++];
  const fail = (t: Token, detail: string): never => {
    throw new CfgSyntaxError(file, t.line, detail);
  };
  const describe = (t: Token): string =>
    t.kind === 'ident' ? `"${t.text}"` : t.kind === 'number' ? t.text : t.kind === 'string' ? `"${t.value}"` : t.kind === 'newline' ? 'end of line' : t.kind === 'eof' ? 'end of file' : `"${t.kind}"`;
  const skipNewlines = (): void => {
    while (peek().kind === 'newline') pos++;
  };

  const parseValue = (depth: number): CfgValue => {
    const t = next();
    if (t.kind === 'string') return { kind: 'string', value: t.value };
    if (t.kind === 'number') return { kind: 'number', value: t.value, text: t.text };
    if (t.kind === '[') {
      if (depth >= MAX_LIST_DEPTH) fail(t, `lists nested more than ${MAX_LIST_DEPTH} deep`);
      const items: CfgValue[] = [];
      skipNewlines();
      while (peek().kind !== ']') {
        items.push(parseValue(depth + 1));
        skipNewlines();
        const sep = peek();
        if (sep.kind === ',') {
          pos++;
          skipNewlines();
        } else if (sep.kind !== ']') {
          fail(sep, `expected "," or "]" in list, got ${describe(sep)}`);
        }
      }
      pos++;
      return { kind: 'list', items };
    }
    if (t.kind === 'ident') return fail(t, `expected a value, got ${describe(t)} (strings need quotes)`);
    return fail(t, `expected a value, got ${describe(t)}`);
  };

  for (;;) {
    const t = next();
    if (t.kind === 'eof') break;
    if (t.kind === 'newline' || t.kind === ';') continue;
    if (t.kind !== 'ident') fail(t, `expected a setting name, got ${describe(t)}`);
    const key = (t as Extract<Token, { kind: 'ident' }>).text;
    const op = next();
    if (op.kind !== '=' && op.kind !== '+=') fail(op, `${key}: expected "=" or "+=", got ${describe(op)}`);
    const value = parseValue(0);
    const end = peek();
    if (end.kind !== 'newline' && end.kind !== ';' && end.kind !== 'eof') fail(end, `${key}: expected end of setting, got ${describe(end)}`);
    const previous = into.get(key);
    if (op.kind === '+=' && previous) {
      into.set(key, { key, value: appendValue(previous.value, value, () => fail(t, `${key}: "+=" needs two strings or two lists`)), file, line: t.line });
    } else {
      into.delete(key);
      into.set(key, { key, value, file, line: t.line });
    }
  }
  return into;
}

function appendValue(a: CfgValue, b: CfgValue, mismatch: () => never): CfgValue {
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', items: [...a.items, ...b.items] };
  if (a.kind === 'string' && b.kind === 'string') return { kind: 'string', value: a.value + b.value };
  return mismatch();
}

/** The "file" of settings given as command-line overrides. */
export const OVERRIDE_FILE = '<command line>';

/**
 * A trailing `KEY=VALUE` of the command line (xl appends these to the config).
 * VALUE is read as xl.cfg syntax when it is one (`memory=512`, `name="a b"`,
 * `debugcon=["port=0xe9"]`); otherwise it is taken as a bare string (`name=web1`).
 */
export function applyOverride(settings: CfgSettings, arg: string, index: number): void {
  const file = OVERRIDE_FILE;
  const eq = arg.indexOf('=');
  const key = eq > 0 ? arg.slice(0, eq).trim() : '';
  if (!/^[a-z][_0-9a-z]*$/.test(key)) throw new CfgSyntaxError(file, index, `override "${arg}" is not KEY=VALUE`);
  const raw = arg.slice(eq + 1);
  let parsed: CfgSettings | undefined;
  try {
    parsed = parseXlCfg(`${key}=${raw}`, file);
  } catch {
    parsed = undefined;
  }
  const setting = parsed?.get(key);
  settings.delete(key);
  settings.set(key, { key, value: setting ? setting.value : { kind: 'string', value: raw }, file, line: index });
}
