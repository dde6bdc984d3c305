// Save record for one 16550A UART: registers, pending interrupt sources and the
// queued input bytes (at most the device's input capacity).

export interface UartState {
  version: 1;
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  dll: number;
  dlm: number;
  /** FCR bits kept: 0 FIFO enable, 3 DMA mode, 7:6 RX trigger level. */
  fcr: number;
  /** LSR error bits 4:1 (BI, FE, PE, OE), sticky until LSR is read. */
  lsrErrors: number;
  /** THRE interrupt pending (cleared by an IIR read that reports it or a THR write). */
  thrEmptyPending: boolean;
  /** MSR delta bits 3:0 (DDCD, TERI, DDSR, DCTS), cleared by reading MSR. */
  msrDeltas: number;
  /** Modem input lines when not in loopback (MSR bits 7:4). */
  msrInputs: number;
  /** RBR when the FIFO is empty: the last byte read. */
  lastRx: number;
  rx: number[];
  irqLevel: boolean;
}

export function restoreUartState(s: UartState, capacity: number): UartState {
  const b = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v & 0xff : 0);
  const rx = Array.isArray(s.rx) ? s.rx.slice(0, capacity).map(b) : [];
  return {
    version: 1,
    ier: b(s.ier) & 0x0f,
    lcr: b(s.lcr),
    mcr: b(s.mcr) & 0x1f,
    scr: b(s.scr),
    dll: b(s.dll),
    dlm: b(s.dlm),
    fcr: b(s.fcr) & 0xc9,
    lsrErrors: b(s.lsrErrors) & 0x1e,
    thrEmptyPending: !!s.thrEmptyPending,
    msrDeltas: b(s.msrDeltas) & 0x0f,
    msrInputs: b(s.msrInputs) & 0xf0,
    lastRx: b(s.lastRx),
    rx,
    irqLevel: !!s.irqLevel,
  };
}
