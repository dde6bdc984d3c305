// Tokens of an xl.cfg(5) file. The lexical rules are Xen's (tools/libs/util/
// libxlu_cfg_l.l): identifiers are lower case `[a-z][_0-9a-z]*`, numbers are
// `[0-9][0-9a-fx]*` read like strtoul(…, 0) (decimal, 0x hex, leading-0 octal),
// strings are '…' or "…" on one line with C-like escapes, `#` starts a comment,
// and a setting ends at a newline or `;`.

export type Token =
  | { kind: 'ident'; text: string; line: number }
  | { kind: 'number'; text: string; value: number; line: number }
  | { kind: 'string'; value: string; line: number }
  | { kind: '=' | '+=' | ',' | '[' | ']' | ';' | 'newline' | 'eof'; line: number };

/** A malformed config file: where, and what was wrong. */
export class CfgSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'CfgSyntaxError';
  }
}

// Simple escapes of libxlu's dequote; \xHH takes exactly two hex digits and
// \ooo one to three octal digits.
const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"', "'": "'", '\\': '\\', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

const isIdentStart = (c: string): boolean => c >= 'a' && c <= 'z';
const isIdentPart = (c: string): boolean => isIdentStart(c) || (c >= '0' && c <= '9') || c === '_';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isNumberPart = (c: string): boolean => isDigit(c) || (c >= 'a' && c <= 'f') || c === 'x';

/** Value of a number token's text, as strtoul(text, 0) would read all of it; NaN if malformed. */
export function parseCfgNumber(text: string): number {
  if (/^0x[0-9a-f]+$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return text.length === 1 ? 0 : parseInt(text.slice(1), 8);
  if (/^[1-9][0-9]*$/.test(text)) return parseInt(text, 10);
  return NaN;
}

export function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const fail = (detail: string): never => {
    throw new CfgSyntaxError(file, line, detail);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '\n') {
      tokens.push({ kind: 'newline', line });
      line++;
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < text.length && isIdentPart(text[i])) i++;
      tokens.push({ kind: 'ident', text: text.slice(start, i), line });
    } else if (isDigit(c)) {
      const start = i;
      while (i < text.length && isNumberPart(text[i])) i++;
      const numText = text.slice(start, i);
      const value = parseCfgNumber(numText);
      if (Number.isNaN(value)) fail(`bad number "${numText}" (expected decimal, 0x hex or 0-prefixed octal)`);
      tokens.push({ kind: 'number', text: numText, value, line });
    } else if (c === '"' || c === "'") {
      i = readString(text, i, (value) => tokens.push({ kind: 'string', value, line }), fail);
    } else if (c === '+' && text[i + 1] === '=') {
      tokens.push({ kind: '+=', line });
      i += 2;
    } else if (c === '=' || c === ',' || c === '[' || c === ']' || c === ';') {
      tokens.push({ kind: c, line });
      i++;
    } else {
      let word = '';
      for (let j = i; j < text.length && !/[\s]/.test(text[j]) && word.length < 40; j++) word += text[j];
      // libxlu flags these as "likely python": old xm configs used Python syntax.
      const hint = /[A-Z]/.test(c) ? ' (keys are lower case)' : '+-.():'.includes(c) ? ' (this looks like Python, which xl.cfg is not)' : '';
      fail(`lexical error at "${word}"${hint}`);
    }
  }
  tokens.push({ kind: 'eof', line });
  return tokens;
}

/** Reads a quoted string starting at `start`; returns the index after its closing quote. */
function readString(text: string, start: number, emit: (value: string) => void, fail: (detail: string) => never): number {
  const quote = text[start];
  let out = '';
  let i = start + 1;
  for (;;) {
    if (i >= text.length || text[i] === '\n') fail(`unterminated string (strings end on the line they start)`);
    const c = text[i++];
    if (c === quote) break;
    if (c !== '\\') {
      out += c;
      continue;
    }
    if (i >= text.length || text[i] === '\n') fail('unterminated string (backslash at end of line)');
    const e = text[i++];
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
    } else if (e === 'x') {
      const hex = text.slice(i, i + 2);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail(`invalid escape "\\x${hex}" (expected two hex digits)`);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (e >= '0' && e <= '7') {
      let digits = e;
      while (digits.length < 3 && text[i] >= '0' && text[i] <= '7') digits += text[i++];
      const code = parseInt(digits, 8);
      if (code > 0xff) fail(`invalid escape "\\${digits}" (octal escape above \\377)`);
      out += String.fromCharCode(code);
    } else {
      fail(`invalid escape "\\${e}" in string`);
    }
  }
  emit(out);
  return i;
}
