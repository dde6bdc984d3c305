// The save image's byte format: a round trip keeps every value type device states
// use, and every kind of damage is an error that names the file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeImage, encodeImage, IMAGE_VERSION, REC_OPTIONAL, SaveImageError, type DomainImage, type RecordCodec } from './image-format.js';
import { crc32 } from './crc32.js';
import type { VcpuRegisters, VcpuSpecialRegisters, SegmentRegister } from '../vcpu/backend.js';
import type { VcpuState } from '../vcpu/vcpu-state.js';

const seg: SegmentRegister = { selector: 8, base: 0, limit: 0xffffffff, type: 11, s: 1, dpl: 0, present: 1, db: 1, g: 1, avl: 0, l: 0, unusable: 0 };
const regs: VcpuRegisters = { eax: 1, ebx: 2, ecx: 3, edx: 0xffffffff, esi: 5, edi: 6, esp: 0x7000, ebp: 8, eip: 0x1234, eflags: 0x202 };
const sregs: VcpuSpecialRegisters = { cs: seg, ds: seg, es: seg, fs: seg, gs: seg, ss: seg, tr: seg, ldt: seg, gdt: { base: 0x1000, limit: 0x27 }, idt: { base: 0, limit: 0x3ff }, cr0: 0x11, cr2: 0, cr3: 0, cr4: 0, efer: 0, apicBase: 0xfee00900 };

function sampleImage(): DomainImage {
  const memory = new Uint8Array(64 * 1024);
  for (let i = 0; i < memory.length; i += 97) memory[i] = i & 0xff;
  return {
    header: { name: 'guest-é', cpuBackend: 'emu', savedAt: '2026-11-27T08:00:00.000Z' },
    config: { name: 'guest-é', memoryMiB: 16, text: 'name = "guest-é"\n' },
    spec: {
      name: 'guest-é', memoryBytes: 1 << 20, vcpus: 1, serialPorts: 1, debugconPorts: [0xe9],
      multiboot: { kernel: Uint8Array.of(1, 2, 3, 4, 5), cmdline: 'x', modules: [{ bytes: Uint8Array.of(9, 9), cmdline: 'm' }] },
    },
    state: {
      guestNs: 123456789,
      // Not a real VcpuState: values of every type the state JSON must carry.
      vcpu: { regs, sregs, msrs: [[0x174, 0x10n], [0x10, 0xffffffffffffffffn]], fpu: Uint8Array.of(7, 8, 9), xmm: new Float64Array([1.5, -0]) } as unknown as VcpuState,
      devices: [
        { name: 'pit', state: { version: 1, channels: [{ nextNs: Infinity, lastNs: -Infinity }] } },
        { name: 'com1', state: { version: 1, rx: [65, 66], lsr: 0x60 } },
      ],
      xen: { version: 1, params: [0n, 5n] },
      memoryMap: [{ gfn: 0, count: 16, offset: 0, readOnly: false }, { gfn: 16, count: 0x100000 - 16, offset: -1, readOnly: false }],
      memory,
    },
  };
}

const zlib: RecordCodec = {
  compress: (raw) => deflateRawSync(raw, { level: 1 }),
  decompress: (stored, rawLength) => inflateRawSync(stored, { maxOutputLength: Math.max(1, rawLength) }),
};

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('image round trip keeps bigint, Infinity, typed arrays, spec blobs and memory (plain and compressed)', () => {
  for (const codec of [undefined, zlib]) {
    const image = sampleImage();
    const bytes = concat(encodeImage(image, codec));
    const back = decodeImage(bytes, 'x.save', codec);
    assert.deepEqual(back, image);
    assert.ok(back.spec.multiboot!.kernel instanceof Uint8Array);
    assert.equal((back.state.vcpu as unknown as { msrs: [number, bigint][] }).msrs[1][1], 0xffffffffffffffffn);
    assert.equal((back.state.devices[0].state as { channels: { nextNs: number }[] }).channels[0].nextNs, Infinity);
    if (codec) assert.ok(bytes.length < image.state.memory.length / 2, `compressed image is ${bytes.length} bytes`);
  }
});

test('image errors name the file: bad magic, newer version, truncated, corrupt, unknown record', () => {
  const good = concat(encodeImage(sampleImage(), zlib));
  const expectError = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(() => decodeImage(bytes, '/tmp/g.save', zlib), (e: unknown) => e instanceof SaveImageError && e.message.startsWith('/tmp/g.save: ') && pattern.test(e.message));

  expectError(new TextEncoder().encode('#!/bin/sh\necho not an image\n'), /not a tsxen save image/);
  expectError(good.subarray(0, 10), /not a tsxen save image \(only 10 bytes\)/);

  const newer = good.slice();
  new DataView(newer.buffer).setUint32(8, IMAGE_VERSION + 1, true);
  expectError(newer, new RegExp(`version ${IMAGE_VERSION + 1} is newer than this tsxen reads`));

  for (const cut of [20, 100, good.length - 40, good.length - 1]) expectError(good.subarray(0, cut), /truncated/);

  // One flipped bit in the last body (the memory record) before the END record.
  const corrupt = good.slice();
  corrupt[good.length - 32 - 16] ^= 0x04;
  expectError(corrupt, /record \d+ \(memory\) at byte \d+ is corrupt \(CRC-32 mismatch\)/);

  // A record type this reader does not know: mandatory fails, optional (bit 31) is skipped.
  for (const [type, ok] of [[0x77, false], [REC_OPTIONAL | 0x77, true]] as const) {
    const extra = new Uint8Array(32 + 8);
    const v = new DataView(extra.buffer);
    v.setUint32(0, type, true);
    v.setBigUint64(8, 8n, true);
    v.setBigUint64(16, 8n, true);
    v.setUint32(24, crc32(new Uint8Array(8)), true);
    const bytes = concat([good.subarray(0, 16), extra, good.subarray(16)]);
    if (ok) assert.equal(decodeImage(bytes, 'g', zlib).header.name, 'guest-é');
    else expectError(bytes, /type 0x77\) at byte 16 is a record type this tsxen does not know/);
  }
});

test('a memory record whose inflated size disagrees with its header is corrupt', () => {
  const lying: RecordCodec = { compress: zlib.compress, decompress: (s) => inflateRawSync(s).subarray(1) };
  const bytes = concat(encodeImage(sampleImage(), zlib));
  assert.throws(() => decodeImage(bytes, 'f', lying), /f: record \d+ \(blob\).*holds 4 bytes, its header says 5: corrupt/);
});
