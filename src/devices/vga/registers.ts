// The VGA's register file (IBM VGA Technical Reference; pc-platform §7): misc
// output, sequencer, graphics controller, attribute controller, CRTC and DAC. Only
// state lives here; ports.ts decodes the guest's accesses, vga-memory.ts and the
// renderers read it. Each array is sized to the registers the VGA defines, and
// every index is masked before use so no guest value reaches outside them.

/** Misc output bit 0: CRTC and input status 1 at 0x3Dx (colour) rather than 0x3Bx. */
export const MISC_COLOUR = 0x01;

// Sequencer (SR) indices and bits.
export const SR_CLOCKING = 1;
export const SR_PLANE_MASK = 2;
export const SR_CHAR_MAP = 3;
export const SR_MEMORY_MODE = 4;
export const SR1_8DOT = 0x01;
export const SR1_SCREEN_OFF = 0x20;
export const SR4_ODD_EVEN_OFF = 0x04;
export const SR4_CHAIN4 = 0x08;

// Graphics controller (GR) indices and bits.
export const GR_SET_RESET = 0;
export const GR_ENABLE_SET_RESET = 1;
export const GR_COLOUR_COMPARE = 2;
export const GR_ROTATE = 3;
export const GR_READ_PLANE = 4;
export const GR_MODE = 5;
export const GR_MISC = 6;
export const GR_COLOUR_DONT_CARE = 7;
export const GR_BIT_MASK = 8;
export const GR5_READ_MODE1 = 0x08;
export const GR5_ODD_EVEN = 0x10;
export const GR5_CGA_SHIFT = 0x20;
export const GR5_256_COLOUR = 0x40;
export const GR6_GRAPHICS = 0x01;

// Attribute controller (AR) indices and bits.
export const AR_MODE = 0x10;
export const AR_OVERSCAN = 0x11;
export const AR_PLANE_ENABLE = 0x12;
export const AR_PANNING = 0x13;
export const AR_COLOUR_SELECT = 0x14;
/** Index bit 5 (PAS): the palette is in use by the display, not the CPU. */
export const AR_INDEX_PAS = 0x20;
export const AR10_GRAPHICS = 0x01;
export const AR10_LINE_GRAPHICS = 0x04;
export const AR10_BLINK = 0x08;
export const AR10_8BIT = 0x40;
export const AR10_P54_SELECT = 0x80;

// CRTC (CR) indices and bits.
export const CR_H_DISPLAY_END = 0x01;
export const CR_OVERFLOW = 0x07;
export const CR_MAX_SCAN = 0x09;
export const CR_CURSOR_START = 0x0a;
export const CR_CURSOR_END = 0x0b;
export const CR_START_HI = 0x0c;
export const CR_START_LO = 0x0d;
export const CR_CURSOR_HI = 0x0e;
export const CR_CURSOR_LO = 0x0f;
export const CR_V_RETRACE_END = 0x11;
export const CR_V_DISPLAY_END = 0x12;
export const CR_OFFSET = 0x13;
export const CR_MODE = 0x17;
/** CR11 bit 7: CR0-CR7 are write-protected (CR7 bit 4 excepted). */
export const CR11_PROTECT = 0x80;
export const CR0A_CURSOR_OFF = 0x20;
export const CR17_NO_CGA_MA13 = 0x01;
export const CR17_BYTE_MODE = 0x40;

export const SR_COUNT = 5;
export const GR_COUNT = 9;
export const AR_COUNT = 0x15;
export const CR_COUNT = 0x19;

/** Bits the guest can write per register (reserved bits read 0). */
export const SR_WRITABLE = [0x03, 0x3d, 0x0f, 0x3f, 0x0e];
export const GR_WRITABLE = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff];
export const AR_WRITABLE_PALETTE = 0x3f;
export const AR_WRITABLE = [0xef, 0xff, 0x3f, 0x0f, 0x0f];

export class VgaRegisters {
  misc = 0;
  featureControl = 0;
  srIndex = 0;
  readonly sr = new Uint8Array(SR_COUNT);
  grIndex = 0;
  readonly gr = new Uint8Array(GR_COUNT);
  /** Includes PAS (bit 5). */
  arIndex = 0;
  readonly ar = new Uint8Array(AR_COUNT);
  /** false: the next 0x3C0 write is an index; true: it is data. */
  arFlipFlop = false;
  crIndex = 0;
  readonly cr = new Uint8Array(CR_COUNT);

  // DAC (pc-platform §7): 256 entries of R, G, B.
  dacMask = 0xff;
  dacReadIndex = 0;
  dacWriteIndex = 0;
  /** 0..2: which of R, G, B the next data access is. */
  dacComponent = 0;
  /** 0x3C7 read value: 0 after a write-index set, 3 after a read-index set. */
  dacState = 0;
  readonly dacPending = new Uint8Array(3);
  readonly palette = new Uint8Array(256 * 3);
  /** Bochs DISPI ENABLE bit 5: DAC entries are 8 bits wide instead of 6. */
  dac8Bit = false;

  /** Input status 1 bits 0 and 3, flipped on every read so polling loops finish. */
  status1 = 0;

  get colourPorts(): boolean {
    return (this.misc & MISC_COLOUR) !== 0;
  }

  /** CRTC start address (CR0C/CR0D), in planar addresses (character cells in text mode). */
  get startAddress(): number {
    return (this.cr[CR_START_HI] << 8) | this.cr[CR_START_LO];
  }

  get cursorAddress(): number {
    return (this.cr[CR_CURSOR_HI] << 8) | this.cr[CR_CURSOR_LO];
  }

  /** Vertical display end + 1, in scan lines (CR12 with CR7 bits 1 and 6 as bits 8 and 9). */
  get displayLines(): number {
    const ov = this.cr[CR_OVERFLOW];
    return (this.cr[CR_V_DISPLAY_END] | ((ov & 0x02) << 7) | ((ov & 0x40) << 3)) + 1;
  }

  /** Display off: SR1 screen-off, or the attribute controller owned by the CPU (PAS = 0). */
  get blanked(): boolean {
    return (this.sr[SR_CLOCKING] & SR1_SCREEN_OFF) !== 0 || (this.arIndex & AR_INDEX_PAS) === 0;
  }

  /** One DAC entry as 8-bit R, G, B (6-bit values widened by repeating the top bits). */
  dacColour(index: number): number {
    const o = (index & 0xff) * 3;
    const p = this.palette;
    if (this.dac8Bit) return (p[o] << 16) | (p[o + 1] << 8) | p[o + 2];
    const w = (v: number) => ((v & 0x3f) << 2) | ((v & 0x3f) >> 4);
    return (w(p[o]) << 16) | (w(p[o + 1]) << 8) | w(p[o + 2]);
  }
}
