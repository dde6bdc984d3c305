// Device and vCPU state objects as JSON text for the save image. Plain JSON loses
// what device states legitimately hold: bigint MSR values, typed arrays (FPU and
// XSAVE areas, buffers), and non-finite numbers (a timer that never fires is
// `Infinity`, which JSON.stringify would turn into null). Those travel as small
// tagged objects ({"$bigint": "…"}, {"$typed": "Uint8Array", "hex": "…"},
// {"$number": "Infinity"}) and come back as what they were.

const TYPED = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedName = keyof typeof TYPED;

export function encodeStateJson(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    // The replacer sees `this[key]` before toJSON or number formatting.
    const raw = (this as Record<string, unknown>)[key];
    if (typeof raw === 'bigint') return { $bigint: raw.toString() };
    if (typeof raw === 'number' && !Number.isFinite(raw)) return { $number: String(raw) };
    if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
      const name = raw.constructor.name;
      if (!(name in TYPED)) throw new TypeError(`state field "${key}": ${name} cannot be saved`);
      return { $typed: name, hex: toHex(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)) };
    }
    if (raw instanceof Map || raw instanceof Set) throw new TypeError(`state field "${key}": a ${raw.constructor.name} cannot be saved (use an array)`);
    return v;
  });
}

/** Throws SyntaxError/TypeError on text that is not a state encoding. */
export function decodeStateJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
    if (typeof o.$number === 'string') return Number(o.$number);
    if (typeof o.$typed === 'string' && typeof o.hex === 'string') {
      const ctor = TYPED[o.$typed as TypedName];
      if (!ctor) throw new TypeError(`unknown typed array ${o.$typed}`);
      const bytes = fromHex(o.hex);
      if (bytes.length % ctor.BYTES_PER_ELEMENT !== 0) throw new TypeError(`${o.$typed} of ${bytes.length} bytes`);
      return new ctor(bytes.buffer as ArrayBuffer, 0, bytes.length / ctor.BYTES_PER_ELEMENT);
    }
    return v;
  });
}

function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || /[^0-9a-f]/i.test(s)) throw new TypeError('bad hex in a typed array');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}
