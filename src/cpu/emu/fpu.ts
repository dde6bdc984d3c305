// x87 FPU (SDM vol. 1 ch. 8; vol. 2 D8-DF), FNSAVE/FRSTOR/FNSTENV/FLDENV and
// FXSAVE/FXRSTOR images (vol. 2 FXSAVE Table 3-53).
//
// CONTRACT (called by the core's decoder):
// - execute(opcode 0xD8..0xDF, modrm, seg, offset): offset is the effective
//   offset within segment `seg` for memory forms (modrm < 0xC0), ignored for
//   register forms. Memory goes through cpu.smem. CR0.EM/TS checks (#NM) are
//   done here. operand32 selects the 14/28- and 94/108-byte environment layouts.
// - fwait(): WAIT/FWAIT (#NM if CR0.MP && CR0.TS; pending unmasked exception → #MF
//   when CR0.NE, else IRQ 13 semantics).
// - fxsave/fxrstor(seg, offset): 0F AE /0 and /1.
// STUB: the FPU helper implements it.

import { UnimplementedInstruction, type CpuState } from './state.js';

export class Fpu {
  constructor(private readonly cpu: CpuState) {}

  /** Power-on / RESET state (FCW 0x0040, FTW empty). */
  reset(): void {}

  execute(opcode: number, modrm: number, seg: number, offset: number, operand32: boolean): void {
    void this.cpu; void seg; void offset; void operand32;
    throw new UnimplementedInstruction(`x87 ${opcode.toString(16)} /${(modrm >> 3) & 7}`);
  }
  fwait(): void {}
  fxsave(seg: number, offset: number): void {
    void seg; void offset;
    throw new UnimplementedInstruction('fxsave');
  }
  fxrstor(seg: number, offset: number): void {
    void seg; void offset;
    throw new UnimplementedInstruction('fxrstor');
  }
}
