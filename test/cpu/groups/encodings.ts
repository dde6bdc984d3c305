// Opcode-map coverage: the same operations as the other groups, but as raw bytes
// for every encoding an assembler would not pick (the r/m ← reg and reg ← r/m
// directions with register operands, AH..BH, every /digit of groups 1, 2, 3 and
// 5 incl. the undocumented aliases SAL = /6 of group 2 and TEST = /1 of group 3),
// with random register contents and flags. Memory forms address [EBX+disp8] with
// EBX pointing into the data buffer.

import { AF, ARITH, CF, OF, Rng, type DiffCase, type DiffGroup } from '../diff-case.js';
import { DATA_ADDR } from '../layout.js';

const db = (bytes: number[]) => 'db ' + bytes.map((b) => '0x' + (b & 0xff).toString(16)).join(', ');
const hexBytes = (bytes: number[]) => bytes.map((b) => (b & 0xff).toString(16).padStart(2, '0')).join(' ');

/** Undefined flags of a group-2 shift/rotate (see shift.ts for the reasoning). */
function group2Mask(digit: number, width: number, count: number): number {
  const c = count & 31;
  if (c === 0) return 0;
  const op = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'shl', 'sar'][digit];
  let m = 0;
  if (c > 1 && op !== 'shl' && op !== 'rol') m |= OF;
  if ((op === 'shr' || op === 'sar') && width < 32 && c >= width) m |= CF;
  return m;
}

export function encodingsGroup(): DiffGroup {
  const rng = new Rng(0xe9c0);
  const cases: DiffCase[] = [];
  const state = () => ({
    eax: rng.u32(),
    ecx: rng.u32(),
    edx: rng.u32(),
    ebx: rng.u32(),
    ebp: rng.u32(),
    esi: rng.u32(),
    edi: rng.u32(),
  });
  const add = (bytes: number[], opts: Partial<DiffCase> & { tag?: string } = {}) => {
    const { tag, ...rest } = opts;
    cases.push({ name: `${hexBytes(bytes)}${tag ? ' ' + tag : ''}`, asm: db(bytes), regs: state(), flags: rng.u32() & ARITH, ...rest });
  };
  const memState = () => ({ ...state(), ebx: DATA_ADDR + 8 });
  const data = Array.from({ length: 64 }, () => rng.below(256));
  const regModrm = () => 0xc0 | rng.below(64);
  const memModrm = (reg: number) => 0x43 | (reg << 3); // [EBX+disp8]

  // ALU ops 00-3D: r/m8,r8 / r/m,r / r8,r/m8 / r,r/m / AL,imm8 / eAX,imm (AND/OR/XOR: AMD AF=0, fact sheet §6).
  for (let op = 0; op < 8; op++) {
    const base = op * 8;
    for (let form = 0; form < 4; form++) {
      for (let k = 0; k < 6; k++) {
        add([base + form, regModrm()], { tag: `#${k}`});
        if (form & 1) add([0x66, base + form, regModrm()], { tag: `#${k}`});
      }
      for (let k = 0; k < 2; k++) add([base + form, memModrm(rng.below(8)), rng.below(24)], { tag: `m #${k}`, regs: memState(), data });
    }
    add([base + 4, rng.below(256)]);
    add([base + 5, rng.below(256), rng.below(256), rng.below(256), rng.below(256)]);
    add([0x66, base + 5, rng.below(256), rng.below(256)]);
  }
  // Group 1 (80 81 83) every /digit, register and memory.
  for (const opc of [0x80, 0x81, 0x83]) {
    for (let digit = 0; digit < 8; digit++) {
      const immLen = opc === 0x81 ? 4 : 1;
      for (let k = 0; k < 4; k++) {
        const imm = Array.from({ length: immLen }, () => rng.below(256));
        add([opc, 0xc0 | (digit << 3) | rng.below(8), ...imm], { tag: `#${k}` });
        if (opc !== 0x80) add([0x66, opc, 0xc0 | (digit << 3) | rng.below(8), ...imm.slice(0, opc === 0x81 ? 2 : 1)], { tag: `#${k}` });
      }
      add([opc, memModrm(digit), rng.below(24), ...Array.from({ length: immLen }, () => rng.below(256))], { tag: 'm', regs: memState(), data });
    }
  }
  // Group 2 (C0 C1 D0 D1 D2 D3) every /digit incl. /6, with CL/imm counts.
  for (const opc of [0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3]) {
    for (let digit = 0; digit < 8; digit++) {
      for (const width of opc & 1 ? [16, 32] : [8]) {
        for (let k = 0; k < 4; k++) {
          const count = [1, 3, width, rng.below(64)][k];
          const s = state();
          let bytes: number[];
          let c = 1;
          if (opc === 0xc0 || opc === 0xc1) {
            bytes = [opc, 0xc0 | (digit << 3) | rng.below(8), count];
            c = count;
          } else if (opc === 0xd2 || opc === 0xd3) {
            bytes = [opc, 0xc0 | (digit << 3) | rng.below(8)];
            s.ecx = (s.ecx & ~0xff) | count;
            c = count;
          } else {
            bytes = [opc, 0xc0 | (digit << 3) | rng.below(8)];
          }
          // A CL-counted form whose destination is CL/CX/ECX shifts by its own value: fine, still known.
          if (width === 16) bytes.unshift(0x66);
          add(bytes, { tag: `n=${c} #${k}`, regs: s, flagMask: ARITH & group2Mask(digit, width, c) });
        }
      }
    }
  }
  // Group 3 (F6 F7): TEST imm (/0 and the /1 alias), NOT, NEG, MUL, IMUL, DIV, IDIV.
  for (const opc of [0xf6, 0xf7]) {
    for (let digit = 0; digit < 8; digit++) {
      for (let k = 0; k < 5; k++) {
        const imm = digit < 2 ? Array.from({ length: opc === 0xf6 ? 1 : 4 }, () => rng.below(256)) : [];
        const s = state();
        if (digit >= 6 && k < 3) s.edx = k === 0 ? 0 : rng.below(4); // mostly divisions that fit
        add([opc, 0xc0 | (digit << 3) | rng.below(8), ...imm], { tag: `#${k}`, regs: s, flagMask: digit < 2 ? AF : 0 });
      }
    }
  }
  // FE/FF /0 /1 (INC/DEC r/m), 40-4F (INC/DEC r32), 66 40-4F.
  for (const opc of [0xfe, 0xff]) for (const digit of [0, 1]) for (let k = 0; k < 4; k++) add([opc, 0xc0 | (digit << 3) | rng.below(8)], { tag: `#${k}` });
  for (let r = 0; r < 16; r++) if ((r & 7) !== 4) add([0x40 + r]), add([0x66, 0x40 + r]);
  // MOV/TEST/XCHG register forms in every direction.
  for (const opc of [0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b]) {
    for (let k = 0; k < 6; k++) {
      const modrm = regModrm();
      // Never touch ESP through MOV/XCHG: the runner needs it.
      if ((opc & 1) === 1 && ((modrm & 7) === 4 || ((modrm >> 3) & 7) === 4)) continue;
      add([opc, modrm], { tag: `#${k}`, flagMask: opc <= 0x85 ? AF : 0 });
    }
  }
  for (let r = 1; r < 8; r++) if (r !== 4) add([0x90 + r]);
  for (let r = 0; r < 8; r++) add([0xb0 + r, rng.below(256)]), r !== 4 && add([0xb8 + r, 1, 2, 3, 4]);
  // Two-byte map: MOVZX/MOVSX, BT*, BSF/BSR, XADD, CMPXCHG, SHLD/SHRD, IMUL, CMOVcc, SETcc, BSWAP.
  const twoByte: Array<[number, number]> = [
    [0xb6, 0], [0xb7, 0], [0xbe, 0], [0xbf, 0], [0xa3, 0], [0xab, 0], [0xb3, 0], [0xbb, 0], [0xc0, 0], [0xc1, 0],
    [0xb0, 0], [0xb1, 0], [0xa5, 0], [0xad, 0], [0xaf, 0],
  ];
  for (const [opc] of twoByte) {
    for (let k = 0; k < 6; k++) {
      let modrm = regModrm();
      const reg = (modrm >> 3) & 7;
      const rm = modrm & 7;
      if (reg === 4 || (rm === 4 && opc !== 0xa3)) modrm = (modrm & ~0x3f) | (1 << 3) | 2;
      const s = state();
      let mask = 0;
      if (opc === 0xa5 || opc === 0xad) {
        const c = s.ecx & 31;
        mask = c === 0 ? 0 : AF | (c > 1 ? OF : 0);
      }
      add([0x0f, opc, modrm], { tag: `#${k}`, regs: s, flagMask: mask });
      if (opc !== 0xb6 && opc !== 0xbe && opc !== 0xc0 && opc !== 0xb0) {
        const c16 = s.ecx & 31;
        const m16 = opc === 0xa5 || opc === 0xad ? (c16 === 0 ? 0 : c16 > 16 ? ARITH : AF | (c16 > 1 ? OF : 0)) : 0;
        add([0x66, 0x0f, opc, modrm], { tag: `#${k}`, regs: s, flagMask: m16 });
      }
    }
  }
  // BSF/BSR with register sources: mask as bits.ts does for a non-zero source.
  for (const opc of [0xbc, 0xbd]) {
    for (let k = 0; k < 6; k++) {
      const modrm = 0xc0 | (((k % 3) + 1) << 3) | [0, 3, 5, 6, 7, 2][k];
      const s = state();
      if (k === 0) s.eax = 0;
      add([0x0f, opc, modrm], { tag: `#${k}`, regs: s, flagMask: k === 0 ? 0 : ARITH & ~0x40 });
    }
  }
  for (let cc = 0; cc < 16; cc++) {
    add([0x0f, 0x40 + cc, regModrm() & ~0x38 | 0x08], { tag: 'cmov' });
    add([0x0f, 0x90 + cc, 0xc0 | rng.below(8)], { tag: 'setcc' });
  }
  // BT* with an immediate (0F BA /4-/7), SHLD/SHRD with an immediate, IMUL imm forms.
  for (let digit = 4; digit < 8; digit++) for (let k = 0; k < 3; k++) add([0x0f, 0xba, 0xc0 | (digit << 3) | [0, 3, 6][k], rng.below(256)], { tag: `#${k}` });
  for (const opc of [0xa4, 0xac]) {
    for (let k = 0; k < 4; k++) {
      const count = [1, 7, 31, 20][k];
      add([0x0f, opc, 0xc0 | (2 << 3) | 0, count], { tag: `#${k}`, flagMask: count > 1 ? AF | OF : AF });
    }
  }
  for (let k = 0; k < 4; k++) {
    add([0x69, 0xc0 | (2 << 3) | [0, 1, 3, 6][k], rng.below(256), rng.below(256), rng.below(256), rng.below(256)], { tag: `#${k}` });
    add([0x6b, 0xc0 | (5 << 3) | [0, 1, 3, 6][k], rng.below(256)], { tag: `#${k}` });
  }
  // One-byte odds: CBW/CWDE/CWD/CDQ, SAHF/LAHF, CMC/CLC/STC/CLD/STD, AAM/AAD with bases, XCHG AX short forms.
  for (const bytes of [[0x98], [0x66, 0x98], [0x99], [0x66, 0x99], [0x9e], [0x9f], [0xf5], [0xf8], [0xf9], [0xfc], [0xfd], [0xd4, 0x0a], [0xd4, 0x07], [0xd5, 0x0a], [0xd5, 0x10], [0x27], [0x2f], [0x37], [0x3f]]) {
    for (let k = 0; k < 3; k++) add(bytes, { tag: `#${k}` });
  }
  cases.push({ name: 'sanity: eax written by b8', asm: db([0xb8, 0x78, 0x56, 0x34, 0x12]), regs: { eax: 0 }, flags: 0 });
  return { name: 'encodings', cases };
}
