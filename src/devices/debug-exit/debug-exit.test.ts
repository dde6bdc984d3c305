import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { DEBUG_EXIT_DEFAULT_IOBASE, DEBUG_EXIT_DEFAULT_IOSIZE, DebugExit, debugExitStatus } from './device.js';

test('status is (V << 1) | 1 in the 8 bits of a process exit status', () => {
  assert.equal(debugExitStatus(0), 1);
  assert.equal(debugExitStatus(1), 3);
  assert.equal(debugExitStatus(0x10), 0x21);
  assert.equal(debugExitStatus(0x7f), 0xff);
  assert.equal(debugExitStatus(0x80), 1, 'bit 7 shifts out, as the OS truncates QEMU’s exit code');
  assert.equal(debugExitStatus(0xffffffff), 0xff);
});

test('writes through the bus at the default 0xF4/4 request an exit with the status and raw value', () => {
  const bus = new IoBus();
  const calls: Array<[number, number]> = [];
  bus.registerPio(DEBUG_EXIT_DEFAULT_IOBASE, DEBUG_EXIT_DEFAULT_IOSIZE, new DebugExit((s, v) => calls.push([s, v])), 'debug-exit');
  bus.pioWrite(0xf4, 1, 0x10);
  bus.pioWrite(0xf4, 4, 0x12345678);
  bus.pioWrite(0xf6, 2, 0xabcd);
  assert.deepEqual(calls, [
    [0x21, 0x10],
    [0xf1, 0x12345678],
    [0x9b, 0xabcd],
  ]);
  assert.equal(bus.pioRead(0xf4, 1), 0, 'reads return 0');
  assert.equal(bus.pioRead(0xf8, 1), 0xff, 'nothing beyond the range');
});

test('a one-port registration still ends with the low byte of a 32-bit OUT first', () => {
  const bus = new IoBus();
  const calls: number[] = [];
  bus.registerPio(0x501, 1, new DebugExit((s) => calls.push(s)), 'debug-exit');
  bus.pioWrite(0x501, 4, 0x00000003);
  assert.deepEqual(calls, [7]);
});

test('save/restore carry no state and refuse a foreign record', () => {
  const d = new DebugExit(() => {});
  const s = d.save();
  assert.deepEqual(s, { version: 1 });
  d.restore(s);
  assert.throws(() => d.restore({ version: 2 } as unknown as { version: 1 }), /version 2 is not 1/);
});
