import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus, type PioDevice, type MmioDevice } from '../bus/io-bus.js';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { NO_IRQ } from '../bus/irq.js';
import { PciFunction } from './pci-function.js';
import { PciBus, bdfOf } from './pci-bus.js';

function rig() {
  const io = new IoBus();
  const memory = new GuestMemory({ ramBytes: 16 << 20, romBytes: 1 << 20 });
  const logs: string[] = [];
  const pins: string[] = [];
  const bus = new PciBus(io, memory, (d, p) => { pins.push(`${d}:${p}`); return NO_IRQ; }, (m) => logs.push(m));
  io.registerPio(0xcf8, 8, bus.configPorts, 'pci-config');
  return { io, memory, bus, logs, pins };
}

const pioEcho = (): PioDevice & { writes: number[] } => {
  const writes: number[] = [];
  return { writes, pioRead: (o) => 0x40 + o, pioWrite: (_o, _s, v) => void writes.push(v) };
};

function cfgAddr(dev: number, fn: number, reg: number): number {
  return (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0;
}

test('mechanism #1: CONFIG_ADDRESS reads back, absent functions read all ones, byte lanes', () => {
  const { io, bus } = rig();
  const f = new PciFunction('dev', { vendorId: 0x1234, deviceId: 0x5678, classCode: 0x030000, revision: 2 });
  bus.attach(3, 0, f);
  io.pioWrite(0xcf8, 4, cfgAddr(3, 0, 0));
  assert.equal(io.pioRead(0xcf8, 4), cfgAddr(3, 0, 0));
  assert.equal(io.pioRead(0xcfc, 4), 0x56781234);
  assert.equal(io.pioRead(0xcfe, 2), 0x5678);
  assert.equal(io.pioRead(0xcfd, 1), 0x12);
  io.pioWrite(0xcf8, 4, cfgAddr(4, 0, 0));
  assert.equal(io.pioRead(0xcfc, 4), 0xffffffff);
  // Byte writes to 0xCF8 do not change CONFIG_ADDRESS (only dword accesses decode).
  io.pioWrite(0xcfb, 1, 1);
  assert.equal(io.pioRead(0xcf8, 4), cfgAddr(4, 0, 0));
  // Enable bit clear: no configuration cycle.
  io.pioWrite(0xcf8, 4, cfgAddr(3, 0, 0) & 0x7fffffff);
  assert.equal(io.pioRead(0xcfc, 4), 0xffffffff);
  assert.deepEqual(bus.functions(), [bdfOf(3, 0)]);
});

test('BAR sizing, I/O BAR mapping follows COMMAND.IO and moves with the BAR', () => {
  const { io, bus } = rig();
  const dev = pioEcho();
  const f = new PciFunction('io-dev', { vendorId: 0x8086, deviceId: 1, classCode: 0, revision: 0 }, [null, null, null, null, { kind: 'io', size: 16, pio: dev }]);
  bus.attach(1, 1, f);
  const bdf = bdfOf(1, 1);
  bus.writeConfig(bdf, 0x20, 4, 0xffffffff);
  assert.equal(bus.readConfig(bdf, 0x20, 4), 0xfffffff1, 'size 16, I/O indicator');
  bus.writeConfig(bdf, 0x20, 4, 0xc000);
  assert.equal(io.pioRead(0xc002, 1), 0xff, 'not decoded before COMMAND.IO');
  bus.writeConfig(bdf, 0x04, 2, 1);
  assert.equal(io.pioRead(0xc002, 1), 0x42);
  bus.writeConfig(bdf, 0x20, 4, 0xc100);
  assert.equal(io.pioRead(0xc002, 1), 0xff, 'old range released');
  assert.equal(io.pioRead(0xc103, 1), 0x43);
  bus.writeConfig(bdf, 0x04, 2, 0);
  assert.equal(io.pioRead(0xc103, 1), 0xff);
});

test('memory BARs: MMIO registration, RAM-like backing mapped into guest memory, ROM read-only', () => {
  const { io, memory, bus } = rig();
  const reads: number[] = [];
  const mmio: MmioDevice = { mmioRead: (o) => (reads.push(o), 0xabcd), mmioWrite: () => {} };
  const vram = memory.allocateBacking(0x10000);
  memory.bytes[vram + 5] = 0x77;
  const rom = new Uint8Array(3000).fill(0x55);
  const f = new PciFunction('vga', { vendorId: 0x1234, deviceId: 0x1111, classCode: 0x030000, revision: 2 }, [
    { kind: 'mem32', size: 0x10000, prefetchable: true, backingOffset: vram },
    null,
    { kind: 'mem32', size: 0x1000, mmio },
  ], rom);
  bus.attach(2, 0, f);
  const bdf = bdfOf(2, 0);
  bus.writeConfig(bdf, 0x10, 4, 0xffffffff);
  assert.equal(bus.readConfig(bdf, 0x10, 4), 0xffff0008, 'prefetchable 64 KiB');
  bus.writeConfig(bdf, 0x30, 4, 0xffffffff);
  assert.equal(bus.readConfig(bdf, 0x30, 4), 0xfffff001, 'ROM padded to 4 KiB');
  bus.writeConfig(bdf, 0x10, 4, 0xf0000000);
  bus.writeConfig(bdf, 0x18, 4, 0xf0010000);
  bus.writeConfig(bdf, 0x30, 4, 0xf0020000);
  bus.writeConfig(bdf, 0x04, 2, 2);
  assert.equal(memory.frameOffset[0xf0000], vram);
  assert.equal(io.mmioRead(0xf0010004, 2), 0xabcd);
  assert.deepEqual(reads, [4]);
  assert.equal(memory.frameOffset[0xf0020], -1, 'ROM not enabled yet');
  bus.writeConfig(bdf, 0x30, 4, 0xf0020001);
  assert.ok(memory.frameOffset[0xf0020] >= 0);
  assert.equal(memory.frameReadOnly[0xf0020], 1);
  assert.equal(memory.bytes[memory.frameOffset[0xf0020]], 0x55);
  // Move the VRAM BAR: the old frames are unmapped.
  bus.writeConfig(bdf, 0x10, 4, 0xe0000000);
  assert.equal(memory.frameOffset[0xf0000], -1);
  assert.equal(memory.frameOffset[0xe0000], vram);
  // A BAR on RAM is refused (RAM wins) and RAM is untouched.
  bus.writeConfig(bdf, 0x10, 4, 0x00100000);
  assert.equal(memory.frameOffset[0x100], 0x100000);
});

test('a BAR placed over another device is not decoded and does not throw', () => {
  const { io, bus, logs } = rig();
  const f = new PciFunction('bad', { vendorId: 1, deviceId: 1, classCode: 0, revision: 0 }, [{ kind: 'io', size: 8, pio: pioEcho() }]);
  bus.attach(5, 0, f);
  const bdf = bdfOf(5, 0);
  bus.writeConfig(bdf, 0x10, 4, 0xcf8);
  bus.writeConfig(bdf, 0x04, 2, 1);
  assert.match(logs.join('\n'), /not decoded/);
  io.pioWrite(0xcf8, 4, cfgAddr(5, 0, 0));
  assert.equal(io.pioRead(0xcfc, 2), 1, 'config ports still work');
  // Moving it somewhere free makes it decode.
  bus.writeConfig(bdf, 0x10, 4, 0xfff8);
  assert.equal(io.pioRead(0xfff9, 1), 0x41);
});

test('STATUS error bits are write-1-to-clear, read-only fields stay', () => {
  const { bus } = rig();
  const f = new PciFunction('x', { vendorId: 0x8086, deviceId: 0x7010, classCode: 0x010180, revision: 0, interruptPin: 1 });
  bus.attach(1, 1, f);
  f.config[0x07] |= 0x20; // received master abort
  bus.writeConfig(bdfOf(1, 1), 0x00, 4, 0);
  assert.equal(bus.readConfig(bdfOf(1, 1), 0, 4), 0x70108086);
  bus.writeConfig(bdfOf(1, 1), 0x06, 2, 0x2000);
  assert.equal(bus.readConfig(bdfOf(1, 1), 0x07, 1) & 0x20, 0);
  assert.equal(bus.readConfig(bdfOf(1, 1), 0x09, 1), 0x80);
});

test('64-bit BAR sizing uses the upper half', () => {
  const { bus } = rig();
  const f = new PciFunction('m64', { vendorId: 1, deviceId: 2, classCode: 0, revision: 0 }, [{ kind: 'mem64', size: 0x100000, mmio: { mmioRead: () => 0, mmioWrite: () => {} } }]);
  bus.attach(6, 0, f);
  bus.writeConfig(bdfOf(6, 0), 0x10, 4, 0xffffffff);
  bus.writeConfig(bdfOf(6, 0), 0x14, 4, 0xffffffff);
  assert.equal(bus.readConfig(bdfOf(6, 0), 0x10, 4), 0xfff00004);
  assert.equal(bus.readConfig(bdfOf(6, 0), 0x14, 4), 0xffffffff);
});
