// What a stopped domain tells its user: every register, segment caches, control
// registers, decoded EFLAGS, the instruction bytes at CS:EIP and the last 32
// notable events (port I/O, exceptions, interrupts, exits). Recording an event
// writes five int32s into a ring: no allocation on the run path.

import { readEflags } from './flags.js';
import { CS, REG_NAMES, SEG_NAMES, type CpuState } from './state.js';

export const EV_PIO_IN = 1;
export const EV_PIO_OUT = 2;
export const EV_EXCEPTION = 3;
export const EV_INTERRUPT = 4;
export const EV_EXIT = 5;
export const EV_MMIO = 6;
const EV_NAMES = ['', 'in', 'out', 'exception', 'interrupt', 'exit', 'mmio'];

export function recordEvent(cpu: CpuState, kind: number, a: number, b: number, c: number): void {
  const slot = (cpu.eventCount & 31) * 5;
  const log = cpu.eventLog;
  log[slot] = kind;
  log[slot + 1] = cpu.insnEip;
  log[slot + 2] = a;
  log[slot + 3] = b;
  log[slot + 4] = c;
  cpu.eventCount++;
}

const h = (n: number, d = 8) => (n >>> 0).toString(16).padStart(d, '0');

function describeEvent(log: Int32Array, slot: number): string {
  const kind = log[slot];
  const eip = h(log[slot + 1]);
  const a = log[slot + 2], b = log[slot + 3], c = log[slot + 4];
  switch (kind) {
    case EV_PIO_IN:
    case EV_PIO_OUT:
      return `${eip}: ${EV_NAMES[kind]}${c * 8} port 0x${h(a, 4)} = 0x${h(b, c * 2)}`;
    case EV_EXCEPTION:
      return `${eip}: exception ${a}${b >= 0 ? ` error 0x${h(b, 4)}` : ''}`;
    case EV_INTERRUPT:
      return `${eip}: interrupt vector 0x${h(a, 2)}`;
    case EV_EXIT:
      return `${eip}: exit ${['hlt', 'msr', 'hypercall', 'triple-fault'][a] ?? a}${b ? ` 0x${h(b)}` : ''}`;
    default:
      return `${eip}: event ${kind} ${a} ${b} ${c}`;
  }
}

const FLAG_BITS: Array<[number, string]> = [
  [0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF'],
  [14, 'NT'], [16, 'RF'], [17, 'VM'], [18, 'AC'], [19, 'VIF'], [20, 'VIP'], [21, 'ID'],
];

/** EFLAGS as "0x00000246 [PF ZF IF] IOPL=0". */
export function describeEflags(v: number): string {
  const names = FLAG_BITS.filter(([b]) => (v >>> b) & 1).map(([, n]) => n);
  return `0x${h(v)} [${names.join(' ')}] IOPL=${(v >> 12) & 3}`;
}

/** Up to 16 instruction bytes at CS:EIP, "??" where unreadable (never throws). */
export function instructionBytes(cpu: CpuState): string {
  const out: string[] = [];
  const base = (cpu.segBase[CS] + cpu.eip) | 0;
  for (let k = 0; k < 16; k++) {
    try {
      out.push(h(cpu.mmu.read8((base + k) | 0), 2));
    } catch {
      out.push('??');
    }
  }
  return out.join(' ');
}

/** The multi-line diagnostic of an internal-error exit. */
export function formatDiagnostic(cpu: CpuState): string {
  const lines: string[] = [];
  const r = cpu.regs;
  lines.push(REG_NAMES.slice(0, 4).map((n, k) => `${n}=${h(r[k])}`).join(' '));
  lines.push(REG_NAMES.slice(4).map((n, k) => `${n}=${h(r[k + 4])}`).join(' '));
  lines.push(`eip=${h(cpu.eip)} eflags=${describeEflags(readEflags(cpu))} cpl=${cpu.cpl}`);
  lines.push(`mode: ${cpu.protectedMode ? 'protected' : cpu.cr0 & 1 ? 'v86' : 'real'} code${cpu.code32 ? 32 : 16} stack${cpu.stack32 ? 32 : 16}${cpu.halted ? ' halted' : ''}`);
  for (let s = 0; s < 8; s++) {
    lines.push(`${SEG_NAMES[s].padEnd(4)} sel=${h(cpu.segSel[s], 4)} base=${h(cpu.segBase[s])} limit=${h(cpu.segLimit[s])} attr=${h(cpu.segAttr[s], 5)}`);
  }
  lines.push(`gdt=${h(cpu.gdtBase)}/${h(cpu.gdtLimit, 4)} idt=${h(cpu.idtBase)}/${h(cpu.idtLimit, 4)}`);
  lines.push(`cr0=${h(cpu.cr0)} cr2=${h(cpu.cr2)} cr3=${h(cpu.cr3)} cr4=${h(cpu.cr4)} efer=${h(cpu.efer)}`);
  lines.push(`instructions retired: ${cpu.instructions}`);
  lines.push(`bytes at cs:eip: ${instructionBytes(cpu)}`);
  const n = Math.min(cpu.eventCount, 32);
  lines.push(`last ${n} events (oldest first):`);
  for (let k = cpu.eventCount - n; k < cpu.eventCount; k++) lines.push('  ' + describeEvent(cpu.eventLog, (k & 31) * 5));
  return lines.join('\n');
}
