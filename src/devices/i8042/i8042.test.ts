import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I8042 } from './device.js';

function makeKbc() {
  const irq1: boolean[] = [];
  const irq12: boolean[] = [];
  let resets = 0;
  const kbc = new I8042({ set: (l) => irq1.push(l) }, { set: (l) => irq12.push(l) }, () => resets++);
  const status = () => kbc.ports.command.pioRead(0, 1);
  const cmd = (v: number) => kbc.ports.command.pioWrite(0, 1, v);
  const data = (v: number) => kbc.ports.data.pioWrite(0, 1, v);
  const read = () => kbc.ports.data.pioRead(0, 1);
  /** Read every byte available, as i8042 polling does. */
  const drain = () => {
    const out: number[] = [];
    for (let i = 0; i < 64 && status() & 1; i++) out.push(read());
    return out;
  };
  const rising = (l: boolean[]) => l.filter((v, i) => v && !l[i - 1]).length;
  return { kbc, irq1, irq12, resets: () => resets, status, cmd, data, read, drain, rising };
}

test('Linux i8042 probe: flush, self test, CTR, aux loopback and aux enable checks', () => {
  const { status, cmd, data, read, drain } = makeKbc();
  assert.deepEqual(drain(), [], 'nothing to flush');
  assert.notEqual(status(), 0xff);
  cmd(0xaa);
  assert.equal(status() & 1, 1);
  assert.equal(read(), 0x55);
  cmd(0x20);
  const ctr1 = drain();
  cmd(0x20);
  const ctr2 = drain();
  assert.equal(ctr1.length, 1);
  assert.deepEqual(ctr1, ctr2);
  // Disable both interfaces and interrupts, as i8042_controller_init does.
  const ctr = (ctr1[0] | 0x30) & ~0x03;
  cmd(0x60);
  assert.equal(status() & 0x08, 0x08, 'last write was a command');
  data(ctr);
  assert.equal(status() & 0x08, 0);
  cmd(0x20);
  assert.deepEqual(drain(), [ctr]);
  // AUX loopback: 0xD3 + byte comes back as aux data.
  cmd(0xd3);
  data(0x5a);
  assert.equal(status() & 0x21, 0x21, 'OBF + AUXB');
  assert.equal(read(), 0x5a);
  cmd(0xa9);
  assert.deepEqual(drain(), [0x00]);
  cmd(0xa7);
  cmd(0x20);
  assert.equal(drain()[0] & 0x20, 0x20);
  cmd(0xa8);
  cmd(0x20);
  assert.equal(drain()[0] & 0x20, 0);
  cmd(0xab);
  assert.deepEqual(drain(), [0x00]);
  cmd(0xad);
  cmd(0x20);
  assert.equal(drain()[0] & 0x10, 0x10);
  cmd(0xae);
  cmd(0x20);
  assert.equal(drain()[0] & 0x10, 0);
});

test('keyboard commands: reset, identify, LEDs, scancode set, echo, unknown', () => {
  const { data, drain } = makeKbc();
  data(0xff);
  assert.deepEqual(drain(), [0xfa, 0xaa]);
  data(0xf2);
  assert.deepEqual(drain(), [0xfa, 0xab, 0x83]);
  data(0xed);
  assert.deepEqual(drain(), [0xfa]);
  data(0x02);
  assert.deepEqual(drain(), [0xfa]);
  data(0xf0);
  data(0x00);
  assert.deepEqual(drain(), [0xfa, 0xfa, 0x02]);
  data(0xf3);
  data(0x20);
  assert.deepEqual(drain(), [0xfa, 0xfa]);
  data(0xf5);
  data(0xf4);
  assert.deepEqual(drain(), [0xfa, 0xfa]);
  data(0xee);
  assert.deepEqual(drain(), [0xee]);
  data(0x01);
  assert.deepEqual(drain(), [0xfe]);
  data(0xfe);
  assert.deepEqual(drain(), [0xfe], 'resend repeats the last byte');
});

test('aux device: reset, identify, status, enable', () => {
  const { cmd, data, drain, status, irq12, rising } = makeKbc();
  cmd(0xd4);
  data(0xff);
  assert.equal(status() & 0x20, 0x20);
  assert.deepEqual(drain(), [0xfa, 0xaa, 0x00]);
  assert.equal(rising(irq12), 3, 'one IRQ12 edge per byte');
  cmd(0xd4);
  data(0xf2);
  assert.deepEqual(drain(), [0xfa, 0x00]);
  for (const c of [0xf3, 0xc8, 0xe8, 0x03, 0xe6, 0xf4]) {
    cmd(0xd4);
    data(c);
    assert.deepEqual(drain(), [0xfa], `ack for ${c.toString(16)}`);
  }
  cmd(0xd4);
  data(0xe9);
  assert.deepEqual(drain(), [0xfa, 0x20, 0x03, 0xc8]);
  cmd(0xd4);
  data(0x42);
  assert.deepEqual(drain(), [0xfe]);
});

test('IRQ1 per byte only while CTR bit 0 is set; keyboard data waits while disabled', () => {
  const { kbc, cmd, data, read, drain, irq1, rising, status } = makeKbc();
  kbc.keyboardInput(new Uint8Array([0x1e, 0x9e]));
  assert.equal(rising(irq1), 1);
  assert.equal(read(), 0x1e);
  assert.equal(rising(irq1), 2, 'second byte: new edge');
  assert.equal(read(), 0x9e);
  assert.equal(irq1[irq1.length - 1], false);
  cmd(0x60);
  data(0x04 | 0x10); // interrupts off, keyboard disabled
  kbc.keyboardInput(new Uint8Array([0x2c]));
  assert.equal(status() & 1, 0, 'held while the keyboard interface is disabled');
  cmd(0x20);
  assert.deepEqual(drain(), [0x14], 'controller replies still pass');
  cmd(0xae);
  assert.deepEqual(drain(), [0x2c]);
  assert.equal(rising(irq1), 2, 'no interrupt with CTR bit 0 clear');
  assert.equal(read(), 0x2c, 'empty buffer reads the last byte');
});

test('scanning disabled drops host input; input queue is capped', () => {
  const { kbc, data, drain } = makeKbc();
  data(0xf5);
  drain();
  kbc.keyboardInput(new Uint8Array([1, 2, 3]));
  assert.deepEqual(drain(), []);
  data(0xf4);
  drain();
  kbc.keyboardInput(new Uint8Array(5000).fill(0x10));
  let n = 0;
  while (kbc.ports.command.pioRead(0, 1) & 1) {
    kbc.ports.data.pioRead(0, 1);
    n++;
  }
  assert.equal(n, 1024);
});

test('reset requests: 0xFE pulse, output port bit 0 = 0; other pulses do not reset', () => {
  const { cmd, data, resets, drain } = makeKbc();
  cmd(0xff);
  cmd(0xf1);
  assert.equal(resets(), 0);
  cmd(0xfe);
  assert.equal(resets(), 1);
  cmd(0xd1);
  data(0xdf); // A20 on, reset line high
  assert.equal(resets(), 1);
  cmd(0xd0);
  assert.equal(drain()[0] & 0x03, 0x03);
  cmd(0xd1);
  data(0xde);
  assert.equal(resets(), 2);
});

test('0xD2 writes the keyboard output buffer; RAM bytes read back', () => {
  const { cmd, data, drain, status } = makeKbc();
  cmd(0xd2);
  data(0x77);
  assert.equal(status() & 0x21, 0x01);
  assert.deepEqual(drain(), [0x77]);
  cmd(0x65);
  data(0x99);
  cmd(0x25);
  assert.deepEqual(drain(), [0x99]);
});

test('save/restore keeps queues and the command byte', () => {
  const a = makeKbc();
  a.data(0xf2);
  a.read();
  const st = JSON.parse(JSON.stringify(a.kbc.save()));
  const b = makeKbc();
  b.kbc.restore(st);
  assert.equal(b.irq1[b.irq1.length - 1], true);
  assert.deepEqual(b.drain(), [0xab, 0x83]);
});

test('fuzz: random accesses never throw, outputs stay in range', () => {
  const { kbc } = makeKbc();
  let seed = 31337;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 50000; i++) {
    const dev = rnd(2) ? kbc.ports.data : kbc.ports.command;
    const size = ([1, 2, 4] as const)[rnd(3)];
    const op = rnd(5);
    if (op < 2) dev.pioWrite(0, size, rnd(2 ** 31));
    else if (op < 4) {
      const v = dev.pioRead(0, size);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** (8 * size));
    } else kbc.keyboardInput(new Uint8Array(rnd(20)).map(() => rnd(256)));
  }
});
