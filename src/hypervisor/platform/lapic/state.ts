// Save record for one local APIC (Xen hvm/save.h has LAPIC + LAPIC_REGS per vCPU).
// Plain numbers only, so it serialises as JSON unchanged.

import type { LapicTimerState } from './timer.js';

export interface LapicState {
  version: 1;
  /** IA32_APIC_BASE low 32 bits. */
  apicBase: number;
  id: number;
  tpr: number;
  ldr: number;
  dfr: number;
  svr: number;
  /** ESR as last latched by a write, and errors accumulated since. */
  esr: number;
  esrPending: number;
  icrLow: number;
  icrHigh: number;
  /** LVT timer, thermal, perf, LINT0, LINT1, error. */
  lvt: number[];
  /** 8 × 32-bit vector bitmaps, vector 0 = bit 0 of word 0. */
  irr: number[];
  isr: number[];
  tmr: number[];
  timer: LapicTimerState;
  /** NMIs accepted but not yet taken by the vCPU. */
  nmiPending: number;
}
