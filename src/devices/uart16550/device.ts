// National Semiconductor PC16550D UART (datasheet "PC16550D Universal Asynchronous
// Receiver/Transmitter with FIFOs"), the PC's COM port, 8 registers. It behaves
// as Linux's 8250 driver expects when it identifies and opens a port (fact sheet
// x86 §9 step 12): IER bits 7:4 read 0, FCR bit 0 makes IIR[7:6] = 11 (16550A),
// no EFR/EXCR behind LCR 0xBF/0x80/0xE0 and no 64-byte mode (IIR bit 5 = 0),
// loopback MCR 0x1A reads MSR[7:4] = 0x90, and the THRE test (IER ← 2 ⇒ IIR 0x02;
// IER ← 0 then 2 re-asserts it).
//
// Modelling choices: the line runs infinitely fast — a byte written to THR is
// sent at once, so THRE/TEMT always read 1 and the THRE interrupt re-arms right
// away; the RX character-timeout interrupt (IIR 0x0C) is reported as soon as the
// FIFO holds data below its trigger level (there is no clock here). Modem inputs
// read CTS, DSR and DCD asserted (a connected null modem). The interrupt reaches
// the IRQ line only while MCR OUT2 is 1 and loopback is off (in loopback the OUT2
// pin is forced inactive).

import type { AccessSize } from '../../hypervisor/types.js';
import type { PioDevice } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import { RxQueue } from './rx-queue.js';
import { restoreUartState, type UartState } from './state.js';

/** Host input waiting for the guest, per UART (excess is dropped with LSR OE). */
export const UART_INPUT_CAPACITY = 64 * 1024;
const FIFO_SIZE = 16;

// Register offsets (DLAB = LCR bit 7 selects DLL/DLM at 0/1).
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const IER_RDI = 0x01; // received data available
const IER_THRI = 0x02; // THR empty
const IER_RLSI = 0x04; // receiver line status
const IER_MSI = 0x08; // modem status

const IIR_NONE = 0x01;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_TIMEOUT = 0x0c;
const IIR_FIFOS = 0xc0;

const LCR_DLAB = 0x80;
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
const TRIGGER_LEVELS = [1, 4, 8, 14];

type Registers = Omit<UartState, 'rx'>;

export class Uart16550 {
  private r: Registers = {
    version: 1,
    ier: 0,
    lcr: 0,
    mcr: 0,
    scr: 0,
    dll: 0x0c, // 9600 baud, a common power-on divisor
    dlm: 0,
    fcr: 0,
    lsrErrors: 0,
    thrEmptyPending: false,
    msrDeltas: 0,
    msrInputs: MSR_CTS | MSR_DSR | MSR_DCD,
    lastRx: 0,
    irqLevel: false,
  };
  private rx = new RxQueue(UART_INPUT_CAPACITY);

  /** Register at the COM base (0x3F8, 0x2F8, ...), length 8. */
  readonly ports: PioDevice;

  constructor(
    private readonly irq: IrqLine,
    private readonly transmit: (byte: number) => void,
  ) {
    this.ports = {
      pioRead: (offset: number, size: AccessSize) => {
        let v = 0;
        for (let i = 0; i < size; i++) v |= this.readRegister((offset + i) & 7) << (8 * i);
        return v >>> 0;
      },
      pioWrite: (offset: number, size: AccessSize, value: number) => {
        for (let i = 0; i < size; i++) this.writeRegister((offset + i) & 7, (value >>> (8 * i)) & 0xff);
      },
    };
  }

  /** Host → guest input. Bytes beyond the input capacity are dropped and flag an overrun. */
  receive(bytes: Uint8Array): void {
    for (const b of bytes) this.receiveByte(b);
    this.updateIrq();
  }

  /** Room for more host input (callers should stop reading their source when false). */
  canReceive(): boolean {
    return this.rx.length < this.rx.capacity;
  }

  private receiveByte(b: number): void {
    if (!this.rx.push(b & 0xff)) this.r.lsrErrors |= LSR_OE;
  }

  private get fifoEnabled(): boolean {
    return (this.r.fcr & FCR_ENABLE) !== 0;
  }

  /** Bytes the guest-visible receiver holds (FIFO or the single RBR). */
  private get rxLevel(): number {
    return Math.min(this.rx.length, this.fifoEnabled ? FIFO_SIZE : 1);
  }

  private msrState(): number {
    const m = this.r.mcr;
    if (!(m & MCR_LOOP)) return this.r.msrInputs;
    // Loopback: RTS → CTS, DTR → DSR, OUT1 → RI, OUT2 → DCD (datasheet, MCR bit 4).
    return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
  }

  /** IIR bits 3:0 by priority: line status > RX data/timeout > THRE > modem status. */
  private interruptId(): number {
    const r = this.r;
    if (r.ier & IER_RLSI && r.lsrErrors) return IIR_RLSI;
    if (r.ier & IER_RDI && this.rx.length > 0) {
      if (!this.fifoEnabled) return IIR_RDI;
      return this.rxLevel >= TRIGGER_LEVELS[r.fcr >> 6] ? IIR_RDI : IIR_TIMEOUT;
    }
    if (r.ier & IER_THRI && r.thrEmptyPending) return IIR_THRI;
    if (r.ier & IER_MSI && r.msrDeltas) return IIR_MSI;
    return IIR_NONE;
  }

  private updateIrq(): void {
    const r = this.r;
    const level = this.interruptId() !== IIR_NONE && (r.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    if (level !== r.irqLevel) {
      r.irqLevel = level;
      this.irq.set(level);
    }
  }

  private readRegister(offset: number): number {
    const r = this.r;
    const dlab = (r.lcr & LCR_DLAB) !== 0;
    let v: number;
    switch (offset) {
      case RBR_THR_DLL:
        if (dlab) return r.dll;
        if (this.rx.length > 0) r.lastRx = this.rx.shift();
        v = r.lastRx;
        break;
      case IER_DLM:
        return dlab ? r.dlm : r.ier;
      case IIR_FCR: {
        const id = this.interruptId();
        // Reading IIR while it reports THRE clears that source (datasheet table 4).
        if (id === IIR_THRI) r.thrEmptyPending = false;
        v = id | (this.fifoEnabled ? IIR_FIFOS : 0);
        break;
      }
      case LCR:
        return r.lcr;
      case MCR:
        return r.mcr;
      case LSR:
        v = (this.rx.length > 0 ? LSR_DR : 0) | r.lsrErrors | LSR_THRE | LSR_TEMT;
        r.lsrErrors = 0;
        break;
      case MSR:
        v = this.msrState() | r.msrDeltas;
        r.msrDeltas = 0;
        break;
      case SCR:
      default:
        return r.scr;
    }
    this.updateIrq();
    return v;
  }

  private writeRegister(offset: number, value: number): void {
    const r = this.r;
    const dlab = (r.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR_DLL:
        if (dlab) {
          r.dll = value;
          return;
        }
        r.thrEmptyPending = false;
        if (r.mcr & MCR_LOOP) this.receiveByte(value);
        else this.transmit(value);
        r.thrEmptyPending = true; // sent at once: THR is empty again
        break;
      case IER_DLM:
        if (dlab) {
          r.dlm = value;
          return;
        }
        // Enabling ETBEI with THR empty raises THRE (Linux's THRE test relies on it).
        if (value & IER_THRI && !(r.ier & IER_THRI)) r.thrEmptyPending = true;
        r.ier = value & 0x0f;
        break;
      case IIR_FCR: {
        const wasEnabled = this.fifoEnabled;
        const enable = (value & FCR_ENABLE) !== 0;
        // Changing the FIFO enable clears both FIFOs; bit 1 clears the RX FIFO, but
        // only with bit 0 set (other FCR bits are not programmed without it).
        if (enable !== wasEnabled || (enable && value & FCR_CLEAR_RX)) this.rx.drop(wasEnabled ? FIFO_SIZE : 1);
        r.fcr = enable ? value & 0xc9 : 0;
        break;
      }
      case LCR:
        r.lcr = value;
        return;
      case MCR: {
        const before = this.msrState();
        r.mcr = value & 0x1f;
        this.noteModemChange(before, this.msrState());
        break;
      }
      case LSR:
      case MSR:
        return; // factory-test writes: ignored
      case SCR:
      default:
        r.scr = value;
        return;
    }
    this.updateIrq();
  }

  /** MSR delta bits: DCTS, DDSR, TERI (RI 1 → 0), DDCD. */
  private noteModemChange(before: number, after: number): void {
    const changed = before ^ after;
    let d = 0;
    if (changed & MSR_CTS) d |= 0x01;
    if (changed & MSR_DSR) d |= 0x02;
    if (before & MSR_RI && !(after & MSR_RI)) d |= 0x04;
    if (changed & MSR_DCD) d |= 0x08;
    this.r.msrDeltas |= d;
  }

  save(): UartState {
    return { ...this.r, rx: this.rx.toArray() };
  }

  restore(state: UartState): void {
    const s = restoreUartState(state, UART_INPUT_CAPACITY);
    const { rx, ...regs } = s;
    this.r = regs;
    this.rx = new RxQueue(UART_INPUT_CAPACITY);
    for (const b of rx) this.rx.push(b);
    this.irq.set(this.r.irqLevel);
  }
}
