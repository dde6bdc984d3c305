import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aml, buffer, device, dword, eisaId, ifOp, integer, method, name, nameSeg, nameString, packageOf, pkgLength, returnOp, scope, store, arg, string, AmlError } from './encoding.js';
import { dwordMemory, io, irqNoFlags, resourceTemplate, wordBusNumber, wordIo } from './resources.js';

const bytes = (a: Uint8Array): number[] => [...a];

test('PkgLength: one byte below 64, multi-byte form counts itself (fact sheet 198 -> 46 0C)', () => {
  assert.deepEqual(pkgLength(0), [1]);
  assert.deepEqual(pkgLength(62), [63]);
  // 63 content bytes + 1 would be 64: needs the two-byte form, total 65.
  assert.deepEqual(pkgLength(63), [0x41, 0x04]);
  assert.deepEqual(pkgLength(196), [0x46, 0x0c]);
  // Three-byte form: total 0x1003 = 4096 content + 3.
  assert.deepEqual(pkgLength(4096), [0x83, 0x00, 0x01]);
  const total = (enc: number[]): number => (enc.length === 1 ? enc[0] : (enc[0] & 0x0f) | enc.slice(1).reduce((acc, b, i) => acc | (b << (4 + 8 * i)), 0));
  for (const n of [0, 1, 61, 62, 63, 64, 100, 4091, 4092, 4093, 70000, 1 << 20]) {
    const enc = pkgLength(n);
    assert.equal(enc.length > 1 ? enc[0] >> 6 : 0, enc.length - 1);
    assert.equal(total(enc), n + enc.length, `length ${n}`);
  }
  assert.throws(() => pkgLength(-1), AmlError);
});

test('name strings: segments padded with _, root and parent prefixes, dual and multi names', () => {
  assert.deepEqual(nameSeg('_S5'), [0x5f, 0x53, 0x35, 0x5f]);
  assert.deepEqual(bytes(nameString('\\_SB')), [0x5c, 0x5f, 0x53, 0x42, 0x5f]);
  assert.deepEqual(bytes(nameString('^PCI0')), [0x5e, 0x50, 0x43, 0x49, 0x30]);
  assert.deepEqual(bytes(nameString('_SB.PCI0')), [0x2e, 0x5f, 0x53, 0x42, 0x5f, 0x50, 0x43, 0x49, 0x30]);
  assert.deepEqual(bytes(nameString('\\_SB.PCI0.ISA')).slice(0, 3), [0x5c, 0x2f, 0x03]);
  assert.deepEqual(bytes(nameString('\\')), [0x5c, 0x00]);
  assert.throws(() => nameSeg('toolong'), AmlError);
  assert.throws(() => nameSeg('1ABC'), AmlError);
});

test('integers take the shortest form; strings are NUL-terminated', () => {
  assert.deepEqual(bytes(integer(0)), [0x00]);
  assert.deepEqual(bytes(integer(1)), [0x01]);
  assert.deepEqual(bytes(integer(28)), [0x0a, 0x1c]);
  assert.deepEqual(bytes(integer(0x1234)), [0x0b, 0x34, 0x12]);
  assert.deepEqual(bytes(integer(0x0003ffff)), [0x0c, 0xff, 0xff, 0x03, 0x00]);
  assert.deepEqual(bytes(integer(0x100000000)), [0x0e, 0, 0, 0, 0, 1, 0, 0, 0]);
  assert.deepEqual(bytes(dword(5)), [0x0c, 5, 0, 0, 0]);
  assert.deepEqual(bytes(string('Xen')), [0x0d, 0x58, 0x65, 0x6e, 0x00]);
  assert.throws(() => integer(-1), AmlError);
});

test('EISAID values match the fact sheet', () => {
  assert.equal(eisaId('PNP0A03'), 0x030ad041);
  assert.deepEqual(bytes(dword(eisaId('PNP0A03'))), [0x0c, 0x41, 0xd0, 0x0a, 0x03]);
  assert.equal(eisaId('PNP0303'), 0x0303d041);
  assert.equal(eisaId('PNP0F13'), 0x130fd041);
  assert.equal(eisaId('PNP0501'), 0x0105d041);
  assert.equal(eisaId('PNP0B00'), 0x000bd041);
  assert.equal(eisaId('PNP0103'), 0x0301d041);
  assert.equal(eisaId('PNP0C0F'), 0x0f0cd041);
  assert.equal(eisaId('PNP0C02'), 0x020cd041);
  assert.throws(() => eisaId('pnp0a03'), AmlError);
});

test('Name(_S5, Package(){0,0,0,0}) and a _PRT entry encode exactly as iasl does', () => {
  assert.deepEqual(bytes(name('_S5', packageOf([integer(0), integer(0), integer(0), integer(0)]))), [0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00]);
  assert.deepEqual(bytes(packageOf([dword(0x0003ffff), integer(0), integer(0), integer(28)])), [0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x0a, 0x1c]);
});

test('containers: Scope, Device, Method flags, If/Return, Store, Buffer', () => {
  assert.deepEqual(bytes(scope('_SB')), [0x10, 0x05, 0x5f, 0x53, 0x42, 0x5f]);
  assert.deepEqual(bytes(device('KBD')), [0x5b, 0x82, 0x05, 0x4b, 0x42, 0x44, 0x5f]);
  // Method(_PIC, 1) { Store(Arg0, PICD) }
  assert.deepEqual(bytes(method('_PIC', 1, false, store(arg(0), nameString('PICD')))), [0x14, 0x0c, 0x5f, 0x50, 0x49, 0x43, 0x01, 0x70, 0x68, 0x50, 0x49, 0x43, 0x44]);
  assert.equal(method('X', 2, true)[6], 0x0a);
  assert.deepEqual(bytes(ifOp(integer(1), returnOp(integer(0)))), [0xa0, 0x04, 0x01, 0xa4, 0x00]);
  assert.deepEqual(bytes(buffer([1, 2, 3])), [0x11, 0x06, 0x0a, 0x03, 1, 2, 3]);
  // A big container switches to the two-byte PkgLength and stays consistent.
  const big = device('BIG', ...Array.from({ length: 30 }, () => name('XXXX', integer(0x12345678))));
  assert.equal(big[2] >> 6, 1);
  assert.equal(((big[2] & 0x0f) | (big[3] << 4)) + 2, big.length);
  assert.throws(() => arg(7), AmlError);
  assert.throws(() => method('M', 8, false), AmlError);
});

test('resource descriptors match the fact sheet layouts', () => {
  assert.deepEqual(io(0x0cf8, 0x0cf8, 1, 8), [0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08]);
  assert.deepEqual(irqNoFlags(1), [0x22, 0x02, 0x00]);
  assert.deepEqual(irqNoFlags(12), [0x22, 0x00, 0x10]);
  assert.deepEqual(wordBusNumber(0, 0xff), [0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0xff, 0, 0, 0, 0x00, 0x01]);
  assert.deepEqual(wordIo(0x0d00, 0xffff), [0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3]);
  const mem = dwordMemory(0xf0000000, 0xfbffffff, 'non-cacheable');
  assert.equal(mem.length, 26);
  assert.deepEqual(mem.slice(0, 6), [0x87, 0x17, 0x00, 0x00, 0x0c, 0x01]);
  assert.deepEqual(mem.slice(10, 14), [0x00, 0x00, 0x00, 0xf0]);
  assert.deepEqual(mem.slice(22, 26), [0x00, 0x00, 0x00, 0x0c]);
  assert.equal(dwordMemory(0xa0000, 0xbffff, 'cacheable')[5], 0x03);
  const rt = resourceTemplate(irqNoFlags(12));
  assert.deepEqual(bytes(rt), [0x11, 0x08, 0x0a, 0x05, 0x22, 0x00, 0x10, 0x79, 0x00]);
  assert.throws(() => io(5, 4, 1, 1), AmlError);
  assert.throws(() => irqNoFlags(16), AmlError);
  assert.equal(aml().length, 0);
});
