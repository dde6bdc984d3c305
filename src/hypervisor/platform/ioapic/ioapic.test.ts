import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ioapic, type IoapicMessage } from './device.js';

function rig() {
  const sent: IoapicMessage[] = [];
  let changes = 0;
  const io = new Ioapic({ deliver: (m) => sent.push(m), changed: () => changes++ });
  const reg = (r: number, v?: number): number => {
    io.mmioWrite(0x00, 4, r);
    if (v !== undefined) io.mmioWrite(0x10, 4, v);
    return io.mmioRead(0x10, 4);
  };
  return { io, sent, reg, changes: () => changes };
}

test('ID, version 0x11 with 48 pins, arbitration; RTEs reset masked', () => {
  const { reg } = rig();
  assert.equal(reg(0x01), 0x002f0011);
  reg(0x00, 0xffffffff);
  assert.equal(reg(0x00), 0x0f000000);
  assert.equal(reg(0x02), 0x0f000000);
  reg(0x01, 0);
  assert.equal(reg(0x01), 0x002f0011, 'version is read-only');
  for (let pin = 0; pin < 48; pin++) assert.equal(reg(0x10 + 2 * pin), 0x10000);
  assert.equal(reg(0x10 + 2 * 48), 0, 'no pin 48');
  reg(0x10 + 2 * 48, 0x30); // beyond the last pin: ignored, no throw
});

test('edge: delivers on 0→1 only, masked edges are lost, destination and mode go in the message', () => {
  const { io, sent, reg } = rig();
  reg(0x10 + 2 * 4 + 1, 0x03000000);
  reg(0x10 + 2 * 4, 0x834);
  io.setPin(4, true);
  io.setPin(4, true);
  assert.deepEqual(sent, [{ pin: 4, vector: 0x34, mode: 0, logical: true, dest: 3, level: false }]);
  io.setPin(4, false);
  reg(0x10 + 2 * 4, 0x10834);
  io.setPin(4, true);
  io.setPin(4, false);
  reg(0x10 + 2 * 4, 0x834);
  assert.equal(sent.length, 1, 'an edge seen while masked is not remembered');
  io.setPin(4, true);
  assert.equal(sent.length, 2);
});

test('level: remote IRR blocks redelivery until EOI; EOI redelivers while the line is still high', () => {
  const { io, sent, reg } = rig();
  const lo = 0x10 + 2 * 20;
  reg(lo, 0x8000 | 0x51);
  io.setPin(20, true);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].level, true);
  assert.equal(reg(lo) & 0x4000, 0x4000, 'remote IRR set');
  io.setPin(20, false);
  io.setPin(20, true);
  assert.equal(sent.length, 1, 'no new message while remote IRR is set');
  io.eoi(0x52);
  assert.equal(sent.length, 1, 'EOI of another vector does nothing');
  io.eoi(0x51);
  assert.equal(sent.length, 2, 'still asserted: redelivered at EOI');
  assert.equal(reg(lo) & 0x4000, 0x4000);
  io.setPin(20, false);
  io.eoi(0x51);
  assert.equal(reg(lo) & 0x4000, 0, 'line low: remote IRR clears and nothing is sent');
  assert.equal(sent.length, 2);
});

test('level: unmasking an asserted pin delivers; RTE writes keep remote IRR; switching to edge clears it', () => {
  const { io, sent, reg } = rig();
  const lo = 0x10 + 2 * 9;
  reg(lo, 0x18000 | 0x61);
  io.setPin(9, true);
  assert.equal(sent.length, 0, 'masked');
  reg(lo, 0x8000 | 0x61);
  assert.equal(sent.length, 1, 'unmasked while asserted');
  reg(lo, 0x8000 | 0x4000 | 0x1000 | 0x62);
  assert.equal(reg(lo), 0xc062, 'guest cannot write remote IRR or delivery status; remote IRR kept');
  assert.equal(sent.length, 1);
  reg(lo, 0x62);
  assert.equal(reg(lo) & 0x4000, 0, 'edge: remote IRR cleared');
});

test('MMIO: IOREGSEL byte access, sub-dword IOWIN writes merge, stray offsets are harmless', () => {
  const { io, reg } = rig();
  io.mmioWrite(0x00, 1, 0x11);
  io.mmioWrite(0x13, 1, 0x07);
  assert.equal(reg(0x11), 0x07000000);
  assert.equal(io.mmioRead(0x00, 4), 0x11);
  io.mmioWrite(0x40, 4, 0x51); // no EOI register at version 0x11
  io.mmioWrite(0x0e, 4, 0);
  assert.equal(io.mmioRead(0x20, 4), 0);
  io.setPin(99, true);
  io.setPin(-1, true);
});

test('save/restore keeps RTEs and remote IRR', () => {
  const a = rig();
  a.reg(0x00, 0x01000000);
  a.reg(0x10 + 2 * 16, 0x8000 | 0x70);
  a.reg(0x10 + 2 * 16 + 1, 0x02000000);
  a.io.setPin(16, true);
  const s = JSON.parse(JSON.stringify(a.io.save()));
  const b = rig();
  b.io.restore(s);
  assert.deepEqual(b.io.save(), a.io.save());
  assert.equal(b.reg(0x10 + 2 * 16), 0xc070);
});
