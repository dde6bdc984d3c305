// The platform devices wired as the domain builder will wire them: PIT → IRQ0,
// RTC → IRQ8, UART → IRQ4, all into the 8259 pair, acknowledged as the vCPU does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.js';
import { PicPair } from './device.js';
import { Pit } from '../pit/device.js';
import { nsAtTick } from '../pit/channel.js';
import { RtcCmos } from '../rtc/device.js';
import { Uart16550 } from '../../../devices/uart16550/device.js';

function platform() {
  const clock = new ManualClock();
  let intr = false;
  const pic = new PicPair((l) => (intr = l));
  const pit = new Pit(clock, pic.line(0));
  const rtc = new RtcCmos(clock, () => Date.UTC(2026, 0, 1), pic.line(8));
  const uart = new Uart16550(pic.line(4), () => {});
  const out = (p: number, v: number) => (p >= 0xa0 ? pic.slave : pic.master).pioWrite(p & 1, 1, v);
  for (const [p, v] of [
    [0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01],
    [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01],
    [0x21, 0xea], [0xa1, 0xfe], // unmask IRQ 0, 2, 4 and 8
  ]) out(p, v);
  return { clock, pic, pit, rtc, uart, out, intr: () => intr };
}

test('PIT ticks arrive as vector 0x30, one per period, after EOI', () => {
  const { clock, pic, pit, out, intr } = platform();
  pit.ports.pioWrite(3, 1, 0x34);
  pit.ports.pioWrite(0, 1, 0xa5);
  pit.ports.pioWrite(0, 1, 0x12);
  for (let tick = 1; tick <= 3; tick++) {
    clock.ns = pit.nextDeadlineNs();
    assert.equal(clock.ns, nsAtTick(4773 * tick));
    pit.update();
    assert.equal(intr(), true);
    assert.equal(pic.acknowledge(), 0x30);
    assert.equal(intr(), false);
    out(0x20, 0x60);
  }
});

test('RTC periodic interrupt reaches vector 0x38 through the cascade; reading C re-arms it', () => {
  const { clock, pic, rtc, out, intr } = platform();
  rtc.ports.pioWrite(0, 1, 0x0b);
  rtc.ports.pioWrite(1, 1, 0x42);
  clock.ns = rtc.nextDeadlineNs();
  rtc.update();
  assert.equal(intr(), true);
  assert.equal(pic.acknowledge(), 0x38);
  rtc.ports.pioWrite(0, 1, 0x0c);
  assert.equal(rtc.ports.pioRead(1, 1), 0xc0);
  out(0xa0, 0x60);
  out(0x20, 0x62);
  clock.ns = rtc.nextDeadlineNs();
  rtc.update();
  assert.equal(intr(), true, 'a new edge after C was read');
  assert.equal(pic.acknowledge(), 0x38);
});

test('UART THRE interrupt is vector 0x34 only with OUT2', () => {
  const { pic, uart, intr } = platform();
  uart.ports.pioWrite(1, 1, 0x02);
  assert.equal(intr(), false);
  uart.ports.pioWrite(4, 1, 0x08);
  assert.equal(intr(), true);
  assert.equal(pic.acknowledge(), 0x34);
  assert.equal(uart.ports.pioRead(2, 1) & 0x0f, 0x02);
});
