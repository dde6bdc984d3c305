// One vCPU's local APIC in xAPIC mode at 0xFEE00000 (Intel SDM vol. 3A ch. 10; fact
// sheet pc-platform §2.5 and §8 for Xen's reset values). It holds the IRR/ISR/TMR
// vector bitmaps, task priority, the LVTs and the timer; the interrupt fabric
// (platform/interrupts) routes IPIs, IOAPIC messages and the 8259's ExtINT to it and
// turns pendingVector() into the vCPU's INTR pin.
//
// Modelling choices:
// - Accesses are meant to be aligned 32-bit (SDM §10.4.1). Narrower reads return the
//   bytes of the register; narrower writes merge into it; anything crossing the
//   register's 4 bytes is dropped. Nothing a guest writes throws.
// - APIC base relocation is not supported (Xen neither): the base field stays
//   0xFEE00000. Clearing the global enable resets the registers to power-up values,
//   and while disabled the MMIO page is open bus.
// - NMIs are counted in nmiPending; the CPU backends have no NMI input yet.

import type { MmioDevice } from '../../../devices/bus/io-bus.js';
import type { Clock } from '../../clock.js';
import type { AccessSize } from '../../types.js';
import * as R from './registers.js';
import type { LapicState } from './state.js';
import { LapicTimer } from './timer.js';

/** An interprocessor interrupt as written to the ICR (SDM §10.6.1). */
export interface Ipi {
  vector: number;
  /** Delivery mode DM_* (bits 10:8). */
  mode: number;
  logical: boolean;
  /** ICR high bits 31:24. */
  dest: number;
  /** SHORTHAND_*. */
  shorthand: number;
  /** Level bit 14: 0 only for the INIT level de-assert. */
  assert: boolean;
  /** Trigger mode bit 15. */
  level: boolean;
}

/** What a LAPIC needs from the interrupt fabric. */
export interface LapicHost {
  /** IRR, ISR, TPR or enables changed: re-evaluate the vCPU's INTR pin. */
  changed(): void;
  /** EOI of a vector whose TMR bit was set: the IOAPIC clears remote IRR (SDM §10.8.5). */
  levelEoi(vector: number): void;
  /** The guest wrote ICR low: deliver the IPI. */
  sendIpi(from: Lapic, ipi: Ipi): void;
}

const ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

function highestBit(bitmap: Uint32Array): number {
  for (let w = 7; w >= 0; w--) {
    const v = bitmap[w];
    if (v !== 0) return w * 32 + 31 - Math.clz32(v);
  }
  return -1;
}

export class Lapic implements MmioDevice {
  private apicBase = 0;
  private id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0;
  private svr = 0;
  private esr = 0;
  private esrPending = 0;
  private icrLow = 0;
  private icrHigh = 0;
  private readonly lvt = new Uint32Array(R.LVT_COUNT);
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly timer = new LapicTimer();
  /** NMIs delivered to this LAPIC and not yet taken (no CPU NMI input yet). */
  nmiPending = 0;

  constructor(
    private readonly clock: Clock,
    /** vCPU index; the APIC ID is twice it, as Xen assigns. */
    readonly vcpuId: number,
    private readonly host: LapicHost,
  ) {
    this.powerUp();
  }

  /** Power-up/reset values (SDM §10.4.7.1; Xen vlapic_reset). */
  private powerUp(): void {
    this.apicBase = R.LAPIC_ADDRESS | R.APIC_BASE_ENABLE | (this.vcpuId === 0 ? R.APIC_BASE_BSP : 0);
    this.resetRegisters();
    this.id = ((this.vcpuId * 2) & 0xff) << 24;
  }

  private resetRegisters(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.esr = 0;
    this.esrPending = 0;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.lvt.fill(R.LVT_MASKED);
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.timer.stop();
    this.timer.divideConfig = 0;
    this.nmiPending = 0;
  }

  /** A vCPU reset (INIT/RESET): registers and APIC base back to power-up values. */
  reset(): void {
    this.powerUp();
    this.host.changed();
  }

  // ---- state the fabric reads ---------------------------------------------

  /** IA32_APIC_BASE bit 11. */
  get hardwareEnabled(): boolean {
    return (this.apicBase & R.APIC_BASE_ENABLE) !== 0;
  }

  /** SVR bit 8. */
  get softwareEnabled(): boolean {
    return (this.svr & R.SVR_ENABLE) !== 0;
  }

  /** 8-bit APIC ID. */
  get apicId(): number {
    return this.id >>> 24;
  }

  /** LVT LINT0 (the 8259's INTR in "virtual wire A" when ExtINT and unmasked). */
  get lint0(): number {
    return this.lvt[R.LVT_LINT0];
  }

  /** Processor priority (SDM §10.8.3.1). */
  get ppr(): number {
    const isrv = Math.max(0, highestBit(this.isr));
    return (this.tpr & 0xf0) >= (isrv & 0xf0) ? this.tpr : isrv & 0xf0;
  }

  /** Arbitration priority (SDM §10.8.3.1 Figure 10-15), used to pick a lowest-priority target. */
  get apr(): number {
    const t = this.tpr & 0xf0;
    const i = Math.max(0, highestBit(this.isr)) & 0xf0;
    const r = Math.max(0, highestBit(this.irr)) & 0xf0;
    if (t >= r && t > i) return this.tpr;
    return Math.max(t, i, r);
  }

  /** Does this LAPIC match destination `dest` (SDM §10.6.2)? */
  matches(logical: boolean, dest: number): boolean {
    dest &= 0xff;
    if (!logical) return dest === 0xff || dest === this.apicId;
    const ldr = this.ldr >>> 24;
    if (this.dfr >>> 28 === 0xf) return (ldr & dest) !== 0;
    // Cluster model: high nibble cluster (0xF = all clusters), low nibble member bits.
    const cluster = dest >> 4;
    return (cluster === 0xf || cluster === ldr >> 4) && (dest & ldr & 0xf) !== 0;
  }

  /**
   * Highest IRR vector whose class is above the processor priority, or -1. A
   * software-disabled LAPIC holds its IRR and delivers nothing (Xen vlapic_enabled).
   */
  pendingVector(): number {
    if (!this.hardwareEnabled || !this.softwareEnabled) return -1;
    const v = highestBit(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr & 0xf0)) return -1;
    return v;
  }

  // ---- interrupt acceptance -------------------------------------------------

  /** A fixed or lowest-priority interrupt arrives: set IRR (and TMR for level). */
  accept(vector: number, level: boolean): void {
    if (!this.hardwareEnabled) return;
    vector &= 0xff;
    if (vector < 16) {
      this.signalError(R.ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    const w = vector >> 5;
    const bit = 1 << (vector & 31);
    this.irr[w] |= bit;
    if (level) this.tmr[w] |= bit;
    else this.tmr[w] &= ~bit;
    this.host.changed();
  }

  acceptNmi(): void {
    if (this.hardwareEnabled) this.nmiPending++;
  }

  /** INTA: move the pending vector into service; the spurious vector if none is deliverable. */
  acknowledge(): number {
    const v = this.pendingVector();
    if (v < 0) return this.svr & 0xff;
    const w = v >> 5;
    const bit = 1 << (v & 31);
    this.irr[w] &= ~bit;
    this.isr[w] |= bit;
    this.host.changed();
    return v;
  }

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    const w = v >> 5;
    const bit = 1 << (v & 31);
    this.isr[w] &= ~bit;
    this.host.changed();
    if (this.tmr[w] & bit) this.host.levelEoi(v);
  }

  private signalError(bits: number): void {
    this.esrPending |= bits;
    const lvt = this.lvt[R.LVT_ERROR];
    // An illegal error vector would report itself again: drop it.
    if (!(lvt & R.LVT_MASKED) && (lvt & 0xff) >= 16) this.accept(lvt & 0xff, false);
  }

  // ---- timer ---------------------------------------------------------------

  private get periodic(): boolean {
    return (this.lvt[R.LVT_TIMER] & R.LVT_TIMER_PERIODIC) !== 0;
  }

  /**
   * Domain time of the next timer interrupt, Infinity if none will be raised. A masked
   * timer keeps counting but wakes nobody; its expiries are consumed (without an
   * interrupt) by the update() every register access makes before changing the LVT.
   */
  nextDeadlineNs(): number {
    if (this.lvt[R.LVT_TIMER] & R.LVT_MASKED || !this.hardwareEnabled) return Infinity;
    return this.timer.deadlineNs();
  }

  /** Raise the timer interrupt if it expired (missed periods coalesce into one IRR bit). */
  update(): void {
    if (this.timer.expire(this.clock.nowNs(), this.periodic) === 0) return;
    const lvt = this.lvt[R.LVT_TIMER];
    if (!(lvt & R.LVT_MASKED)) this.accept(lvt & 0xff, false);
  }

  // ---- IA32_APIC_BASE --------------------------------------------------------

  readApicBase(): bigint {
    return BigInt(this.apicBase >>> 0);
  }

  /** WRMSR 0x1B; false = #GP (reserved bits, x2APIC enable). */
  writeApicBase(value: bigint): boolean {
    value = BigInt.asUintN(64, value);
    // Bits 7:0, 9, 10 (x2APIC is not offered) and above the 36-bit physical width are reserved.
    if ((value & ~0xffffff900n) !== 0n) return false;
    const enable = (Number(value & 0xfffn) & R.APIC_BASE_ENABLE) !== 0;
    if (enable === this.hardwareEnabled) return true;
    if (!enable) {
      // SDM §10.4.3: a globally disabled APIC is as if absent; it comes back in its reset state.
      this.resetRegisters();
      this.apicBase &= ~R.APIC_BASE_ENABLE;
    } else {
      this.apicBase |= R.APIC_BASE_ENABLE;
    }
    this.host.changed();
    return true;
  }

  // ---- MMIO ------------------------------------------------------------------

  mmioRead(offset: number, size: AccessSize): number {
    if (!this.hardwareEnabled) return ONES[size];
    const within = offset & 0xf;
    if (within + size > 4) return 0;
    return ((this.readRegister(offset & 0xff0) >>> (within * 8)) & ONES[size]) >>> 0;
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    if (!this.hardwareEnabled) return;
    const within = offset & 0xf;
    if (within + size > 4) return;
    const reg = offset & 0xff0;
    if (size !== 4) {
      const shift = within * 8;
      const mask = (ONES[size] << shift) >>> 0;
      value = ((this.readRegister(reg) & ~mask) | ((value << shift) & mask)) >>> 0;
    }
    this.writeRegister(reg, value >>> 0);
  }

  private readRegister(reg: number): number {
    this.update();
    if (reg >= R.REG_ISR && reg < R.REG_ISR + 0x80) return this.isr[(reg - R.REG_ISR) >> 4] >>> 0;
    if (reg >= R.REG_TMR && reg < R.REG_TMR + 0x80) return this.tmr[(reg - R.REG_TMR) >> 4] >>> 0;
    if (reg >= R.REG_IRR && reg < R.REG_IRR + 0x80) return this.irr[(reg - R.REG_IRR) >> 4] >>> 0;
    if (reg >= R.REG_LVT_TIMER && reg <= R.REG_LVT_ERROR) return this.lvt[(reg - R.REG_LVT_TIMER) >> 4] >>> 0;
    switch (reg) {
      case R.REG_ID:
        return this.id >>> 0;
      case R.REG_VERSION:
        return R.LAPIC_VERSION;
      case R.REG_TPR:
        return this.tpr;
      case R.REG_APR:
        return this.apr;
      case R.REG_PPR:
        return this.ppr;
      case R.REG_LDR:
        return this.ldr >>> 0;
      case R.REG_DFR:
        return this.dfr >>> 0;
      case R.REG_SVR:
        return this.svr;
      case R.REG_ESR:
        return this.esr;
      case R.REG_ICR_LOW:
        return this.icrLow; // delivery status (bit 12) is always idle: IPIs arrive at once
      case R.REG_ICR_HIGH:
        return this.icrHigh >>> 0;
      case R.REG_TIMER_INITIAL:
        return this.timer.initial >>> 0;
      case R.REG_TIMER_CURRENT:
        return this.timer.current(this.clock.nowNs(), this.periodic) >>> 0;
      case R.REG_TIMER_DIVIDE:
        return this.timer.divideConfig;
    }
    return 0; // EOI and reserved offsets read 0
  }

  private writeRegister(reg: number, value: number): void {
    this.update();
    if (reg >= R.REG_LVT_TIMER && reg <= R.REG_LVT_ERROR) {
      const i = (reg - R.REG_LVT_TIMER) >> 4;
      const old = this.lvt[i];
      let v = (value & R.LVT_WRITABLE[i]) | (old & ~R.LVT_WRITABLE[i]);
      // SVR software disable keeps every LVT masked (SDM §10.4.7.2).
      if (!this.softwareEnabled) v |= R.LVT_MASKED;
      this.lvt[i] = v;
      return;
    }
    switch (reg) {
      case R.REG_ID:
        this.id = value & 0xff000000;
        return;
      case R.REG_TPR:
        this.tpr = value & 0xff;
        this.host.changed();
        return;
      case R.REG_EOI:
        this.eoi();
        return;
      case R.REG_LDR:
        this.ldr = value & 0xff000000;
        return;
      case R.REG_DFR:
        this.dfr = (value | 0x0fffffff) >>> 0;
        return;
      case R.REG_SVR:
        this.svr = value & R.SVR_WRITABLE;
        if (!this.softwareEnabled) for (let i = 0; i < R.LVT_COUNT; i++) this.lvt[i] |= R.LVT_MASKED;
        this.host.changed();
        return;
      case R.REG_ESR:
        // A write latches the errors seen since the last write (SDM §10.5.3).
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case R.REG_ICR_LOW:
        this.icrLow = value & R.ICR_LOW_WRITABLE;
        this.sendIpi();
        return;
      case R.REG_ICR_HIGH:
        this.icrHigh = value & 0xff000000;
        return;
      case R.REG_TIMER_INITIAL:
        this.timer.start(value, this.clock.nowNs());
        return;
      case R.REG_TIMER_DIVIDE:
        this.timer.setDivide(value, this.clock.nowNs(), this.periodic);
        return;
    }
    // Read-only and reserved registers ignore writes.
  }

  private sendIpi(): void {
    const lo = this.icrLow;
    const ipi: Ipi = {
      vector: lo & 0xff,
      mode: lo & R.DM_MASK,
      logical: (lo & R.ICR_LOGICAL) !== 0,
      dest: this.icrHigh >>> 24,
      shorthand: (lo >> R.ICR_SHORTHAND_SHIFT) & 3,
      assert: (lo & R.ICR_ASSERT) !== 0,
      level: (lo & R.ICR_LEVEL) !== 0,
    };
    if ((ipi.mode === R.DM_FIXED || ipi.mode === R.DM_LOWEST) && ipi.vector < 16) {
      this.signalError(R.ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.host.sendIpi(this, ipi);
  }

  // ---- save/restore ----------------------------------------------------------

  save(): LapicState {
    return {
      version: 1,
      apicBase: this.apicBase >>> 0,
      id: this.id >>> 0,
      tpr: this.tpr,
      ldr: this.ldr >>> 0,
      dfr: this.dfr >>> 0,
      svr: this.svr,
      esr: this.esr,
      esrPending: this.esrPending,
      icrLow: this.icrLow,
      icrHigh: this.icrHigh >>> 0,
      lvt: Array.from(this.lvt),
      irr: Array.from(this.irr),
      isr: Array.from(this.isr),
      tmr: Array.from(this.tmr),
      timer: this.timer.save(),
      nmiPending: this.nmiPending,
    };
  }

  restore(s: LapicState): void {
    const u = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) ? n >>> 0 : 0);
    const words = (dst: Uint32Array, src: unknown, mask: (i: number) => number): void => {
      for (let i = 0; i < dst.length; i++) dst[i] = Array.isArray(src) ? u(src[i]) & mask(i) : 0;
    };
    this.apicBase = (u(s.apicBase) & (R.APIC_BASE_ENABLE | R.APIC_BASE_BSP)) | R.LAPIC_ADDRESS;
    this.id = u(s.id) & 0xff000000;
    this.tpr = u(s.tpr) & 0xff;
    this.ldr = u(s.ldr) & 0xff000000;
    this.dfr = (u(s.dfr) | 0x0fffffff) >>> 0;
    this.svr = u(s.svr) & R.SVR_WRITABLE;
    this.esr = u(s.esr) & 0xff;
    this.esrPending = u(s.esrPending) & 0xff;
    this.icrLow = u(s.icrLow) & R.ICR_LOW_WRITABLE;
    this.icrHigh = u(s.icrHigh) & 0xff000000;
    words(this.lvt, s.lvt, (i) => R.LVT_WRITABLE[i]);
    words(this.irr, s.irr, (i) => (i === 0 ? 0xffff0000 : 0xffffffff));
    words(this.isr, s.isr, (i) => (i === 0 ? 0xffff0000 : 0xffffffff));
    words(this.tmr, s.tmr, () => 0xffffffff);
    this.timer.restore(s.timer ?? { initial: 0, divideConfig: 0, startNs: 0, nextNs: -1 });
    this.nmiPending = Math.min(u(s.nmiPending), 1 << 16);
    this.host.changed();
  }
}
