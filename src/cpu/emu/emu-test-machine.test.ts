// A tiny machine for the core's unit tests: RAM, a fake bus that records port
// writes, nasm-assembled programs loaded at 0x1000, real mode or flat 32-bit
// protected mode set up directly in the segment caches. (A *.test.ts file so it
// may use node:child_process; it holds one smoke test of its own.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import type { VmExit } from '../../hypervisor/vcpu/vm-exit.js';
import { EmuVcpu } from './cpu.js';
import { ATTR_DB, ATTR_G, ATTR_P, ATTR_S, CS, CR0_PE, SS } from './state.js';

export const LOAD = 0x1000;

/** Assemble `source` with nasm (flat binary) for `bits`-bit code at origin LOAD. */
export function assemble(source: string, bits: 16 | 32): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-asm-'));
  try {
    const src = join(dir, 'p.asm');
    const out = join(dir, 'p.bin');
    writeFileSync(src, `bits ${bits}\norg ${LOAD}\n${source}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', out, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class FakeBus implements VmOps {
  readonly writes: Array<{ port: number; size: number; value: number }> = [];
  readonly portValues = new Map<number, number>();
  pendingVector = -1;
  pioRead(port: number, size: 1 | 2 | 4): number {
    const v = this.portValues.get(port);
    return v === undefined ? (size === 4 ? 0xffffffff : (1 << (size * 8)) - 1) : v;
  }
  pioWrite(port: number, size: 1 | 2 | 4, value: number): void {
    this.writes.push({ port, size, value });
  }
  mmioRead(): number {
    return 0xffffffff;
  }
  mmioWrite(): void {}
  acknowledgeInterrupt(): number {
    const v = this.pendingVector;
    this.pendingVector = -1;
    return v;
  }
}

export interface TestMachine {
  vcpu: EmuVcpu;
  memory: GuestMemory;
  bus: FakeBus;
}

/** A machine with `code` at LOAD, ESP = 0x8000, in real mode (CS = 0) or flat 32-bit protected mode. */
export function machine(code: Uint8Array, mode: 'real' | 'flat32'): TestMachine {
  const memory = new GuestMemory({ ramBytes: 2 << 20 });
  const bus = new FakeBus();
  const vcpu = new EmuVcpu(memory, bus, new ManualClock());
  memory.write(LOAD, code);
  const cpu = vcpu.cpu;
  for (let s = 0; s < 6; s++) {
    cpu.segSel[s] = 0;
    cpu.segBase[s] = 0;
  }
  if (mode === 'flat32') {
    for (let s = 0; s < 6; s++) {
      cpu.segLimit[s] = 0xffffffff;
      cpu.segAttr[s] = 3 | ATTR_S | ATTR_P | ATTR_DB | ATTR_G;
      cpu.segSel[s] = 0x10;
    }
    cpu.segAttr[CS] = 0xb | ATTR_S | ATTR_P | ATTR_DB | ATTR_G;
    cpu.segSel[CS] = 0x08;
    cpu.segSel[SS] = 0x10;
    cpu.cr0 |= CR0_PE;
  }
  cpu.modeChanged();
  cpu.eip = LOAD;
  cpu.regs[4] = 0x8000;
  return { vcpu, memory, bus };
}

/** Run until something other than `interrupted` (at most `slices` slices). */
export function runToExit(vcpu: EmuVcpu, slices = 100): VmExit {
  for (let k = 0; k < slices; k++) {
    const e = vcpu.run();
    if (e.kind !== 'interrupted') return e;
  }
  return { kind: 'interrupted' };
}

/** Assemble, run to the final HLT, and return the machine; fails on any other exit. */
export function runProgram(source: string, mode: 'real' | 'flat32'): TestMachine {
  const m = machine(assemble(source, mode === 'real' ? 16 : 32), mode);
  const exit = runToExit(m.vcpu);
  if (exit.kind !== 'hlt') assert.fail(`expected hlt, got ${JSON.stringify(exit, null, 1)}`);
  return m;
}

test('test machine: a program runs to HLT in both modes', () => {
  for (const mode of ['real', 'flat32'] as const) {
    const m = runProgram('mov eax, 0x12345678\nmov ebx, eax\nadd ebx, 1\nhlt', mode);
    assert.equal(m.vcpu.getRegisters().ebx, 0x12345679, mode);
    assert.equal(m.vcpu.cpu.code32, mode === 'flat32');
  }
});
