// LEA through every ModRM/SIB addressing form, 32-bit (mod 0/1/2 × r/m, every
// SIB base/index/scale, the disp32-only forms) and 16-bit with the 0x67 prefix,
// plus 16-bit destinations (0x66). Encoded byte by byte so no assembler choice
// hides a form (SDM vol. 2 §2.1.5, Tables 2-1 to 2-3).

import { Rng, type DiffCase, type DiffGroup } from '../diff-case.js';

const hexBytes = (bytes: number[]) => 'db ' + bytes.map((b) => '0x' + (b & 0xff).toString(16)).join(', ');

function disp(mod: number, size: 16 | 32, rng: Rng): number[] {
  if (mod === 1) return [rng.below(256)];
  if (mod === 2) {
    const n = size === 32 ? 4 : 2;
    return Array.from({ length: n }, () => rng.below(256));
  }
  return [];
}

export function leaGroup(): DiffGroup {
  const rng = new Rng(0x1ea);
  const cases: DiffCase[] = [];
  const randomRegs = () => ({
    eax: rng.u32(),
    ecx: rng.u32(),
    edx: rng.u32(),
    ebx: rng.u32(),
    ebp: rng.u32(),
    esi: rng.u32(),
    edi: rng.u32(),
  });
  for (let mod = 0; mod < 3; mod++) {
    for (let rm = 0; rm < 8; rm++) {
      const reg = [0, 1, 2, 3, 5, 6, 7][rng.below(7)];
      if (rm !== 4) {
        const d = mod === 0 && rm === 5 ? Array.from({ length: 4 }, () => rng.below(256)) : disp(mod, 32, rng);
        for (let k = 0; k < 3; k++) {
          const modrm = (mod << 6) | (reg << 3) | rm;
          cases.push({ name: `lea32 mod=${mod} rm=${rm} #${k}`, asm: hexBytes([0x8d, modrm, ...d]), regs: randomRegs() });
          cases.push({ name: `lea16dst mod=${mod} rm=${rm} #${k}`, asm: hexBytes([0x66, 0x8d, modrm, ...d]), regs: randomRegs() });
        }
        continue;
      }
      for (let base = 0; base < 8; base++) {
        for (let index = 0; index < 8; index++) {
          for (let scale = 0; scale < 4; scale++) {
            const sib = (scale << 6) | (index << 3) | base;
            const d = mod === 0 && base === 5 ? Array.from({ length: 4 }, () => rng.below(256)) : disp(mod, 32, rng);
            const dst = rng.below(8);
            const modrm = (mod << 6) | (dst << 3) | 4;
            if (dst === 4) continue; // ESP would change the stack pointer the runner relies on.
            cases.push({ name: `lea32 sib mod=${mod} base=${base} index=${index} scale=${1 << scale}`, asm: hexBytes([0x8d, modrm, sib, ...d]), regs: randomRegs() });
          }
        }
      }
    }
  }
  // 16-bit addressing: [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI] [BP]/disp16 [BX].
  for (let mod = 0; mod < 3; mod++) {
    for (let rm = 0; rm < 8; rm++) {
      for (let k = 0; k < 4; k++) {
        const dst = [0, 1, 2, 3, 5, 6, 7][rng.below(7)];
        const d = mod === 0 && rm === 6 ? [rng.below(256), rng.below(256)] : disp(mod, 16, rng);
        const modrm = (mod << 6) | (dst << 3) | rm;
        cases.push({ name: `lea a16 mod=${mod} rm=${rm} #${k}`, asm: hexBytes([0x67, 0x8d, modrm, ...d]), regs: randomRegs() });
        cases.push({ name: `lea a16 o16 mod=${mod} rm=${rm} #${k}`, asm: hexBytes([0x66, 0x67, 0x8d, modrm, ...d]), regs: randomRegs() });
      }
    }
  }
  // Memory reads through the same forms: base/index chosen to land in the data buffer.
  const data = Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
  for (let scale = 0; scale < 4; scale++) {
    const s = 1 << scale;
    cases.push({
      name: `mov via [base+index*${s}+disp8]`,
      asm: `mov eax, [ebx+ecx*${s}+8]\nmov dx, [esi+edi*${s}-4]`,
      regs: { ebx: 0x00210000, ecx: 3, esi: 0x00210000 + 20, edi: 2 },
      data,
    });
    cases.push({
      name: `mov via [index*${s}+disp32]`,
      asm: `mov eax, [ecx*${s}+DATA]`,
      regs: { ecx: 5 },
      data,
    });
  }
  cases.push({ name: 'lea with a register operand is #UD', asm: hexBytes([0x8d, 0xc0]) });
  cases.push({ name: 'mov via [ebp+disp] (SS default)', asm: 'mov eax, [ebp+0x10]', regs: { ebp: 0x00210000 }, data });
  cases.push({ name: 'mov via [esp+disp]', asm: 'mov dword [esp-8], 0x1234\nmov eax, [esp-8]' });
  return { name: 'lea', cases };
}
