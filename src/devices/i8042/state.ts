// Save record for the i8042 PS/2 controller with its keyboard and aux (mouse)
// devices. Queues are plain arrays of bytes; their caps are enforced on restore.

export interface PsKeyboardState {
  /** Scanning enabled (0xF4 / reset) or disabled (0xF5). */
  scanning: boolean;
  /** A command waiting for its parameter byte (0xED, 0xF0, 0xF3), else 0. */
  pendingCommand: number;
  scancodeSet: number;
  leds: number;
  typematic: number;
  /** Last byte sent, for 0xFE (resend). */
  lastSent: number;
}

export interface PsAuxState {
  reporting: boolean;
  /** A command waiting for its parameter byte (0xE8, 0xF3), else 0. */
  pendingCommand: number;
  sampleRate: number;
  resolution: number;
  /** 2:1 scaling (0xE7) instead of 1:1 (0xE6). */
  scaling21: boolean;
  lastSent: number;
}

export interface I8042State {
  version: 1;
  /** Controller RAM 0x00-0x1F; byte 0 is the command byte (CTR). */
  ram: number[];
  /** Output port (0xD0/0xD1): bit 0 = not in reset, bit 1 = A20. */
  outputPort: number;
  /** Controller command awaiting a data byte on port 0x60 (0x60-0x7F, 0xD1-0xD4), else 0. */
  pendingCommand: number;
  /** Status bit 3: the last write went to 0x64 (command) rather than 0x60 (data). */
  lastWasCommand: boolean;
  /** The output buffer: -1 empty, else the byte the guest reads next from 0x60. */
  out: number;
  outAux: boolean;
  /** What 0x60 reads when the output buffer is empty. */
  lastRead: number;
  /** Controller replies: value | 0x100 when it is to appear as aux data. */
  controllerQueue: number[];
  keyboardQueue: number[];
  auxQueue: number[];
  keyboard: PsKeyboardState;
  aux: PsAuxState;
  irq1: boolean;
  irq12: boolean;
}

/** Queue caps: a keyboard's buffer is small; these bound what a host can pile up. */
export const CONTROLLER_QUEUE_CAP = 16;
export const KEYBOARD_QUEUE_CAP = 1024;
export const AUX_QUEUE_CAP = 256;
/** Marks a controller-queue entry that appears as aux data (0xD3). */
export const AUX_FLAG = 0x100;

export function keyboardDefaults(): PsKeyboardState {
  return { scanning: true, pendingCommand: 0, scancodeSet: 2, leds: 0, typematic: 0x2b, lastSent: 0 };
}
export function auxDefaults(): PsAuxState {
  return { reporting: false, pendingCommand: 0, sampleRate: 100, resolution: 2, scaling21: false, lastSent: 0 };
}

/** Validate a record from a save stream: bytes masked, queues capped. IRQ levels are re-derived. */
export function restoreI8042State(state: I8042State): I8042State {
  const b = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v & 0xff : 0);
  const list = (v: unknown, cap: number, mask: number): number[] =>
    Array.isArray(v) ? v.slice(0, cap).map((x) => (typeof x === 'number' && Number.isFinite(x) ? x & mask : 0)) : [];
  const k = state.keyboard ?? keyboardDefaults();
  const a = state.aux ?? auxDefaults();
  const ram: number[] = [];
  for (let i = 0; i < 32; i++) ram.push(b(Array.isArray(state.ram) ? state.ram[i] : 0));
  return {
    version: 1,
    ram,
    outputPort: b(state.outputPort),
    pendingCommand: b(state.pendingCommand),
    lastWasCommand: !!state.lastWasCommand,
    out: typeof state.out === 'number' && state.out >= 0 ? b(state.out) : -1,
    outAux: !!state.outAux,
    lastRead: b(state.lastRead),
    controllerQueue: list(state.controllerQueue, CONTROLLER_QUEUE_CAP, 0x1ff),
    keyboardQueue: list(state.keyboardQueue, KEYBOARD_QUEUE_CAP, 0xff),
    auxQueue: list(state.auxQueue, AUX_QUEUE_CAP, 0xff),
    keyboard: {
      scanning: !!k.scanning,
      pendingCommand: b(k.pendingCommand),
      scancodeSet: b(k.scancodeSet),
      leds: b(k.leds),
      typematic: b(k.typematic),
      lastSent: b(k.lastSent),
    },
    aux: {
      reporting: !!a.reporting,
      pendingCommand: b(a.pendingCommand),
      sampleRate: b(a.sampleRate),
      resolution: b(a.resolution),
      scaling21: !!a.scaling21,
      lastSent: b(a.lastSent),
    },
    irq1: false,
    irq12: false,
  };
}
