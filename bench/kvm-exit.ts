// bench/kvm-exit: KVM exit round trips from a tiny guest, in tsxen (KvmVcpu through
// koffi) and in a minimal C program doing the same KVM_RUN loop (bench/kvm-exit-peer.c,
// built here with gcc), in one run: PIO (OUT to a port), MMIO (a store to an
// unbacked page) and a Xen hypercall through the stub page (target: tsxen/C <= 1.10).
//
//   npx tsc -b && node dist/bench/kvm-exit.js [--iterations N] [--runs N]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kvmAvailability } from '../src/cpu/kvm/availability.js';
import { assemble, kvmGuest, startProtectedMode, startRealMode } from '../src/cpu/kvm/kvm-test-support.js';
import { writeHypercallPage } from '../src/hypervisor/hypercall/hypercall-page.js';
import { HYPERCALL_PORT } from '../src/cpu/kvm/hypercall-stubs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opts } = parseArgs({ options: { iterations: { type: 'string', default: '20000' }, runs: { type: 'string', default: '3' } } });
const N = Math.max(1, Number(opts.iterations));
const RUNS = Math.max(1, Number(opts.runs));

type Mode = 'pio' | 'mmio' | 'hypercall';

const loop = `  mov ecx, ${N}\n.l:\n`;
const guests: Record<Mode, string> = {
  pio: `bits 16\norg 0x1000\n${loop}  out 0x10, al\n  dec ecx\n  jnz .l\n  cli\n  hlt\n`,
  mmio: `bits 16\norg 0x1000\n  mov ax, 0xa000\n  mov es, ax\n${loop}  mov [es:0], al\n  dec ecx\n  jnz .l\n  cli\n  hlt\n`,
  hypercall: `bits 32\norg 0x1000\n${loop}  push ecx\n  call 0x5000 + 17*32\n  pop ecx\n  dec ecx\n  jnz .l\n  cli\n  hlt\n`,
};
/** tsxen's guest installs the page through the MSR first; the C peer's page is in its image. */
const TSXEN_HYPERCALL_PROLOGUE = `  mov ecx, 0x40000000\n  mov eax, 0x5000\n  xor edx, edx\n  wrmsr\n`;
const PEER_STUB = `times 0x4000 + 17*32 - ($ - $$) db 0xcc\n  mov eax, 17\n  out 0x${HYPERCALL_PORT.toString(16)}, eax\n  ret\n`;

function tsxenRun(mode: Mode): { exits: number; ns: number } {
  const g = kvmGuest(1 << 20);
  try {
    const src = mode === 'hypercall' ? guests.hypercall.replace('org 0x1000\n', `org 0x1000\n${TSXEN_HYPERCALL_PROLOGUE}`) : guests[mode];
    g.memory.write(0x1000, assemble(src));
    if (mode === 'hypercall') startProtectedMode(g, 0x1000);
    else startRealMode(g, 0x1000);
    let exits = 0;
    const t0 = process.hrtime.bigint();
    for (;;) {
      const e = g.vcpu.run();
      if (e.kind === 'hlt') break;
      if (e.kind === 'msr') {
        writeHypercallPage(g.memory, Number(e.value));
        g.vcpu.completeMsr(0n);
      } else if (e.kind === 'hypercall') {
        // What the domain does: read the arguments, answer in EAX.
        const r = g.vcpu.getRegisters();
        g.vcpu.setRegisters({ ...r, eax: 0 });
        exits++;
      } else if (e.kind !== 'interrupted') throw new Error(`unexpected exit ${e.kind}`);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    if (mode !== 'hypercall') exits = g.accesses.length;
    return { exits, ns };
  } finally {
    g.close();
  }
}

function peerRun(binary: string, dir: string, mode: Mode): { exits: number; ns: number } {
  const src = mode === 'hypercall' ? guests.hypercall + PEER_STUB : guests[mode];
  const image = join(dir, `${mode}.bin`);
  writeFileSync(image, assemble(src));
  const [exits, ns] = execFileSync(binary, [image, mode], { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { exits, ns };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): number {
  const a = kvmAvailability();
  if (!a.usable) {
    process.stderr.write(`bench/kvm-exit: KVM unavailable: ${a.reason} (${a.fix})\n`);
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-kvm-bench-'));
  try {
    const binary = join(dir, 'kvm-exit-peer');
    execFileSync('gcc', ['-O2', '-Wall', '-o', binary, join(root, 'bench/kvm-exit-peer.c')], { stdio: 'inherit' });
    console.log(`bench/kvm-exit: ${N} exits per run, median of ${RUNS} runs (${a.reason})`);
    for (const mode of ['pio', 'mmio', 'hypercall'] as const) {
      const ts: number[] = [];
      const c: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = tsxenRun(mode);
        const p = peerRun(binary, dir, mode);
        if (t.exits !== N || p.exits !== N) throw new Error(`${mode}: expected ${N} exits, tsxen saw ${t.exits}, C saw ${p.exits}`);
        ts.push(t.ns / N);
        c.push(p.ns / N);
      }
      const tm = median(ts) / 1000;
      const cm = median(c) / 1000;
      console.log(`  ${mode.padEnd(9)} tsxen ${tm.toFixed(2).padStart(7)} µs   C ${cm.toFixed(2).padStart(7)} µs   ratio ${(tm / cm).toFixed(3)}`);
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
