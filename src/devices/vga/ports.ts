// VGA I/O ports 0x3B0-0x3DF (IBM VGA Technical Reference; pc-platform §7). Wider
// accesses are split into bytes in ascending port order, which is exactly what a
// word OUT to an index port means on the VGA: index byte, then data byte.
//
// The CRTC and input status 1 answer at 0x3B4/0x3B5/0x3BA or 0x3D4/0x3D5/0x3DA as
// misc output bit 0 selects; the other set reads as open bus and ignores writes.

import type { AccessSize } from '../../hypervisor/types.js';
import type { PioDevice } from '../bus/io-bus.js';
import {
  AR_COUNT,
  AR_WRITABLE,
  AR_WRITABLE_PALETTE,
  CR11_PROTECT,
  CR_COUNT,
  CR_OVERFLOW,
  CR_V_RETRACE_END,
  GR_COUNT,
  GR_WRITABLE,
  SR_COUNT,
  SR_WRITABLE,
  type VgaRegisters,
} from './registers.js';

/** First port of the block the VGA sits in; VgaPorts offsets count from here. */
export const VGA_PORT_BASE = 0x3b0;
export const VGA_PORT_COUNT = 0x30;
/** [first port, count] of the ports within the block that a VGA answers. */
export const VGA_DECODED_PORTS: ReadonlyArray<readonly [number, number]> = [
  [0x3b4, 2],
  [0x3ba, 1],
  [0x3c0, 16],
  [0x3d4, 2],
  [0x3da, 1],
];

/** Input status 1: bit 0 display disabled (blanking), bit 3 vertical retrace. */
const STATUS1_TOGGLE = 0x09;

export class VgaPorts implements PioDevice {
  constructor(private readonly regs: VgaRegisters) {}

  pioRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readPort(VGA_PORT_BASE + offset + i) << (8 * i);
    return v >>> 0;
  }

  pioWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writePort(VGA_PORT_BASE + offset + i, (value >>> (8 * i)) & 0xff);
  }

  /** True if `port` belongs to the CRTC/status set misc output currently selects. */
  private crtcPortActive(port: number): boolean {
    return ((port & 0xf0) === 0xd0) === this.regs.colourPorts;
  }

  readPort(port: number): number {
    const r = this.regs;
    switch (port) {
      case 0x3c0:
        return r.arIndex;
      case 0x3c1: {
        const i = r.arIndex & 0x1f;
        return i < AR_COUNT ? r.ar[i] : 0;
      }
      case 0x3c2:
        return 0; // input status 0: no switch sense, no CRT interrupt
      case 0x3c4:
        return r.srIndex;
      case 0x3c5:
        return r.srIndex < SR_COUNT ? r.sr[r.srIndex] : 0;
      case 0x3c6:
        return r.dacMask;
      case 0x3c7:
        return r.dacState;
      case 0x3c8:
        return r.dacWriteIndex;
      case 0x3c9: {
        const v = r.palette[r.dacReadIndex * 3 + r.dacComponent];
        if (++r.dacComponent === 3) {
          r.dacComponent = 0;
          r.dacReadIndex = (r.dacReadIndex + 1) & 0xff;
        }
        return v;
      }
      case 0x3ca:
        return r.featureControl;
      case 0x3cc:
        return r.misc;
      case 0x3ce:
        return r.grIndex;
      case 0x3cf:
        return r.grIndex < GR_COUNT ? r.gr[r.grIndex] : 0;
      case 0x3b4:
      case 0x3d4:
        return this.crtcPortActive(port) ? r.crIndex : 0xff;
      case 0x3b5:
      case 0x3d5:
        if (!this.crtcPortActive(port)) return 0xff;
        return r.crIndex < CR_COUNT ? r.cr[r.crIndex] : 0;
      case 0x3ba:
      case 0x3da:
        if (!this.crtcPortActive(port)) return 0xff;
        // Reading input status 1 resets the attribute flip-flop to "index" (§7).
        r.arFlipFlop = false;
        r.status1 ^= STATUS1_TOGGLE;
        return r.status1;
      default:
        return 0xff;
    }
  }

  writePort(port: number, v: number): void {
    const r = this.regs;
    switch (port) {
      case 0x3c0:
        if (!r.arFlipFlop) {
          r.arIndex = v & 0x3f;
        } else {
          const i = r.arIndex & 0x1f;
          if (i < 0x10) r.ar[i] = v & AR_WRITABLE_PALETTE;
          else if (i < AR_COUNT) r.ar[i] = v & AR_WRITABLE[i - 0x10];
        }
        r.arFlipFlop = !r.arFlipFlop;
        return;
      case 0x3c2:
        r.misc = v;
        return;
      case 0x3c4:
        r.srIndex = v & 0x07;
        return;
      case 0x3c5:
        if (r.srIndex < SR_COUNT) r.sr[r.srIndex] = v & SR_WRITABLE[r.srIndex];
        return;
      case 0x3c6:
        r.dacMask = v;
        return;
      case 0x3c7:
        r.dacReadIndex = v;
        r.dacComponent = 0;
        r.dacState = 3;
        return;
      case 0x3c8:
        r.dacWriteIndex = v;
        r.dacComponent = 0;
        r.dacState = 0;
        return;
      case 0x3c9:
        r.dacPending[r.dacComponent] = r.dac8Bit ? v : v & 0x3f;
        if (++r.dacComponent === 3) {
          r.palette.set(r.dacPending, r.dacWriteIndex * 3);
          r.dacComponent = 0;
          r.dacWriteIndex = (r.dacWriteIndex + 1) & 0xff;
        }
        return;
      case 0x3ce:
        r.grIndex = v & 0x0f;
        return;
      case 0x3cf:
        if (r.grIndex < GR_COUNT) r.gr[r.grIndex] = v & GR_WRITABLE[r.grIndex];
        return;
      case 0x3b4:
      case 0x3d4:
        if (this.crtcPortActive(port)) r.crIndex = v;
        return;
      case 0x3b5:
      case 0x3d5:
        if (this.crtcPortActive(port)) this.writeCrtc(r.crIndex, v);
        return;
      case 0x3ba:
      case 0x3da:
        if (this.crtcPortActive(port)) r.featureControl = v & 0x03;
        return;
      default:
        return;
    }
  }

  private writeCrtc(index: number, v: number): void {
    const r = this.regs;
    if (index >= CR_COUNT) return;
    if ((r.cr[CR_V_RETRACE_END] & CR11_PROTECT) !== 0 && index <= CR_OVERFLOW) {
      // CR11 bit 7 locks CR0-CR7, except the line compare bit 8 in CR7 bit 4.
      if (index === CR_OVERFLOW) r.cr[CR_OVERFLOW] = (r.cr[CR_OVERFLOW] & ~0x10) | (v & 0x10);
      return;
    }
    r.cr[index] = v;
  }
}

