// bench/boot: boot the same Debian 686 kernel + initramfs with the same command line
// to the init marker in tsxen and in v86 (npm v86 with Debian's SeaBIOS), several
// runs each in one run of the benchmark; print both medians, the ratio tsxen/v86
// and guest instructions per second.
//
//   npm run bench:boot -- [--runs N] [--kernel 686|686-pae] [--quick] [kernel command line...]
// The default command line is the full boot ("console=ttyS0 nokaslr guest.shell",
// about 6.4 G guest instructions); --quick adds cryptomgr.notests (about 2.7 G).
// v86 is installed by bench/peers/install-v86.sh into the cache, never into tsxen.

import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    kernel: { type: 'string', default: '686' },
    quick: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '1200' },
  },
});
const cmdline = positionals.length > 0 ? positionals.join(' ') : `console=ttyS0 nokaslr${opts.quick ? ' cryptomgr.notests' : ''} guest.shell`;
const runs = Math.max(1, Number(opts.runs));

execFileSync('bash', [join(root, 'bench/peers/install-v86.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });

interface Result {
  peer: string;
  found: boolean;
  seconds: number;
  emulatorSeconds: number;
  instructions: number;
  mips: number;
}

function once(peer: 'tsxen' | 'v86'): Result {
  const script = peer === 'tsxen' ? join(root, 'dist/bench/tsxen-boot.js') : join(root, 'bench/v86-boot.mjs');
  const r = spawnSync(process.execPath, [script, '--kernel', opts.kernel!, '--timeout', opts.timeout!, ...cmdline.split(' ')], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const lines = r.stdout.trim().split('\n');
  process.stdout.write(`  ${lines[0]}\n`);
  const json = JSON.parse(lines[lines.length - 1]) as Partial<Result>;
  return { peer, found: r.status === 0, seconds: json.seconds ?? NaN, emulatorSeconds: json.emulatorSeconds ?? NaN, instructions: json.instructions ?? NaN, mips: json.mips ?? NaN };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`bench/boot: ${opts.kernel} kernel, cmdline "${cmdline}", ${runs} run(s) each, marker GUEST-INIT-OK`);
const results: Record<'tsxen' | 'v86', Result[]> = { tsxen: [], v86: [] };
for (let i = 0; i < runs; i++) {
  // Alternate peers so machine noise hits both alike.
  for (const peer of ['v86', 'tsxen'] as const) results[peer].push(once(peer));
}
const summary = (peer: 'tsxen' | 'v86') => {
  const ok = results[peer].filter((r) => r.found);
  return { ok: ok.length, seconds: median(ok.map((r) => r.seconds)), instructions: median(ok.map((r) => r.instructions)), mips: median(ok.map((r) => r.mips)) };
};
const t = summary('tsxen');
const v = summary('v86');
console.log(`tsxen: median ${t.seconds.toFixed(1)} s to marker, ${(t.instructions / 1e9).toFixed(2)} G instructions, ${t.mips.toFixed(1)} MIPS (${t.ok}/${runs} runs reached the marker)`);
console.log(`v86:   median ${v.seconds.toFixed(1)} s to marker, ${(v.instructions / 1e9).toFixed(2)} G instructions, ${v.mips.toFixed(1)} MIPS (${v.ok}/${runs} runs reached the marker)`);
console.log(`ratio tsxen/v86 (time to marker): ${(t.seconds / v.seconds).toFixed(2)}`);
