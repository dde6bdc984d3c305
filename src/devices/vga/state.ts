// Save record for the std-vga: every register, the DAC, the latches and DISPI.
// VRAM is not in it: it lives in the guest's backing store and is saved with RAM.
// Restoring masks every field the way the guest's own writes would, so a damaged
// record can never put the device in a state the guest could not reach.

import type { VgaCore } from './vga-core.js';
import { AR_COUNT, AR_WRITABLE, AR_WRITABLE_PALETTE, CR_COUNT, GR_COUNT, GR_WRITABLE, SR_COUNT, SR_WRITABLE } from './registers.js';

export interface VgaState {
  version: 1;
  misc: number;
  featureControl: number;
  srIndex: number;
  sr: number[];
  grIndex: number;
  gr: number[];
  arIndex: number;
  ar: number[];
  arFlipFlop: boolean;
  crIndex: number;
  cr: number[];
  dacMask: number;
  dacReadIndex: number;
  dacWriteIndex: number;
  dacComponent: number;
  dacState: number;
  dacPending: number[];
  /** 768 bytes: R, G, B per entry. */
  palette: number[];
  dac8Bit: boolean;
  status1: number;
  latch: number;
  dispi: {
    index: number;
    id: number;
    xres: number;
    yres: number;
    bpp: number;
    enable: number;
    bank: number;
    virtWidth: number;
    xOffset: number;
    yOffset: number;
  };
}

export function saveVgaState(vga: VgaCore): VgaState {
  const r = vga.regs;
  const d = vga.dispi;
  return {
    version: 1,
    misc: r.misc,
    featureControl: r.featureControl,
    srIndex: r.srIndex,
    sr: [...r.sr],
    grIndex: r.grIndex,
    gr: [...r.gr],
    arIndex: r.arIndex,
    ar: [...r.ar],
    arFlipFlop: r.arFlipFlop,
    crIndex: r.crIndex,
    cr: [...r.cr],
    dacMask: r.dacMask,
    dacReadIndex: r.dacReadIndex,
    dacWriteIndex: r.dacWriteIndex,
    dacComponent: r.dacComponent,
    dacState: r.dacState,
    dacPending: [...r.dacPending],
    palette: [...r.palette],
    dac8Bit: r.dac8Bit,
    status1: r.status1,
    latch: vga.memory.latch,
    dispi: {
      index: d.index,
      id: d.id,
      xres: d.xres,
      yres: d.yres,
      bpp: d.bpp,
      enable: d.enable,
      bank: d.bank,
      virtWidth: d.virtWidth,
      xOffset: d.xOffset,
      yOffset: d.yOffset,
    },
  };
}

const num = (v: unknown, mask: number): number => (typeof v === 'number' && Number.isFinite(v) ? (v & mask) >>> 0 : 0);

function fillBytes(target: Uint8Array, src: unknown, mask: (i: number) => number): void {
  const a = Array.isArray(src) ? src : [];
  for (let i = 0; i < target.length; i++) target[i] = num(a[i], mask(i));
}

/** Load a save record into `vga` (after construction, before the guest runs). */
export function restoreVgaState(vga: VgaCore, s: VgaState): void {
  const r = vga.regs;
  r.misc = num(s.misc, 0xff);
  r.featureControl = num(s.featureControl, 0x03);
  r.srIndex = num(s.srIndex, 0x07);
  fillBytes(r.sr, s.sr, (i) => (i < SR_COUNT ? SR_WRITABLE[i] : 0));
  r.grIndex = num(s.grIndex, 0x0f);
  fillBytes(r.gr, s.gr, (i) => (i < GR_COUNT ? GR_WRITABLE[i] : 0));
  r.arIndex = num(s.arIndex, 0x3f);
  fillBytes(r.ar, s.ar, (i) => (i < 0x10 ? AR_WRITABLE_PALETTE : i < AR_COUNT ? AR_WRITABLE[i - 0x10] : 0));
  r.arFlipFlop = s.arFlipFlop === true;
  r.crIndex = num(s.crIndex, 0xff);
  fillBytes(r.cr, s.cr, (i) => (i < CR_COUNT ? 0xff : 0));
  r.dacMask = num(s.dacMask, 0xff);
  r.dacReadIndex = num(s.dacReadIndex, 0xff);
  r.dacWriteIndex = num(s.dacWriteIndex, 0xff);
  r.dacComponent = Math.min(2, num(s.dacComponent, 0x03));
  r.dacState = num(s.dacState, 0x03) === 3 ? 3 : 0;
  fillBytes(r.dacPending, s.dacPending, () => 0xff);
  fillBytes(r.palette, s.palette, () => 0xff);
  r.dac8Bit = s.dac8Bit === true;
  r.status1 = num(s.status1, 0x09);
  vga.memory.latch = num(s.latch, 0xffffffff);
  const d = vga.dispi;
  const sd = s.dispi ?? ({} as VgaState['dispi']);
  // Mode registers go through the guest's own write path, so only legal values stick.
  d.enable = 0;
  d.write(0x1, num(sd.xres, 0xffff));
  d.write(0x2, num(sd.yres, 0xffff));
  d.write(0x3, num(sd.bpp, 0xffff));
  d.write(0x0, num(sd.id, 0xffff));
  d.virtWidth = d.xres;
  d.write(0x6, num(sd.virtWidth, 0xffff));
  d.write(0x8, num(sd.xOffset, 0xffff));
  d.write(0x9, num(sd.yOffset, 0xffff));
  // ENABLE last, without the side effects of a fresh enable (no clear, no VGA register changes).
  d.enable = num(sd.enable, 0xe3);
  d.write(0x5, num(sd.bank, 0xffff));
  d.index = num(sd.index, 0xffff);
}
