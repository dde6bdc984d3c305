import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus, BusError, type PioDevice, type MmioDevice } from './io-bus.js';

function recorder(): PioDevice & MmioDevice & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    pioRead: (o, s) => (log.push(`r${s}@${o}`), 0x12345678),
    pioWrite: (o, s, v) => void log.push(`w${s}@${o}=${v.toString(16)}`),
    mmioRead: (o, s) => (log.push(`mr${s}@${o}`), 0xabcdef01),
    mmioWrite: (o, s, v) => void log.push(`mw${s}@${o}=${v.toString(16)}`),
  };
}

test('a device sees offsets into its own range, values masked to the access size', () => {
  const bus = new IoBus();
  const d = recorder();
  bus.registerPio(0x3f8, 8, d, 'com1');
  assert.equal(bus.pioRead(0x3fd, 1), 0x78);
  bus.pioWrite(0x3f8, 2, 0x1234);
  assert.deepEqual(d.log, ['r1@5', 'w2@0=1234']);
});

test('unclaimed ports and addresses read all ones and drop writes', () => {
  const bus = new IoBus();
  assert.equal(bus.pioRead(0x1234, 1), 0xff);
  assert.equal(bus.pioRead(0x1234, 2), 0xffff);
  assert.equal(bus.pioRead(0x1234, 4), 0xffffffff);
  bus.pioWrite(0x80, 1, 5);
  assert.equal(bus.mmioRead(0xfee00000, 4), 0xffffffff);
});

test('an access straddling two devices is split into bytes', () => {
  const bus = new IoBus();
  const a = recorder();
  const b = recorder();
  bus.registerPio(0x60, 1, a, 'a');
  bus.registerPio(0x61, 1, b, 'b');
  assert.equal(bus.pioRead(0x60, 2), 0x7878);
  bus.pioWrite(0x60, 2, 0xbbaa);
  assert.deepEqual(a.log, ['r1@0', 'w1@0=aa']);
  assert.deepEqual(b.log, ['r1@0', 'w1@0=bb']);
});

test('overlapping and empty registrations are refused with the owner named', () => {
  const bus = new IoBus();
  bus.registerPio(0x40, 4, recorder(), 'pit');
  assert.throws(() => bus.registerPio(0x43, 2, recorder(), 'x'), /port 0x0043 already belongs to pit/);
  assert.throws(() => bus.registerPio(0x10, 0, recorder(), 'y'), BusError);
  assert.throws(() => bus.registerPio(0xffff, 2, recorder(), 'z'), BusError);
  bus.registerMmio(0xfee00000, 0x1000, recorder(), 'lapic');
  assert.throws(() => bus.registerMmio(0xfee00800, 0x1000, recorder(), 'x'), /overlaps lapic/);
});

test('MMIO ranges are found by binary search and can be removed', () => {
  const bus = new IoBus();
  const ds = [0, 1, 2, 3].map(() => recorder());
  ds.forEach((d, i) => bus.registerMmio(0xf0000000 + i * 0x10000, 0x1000, d, `d${i}`));
  assert.equal(bus.mmioRead(0xf0020010, 4), 0xabcdef01);
  assert.deepEqual(ds[2].log, ['mr4@16']);
  bus.unregisterMmio(0xf0020000, ds[2]);
  assert.equal(bus.mmioRead(0xf0020010, 4), 0xffffffff);
  const p = recorder();
  bus.registerPio(0xc000, 16, p, 'bar');
  bus.unregisterPio(0xc000, p);
  assert.equal(bus.pioRead(0xc004, 1), 0xff);
  bus.registerPio(0xc000, 16, p, 'bar-again');
});
