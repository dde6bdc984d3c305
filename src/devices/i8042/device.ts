// Intel 8042-compatible PS/2 controller (IBM PC/AT "Keyboard Controller" and PS/2
// Hardware Interface Technical Reference; fact sheet x86 §9 step 13): status and
// commands at 0x64, data at 0x60, keyboard on IRQ1 and aux (mouse) on IRQ12.
// Enough for Linux's i8042 probe, atkbd and psmouse: self tests, CTR read/write,
// interface enable/disable, output port (bit 0 = 0 resets), loopback writes
// (0xD2/0xD3), pulse commands (0xFE = reset) and the keyboard/mouse commands.
//
// One output buffer byte, filled from three queues in order: controller replies
// (never inhibited), keyboard bytes (held while CTR bit 4 disables the keyboard
// interface), aux bytes (held while CTR bit 5 disables it). Each byte loaded
// while its interrupt is enabled gives a fresh rising edge on IRQ1 / IRQ12.
// Scancodes from keyboardInput() are delivered as given: the host supplies the
// set the guest expects (CTR XLATE translation is not emulated). The A20 bit of
// the output port is stored only (A20 is always on, as in Xen).

import type { AccessSize } from '../../hypervisor/types.js';
import type { PioDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import {
  auxDefaults,
  AUX_FLAG,
  AUX_QUEUE_CAP,
  CONTROLLER_QUEUE_CAP,
  keyboardDefaults,
  KEYBOARD_QUEUE_CAP,
  restoreI8042State,
  type I8042State,
} from './state.js';

// Status register (0x64 read).
const ST_OBF = 0x01;
const ST_SYS = 0x04;
const ST_CMD = 0x08;
const ST_UNLOCKED = 0x10;
const ST_AUXB = 0x20;

// Command byte (CTR).
const CTR_KBD_INT = 0x01;
const CTR_AUX_INT = 0x02;
const CTR_SYS = 0x04;
const CTR_KBD_DISABLE = 0x10;
const CTR_AUX_DISABLE = 0x20;

const ACK = 0xfa;
const RESEND = 0xfe;
const BAT_OK = 0xaa;


export class I8042 {
  private s: I8042State;

  /** Register the data port at 0x60 and the status/command port at 0x64 (length 1 each). */
  readonly ports: { data: PioDevice; command: PioDevice };

  constructor(
    private readonly irq1: IrqLine,
    private readonly irq12: IrqLine,
    private readonly requestReset: () => void,
  ) {
    const ram = new Array<number>(32).fill(0);
    // As a BIOS leaves it: both interrupts on, POST passed, translation on.
    ram[0] = CTR_KBD_INT | CTR_AUX_INT | CTR_SYS | 0x40;
    this.s = {
      version: 1,
      ram,
      outputPort: 0x03,
      pendingCommand: 0,
      lastWasCommand: false,
      out: -1,
      outAux: false,
      lastRead: 0,
      controllerQueue: [],
      keyboardQueue: [],
      auxQueue: [],
      keyboard: keyboardDefaults(),
      aux: auxDefaults(),
      irq1: false,
      irq12: false,
    };
    const byteWise = (read: () => number, write: (v: number) => void): PioDevice => ({
      pioRead: (_offset: number, size: AccessSize) => {
        let v = 0;
        for (let i = 0; i < size; i++) v |= read() << (8 * i);
        return v >>> 0;
      },
      pioWrite: (_offset: number, size: AccessSize, value: number) => {
        for (let i = 0; i < size; i++) write((value >>> (8 * i)) & 0xff);
      },
    });
    this.ports = {
      data: byteWise(
        () => this.readData(),
        (v) => this.writeData(v),
      ),
      command: byteWise(
        () => this.readStatus(),
        (v) => this.writeCommand(v),
      ),
    };
  }

  /** Host key presses/releases, as scancode bytes. Dropped while the keyboard is not scanning. */
  keyboardInput(scancodes: Uint8Array): void {
    if (!this.s.keyboard.scanning) return;
    for (const b of scancodes) this.pushCapped(this.s.keyboardQueue, b & 0xff, KEYBOARD_QUEUE_CAP);
    this.refill();
  }

  private get ctr(): number {
    return this.s.ram[0];
  }

  private pushCapped(q: number[], v: number, cap: number): void {
    if (q.length < cap) q.push(v);
  }

  /** Load the output buffer if it is empty and a byte may be delivered, then drive the IRQs. */
  private refill(): void {
    const s = this.s;
    if (s.out < 0) {
      if (s.controllerQueue.length) {
        const v = s.controllerQueue.shift() as number;
        s.out = v & 0xff;
        s.outAux = (v & AUX_FLAG) !== 0;
      } else if (s.keyboardQueue.length && !(this.ctr & CTR_KBD_DISABLE)) {
        s.out = s.keyboardQueue.shift() as number;
        s.outAux = false;
      } else if (s.auxQueue.length && !(this.ctr & CTR_AUX_DISABLE)) {
        s.out = s.auxQueue.shift() as number;
        s.outAux = true;
      }
    }
    this.driveIrqs();
  }

  private driveIrqs(): void {
    const s = this.s;
    const full = s.out >= 0;
    const kbd = full && !s.outAux && (this.ctr & CTR_KBD_INT) !== 0;
    const aux = full && s.outAux && (this.ctr & CTR_AUX_INT) !== 0;
    if (kbd !== s.irq1) {
      s.irq1 = kbd;
      this.irq1.set(kbd);
    }
    if (aux !== s.irq12) {
      s.irq12 = aux;
      this.irq12.set(aux);
    }
  }

  private readStatus(): number {
    const s = this.s;
    let v = ST_UNLOCKED;
    if (s.out >= 0) v |= ST_OBF | (s.outAux ? ST_AUXB : 0);
    if (this.ctr & CTR_SYS) v |= ST_SYS;
    if (s.lastWasCommand) v |= ST_CMD;
    return v;
  }

  private readData(): number {
    const s = this.s;
    if (s.out < 0) return s.lastRead;
    s.lastRead = s.out;
    s.out = -1;
    // Drop the line for the byte just read, so the next byte is a new edge.
    this.driveIrqs();
    this.refill();
    return s.lastRead;
  }

  /** A controller reply (`aux`: appears as if it came from the aux device). */
  private reply(v: number, aux = false): void {
    this.pushCapped(this.s.controllerQueue, (v & 0xff) | (aux ? AUX_FLAG : 0), CONTROLLER_QUEUE_CAP);
  }

  private writeCommand(cmd: number): void {
    const s = this.s;
    s.lastWasCommand = true;
    s.pendingCommand = 0;
    if (cmd >= 0x20 && cmd <= 0x3f) {
      this.reply(s.ram[cmd & 0x1f]); // 0x20 = read CTR
    } else if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
      s.pendingCommand = cmd; // the data byte follows on 0x60
    } else if (cmd >= 0xf0) {
      // Pulse output lines: bit n = 0 pulses output port bit n; bit 0 is CPU reset.
      if (!(cmd & 1)) this.requestReset();
    } else {
      switch (cmd) {
        case 0xa4: // password installed? no
          this.reply(0xf1);
          break;
        case 0xa7:
          s.ram[0] |= CTR_AUX_DISABLE;
          break;
        case 0xa8:
          s.ram[0] &= ~CTR_AUX_DISABLE;
          break;
        case 0xa9: // aux interface test: no error
        case 0xab: // keyboard interface test: no error
          this.reply(0x00);
          break;
        case 0xaa: // controller self test
          this.reply(0x55);
          break;
        case 0xad:
          s.ram[0] |= CTR_KBD_DISABLE;
          break;
        case 0xae:
          s.ram[0] &= ~CTR_KBD_DISABLE;
          break;
        case 0xc0: // input port
        case 0xe0: // test inputs
          this.reply(0x00);
          break;
        case 0xd0: {
          // Output port; bits 4/5 mirror "output buffer full" from keyboard / aux.
          let v = s.outputPort & 0xcf;
          if (s.out >= 0) v |= s.outAux ? 0x20 : 0x10;
          this.reply(v);
          break;
        }
        case 0xdd:
          s.outputPort &= ~0x02;
          break;
        case 0xdf:
          s.outputPort |= 0x02;
          break;
        default:
          break; // unknown commands are ignored, as by real controllers
      }
    }
    this.refill();
  }

  private writeData(v: number): void {
    const s = this.s;
    s.lastWasCommand = false;
    const cmd = s.pendingCommand;
    s.pendingCommand = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
      s.ram[cmd & 0x1f] = v; // 0x60 = write CTR
    } else if (cmd === 0xd1) {
      s.outputPort = v;
      if (!(v & 1)) this.requestReset();
    } else if (cmd === 0xd2) {
      this.reply(v);
    } else if (cmd === 0xd3) {
      this.reply(v, true);
    } else if (cmd === 0xd4) {
      this.auxCommand(v);
    } else {
      this.keyboardCommand(v);
    }
    this.refill();
  }

  private keyboardSend(...bytes: number[]): void {
    for (const b of bytes) this.pushCapped(this.s.keyboardQueue, b, KEYBOARD_QUEUE_CAP);
    if (bytes.length) this.s.keyboard.lastSent = bytes[bytes.length - 1];
  }

  /** AT keyboard commands (IBM PS/2 Technical Reference, "Keyboard Commands"). */
  private keyboardCommand(v: number): void {
    const k = this.s.keyboard;
    if (v !== 0xfe) this.s.keyboardQueue.length = 0; // a command clears the keyboard's buffer
    if (k.pendingCommand && v < 0x80) {
      const c = k.pendingCommand;
      k.pendingCommand = 0;
      if (c === 0xed) k.leds = v & 7;
      else if (c === 0xf3) k.typematic = v & 0x7f;
      else if (v === 0) {
        this.keyboardSend(ACK, k.scancodeSet); // 0xF0 0x00: report the current set
        return;
      } else if (v <= 3) k.scancodeSet = v;
      this.keyboardSend(ACK);
      return;
    }
    k.pendingCommand = 0;
    switch (v) {
      case 0xff: // reset + basic assurance test
        Object.assign(k, keyboardDefaults());
        this.keyboardSend(ACK, BAT_OK);
        break;
      case 0xfe:
        this.keyboardSend(k.lastSent);
        break;
      case 0xf6: // set defaults
        Object.assign(k, { ...keyboardDefaults(), scanning: k.scanning });
        this.keyboardSend(ACK);
        break;
      case 0xf5: // defaults + stop scanning
        Object.assign(k, { ...keyboardDefaults(), scanning: false });
        this.keyboardSend(ACK);
        break;
      case 0xf4:
        k.scanning = true;
        this.keyboardSend(ACK);
        break;
      case 0xf2: // identify: MF2 keyboard
        this.keyboardSend(ACK, 0xab, 0x83);
        break;
      case 0xee: // echo
        this.keyboardSend(0xee);
        break;
      case 0xed:
      case 0xf0:
      case 0xf3:
        k.pendingCommand = v;
        this.keyboardSend(ACK);
        break;
      default:
        // 0xF7-0xFD (scancode set 3 key types) are accepted; anything else is refused.
        this.keyboardSend(v >= 0xf7 && v <= 0xfd ? ACK : RESEND);
    }
  }

  private auxSend(...bytes: number[]): void {
    for (const b of bytes) this.pushCapped(this.s.auxQueue, b, AUX_QUEUE_CAP);
    if (bytes.length) this.s.aux.lastSent = bytes[bytes.length - 1];
  }

  /** PS/2 mouse commands, minimal (IBM PS/2 Technical Reference, "Pointing Device"). */
  private auxCommand(v: number): void {
    const a = this.s.aux;
    if (v !== 0xfe) this.s.auxQueue.length = 0;
    if (a.pendingCommand) {
      const c = a.pendingCommand;
      a.pendingCommand = 0;
      if (c === 0xe8) a.resolution = v & 3;
      else a.sampleRate = v;
      this.auxSend(ACK);
      return;
    }
    switch (v) {
      case 0xff:
        Object.assign(a, auxDefaults());
        this.auxSend(ACK, BAT_OK, 0x00);
        break;
      case 0xfe:
        this.auxSend(a.lastSent);
        break;
      case 0xf2: // identify: standard PS/2 mouse
        this.auxSend(ACK, 0x00);
        break;
      case 0xf4:
        a.reporting = true;
        this.auxSend(ACK);
        break;
      case 0xf5:
        a.reporting = false;
        this.auxSend(ACK);
        break;
      case 0xf6:
        Object.assign(a, { ...auxDefaults(), reporting: a.reporting });
        this.auxSend(ACK);
        break;
      case 0xe6:
      case 0xe7:
        a.scaling21 = v === 0xe7;
        this.auxSend(ACK);
        break;
      case 0xe8:
      case 0xf3:
        a.pendingCommand = v;
        this.auxSend(ACK);
        break;
      case 0xe9: // status request: mode byte, resolution, sample rate
        this.auxSend(ACK, (a.reporting ? 0x20 : 0) | (a.scaling21 ? 0x10 : 0), a.resolution, a.sampleRate);
        break;
      case 0xeb: // read data: no movement
        this.auxSend(ACK, 0x08, 0x00, 0x00);
        break;
      case 0xea: // stream mode
      case 0xf0: // remote mode
      case 0xec: // reset wrap mode
        this.auxSend(ACK);
        break;
      default:
        this.auxSend(RESEND);
    }
  }

  save(): I8042State {
    const s = this.s;
    return {
      ...s,
      ram: s.ram.slice(),
      controllerQueue: s.controllerQueue.slice(),
      keyboardQueue: s.keyboardQueue.slice(),
      auxQueue: s.auxQueue.slice(),
      keyboard: { ...s.keyboard },
      aux: { ...s.aux },
    };
  }

  restore(state: I8042State): void {
    this.s = restoreI8042State(state);
    this.irq1.set(false);
    this.irq12.set(false);
    this.driveIrqs();
  }
}
