// Instruction decoder: prefixes, opcode maps (opcode-table.ts), ModRM/SIB and
// displacements for 16- and 32-bit addressing, immediates (SDM vol. 2 ch. 2
// "Instruction Format"). Fills an Insn; throws #UD for undefined encodings and
// #GP(0) past 15 bytes.

import { CpuException, CS, DS, EBP, ESP, EXC_GP, EXC_UD, SS, type CpuState } from './state.js';
import type { Insn } from './insn.js';
import { ACCESS_EXEC } from './mmu.js';
import {
  F_BRANCH, F_BYTE, F_CHAINS, F_LOCK, F_MEM, F_MODRM, F_OSZ32, F_REGFORM, F_REGOP, F_END, GROUP7_REG, IMM_B, IMM_BS, IMM_MOFFS, IMM_NONE, IMM_PTR, IMM_W, IMM_WB, IMM_Z,
  ONE_BYTE, TWO_BYTE, type OpcodeEntry,
} from './opcode-table.js';

/**
 * Where instruction bytes come from. Bytes inside the page being decoded are read
 * straight from the backing store; anything else goes through the MMU as an
 * instruction fetch (which may fault) and marks the decode as crossing a page.
 */
export class InstructionFetcher {
  /** Linear address of the page being decoded. */
  pageLinear = 0;
  /** Backing-store offset of that page, or -1 (MMIO: every byte through the MMU). */
  pageOffset = -1;
  /** Set when a byte came from outside the page. */
  crossed = false;
  /** Frame of the following linear page once a decode reached into it (else -1). */
  nextGfn = -1;
  /** Backing-store offset of that frame, or -1 when it is not RAM/ROM. */
  nextOffset = -1;

  constructor(private readonly cpu: CpuState) {}

  /** Start decoding in the page at `pageLinear` whose frame is at backing offset `pageOffset`. */
  begin(pageLinear: number, pageOffset: number): void {
    this.pageLinear = pageLinear;
    this.pageOffset = pageOffset;
    this.crossed = false;
    this.nextGfn = -1;
    this.nextOffset = -1;
  }

  byte(linear: number): number {
    const off = (linear - this.pageLinear) | 0;
    if (off >= 0 && off < 4096 && this.pageOffset >= 0) return this.cpu.memory.bytes[this.pageOffset + off];
    this.crossed = true;
    if (off >= 4096 && off < 8192) {
      if (this.nextGfn < 0) {
        // The instruction continues in the next linear page: an exec translation (may #PF).
        const phys = this.cpu.mmu.translate((this.pageLinear + 4096) | 0, ACCESS_EXEC, this.cpu.cpl === 3);
        const gfn = Math.floor(phys / 4096);
        const mem = this.cpu.memory;
        this.nextGfn = gfn;
        this.nextOffset = gfn < mem.frameOffset.length ? mem.frameOffset[gfn] : -1;
      }
      if (this.nextOffset >= 0) return this.cpu.memory.bytes[this.nextOffset + off - 4096];
    }
    return this.cpu.mmu.fetch8(linear);
  }
}

// 16-bit addressing forms by rm: base, index (SDM vol. 2 Table 2-1).
const BASE16 = [3, 3, 5, 5, 6, 7, 5, 3];
const INDEX16 = [6, 7, 6, 7, -1, -1, -1, -1];

/**
 * Decode the instruction at `eip` (CS-relative) into `i`. `code32` is the CS.D
 * default. The instruction may not cross the fetcher's page unless the caller
 * accepts an uncached decode (fetcher.crossed).
 */
export function decode(cpu: CpuState, f: InstructionFetcher, eip: number, code32: boolean, i: Insn): void {
  const csBase = cpu.segBase[CS];
  let p = eip;
  const next = (): number => {
    if (((p - eip) | 0) >= 15) throw new CpuException(EXC_GP, 0);
    const b = f.byte((csBase + p) | 0);
    p = (p + 1) | 0;
    return b;
  };
  let osz32 = code32;
  let asz32 = code32;
  let segOverride = -1;
  let rep = 0;
  let lock = false;
  let b: number;
  for (;;) {
    b = next();
    switch (b) {
      case 0x26: segOverride = 0; continue;
      case 0x2e: segOverride = 1; continue;
      case 0x36: segOverride = 2; continue;
      case 0x3e: segOverride = 3; continue;
      case 0x64: segOverride = 4; continue;
      case 0x65: segOverride = 5; continue;
      case 0x66: osz32 = !code32; continue;
      case 0x67: asz32 = !code32; continue;
      case 0xf0: lock = true; continue;
      case 0xf2:
      case 0xf3: rep = b; continue;
    }
    break;
  }
  let opcode = b;
  let entry: OpcodeEntry | null;
  if (b === 0x0f) {
    const b2 = next();
    opcode = 0x100 | b2;
    entry = TWO_BYTE[b2];
  } else {
    entry = ONE_BYTE[b];
  }
  if (entry === null) throw new CpuException(EXC_UD);

  i.op = opcode;
  i.rep = rep;
  i.lock = lock;
  i.segOverride = segOverride;
  i.asz32 = asz32;
  i.mod = -1;
  i.reg = 0;
  i.rm = 0;
  i.base = -1;
  i.index = -1;
  i.scale = 0;
  i.disp = 0;
  i.imm = 0;
  i.imm2 = 0;
  let defaultSeg = DS;

  if (entry.flags & F_MODRM) {
    const modrm = next();
    const mod = modrm >> 6;
    const reg = (modrm >> 3) & 7;
    const rm = modrm & 7;
    i.reg = reg;
    i.rm = rm;
    if (entry.group !== null) {
      if (opcode === 0x101 && mod === 3) entry = GROUP7_REG.get(modrm) ?? (reg === 4 || reg === 6 ? entry.group[reg] : null);
      else entry = entry.group[reg];
      if (entry === null) throw new CpuException(EXC_UD);
    }
    if (mod === 3 || entry.flags & F_REGFORM) {
      i.mod = 3;
    } else {
      i.mod = mod;
      if (asz32) {
        let base = rm;
        if (rm === 4) {
          const sib = next();
          i.scale = sib >> 6;
          const index = (sib >> 3) & 7;
          i.index = index === 4 ? -1 : index;
          base = sib & 7;
        }
        if (base === 5 && mod === 0) {
          i.base = -1;
          i.disp = next() | (next() << 8) | (next() << 16) | (next() << 24);
        } else {
          i.base = base;
          if (base === ESP || base === EBP) defaultSeg = SS;
          if (mod === 1) i.disp = (next() << 24) >> 24;
          else if (mod === 2) i.disp = next() | (next() << 8) | (next() << 16) | (next() << 24);
        }
      } else {
        if (mod === 0 && rm === 6) {
          i.disp = next() | (next() << 8);
        } else {
          i.base = BASE16[rm];
          i.index = INDEX16[rm];
          if (rm === 2 || rm === 3 || rm === 6) defaultSeg = SS;
          if (mod === 1) i.disp = (next() << 24) >> 24;
          else if (mod === 2) i.disp = ((next() | (next() << 8)) << 16) >> 16;
        }
      }
    }
  } else if (entry.flags & F_REGOP) {
    i.mod = 3;
    i.rm = opcode & 7;
  }
  const flags = entry.flags;
  if (flags & F_MEM && i.mod === 3) throw new CpuException(EXC_UD);
  if (lock && ((flags & F_LOCK) === 0 || i.mod === 3)) throw new CpuException(EXC_UD);
  const osz = flags & F_BYTE ? 1 : flags & F_OSZ32 ? 4 : osz32 ? 4 : 2;
  i.osz = osz;
  i.szc = osz === 1 ? 0 : osz === 2 ? 1 : 2;
  i.seg = segOverride >= 0 ? segOverride : defaultSeg;

  switch (entry.imm) {
    case IMM_NONE:
      break;
    case IMM_B:
      i.imm = next();
      break;
    case IMM_BS:
      i.imm = (next() << 24) >> 24;
      break;
    case IMM_W:
      i.imm = next() | (next() << 8);
      break;
    case IMM_Z:
      if (osz === 4) i.imm = next() | (next() << 8) | (next() << 16) | (next() << 24);
      else if (osz === 2) i.imm = ((next() | (next() << 8)) << 16) >> 16;
      else i.imm = next();
      break;
    case IMM_MOFFS:
      i.mod = 0;
      i.disp = asz32 ? next() | (next() << 8) | (next() << 16) | (next() << 24) : next() | (next() << 8);
      break;
    case IMM_PTR:
      i.imm = osz32 ? next() | (next() << 8) | (next() << 16) | (next() << 24) : next() | (next() << 8);
      i.imm2 = next() | (next() << 8);
      break;
    case IMM_WB:
      i.imm = next() | (next() << 8);
      i.imm2 = next();
      break;
  }
  let exec = entry.exec;
  if (osz === 4) {
    if (i.mod === 3) {
      if (entry.reg32 !== null) exec = entry.reg32;
    } else if (i.mod >= 0 && asz32 && entry.mem32 !== null) {
      exec = entry.mem32;
    }
  }
  i.exec = exec;
  i.name = entry.name;
  i.endsBlock = (flags & F_END) !== 0;
  i.chainable = !i.endsBlock || (flags & (F_BRANCH | F_CHAINS)) !== 0;
  i.len = (p - eip) | 0;
}
