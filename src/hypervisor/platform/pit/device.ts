// Intel 8254 PIT at 0x40-0x43 plus System Control Port B (0x61), as on the PC/AT:
// channel 0 → IRQ0, channel 1 = DRAM refresh (no output), channel 2 → speaker,
// gated by 0x61 bit 0 with OUT2 readable at 0x61 bit 5 (fact sheet x86 §9 steps 4
// and 9). Driven only by the domain Clock, never by host timers: the counts are
// computed on access, and update() turns OUT0 rising edges into IRQ0 pulses.

import type { PioDevice } from '../../../devices/bus/io-bus.js';
import { pulse, type IrqLine } from '../../../devices/bus/irq.js';
import type { Clock } from '../../clock.js';
import type { AccessSize } from '../../types.js';
import { nsAtTick, PitChannel, ticksAt } from './channel.js';
import { initialChannelState, type PitState } from './state.js';

/** DRAM refresh request period: port 0x61 bit 4 toggles every 15.085 µs on a PC/AT. */
const REFRESH_TOGGLE_NS = 15085;

export class Pit {
  private readonly channels = [new PitChannel(), new PitChannel(), new PitChannel()];
  /** Port 0x61 bits 3:0: timer 2 gate, speaker data, parity/IOCHK check disables. */
  private port61Bits = 0;

  /** Register at 0x40, length 4. */
  readonly ports: PioDevice;
  /** Register at 0x61, length 1. */
  readonly port61: PioDevice;

  constructor(private readonly clock: Clock, private readonly irq0: IrqLine) {
    // Port 0x61 bit 0 = 0 after reset: channel 2's gate starts low.
    const ch2 = initialChannelState();
    ch2.gate = false;
    this.channels[2].restore(ch2);
    this.ports = {
      pioRead: (offset: number, size: AccessSize) => this.splitRead(offset, size, (o) => this.readPort(o)),
      pioWrite: (offset: number, size: AccessSize, value: number) =>
        this.splitWrite(offset, size, value, (o, v) => this.writePort(o, v)),
    };
    this.port61 = {
      pioRead: (_offset: number, size: AccessSize) => this.splitRead(0, size, () => this.readPort61()),
      pioWrite: (_offset: number, size: AccessSize, value: number) =>
        this.splitWrite(0, size, value, (_o, v) => this.writePort61(v)),
    };
  }

  private splitRead(offset: number, size: AccessSize, read: (o: number) => number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= read((offset + i) & 3) << (8 * i);
    return v >>> 0;
  }
  private splitWrite(offset: number, size: AccessSize, value: number, write: (o: number, v: number) => void): void {
    for (let i = 0; i < size; i++) write((offset + i) & 3, (value >>> (8 * i)) & 0xff);
  }

  private nowTick(): number {
    return ticksAt(this.clock.nowNs());
  }

  /** Raise IRQ0 once if OUT0 rose since the last call (missed periods coalesce). */
  update(): void {
    if (this.channels[0].catchUpEdges(this.nowTick())) pulse(this.irq0);
  }

  /** Domain-clock time of the next IRQ0 edge, Infinity if channel 0 will not fire. */
  nextDeadlineNs(): number {
    const tick = this.channels[0].nextEdgeTick();
    return tick === Infinity ? Infinity : nsAtTick(tick);
  }

  private readPort(offset: number): number {
    if (offset === 3) return 0xff; // the control word register is write-only
    return this.channels[offset].readByte(this.nowTick());
  }

  private writePort(offset: number, value: number): void {
    // Deliver edges that fell due under the old programming before changing it.
    this.update();
    const now = this.nowTick();
    if (offset !== 3) {
      this.channels[offset].writeByte(value, now);
      return;
    }
    const sc = value >> 6;
    if (sc === 3) {
      // Read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status, bits 3:1 select.
      for (let i = 0; i < 3; i++) {
        if (!(value & (2 << i))) continue;
        if (!(value & 0x20)) this.channels[i].latchCount(now);
        if (!(value & 0x10)) this.channels[i].latchStatus(now);
      }
    } else if ((value & 0x30) === 0) {
      this.channels[sc].latchCount(now); // counter latch command
    } else {
      this.channels[sc].control(value);
    }
  }

  private readPort61(): number {
    const ns = this.clock.nowNs();
    const refresh = Math.floor(ns / REFRESH_TOGGLE_NS) & 1;
    const out2 = this.channels[2].outAt(ticksAt(ns)) ? 1 : 0;
    return (this.port61Bits & 0x0f) | (refresh << 4) | (out2 << 5);
  }

  private writePort61(value: number): void {
    this.port61Bits = value & 0x0f;
    this.channels[2].setGate((value & 1) !== 0, this.nowTick());
  }

  /** OUT of channel `n` now (tests, diagnostics). */
  out(n: 0 | 1 | 2): boolean {
    return this.channels[n].outAt(this.nowTick());
  }

  save(): PitState {
    return { version: 1, channels: this.channels.map((c) => c.save()), port61: this.port61Bits };
  }

  restore(state: PitState): void {
    for (let i = 0; i < 3; i++) {
      const c = state.channels[i];
      this.channels[i].restore(c ?? initialChannelState());
    }
    this.port61Bits = (state.port61 ?? 0) & 0x0f;
  }
}
