import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Uart16550, UART_INPUT_CAPACITY } from './device.js';

function makeUart() {
  const tx: number[] = [];
  const levels: boolean[] = [];
  const uart = new Uart16550({ set: (l) => levels.push(l) }, (b) => tx.push(b));
  const out = (off: number, v: number) => uart.ports.pioWrite(off, 1, v);
  const inb = (off: number) => uart.ports.pioRead(off, 1);
  const irq = () => (levels.length ? levels[levels.length - 1] : false);
  return { uart, tx, levels, out, inb, irq };
}

const IER = 1;
const IIR = 2;
const FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

test('Linux 8250 autoconfig identifies a 16550A', () => {
  const { out, inb } = makeUart();
  // IER test
  const scratch = inb(IER);
  out(IER, 0);
  const scratch2 = inb(IER) & 0x0f;
  out(IER, 0x0f);
  const scratch3 = inb(IER) & 0x0f;
  out(IER, scratch);
  assert.equal(scratch2, 0);
  assert.equal(scratch3, 0x0f);
  // Loopback test
  const saveMcr = inb(MCR);
  const saveLcr = inb(LCR);
  out(MCR, 0x10 | 0x0a);
  const status1 = inb(MSR) & 0xf0;
  out(MCR, saveMcr);
  assert.equal(status1, 0x90);
  // FIFO probe: LCR 0xBF, "EFR" ← 0 (FCR on a 16550A), LCR 0, FCR ← 1
  out(LCR, 0xbf);
  out(2, 0);
  out(LCR, 0);
  out(FCR, 0x01);
  assert.equal(inb(IIR) >> 6, 3, '16550A FIFOs');
  // autoconfig_16550a: no EFR under LCR 0x80 or 0xBF
  out(LCR, 0x80);
  assert.notEqual(inb(2), 0);
  out(LCR, 0xbf);
  assert.notEqual(inb(2), 0);
  // NS SuperIO probe: EXCR1 (LCR 0xE0, offset 2) must not follow MCR LOOP
  out(LCR, 0);
  const mcr = inb(MCR);
  out(LCR, 0xe0);
  const s2 = inb(2);
  assert.equal((s2 ^ mcr) & 0x10, 0);
  out(LCR, 0);
  out(MCR, mcr ^ 0x10);
  out(LCR, 0xe0);
  const s3 = inb(2);
  out(LCR, 0);
  out(MCR, mcr);
  assert.equal((s3 ^ mcr) & 0x10, 0, 'not an NS16550A');
  // TI16750: IIR bit 5 never set, with or without DLAB
  out(LCR, 0);
  out(FCR, 0x21);
  const st1 = inb(IIR) >> 5;
  out(FCR, 0x01);
  out(LCR, 0x80);
  out(FCR, 0x21);
  const st2 = inb(IIR) >> 5;
  out(FCR, 0x01);
  out(LCR, 0);
  assert.equal(st1, 6);
  assert.equal(st2, 6);
  // Xscale UUE bit does not stick
  const iersave = inb(IER);
  out(IER, iersave | 0x40);
  assert.equal(inb(IER) & 0x40, 0);
  out(IER, iersave);
  out(LCR, saveLcr);
});

test('scratch register and divisor latch under DLAB', () => {
  const { out, inb } = makeUart();
  out(SCR, 0xa5);
  assert.equal(inb(SCR), 0xa5);
  out(SCR, 0x5a);
  assert.equal(inb(SCR), 0x5a);
  out(LCR, 0x83);
  out(0, 0x01);
  out(1, 0x00);
  assert.equal(inb(0), 0x01);
  assert.equal(inb(1), 0x00);
  out(LCR, 0x03);
  assert.equal(inb(IER), 0, 'DLM write did not touch IER');
});

test('THRE test on open: IIR 0x02, re-asserted by IER 0 then 2', () => {
  const { out, inb } = makeUart();
  out(FCR, 0x07);
  out(LCR, 0x03);
  assert.notEqual(inb(LSR), 0xff);
  out(IER, 0x02);
  const lsr = inb(LSR);
  const iir1 = inb(IIR);
  out(IER, 0);
  out(IER, 0x02);
  const iir = inb(IIR);
  out(IER, 0);
  assert.equal(lsr & 0x60, 0x60, 'THRE and TEMT');
  assert.equal(iir1 & 0x0f, 0x02);
  assert.equal(iir & 0x0f, 0x02, 'no UART_BUG_THRE');
  assert.equal(iir & 0x01, 0);
  // Reading IIR cleared THRE: nothing left pending.
  out(IER, 0x02);
  inb(IIR);
  assert.equal(inb(IIR) & 0x0f, 0x01);
});

test('console output by polling LSR, bytes reach the transmit sink', () => {
  const { out, inb, tx } = makeUart();
  for (const c of 'ok\n') {
    while (!(inb(LSR) & 0x20));
    out(0, c.charCodeAt(0));
  }
  assert.deepEqual(tx, [0x6f, 0x6b, 0x0a]);
});

test('IRQ reaches the line only with OUT2 set', () => {
  const { out, irq, inb } = makeUart();
  out(IER, 0x02);
  assert.equal(irq(), false, 'OUT2 = 0');
  out(MCR, 0x08);
  assert.equal(irq(), true);
  inb(IIR); // clears THRE
  assert.equal(irq(), false);
  out(0, 0x41); // THR empties again at once
  assert.equal(irq(), true);
  out(MCR, 0x00);
  assert.equal(irq(), false);
});

test('RX FIFO: trigger level gives RDI, below it the timeout id, priorities', () => {
  const { uart, out, inb, irq } = makeUart();
  out(MCR, 0x08);
  out(FCR, 0x81); // FIFO on, trigger 8
  out(IER, 0x03);
  uart.receive(new Uint8Array([1, 2, 3]));
  assert.equal(irq(), true);
  assert.equal(inb(IIR), 0xcc, 'character timeout below trigger');
  uart.receive(new Uint8Array([4, 5, 6, 7, 8]));
  assert.equal(inb(IIR), 0xc4, 'RX data above THRE');
  assert.equal(inb(LSR) & 0x01, 1);
  const got: number[] = [];
  while (inb(LSR) & 1) got.push(inb(0));
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(inb(IIR), 0xc2, 'then THRE');
  assert.equal(inb(IIR), 0xc1);
  assert.equal(irq(), false);
  assert.equal(inb(0), 8, 'empty FIFO reads the last byte again');
});

test('input beyond capacity is dropped with OE; LSR read clears it; line status has top priority', () => {
  const { uart, out, inb } = makeUart();
  out(FCR, 0x01);
  out(IER, 0x05);
  uart.receive(new Uint8Array(UART_INPUT_CAPACITY));
  assert.equal(uart.canReceive(), false);
  uart.receive(new Uint8Array([1, 2]));
  assert.equal(inb(IIR), 0xc6);
  assert.equal(inb(LSR) & 0x03, 0x03);
  assert.equal(inb(LSR) & 0x02, 0);
  assert.equal(inb(IIR), 0xc4);
});

test('FCR clears the visible RX FIFO only', () => {
  const { uart, out, inb } = makeUart();
  out(FCR, 0x01);
  uart.receive(new Uint8Array(40).map((_, i) => i));
  out(FCR, 0x03);
  assert.equal(inb(0), 16);
  out(FCR, 0x00); // leaving FIFO mode clears it too (17..32)
  assert.equal(inb(0), 33);
  out(FCR, 0x02); // non-FIFO mode: bit 1 without bit 0 changes nothing
  assert.equal(inb(0), 34);
});

test('loopback: TX goes to RX, MCR outputs drive MSR with deltas, IRQ held off', () => {
  const { out, inb, tx, irq } = makeUart();
  out(MCR, 0x18);
  inb(MSR);
  out(IER, 0x09);
  out(0, 0x55);
  assert.deepEqual(tx, []);
  assert.equal(inb(LSR) & 1, 1);
  assert.equal(irq(), false, 'loopback isolates the interrupt pin');
  assert.equal(inb(0), 0x55);
  out(MCR, 0x1f);
  assert.equal(inb(IIR) & 0x0f, 0x00, 'modem status interrupt');
  assert.equal(inb(MSR), 0xf0 | 0x03);
  out(MCR, 0x1b); // RI (OUT1) falls: trailing edge
  assert.equal(inb(MSR), 0xb0 | 0x04);
  out(MCR, 0x08);
  assert.equal(inb(MSR) & 0xf0, 0xb0, 'external lines: CTS DSR DCD');
});

test('save/restore keeps registers and queued input', () => {
  const a = makeUart();
  a.out(FCR, 0x01);
  a.out(LCR, 0x03);
  a.out(MCR, 0x0b);
  a.out(IER, 0x01);
  a.uart.receive(new Uint8Array([9, 8, 7]));
  const st = JSON.parse(JSON.stringify(a.uart.save()));
  const b = makeUart();
  b.uart.restore(st);
  assert.equal(b.irq(), true);
  assert.equal(b.inb(LCR), 0x03);
  assert.equal(b.inb(0), 9);
  assert.equal(b.inb(0), 8);
  assert.equal(b.inb(0), 7);
});

test('fuzz: random accesses never throw, outputs stay in range', () => {
  const { uart, levels } = makeUart();
  let seed = 4242;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 50000; i++) {
    const size = ([1, 2, 4] as const)[rnd(3)];
    const off = rnd(8);
    const op = rnd(5);
    if (op < 2) uart.ports.pioWrite(off, size, rnd(2 ** 31));
    else if (op < 4) {
      const v = uart.ports.pioRead(off, size);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** (8 * size));
    } else uart.receive(new Uint8Array(rnd(40)).map(() => rnd(256)));
    assert.equal(typeof uart.canReceive(), 'boolean');
  }
  for (let i = 1; i < levels.length; i++) assert.notEqual(levels[i], levels[i - 1]);
});
