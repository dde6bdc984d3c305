import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PicPair } from './device.js';

function makePic() {
  const intr: boolean[] = [];
  const pic = new PicPair((l) => intr.push(l));
  const out = (port: number, v: number) => (port >= 0xa0 ? pic.slave : pic.master).pioWrite(port & 1, 1, v);
  const inb = (port: number) => (port >= 0xa0 ? pic.slave : pic.master).pioRead(port & 1, 1);
  const level = () => pic.intrLevel;
  return { pic, intr, out, inb, level };
}

/** Linux init_8259A (fact sheet x86 §9 step 6). */
function linuxInit(out: (p: number, v: number) => void) {
  out(0x21, 0xff);
  out(0xa1, 0xff);
  out(0x20, 0x11);
  out(0x21, 0x30);
  out(0x21, 0x04);
  out(0x21, 0x01);
  out(0xa0, 0x11);
  out(0xa1, 0x38);
  out(0xa1, 0x02);
  out(0xa1, 0x01);
}

test('Linux probe: IMR reads back what was written', () => {
  const { out, inb } = makePic();
  out(0xa1, 0xff);
  out(0x21, 0xfb);
  assert.equal(inb(0x21), 0xfb);
  assert.equal(inb(0xa1), 0xff);
});

test('Linux init, IRQ0 delivery, ISR/IRR reads and specific EOI', () => {
  const { pic, out, inb, level, intr } = makePic();
  linuxInit(out);
  out(0x21, 0xfa); // unmask IRQ0 and cascade
  out(0xa1, 0xff);
  assert.equal(level(), false);
  pic.line(0).set(true);
  pic.line(0).set(false);
  assert.equal(level(), true);
  assert.deepEqual(intr, [true]);
  out(0x20, 0x0a); // OCW3: read IRR
  assert.equal(inb(0x20), 0x01);
  assert.equal(pic.acknowledge(), 0x30);
  assert.equal(level(), false);
  out(0x20, 0x0b); // read ISR
  assert.equal(inb(0x20), 0x01);
  out(0x20, 0x0a);
  assert.equal(inb(0x20), 0x00);
  out(0x20, 0x60); // specific EOI IRQ0
  out(0x20, 0x0b);
  assert.equal(inb(0x20), 0x00);
});

test('slave IRQ8: vector 0x38, cascade ISR bit on master, EOI order slave then master', () => {
  const { pic, out, inb, level } = makePic();
  linuxInit(out);
  out(0x21, 0xfb);
  out(0xa1, 0xfe);
  pic.line(8).set(true);
  assert.equal(level(), true);
  assert.equal(pic.acknowledge(), 0x38);
  out(0x20, 0x0b);
  out(0xa0, 0x0b);
  assert.equal(inb(0x20), 0x04);
  assert.equal(inb(0xa0), 0x01);
  // The line is still high but edge-triggered: no second request.
  out(0xa0, 0x60);
  out(0x20, 0x62);
  assert.equal(inb(0x20), 0);
  assert.equal(inb(0xa0), 0);
  assert.equal(level(), false);
  // Drop and raise: a new edge.
  pic.line(8).set(false);
  pic.line(8).set(true);
  assert.equal(level(), true);
  assert.equal(pic.acknowledge(), 0x38);
});

test('a second slave request waits for the master EOI of the cascade', () => {
  const { pic, out, level } = makePic();
  linuxInit(out);
  out(0x21, 0xfb);
  out(0xa1, 0x00);
  pic.line(12).set(true);
  pic.line(12).set(false);
  pic.line(14).set(true);
  pic.line(14).set(false);
  assert.equal(pic.acknowledge(), 0x3c);
  assert.equal(level(), false);
  out(0xa0, 0x64);
  assert.equal(level(), false, 'master IR2 still in service');
  out(0x20, 0x62);
  assert.equal(level(), true);
  assert.equal(pic.acknowledge(), 0x3e);
});

test('priority: lower IRQ number wins, in-service blocks lower priority only', () => {
  const { pic, out, level } = makePic();
  linuxInit(out);
  out(0x21, 0x00);
  pic.line(4).set(true);
  pic.line(3).set(true);
  assert.equal(pic.acknowledge(), 0x33);
  assert.equal(level(), false, 'IRQ4 is below IRQ3 in service');
  pic.line(1).set(true);
  assert.equal(level(), true, 'IRQ1 preempts');
  assert.equal(pic.acknowledge(), 0x31);
  out(0x20, 0x20); // non-specific EOI clears the highest in service (IRQ1)
  out(0x20, 0x0b);
  assert.equal(pic.master.pioRead(0, 1), 0x08);
  out(0x20, 0x20);
  assert.equal(pic.acknowledge(), 0x34);
});

test('masked requests do not raise INTR; unmasking delivers them', () => {
  const { pic, out, level } = makePic();
  linuxInit(out);
  out(0x21, 0xff);
  pic.line(3).set(true);
  assert.equal(level(), false);
  out(0x21, 0xf7);
  assert.equal(level(), true);
  assert.equal(pic.acknowledge(), 0x33);
});

test('spurious IRQ7: request masked after INTR rose, vector of IR7, no ISR bit', () => {
  const { pic, out, inb, level } = makePic();
  linuxInit(out);
  out(0x21, 0x00);
  pic.line(5).set(true);
  assert.equal(level(), true);
  out(0x21, 0x20); // masked before the CPU acknowledged
  assert.equal(level(), false);
  assert.equal(pic.acknowledge(), 0x37);
  out(0x20, 0x0b);
  assert.equal(inb(0x20), 0);
});

test('a level request withdrawn before INTA gives the spurious IR7 vector', () => {
  const { pic, out, inb } = makePic();
  linuxInit(out);
  out(0x21, 0x00);
  out(0xa1, 0x00);
  pic.elcr = 0x0800; // IRQ11 level-triggered
  pic.line(11).set(true);
  // The cascade follows the slave as a level, so the withdrawal reaches the master
  // before the CPU's INTA: the master answers its own IR7.
  assert.equal(pic.intrLevel, true);
  pic.line(11).set(false);
  assert.equal(pic.intrLevel, false);
  assert.equal(pic.acknowledge(), 0x37, 'request gone before INTA: master IR7');
  out(0x20, 0x0b);
  assert.equal(inb(0x20), 0);
});

test('level mode: request follows the line, re-raises after EOI while held', () => {
  const { pic, out, level } = makePic();
  linuxInit(out);
  out(0x21, 0x00);
  out(0xa1, 0x00);
  pic.elcr = 0x0200; // IRQ9 level
  assert.equal(pic.elcr, 0x0200);
  pic.line(9).set(true);
  assert.equal(pic.acknowledge(), 0x39);
  assert.equal(level(), false);
  out(0xa0, 0x61);
  out(0x20, 0x62);
  assert.equal(level(), true, 'still asserted: requests again');
  pic.line(9).set(false);
  assert.equal(level(), false, 'withdrawn');
});

test('ELCR ignores reserved IRQ 0, 1, 2, 8, 13 bits', () => {
  const { pic } = makePic();
  pic.elcr = 0xffff;
  assert.equal(pic.elcr, 0xdef8);
});

test('ICW1 LTIM makes every line level-triggered', () => {
  const { pic, out, level } = makePic();
  out(0x20, 0x19);
  out(0x21, 0x08);
  out(0x21, 0x04);
  out(0x21, 0x01);
  out(0x21, 0xfe);
  pic.line(0).set(true);
  pic.line(0).set(false);
  assert.equal(level(), false);
});

test('auto-EOI leaves ISR clear; rotate-on-AEOI moves priority', () => {
  const { pic, out, inb } = makePic();
  out(0x20, 0x11);
  out(0x21, 0x08);
  out(0x21, 0x04);
  out(0x21, 0x03); // 8086 + AEOI
  out(0x21, 0x00);
  out(0x20, 0x80); // rotate in AEOI mode
  pic.line(1).set(true);
  pic.line(1).set(false);
  assert.equal(pic.acknowledge(), 0x09);
  out(0x20, 0x0b);
  assert.equal(inb(0x20), 0);
  // IRQ1 now has the lowest priority: IRQ2.. first. Raise 0 and 1 and 3 together.
  pic.line(0).set(true);
  pic.line(3).set(true);
  pic.line(1).set(true);
  assert.equal(pic.acknowledge(), 0x0b, 'IRQ3 is the highest after rotation to base 2');
});

test('rotate on specific EOI and set priority', () => {
  const { pic, out } = makePic();
  linuxInit(out);
  out(0x21, 0x00);
  out(0x20, 0xc4); // set priority: IRQ4 lowest -> IRQ5 highest
  pic.line(0).set(true);
  pic.line(6).set(true);
  assert.equal(pic.acknowledge(), 0x36);
  out(0x20, 0xe6); // rotate on specific EOI 6: IRQ7 highest
  assert.equal(pic.acknowledge(), 0x30);
});

test('poll mode: the read acknowledges and reports the level', () => {
  const { pic, out, inb } = makePic();
  linuxInit(out);
  out(0x21, 0x00);
  pic.line(6).set(true);
  out(0x20, 0x0c); // OCW3 poll
  assert.equal(inb(0x20), 0x86);
  out(0x20, 0x0b);
  assert.equal(inb(0x20), 0x40);
  out(0x20, 0x0c);
  assert.equal(inb(0x20), 0x00, 'nothing else pending');
});

test('special mask mode lets lower priorities through', () => {
  const { pic, out, level } = makePic();
  linuxInit(out);
  out(0x21, 0x00);
  pic.line(1).set(true);
  assert.equal(pic.acknowledge(), 0x31);
  pic.line(4).set(true);
  assert.equal(level(), false);
  out(0x21, 0x02); // mask the in-service level
  out(0x20, 0x68); // ESMM + SMM
  assert.equal(level(), true);
  assert.equal(pic.acknowledge(), 0x34);
});

test('special fully nested mode: a higher slave request passes an in-service cascade', () => {
  const { pic, out, level } = makePic();
  out(0x20, 0x11);
  out(0x21, 0x30);
  out(0x21, 0x04);
  out(0x21, 0x11); // SFNM
  linuxInitSlave(out);
  out(0x21, 0x00);
  out(0xa1, 0x00);
  pic.line(12).set(true);
  assert.equal(pic.acknowledge(), 0x3c);
  pic.line(9).set(true);
  assert.equal(level(), true);
  assert.equal(pic.acknowledge(), 0x39);
});

function linuxInitSlave(out: (p: number, v: number) => void) {
  out(0xa0, 0x11);
  out(0xa1, 0x38);
  out(0xa1, 0x02);
  out(0xa1, 0x01);
}

test('line(2) is the AT bus IRQ2, wired to IRQ9', () => {
  const { pic, out } = makePic();
  linuxInit(out);
  out(0x21, 0x00);
  out(0xa1, 0x00);
  pic.line(2).set(true);
  assert.equal(pic.acknowledge(), 0x39);
  assert.throws(() => pic.line(16));
});

test('16-bit access covers both ports', () => {
  const { pic, out } = makePic();
  linuxInit(out);
  out(0x21, 0x5a);
  assert.equal(pic.master.pioRead(0, 2) >> 8, 0x5a);
});

test('save/restore round-trips', () => {
  const a = makePic();
  linuxInit(a.out);
  a.out(0x21, 0x00);
  a.pic.line(3).set(true);
  const st = JSON.parse(JSON.stringify(a.pic.save()));
  const b = makePic();
  b.pic.restore(st);
  assert.equal(b.level(), true);
  assert.equal(b.pic.acknowledge(), 0x33);
});

test('fuzz: random port writes, reads, line changes and INTAs never throw', () => {
  const { pic, intr } = makePic();
  let seed = 12345;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 20000; i++) {
    const dev = rnd(2) ? pic.master : pic.slave;
    const size = ([1, 2, 4] as const)[rnd(3)];
    switch (rnd(5)) {
      case 0: {
        const v = dev.pioRead(rnd(2), size);
        assert.ok(v >= 0 && v < 2 ** (8 * size));
        break;
      }
      case 1:
      case 2:
        dev.pioWrite(rnd(2), size, rnd(2 ** 31));
        break;
      case 3:
        pic.line(rnd(16)).set(rnd(2) === 1);
        break;
      default: {
        const v = pic.acknowledge();
        assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xff);
      }
    }
    if (rnd(50) === 0) pic.elcr = rnd(0x10000);
  }
  // setIntr calls alternate: never the same level twice in a row.
  for (let i = 1; i < intr.length; i++) assert.notEqual(intr[i], intr[i - 1]);
});
