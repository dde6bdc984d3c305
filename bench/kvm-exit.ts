// bench/kvm-exit: KVM exit round trips from a tiny guest, in tsxen (KvmVcpu through
// koffi) and in a minimal C program doing the same KVM_RUN loop (bench/kvm-exit-peer.c,
// built here with gcc), in one run: PIO (OUT to a port), MMIO (a store to an
// unbacked page) and a Xen hypercall through the stub page (target: tsxen/C <= 1.10).
// For PIO and MMIO it also runs the C loop inside this process on tsxen's own vCPU
// (bench/kvm-exit-inproc.c through koffi): tsxen against that is the cost of tsxen's
// code alone; that against the separate C program is the Node process around it.
//
//   npx tsc -b && node dist/bench/kvm-exit.js [--iterations N] [--runs N] [--modes pio,mmio,hypercall]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kvmAvailability } from '../src/cpu/kvm/availability.js';
import { createKvmDomainBackend } from '../src/cpu/kvm/kvm-backend.js';
import type { KvmVcpu } from '../src/cpu/kvm/kvm-vcpu.js';
import { assemble, startProtectedMode, startRealMode, type KvmGuest } from '../src/cpu/kvm/kvm-test-support.js';
import { ManualClock } from '../src/hypervisor/clock.js';
import { GuestMemory } from '../src/hypervisor/memory/guest-memory.js';
import { writeHypercallPage } from '../src/hypervisor/hypercall/hypercall-page.js';
import type { VmOps } from '../src/hypervisor/vcpu/vm-ops.js';
import { HYPERCALL_PORT } from '../src/cpu/kvm/hypercall-stubs.js';
import koffi from 'koffi';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opts } = parseArgs({ options: { iterations: { type: 'string', default: '20000' }, runs: { type: 'string', default: '5' }, modes: { type: 'string', default: 'pio,mmio,hypercall' } } });
const N = Math.max(1, Number(opts.iterations));
const RUNS = Math.max(1, Number(opts.runs));

type Mode = 'pio' | 'mmio' | 'hypercall';
const MODES = opts.modes!.split(',').filter((m): m is Mode => m === 'pio' || m === 'mmio' || m === 'hypercall');

const loop = `  mov ecx, ${N}\n.l:\n`;
const guests: Record<Mode, string> = {
  pio: `bits 16\norg 0x1000\n${loop}  out 0x10, al\n  dec ecx\n  jnz .l\n  cli\n  hlt\n`,
  mmio: `bits 16\norg 0x1000\n  mov ax, 0xa000\n  mov es, ax\n${loop}  mov [es:0], al\n  dec ecx\n  jnz .l\n  cli\n  hlt\n`,
  hypercall: `bits 32\norg 0x1000\n${loop}  push ecx\n  call 0x5000 + 17*32\n  pop ecx\n  dec ecx\n  jnz .l\n  cli\n  hlt\n`,
};
/** tsxen's guest installs the page through the MSR first; the C peer's page is in its image. */
const TSXEN_HYPERCALL_PROLOGUE = `  mov ecx, 0x40000000\n  mov eax, 0x5000\n  xor edx, edx\n  wrmsr\n`;
const PEER_STUB = `times 0x4000 + 17*32 - ($ - $$) db 0xcc\n  mov eax, 17\n  out 0x${HYPERCALL_PORT.toString(16)}, eax\n  ret\n`;

/** Device accesses counted, as the C peer counts exits (no recording, no allocation per exit). */
class CountingOps implements VmOps {
  accesses = 0;
  pioRead(): number {
    this.accesses++;
    return 0xff;
  }
  pioWrite(): void {
    this.accesses++;
  }
  mmioRead(): number {
    this.accesses++;
    return 0;
  }
  mmioWrite(): void {
    this.accesses++;
  }
  acknowledgeInterrupt(): number {
    return 0x20;
  }
}

function benchGuest(ramBytes: number): { memory: GuestMemory; vcpu: KvmVcpu; ops: CountingOps; close(): void } {
  const backend = createKvmDomainBackend(ramBytes);
  const memory = new GuestMemory({ ramBytes }, backend.ram);
  const ops = new CountingOps();
  const vcpu = backend.createVcpu(memory, ops, new ManualClock()) as unknown as KvmVcpu;
  return { memory, vcpu, ops, close: () => backend.close() };
}

interface RunTime {
  exits: number;
  /** Wall time. */
  ns: number;
  /** The process's CPU time: on a loaded machine, time spent waiting for a CPU is not in it. */
  cpuNs: number;
}

type InProcessLoop = (vcpuFd: number, run: unknown) => number;

/** The C loop (bench/kvm-exit-inproc.c) on a tsxen vCPU in this process; pio and mmio only. */
function inProcessRun(loop: InProcessLoop, mode: 'pio' | 'mmio'): RunTime {
  const g = benchGuest(1 << 20);
  try {
    g.memory.write(0x1000, assemble(guests[mode]));
    startRealMode(g as unknown as KvmGuest, 0x1000);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const exits = loop(g.vcpu.fd, g.vcpu.runPointer);
    const ns = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    return { exits, ns, cpuNs: (c.user + c.system) * 1000 };
  } finally {
    g.close();
  }
}

function tsxenRun(mode: Mode): RunTime {
  const g = benchGuest(1 << 20);
  try {
    const src = mode === 'hypercall' ? guests.hypercall.replace('org 0x1000\n', `org 0x1000\n${TSXEN_HYPERCALL_PROLOGUE}`) : guests[mode];
    g.memory.write(0x1000, assemble(src));
    // The start helpers only set the vCPU's registers.
    if (mode === 'hypercall') startProtectedMode(g as unknown as KvmGuest, 0x1000);
    else startRealMode(g as unknown as KvmGuest, 0x1000);
    let exits = 0;
    const c0 = process.cpuUsage();
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
    const c = process.cpuUsage(c0);
    if (mode !== 'hypercall') exits = g.ops.accesses;
    return { exits, ns, cpuNs: (c.user + c.system) * 1000 };
  } finally {
    g.close();
  }
}

function peerRun(binary: string, dir: string, mode: Mode): RunTime {
  const src = mode === 'hypercall' ? guests.hypercall + PEER_STUB : guests[mode];
  const image = join(dir, `${mode}.bin`);
  writeFileSync(image, assemble(src));
  const [exits, ns, cpuNs] = execFileSync(binary, [image, mode], { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { exits, ns, cpuNs };
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
    const so = join(dir, 'kvm-exit-inproc.so');
    execFileSync('gcc', ['-O2', '-Wall', '-shared', '-fPIC', '-o', so, join(root, 'bench/kvm-exit-inproc.c')], { stdio: 'inherit' });
    const loop = koffi.load(so).func('long kvm_exit_loop(int vcpu, void *run)') as InProcessLoop;
    console.log(`bench/kvm-exit: ${N} exits per run, tsxen and C alternating, medians of ${RUNS} runs (${a.reason}); load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs`);
    console.log('  ratio = median of the per-pair ratios (each pair ran back to back)');
    const us = (ns: number) => (ns / 1000).toFixed(2).padStart(7);
    for (const mode of MODES) {
      const pairs: Array<{ t: RunTime; p: RunTime; i?: RunTime }> = [];
      // One unmeasured round first: V8 compiles the exit path on its first thousands of exits.
      tsxenRun(mode);
      for (let i = 0; i < RUNS; i++) {
        const t = tsxenRun(mode);
        const p = peerRun(binary, dir, mode);
        const i = mode === 'hypercall' ? undefined : inProcessRun(loop, mode);
        if (t.exits !== N || p.exits !== N || (i && i.exits !== N)) throw new Error(`${mode}: expected ${N} exits, tsxen saw ${t.exits}, C saw ${p.exits}, C in-process ${i?.exits}`);
        pairs.push({ t, p, i });
      }
      const wall = (r: RunTime) => r.ns / N;
      const cpu = (r: RunTime) => r.cpuNs / N;
      const line = (f: (r: RunTime) => number) =>
        `tsxen ${us(median(pairs.map((x) => f(x.t))))} µs   C ${us(median(pairs.map((x) => f(x.p))))} µs   ratio ${median(pairs.map((x) => f(x.t) / f(x.p))).toFixed(3)}`;
      console.log(`  ${mode.padEnd(9)} wall: ${line(wall)}`);
      console.log(`  ${''.padEnd(9)} cpu:  ${line(cpu)}`);
      const inProc = pairs.filter((x): x is { t: RunTime; p: RunTime; i: RunTime } => x.i !== undefined);
      if (inProc.length) {
        console.log(`  ${''.padEnd(9)} C loop in this process, cpu ${us(median(inProc.map((x) => cpu(x.i))))} µs: tsxen/it ${median(inProc.map((x) => cpu(x.t) / cpu(x.i))).toFixed(3)}, it/C program ${median(inProc.map((x) => cpu(x.i) / cpu(x.p))).toFixed(3)}`);
      }
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
