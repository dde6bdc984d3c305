// Boot the test guest in tsxen (software CPU, direct bzImage entry) in this process
// and time it: seconds from process start to a marker on the serial console, and the
// guest instructions retired until then. The twin of bench/v86-boot.mjs.
//
//   node dist/bench/tsxen-boot.js [--kernel 686|686-pae] [--marker TEXT] [--memory MIB]
//                                 [--timeout S] [--serial] [kernel command line...]
// Prints one human line and, last, one JSON line for bench/boot.ts.

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Domain } from '../src/hypervisor/domain.js';
import { HostClock } from '../src/hypervisor/clock.js';
import { EmuVcpu } from '../src/cpu/emu/cpu.js';
import { guestDir } from '../test/guests/guest-cache.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kernel: { type: 'string', default: '686' },
    marker: { type: 'string', default: 'GUEST-INIT-OK' },
    memory: { type: 'string', default: '256' },
    timeout: { type: 'string', default: '900' },
    serial: { type: 'boolean', default: false },
  },
});
const cmdline = positionals.length > 0 ? positionals.join(' ') : 'console=ttyS0 nokaslr cryptomgr.notests guest.shell';
const need = (p: string) => {
  if (!existsSync(p)) {
    console.error(`tsxen-boot: ${p} is missing: run bash guests/build.sh`);
    process.exit(1);
  }
  return readFileSync(p);
};

const clock = new HostClock(() => performance.now());
const domain = new Domain(
  {
    name: 'bench',
    memoryBytes: Number(opts.memory) << 20,
    vcpus: 1,
    serialPorts: 1,
    debugconPorts: [],
    linux: { kernel: need(join(guestDir, `vmlinuz-${opts.kernel}`)), ramdisk: need(join(guestDir, 'initramfs.cpio.gz')), cmdline },
  },
  { clock },
);
const cpu = (domain.vcpu as EmuVcpu).cpu;
let text = '';
let found = false;
const decoder = new TextDecoder();
domain.events.on('serial.tx', ({ port, bytes }) => {
  if (port !== 0) return;
  const s = decoder.decode(bytes, { stream: true });
  if (opts.serial) process.stderr.write(s);
  text = (text + s).slice(-4096);
  if (text.includes(opts.marker!)) found = true;
});

const startedMs = performance.timeOrigin;
const timeoutMs = Number(opts.timeout) * 1000;
const t0 = performance.now();
while (!found && performance.now() - t0 < timeoutMs) {
  const r = domain.run(20);
  if (r.kind === 'shutdown') break;
  if (r.kind === 'idle') await new Promise((res) => setTimeout(res, Math.max(0, Math.min(10, (r.wakeAtNs - clock.nowNs()) / 1e6))));
}
const seconds = (Date.now() - startedMs) / 1000;
const emulatorSeconds = (performance.now() - t0) / 1000;
const instructions = cpu.instructions;
const mips = instructions / emulatorSeconds / 1e6;
if (found) {
  console.log(`tsxen ${opts.kernel}: ${opts.marker} after ${seconds.toFixed(1)} s (${emulatorSeconds.toFixed(1)} s emulating), ${(instructions / 1e9).toFixed(3)} G guest instructions, ${mips.toFixed(1)} MIPS`);
} else {
  console.log(`tsxen ${opts.kernel}: no ${opts.marker} within ${opts.timeout} s (${(instructions / 1e9).toFixed(3)} G instructions); last serial output: ${JSON.stringify(text.slice(-200))}`);
}
console.log(JSON.stringify({ peer: 'tsxen', kernel: opts.kernel, marker: opts.marker, found, seconds: +seconds.toFixed(2), emulatorSeconds: +emulatorSeconds.toFixed(2), instructions, mips: +mips.toFixed(1) }));
process.exit(found ? 0 : 1);
