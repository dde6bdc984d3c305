// AML byte encodings (ACPI 6.x §20.2, checked against iasl output in
// reference/pc-platform-and-firmware.md §3.5). Every builder returns the bytes of
// one complete term; containers take already-encoded children, so a definition
// block reads top-down like the ASL it stands for.

export type Aml = Uint8Array;

const ZERO_OP = 0x00;
const ONE_OP = 0x01;
const BYTE_PREFIX = 0x0a;
const WORD_PREFIX = 0x0b;
const DWORD_PREFIX = 0x0c;
const STRING_PREFIX = 0x0d;
const QWORD_PREFIX = 0x0e;
const NAME_OP = 0x08;
const SCOPE_OP = 0x10;
const BUFFER_OP = 0x11;
const PACKAGE_OP = 0x12;
const METHOD_OP = 0x14;
const RETURN_OP = 0xa4;
const IF_OP = 0xa0;
const ELSE_OP = 0xa1;
const STORE_OP = 0x70;
const EXT_OP_PREFIX = 0x5b;
const DEVICE_OP = 0x82;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;
const ROOT_CHAR = 0x5c;
const PARENT_PREFIX_CHAR = 0x5e;
const LOCAL0_OP = 0x60;
const ARG0_OP = 0x68;

export class AmlError extends Error {
  override name = 'AmlError';
}

/** Concatenate encoded pieces. */
export function aml(...parts: ReadonlyArray<Aml | readonly number[]>): Aml {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * PkgLength for `contentLength` following bytes (§20.2.4): the encoded value counts
 * itself too. Under 64 it is one byte; else bits 7:6 of the lead byte give the
 * number of extra bytes, its bits 3:0 the low nibble, each extra byte 8 more bits.
 */
export function pkgLength(contentLength: number): number[] {
  if (!Number.isInteger(contentLength) || contentLength < 0) throw new AmlError(`bad package length ${contentLength}`);
  if (contentLength + 1 < 0x40) return [contentLength + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = contentLength + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0x0f)];
      for (let i = 0; i < extra; i++) out.push((total >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new AmlError(`package length ${contentLength} exceeds 2^28`);
}

/** A 4-character NameSeg, padded with '_' (§20.2.2). */
export function nameSeg(seg: string): number[] {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new AmlError(`bad AML name segment '${seg}'`);
  const padded = seg.padEnd(4, '_');
  return [...padded].map((c) => c.charCodeAt(0));
}

/** A NameString: optional '\' or '^'s, then dot-separated segments (§20.2.2). */
export function nameString(path: string): Aml {
  let i = 0;
  const prefix: number[] = [];
  if (path[0] === '\\') {
    prefix.push(ROOT_CHAR);
    i = 1;
  } else {
    while (path[i] === '^') {
      prefix.push(PARENT_PREFIX_CHAR);
      i++;
    }
  }
  const rest = path.slice(i);
  const segs = rest === '' ? [] : rest.split('.');
  const body: number[] = [];
  if (segs.length === 0) body.push(0x00);
  else if (segs.length === 2) body.push(DUAL_NAME_PREFIX);
  else if (segs.length > 2) {
    if (segs.length > 255) throw new AmlError(`name '${path}' has too many segments`);
    body.push(MULTI_NAME_PREFIX, segs.length);
  }
  for (const s of segs) body.push(...nameSeg(s));
  return Uint8Array.from([...prefix, ...body]);
}

/** The shortest integer encoding, as iasl emits it: Zero, One, Byte, Word, DWord, QWord. */
export function integer(value: number): Aml {
  if (!Number.isSafeInteger(value) || value < 0) throw new AmlError(`AML integer ${value} is not a non-negative safe integer`);
  if (value === 0) return Uint8Array.of(ZERO_OP);
  if (value === 1) return Uint8Array.of(ONE_OP);
  if (value <= 0xff) return Uint8Array.of(BYTE_PREFIX, value);
  if (value <= 0xffff) return Uint8Array.of(WORD_PREFIX, value & 0xff, value >>> 8);
  if (value <= 0xffffffff) return aml([DWORD_PREFIX], le(value, 4));
  return aml([QWORD_PREFIX], le(value % 0x100000000, 4), le(Math.floor(value / 0x100000000), 4));
}

/** A DWordConst regardless of magnitude (EISAID values are always emitted this way). */
export function dword(value: number): Aml {
  return aml([DWORD_PREFIX], le(value >>> 0, 4));
}

/** A String constant: 0x0D, ASCII, NUL. */
export function string(text: string): Aml {
  const out = [STRING_PREFIX];
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (code < 1 || code > 0x7f) throw new AmlError(`AML string '${text}' is not 7-bit ASCII without NUL`);
    out.push(code);
  }
  out.push(0x00);
  return Uint8Array.from(out);
}

/**
 * EISAID("PNP0A03") as a 32-bit value: three letters of 5 bits each (A = 1) packed
 * big-endian into 16 bits, then four hex digits, the whole stored big-endian.
 */
export function eisaId(id: string): number {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new AmlError(`bad EISA id '${id}'`);
  const letter = (i: number): number => id.charCodeAt(i) - 0x40;
  const vendor = (letter(0) << 10) | (letter(1) << 5) | letter(2);
  const product = parseInt(id.slice(3), 16);
  // Big-endian byte order in memory: vendor hi, vendor lo, product hi, product lo.
  return ((vendor >>> 8) | ((vendor & 0xff) << 8) | ((product >>> 8) << 16) | ((product & 0xff) << 24)) >>> 0;
}

/** Name(path, data). */
export function name(path: string, data: Aml): Aml {
  return aml([NAME_OP], nameString(path), data);
}

/** Scope(path) { terms }. */
export function scope(path: string, ...terms: Aml[]): Aml {
  return withPkgLength([SCOPE_OP], aml(nameString(path), ...terms));
}

/** Device(path) { terms }. */
export function device(path: string, ...terms: Aml[]): Aml {
  return withPkgLength([EXT_OP_PREFIX, DEVICE_OP], aml(nameString(path), ...terms));
}

/** Method(path, argCount, Serialized?) { terms }; sync level 0. */
export function method(path: string, argCount: number, serialized: boolean, ...terms: Aml[]): Aml {
  if (!Number.isInteger(argCount) || argCount < 0 || argCount > 7) throw new AmlError(`method ${path}: ${argCount} arguments`);
  const flags = argCount | (serialized ? 0x08 : 0);
  return withPkgLength([METHOD_OP], aml(nameString(path), [flags], ...terms));
}

/** Package() { elements } with a fixed element count (at most 255). */
export function packageOf(elements: ReadonlyArray<Aml>): Aml {
  if (elements.length > 0xff) throw new AmlError(`package of ${elements.length} elements needs VarPackage`);
  return withPkgLength([PACKAGE_OP], aml([elements.length], ...elements));
}

/** Buffer() { bytes }, size given as the shortest integer. */
export function buffer(bytes: Aml | readonly number[]): Aml {
  return withPkgLength([BUFFER_OP], aml(integer(bytes.length), bytes));
}

/** If (predicate) { terms }. */
export function ifOp(predicate: Aml, ...terms: Aml[]): Aml {
  return withPkgLength([IF_OP], aml(predicate, ...terms));
}

/** Else { terms } (must directly follow an If). */
export function elseOp(...terms: Aml[]): Aml {
  return withPkgLength([ELSE_OP], aml(...terms));
}

export function returnOp(value: Aml): Aml {
  return aml([RETURN_OP], value);
}

/** Store(source, target). */
export function store(source: Aml, target: Aml): Aml {
  return aml([STORE_OP], source, target);
}

export function arg(n: number): Aml {
  if (!Number.isInteger(n) || n < 0 || n > 6) throw new AmlError(`Arg${n} does not exist`);
  return Uint8Array.of(ARG0_OP + n);
}

export function local(n: number): Aml {
  if (!Number.isInteger(n) || n < 0 || n > 7) throw new AmlError(`Local${n} does not exist`);
  return Uint8Array.of(LOCAL0_OP + n);
}

function withPkgLength(opcode: readonly number[], content: Aml): Aml {
  return aml(opcode, pkgLength(content.length), content);
}

/** `count` little-endian bytes of `value`. */
export function le(value: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  return out;
}
