// bench/boot-cd: firmware boot of the same isolinux CD (guests/build.sh's cd-686.iso:
// SeaBIOS -> El Torito -> isolinux -> Debian 686 + storage initramfs) to the init
// marker in tsxen, v86 and QEMU TCG; N alternating runs, medians and ratios.
//
//   npm run bench:boot-cd -- [--runs N] [--timeout S] [--peers tsxen,v86,qemu] [--serial]
//
// Every peer runs as a child process whose stdout carries the guest's COM1 output;
// the time is from spawning the child to the marker appearing there, then the child
// is killed (v86 has no ACPI power-off). Peers are installed only here:
// bench/peers/install-v86.sh (npm v86 + Debian's QEMU-build SeaBIOS, into the cache)
// and bench/peers/install-qemu.sh (apt-get qemu-system-x86).
//
// Child mode (used by the parent): node dist/bench/boot-cd.js --child-tsxen CFG
// boots CFG with the harness and copies COM1 to stdout.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GuestSession } from '../src/toolstack/harness.js';
import { guestDir } from '../test/guests/guest-cache.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MARKER = 'GUEST-INIT-OK';
const PEERS = ['tsxen', 'v86', 'qemu'] as const;
type Peer = (typeof PEERS)[number];

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '1800' },
    peers: { type: 'string', default: PEERS.join(',') },
    memory: { type: 'string', default: '256' },
    serial: { type: 'boolean', default: false },
    'child-tsxen': { type: 'string' },
  },
});

if (opts['child-tsxen'] !== undefined) {
  await childTsxen(opts['child-tsxen']);
} else {
  await parent();
}

/** Child: boot the CD config in tsxen (worker thread via the harness), COM1 to stdout. */
async function childTsxen(cfg: string): Promise<void> {
  const g = await GuestSession.start(cfg, ['name="bench-boot-cd"', `memory=${opts.memory}`, 'on_poweroff="destroy"', 'on_reboot="destroy"', 'on_crash="destroy"']);
  g.handle.on('serial', (port, bytes) => {
    if (port === 0) process.stdout.write(bytes);
  });
  const stop = await g.handle.whenStopped();
  process.stderr.write(`tsxen domain stopped: ${stop.reason}: ${stop.detail}\n`);
  process.exit(1);
}

interface Run {
  found: boolean;
  seconds: number;
  note: string;
}

async function parent(): Promise<void> {
  const iso = join(guestDir, 'cd-686.iso');
  const cfg = join(guestDir, 'cd.cfg');
  if (!existsSync(iso) || !existsSync(cfg)) {
    console.error(`bench/boot-cd: ${iso} or ${cfg} is missing: run bash guests/build.sh`);
    process.exit(1);
  }
  const wanted = opts.peers!.split(',').map((p) => p.trim()) as Peer[];
  for (const p of wanted) if (!PEERS.includes(p)) throw new Error(`unknown peer "${p}" (tsxen, v86, qemu)`);
  const runs = Math.max(1, Number(opts.runs));
  const timeoutMs = Number(opts.timeout) * 1000;

  let qemu = '';
  if (wanted.includes('v86')) execFileSync('bash', [join(root, 'bench/peers/install-v86.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (wanted.includes('qemu')) qemu = execFileSync('bash', [join(root, 'bench/peers/install-qemu.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;

  const command = (peer: Peer): [string, string[]] => {
    switch (peer) {
      case 'tsxen':
        return [process.execPath, [fileURLToPath(import.meta.url), '--child-tsxen', cfg, '--memory', opts.memory!]];
      case 'v86':
        return [process.execPath, [join(root, 'bench/peers/v86-boot-cd.mjs'), iso, '--memory', opts.memory!]];
      case 'qemu':
        // TCG, the machine Xen's device model emulates; -nographic puts COM1 on stdio.
        return [qemu, ['-M', 'pc', '-accel', 'tcg', '-m', opts.memory!, '-cdrom', iso, '-boot', 'd', '-nographic', '-no-reboot']];
    }
  };

  console.log(`bench/boot-cd: ${iso} (isolinux, 686, cmdline from isolinux.cfg), ${opts.memory} MiB, ${runs} run(s) per peer, marker ${MARKER}`);
  const results = new Map<Peer, Run[]>(wanted.map((p) => [p, []]));
  for (let i = 0; i < runs; i++) {
    // Alternate peers so machine noise hits all alike.
    for (const peer of wanted) {
      const [cmd, args] = command(peer);
      const r = await timeToMarker(cmd, args, timeoutMs);
      results.get(peer)!.push(r);
      console.log(`  run ${i + 1} ${peer.padEnd(5)} ${r.found ? `${r.seconds.toFixed(1)} s` : `no marker (${r.note})`}`);
    }
  }

  const medians = new Map<Peer, number>();
  for (const peer of wanted) {
    const ok = results.get(peer)!.filter((r) => r.found).map((r) => r.seconds);
    const m = ok.length > 0 ? median(ok) : NaN;
    medians.set(peer, m);
    console.log(`${peer.padEnd(5)}: median ${Number.isNaN(m) ? '-' : m.toFixed(1)} s to ${MARKER} (${ok.length}/${runs} runs reached it)`);
  }
  const t = medians.get('tsxen');
  for (const peer of wanted) {
    if (peer === 'tsxen' || t === undefined) continue;
    console.log(`ratio tsxen/${peer} (time to marker): ${(t / medians.get(peer)!).toFixed(2)}`);
  }
}

/** Spawns a peer and resolves when its stdout shows the marker (then kills it), it exits, or time runs out. */
function timeToMarker(cmd: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let errTail = '';
    let done = false;
    const finish = (found: boolean, note: string): void => {
      if (done) return;
      done = true;
      const seconds = (performance.now() - t0) / 1000;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolvePromise({ found, seconds, note });
    };
    const timer = setTimeout(() => finish(false, `timeout after ${timeoutMs / 1000} s; last output ${JSON.stringify(tail.slice(-160))}`), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      const s = chunk.toString('latin1');
      if (opts.serial) process.stderr.write(s);
      tail = (tail + s).slice(-4096);
      if (tail.includes(MARKER)) finish(true, '');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errTail = (errTail + chunk.toString('latin1')).slice(-1024);
    });
    child.on('error', (e) => finish(false, `cannot start ${cmd}: ${e.message}`));
    child.on('exit', (code, signal) => finish(false, `exited (${signal ?? code}) before the marker; stderr ${JSON.stringify(errTail.slice(-300))}; stdout ${JSON.stringify(tail.slice(-160))}`));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
