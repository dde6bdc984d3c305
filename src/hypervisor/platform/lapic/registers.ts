// Local APIC register offsets and bit fields (Intel SDM vol. 3A §10.4-10.6, Table 10-1;
// fact sheet pc-platform §8). xAPIC MMIO only: 32-bit registers on a 16-byte stride.

export const LAPIC_ADDRESS = 0xfee00000;
export const LAPIC_MMIO_LENGTH = 0x1000;
/** Xen's vLAPIC version: 0x14 (integrated APIC), max LVT entry 5, no directed EOI. */
export const LAPIC_VERSION = 0x00050014;

export const REG_ID = 0x020;
export const REG_VERSION = 0x030;
export const REG_TPR = 0x080;
export const REG_APR = 0x090;
export const REG_PPR = 0x0a0;
export const REG_EOI = 0x0b0;
export const REG_LDR = 0x0d0;
export const REG_DFR = 0x0e0;
export const REG_SVR = 0x0f0;
export const REG_ISR = 0x100;
export const REG_TMR = 0x180;
export const REG_IRR = 0x200;
export const REG_ESR = 0x280;
export const REG_ICR_LOW = 0x300;
export const REG_ICR_HIGH = 0x310;
export const REG_LVT_TIMER = 0x320;
export const REG_LVT_THERMAL = 0x330;
export const REG_LVT_PERF = 0x340;
export const REG_LVT_LINT0 = 0x350;
export const REG_LVT_LINT1 = 0x360;
export const REG_LVT_ERROR = 0x370;
export const REG_TIMER_INITIAL = 0x380;
export const REG_TIMER_CURRENT = 0x390;
export const REG_TIMER_DIVIDE = 0x3e0;

/** LVT index order = register order 0x320..0x370. */
export const LVT_TIMER = 0;
export const LVT_THERMAL = 1;
export const LVT_PERF = 2;
export const LVT_LINT0 = 3;
export const LVT_LINT1 = 4;
export const LVT_ERROR = 5;
export const LVT_COUNT = 6;

/** Writable bits of each LVT (SDM Figure 10-8): delivery status and remote IRR are read-only. */
export const LVT_WRITABLE = [
  0x300ff, // timer: vector, mask, bit 17 periodic (bit 18 TSC-deadline is not offered)
  0x107ff, // thermal: vector, delivery mode, mask
  0x107ff, // performance counters
  0x1a7ff, // LINT0: vector, mode, polarity, trigger, mask
  0x1a7ff, // LINT1
  0x100ff, // error: vector, mask
];

export const LVT_MASKED = 1 << 16;
export const LVT_LEVEL = 1 << 15;
export const LVT_TIMER_PERIODIC = 1 << 17;

/** Delivery modes, bits 10:8 of an LVT, the ICR and an IOAPIC RTE. */
export const DM_MASK = 0x700;
export const DM_FIXED = 0x000;
export const DM_LOWEST = 0x100;
export const DM_SMI = 0x200;
export const DM_NMI = 0x400;
export const DM_INIT = 0x500;
export const DM_STARTUP = 0x600;
export const DM_EXTINT = 0x700;

/** SVR: bits 7:0 spurious vector, 8 APIC software enable, 9 focus check disable. */
export const SVR_WRITABLE = 0x3ff;
export const SVR_ENABLE = 1 << 8;

/** ICR low (SDM Figure 10-12): vector, mode, logical, level (assert), trigger, shorthand. */
export const ICR_LOW_WRITABLE = 0xccfff;
export const ICR_LOGICAL = 1 << 11;
export const ICR_ASSERT = 1 << 14;
export const ICR_LEVEL = 1 << 15;
export const ICR_SHORTHAND_SHIFT = 18;
export const SHORTHAND_NONE = 0;
export const SHORTHAND_SELF = 1;
export const SHORTHAND_ALL = 2;
export const SHORTHAND_OTHERS = 3;

/** ESR bits (SDM §10.5.3). */
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

/** IA32_APIC_BASE (MSR 0x1B, SDM §10.4.4): bit 8 BSP (RO), bit 11 global enable, 35:12 base. */
export const MSR_APIC_BASE = 0x1b;
export const APIC_BASE_BSP = 1 << 8;
export const APIC_BASE_X2APIC = 1 << 10;
export const APIC_BASE_ENABLE = 1 << 11;

/** Xen's vLAPIC bus clock: 100 MHz, 10 ns per timer tick before division. */
export const BUS_NS_PER_TICK = 10;

/** Divide configuration (bits 3, 1:0) to divisor: 0→2, 1→4, 2→8, 3→16, 8→32 ... 0xB→1. */
export function timerDivisor(divideConfig: number): number {
  const code = ((divideConfig >> 1) & 4) | (divideConfig & 3);
  return code === 7 ? 1 : 2 << code;
}
