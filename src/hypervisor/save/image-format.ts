// The save image: a byte stream of typed records, the idea of Xen's libxc migration
// stream v2 (docs/specs/libxc-migration-stream.pandoc): an image header, then
// records of {type, length, body} padded to 8 bytes, ending with an END record.
// Record types with bit 31 set are optional: a reader that does not know one skips
// it (libxc's REC_TYPE_OPTIONAL), any other unknown type is an error, so an older
// image always loads and a newer one fails clearly instead of half-restoring.
//
//   image header (16 bytes): "TSXENSAV", u32 version, u32 flags (0)
//   record header (32 bytes): u32 type, u32 flags (bit 0: body compressed),
//     u64 stored length, u64 raw length, u32 CRC-32 of the stored body, u32 zero
//
// Pure: compression (zlib in the toolstack) comes in through RecordCodec; bodies
// are JSON (state-json.ts) except BLOB and MEMORY, which are bytes.

import type { DomainSpec } from '../domain-spec.js';
import type { DomainState, FrameRun } from '../domain-save.js';
import type { VcpuState } from '../vcpu/vcpu-state.js';
import type { CpuidEntry } from '../vcpu/backend.js';
import { crc32 } from './crc32.js';
import { decodeStateJson, encodeStateJson } from './state-json.js';

export const IMAGE_MAGIC = 'TSXENSAV';
export const IMAGE_VERSION = 1;

export const REC_END = 0;
/** SaveHeader (JSON). */
export const REC_HEADER = 1;
/** The toolstack's domain configuration, opaque here (JSON). */
export const REC_CONFIG = 2;
/** The DomainSpec the domain was built from; its byte arrays are BLOB records (JSON). */
export const REC_SPEC = 3;
/** One byte array of the spec (kernel, initrd, BIOS…), in the order the spec refers to them. */
export const REC_BLOB = 4;
export const REC_VCPU = 5;
/** One device: {name, state} (JSON). */
export const REC_DEVICE = 6;
/** The Xen state: event channels, grant table, HVM params… (JSON). */
export const REC_XEN = 7;
/** What backs each guest frame (JSON FrameRun[]). */
export const REC_MEMORY_MAP = 8;
/** RAM and the backing store after it, byte for byte. */
export const REC_MEMORY = 9;
export const REC_OPTIONAL = 0x80000000;

const RECORD_NAMES: Record<number, string> = {
  [REC_END]: 'end', [REC_HEADER]: 'header', [REC_CONFIG]: 'config', [REC_SPEC]: 'spec', [REC_BLOB]: 'blob',
  [REC_VCPU]: 'vcpu', [REC_DEVICE]: 'device', [REC_XEN]: 'xen', [REC_MEMORY_MAP]: 'memory map', [REC_MEMORY]: 'memory',
};

const IMAGE_HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 32;
const FLAG_COMPRESSED = 1;
/** No record of ours is larger: a bigger length is corruption, not a 5 TB guest. */
const MAX_RECORD_BYTES = 2 ** 40;
/** Bound on JSON record bodies: device states are kilobytes. */
const MAX_JSON_BYTES = 64 << 20;

export interface SaveHeader {
  name: string;
  /** The CPU backend the domain ran on when saved (restore may pick another). */
  cpuBackend: 'emu' | 'kvm';
  /** When it was saved (ISO 8601). */
  savedAt: string;
}

/** Everything a save image holds. */
export interface DomainImage {
  header: SaveHeader;
  /** The toolstack's configuration (xl.cfg text and what it resolved to). */
  config: unknown;
  spec: DomainSpec;
  state: DomainState;
}

/** Compression of BLOB and MEMORY bodies (identity when absent). */
export interface RecordCodec {
  compress(raw: Uint8Array): Uint8Array;
  /** Must return exactly `rawLength` bytes or throw. */
  decompress(stored: Uint8Array, rawLength: number): Uint8Array;
}

export class SaveImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaveImageError';
  }
}

/**
 * JSON bodies are ASCII: every other character is written as a \uXXXX escape, which
 * JSON.parse reads back (no UTF-8 codec in the pure layers).
 */
function asciiJson(value: unknown): Uint8Array {
  const s = encodeStateJson(value).replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function fromAscii(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) {
    const part = b.subarray(i, i + 8192);
    if (part.some((c) => c >= 0x80)) throw new SyntaxError('a byte above 0x7f in a JSON body');
    s += String.fromCharCode(...part);
  }
  return s;
}

/** The image as a list of chunks to write one after the other (no giant concatenation). */
export function encodeImage(image: DomainImage, codec?: RecordCodec): Uint8Array[] {
  const out: Uint8Array[] = [];
  const head = new Uint8Array(IMAGE_HEADER_BYTES);
  for (let i = 0; i < IMAGE_MAGIC.length; i++) head[i] = IMAGE_MAGIC.charCodeAt(i);
  new DataView(head.buffer).setUint32(8, IMAGE_VERSION, true);
  out.push(head);
  const json = (type: number, value: unknown) => record(out, type, asciiJson(value), false, codec);
  const bytes = (type: number, body: Uint8Array) => record(out, type, body, true, codec);

  json(REC_HEADER, image.header);
  json(REC_CONFIG, image.config ?? null);
  const blobs: Uint8Array[] = [];
  json(REC_SPEC, withBlobRefs(image.spec, blobs));
  for (const b of blobs) bytes(REC_BLOB, b);
  const s = image.state;
  json(REC_VCPU, { guestNs: s.guestNs, vcpu: s.vcpu, ...(s.cpuid ? { cpuid: s.cpuid } : {}) });
  for (const d of s.devices) json(REC_DEVICE, d);
  if (s.xen !== null) json(REC_XEN, s.xen);
  json(REC_MEMORY_MAP, s.memoryMap);
  bytes(REC_MEMORY, s.memory);
  record(out, REC_END, new Uint8Array(0), false, codec);
  return out;
}

function record(out: Uint8Array[], type: number, raw: Uint8Array, compressible: boolean, codec: RecordCodec | undefined): void {
  const stored = compressible && codec ? codec.compress(raw) : raw;
  const h = new Uint8Array(RECORD_HEADER_BYTES);
  const v = new DataView(h.buffer);
  v.setUint32(0, type >>> 0, true);
  v.setUint32(4, stored !== raw ? FLAG_COMPRESSED : 0, true);
  v.setBigUint64(8, BigInt(stored.length), true);
  v.setBigUint64(16, BigInt(raw.length), true);
  v.setUint32(24, crc32(stored), true);
  out.push(h, stored);
  const pad = (8 - (stored.length % 8)) % 8;
  if (pad) out.push(new Uint8Array(pad));
}

/**
 * Parse and check an image. `source` (the file name) starts every error message.
 * Throws SaveImageError for anything that is not a complete, intact image of a
 * version this tsxen reads.
 */
export function decodeImage(bytes: Uint8Array, source: string, codec?: RecordCodec): DomainImage {
  const fail = (msg: string): never => {
    throw new SaveImageError(`${source}: ${msg}`);
  };
  if (bytes.length < IMAGE_HEADER_BYTES) fail(`not a tsxen save image (only ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== IMAGE_MAGIC) fail(`not a tsxen save image (it starts with ${JSON.stringify(magic)}, not "${IMAGE_MAGIC}")`);
  const version = view.getUint32(8, true);
  if (version !== IMAGE_VERSION) {
    fail(version > IMAGE_VERSION ? `save image version ${version} is newer than this tsxen reads (${IMAGE_VERSION})` : `save image version ${version} is not supported (this tsxen reads ${IMAGE_VERSION})`);
  }

  let header: SaveHeader | undefined;
  let config: unknown = null;
  let specJson: unknown;
  const blobs: Uint8Array[] = [];
  let vcpu: { guestNs: number; vcpu: VcpuState; cpuid?: CpuidEntry[] } | undefined;
  const devices: Array<{ name: string; state: unknown }> = [];
  let xen: unknown = null;
  let memoryMap: FrameRun[] | undefined;
  let memory: Uint8Array | undefined;
  let ended = false;

  let at = IMAGE_HEADER_BYTES;
  for (let index = 0; !ended; index++) {
    if (bytes.length - at < RECORD_HEADER_BYTES) fail(`truncated: record ${index} starts at byte ${at} but the file ends at ${bytes.length} (no END record)`);
    const type = view.getUint32(at, true);
    const flags = view.getUint32(at + 4, true);
    const storedLen = Number(view.getBigUint64(at + 8, true));
    const rawLen = Number(view.getBigUint64(at + 16, true));
    const crc = view.getUint32(at + 24, true);
    const what = `record ${index} (${RECORD_NAMES[type] ?? `type 0x${type.toString(16)}`}) at byte ${at}`;
    if (storedLen > MAX_RECORD_BYTES || rawLen > MAX_RECORD_BYTES) fail(`${what} claims ${storedLen} bytes: corrupt`);
    const bodyAt = at + RECORD_HEADER_BYTES;
    if (bodyAt + storedLen > bytes.length) fail(`truncated: ${what} needs ${storedLen} bytes, ${bytes.length - bodyAt} are left`);
    const stored = bytes.subarray(bodyAt, bodyAt + storedLen);
    if (crc32(stored) !== crc) fail(`${what} is corrupt (CRC-32 mismatch)`);
    at = bodyAt + storedLen + ((8 - (storedLen % 8)) % 8);

    let raw = stored;
    if (flags & FLAG_COMPRESSED) {
      if (!codec) fail(`${what} is compressed and no decompressor was given`);
      try {
        const r = codec!.decompress(stored, rawLen);
        // A plain view whatever the codec returned (Node gives Buffers, whose slice() does not copy).
        raw = new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
      } catch (e) {
        fail(`${what} does not decompress: ${(e as Error).message}`);
      }
    }
    if (raw.length !== rawLen) fail(`${what} holds ${raw.length} bytes, its header says ${rawLen}: corrupt`);
    const parse = (): unknown => {
      if (raw.length > MAX_JSON_BYTES) fail(`${what} is ${raw.length} bytes, too large for a state record`);
      try {
        return decodeStateJson(fromAscii(raw));
      } catch (e) {
        return fail(`${what} is not valid state JSON: ${(e as Error).message}`);
      }
    };
    switch (type) {
      case REC_END:
        ended = true;
        break;
      case REC_HEADER:
        header = checkHeader(parse(), fail);
        break;
      case REC_CONFIG:
        config = parse();
        break;
      case REC_SPEC:
        specJson = parse();
        break;
      case REC_BLOB:
        blobs.push(raw.slice());
        break;
      case REC_VCPU: {
        const v = parse() as { guestNs?: unknown; vcpu?: unknown; cpuid?: unknown };
        if (!isObject(v) || typeof v.guestNs !== 'number' || !Number.isFinite(v.guestNs) || !isObject(v.vcpu)) fail(`${what} lacks guestNs or the vcpu state`);
        if (v.cpuid !== undefined && !isCpuidTable(v.cpuid)) fail(`${what} has a malformed CPUID table`);
        vcpu = v as { guestNs: number; vcpu: VcpuState; cpuid?: CpuidEntry[] };
        break;
      }
      case REC_DEVICE: {
        const d = parse() as { name?: unknown; state?: unknown };
        if (!isObject(d) || typeof d.name !== 'string') fail(`${what} has no device name`);
        devices.push({ name: d.name as string, state: d.state });
        break;
      }
      case REC_XEN:
        xen = parse();
        break;
      case REC_MEMORY_MAP: {
        const m = parse();
        if (!Array.isArray(m)) fail(`${what} is not a list of frame runs`);
        memoryMap = m as FrameRun[];
        break;
      }
      case REC_MEMORY:
        memory = raw === stored ? raw.slice() : raw;
        break;
      default:
        if (!(type & REC_OPTIONAL)) fail(`${what} is a record type this tsxen does not know`);
    }
  }
  if (!header) fail('no header record');
  if (specJson === undefined) fail('no spec record');
  if (!vcpu) fail('no vcpu record');
  if (!memoryMap) fail('no memory map record');
  if (!memory) fail('no memory record');
  let spec: DomainSpec;
  try {
    spec = withBlobs(specJson, blobs) as DomainSpec;
  } catch (e) {
    return fail(`spec record: ${(e as Error).message}`);
  }
  return { header: header!, config, spec, state: { guestNs: vcpu!.guestNs, vcpu: vcpu!.vcpu, ...(vcpu!.cpuid ? { cpuid: vcpu!.cpuid } : {}), devices, xen, memoryMap: memoryMap!, memory: memory! } };
}

function checkHeader(h: unknown, fail: (m: string) => never): SaveHeader {
  if (!isObject(h)) return fail('header record is not an object');
  const o = h as Record<string, unknown>;
  if (typeof o.name !== 'string' || (o.cpuBackend !== 'emu' && o.cpuBackend !== 'kvm') || typeof o.savedAt !== 'string') fail('header record lacks name, cpuBackend or savedAt');
  return { name: o.name as string, cpuBackend: o.cpuBackend as 'emu' | 'kvm', savedAt: o.savedAt as string };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of `value` with every Uint8Array replaced by {$blob: n}, the array appended to `blobs`. */
function withBlobRefs(value: unknown, blobs: Uint8Array[]): unknown {
  if (value instanceof Uint8Array) {
    blobs.push(value);
    return { $blob: blobs.length - 1 };
  }
  if (Array.isArray(value)) return value.map((v) => withBlobRefs(v, blobs));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withBlobRefs(v, blobs);
    return out;
  }
  return value;
}

function withBlobs(value: unknown, blobs: Uint8Array[]): unknown {
  if (Array.isArray(value)) return value.map((v) => withBlobs(v, blobs));
  if (isObject(value)) {
    if (Object.keys(value).length === 1 && typeof value.$blob === 'number') {
      const b = blobs[value.$blob];
      if (!b) throw new Error(`refers to blob ${value.$blob}, the image has ${blobs.length}`);
      return b;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withBlobs(v, blobs);
    return out;
  }
  return value;
}

/** A KVM_SET_CPUID2-style table: at most 256 entries of 32-bit fields. */
function isCpuidTable(x: unknown): x is CpuidEntry[] {
  const u32 = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  return Array.isArray(x) && x.length <= 256 && x.every((e) => isObject(e) && u32(e.leaf) && u32(e.subleaf) && typeof e.indexed === 'boolean' && u32(e.eax) && u32(e.ebx) && u32(e.ecx) && u32(e.edx));
}
