#!/usr/bin/env node
// Boot the test guest (guests/build.sh) in the v86 peer (bench/peers/install-v86.sh)
// and time it: seconds from process start to a marker on the serial console, and
// the guest instructions v86 executed until then.
//
//   node bench/v86-boot.mjs [options] [kernel command line...]
//     --kernel 686|686-pae   which kernel (default 686)
//     --marker TEXT          serial text that ends the run (default GUEST-INIT-OK)
//     --memory MIB           guest RAM (default 256)
//     --timeout S            give up after S seconds (default 600)
//     --no-jit               v86's interpreter only
//     --serial               echo the guest's serial output to stderr
//   The command line defaults to "console=ttyS0 nokaslr cryptomgr.notests guest.shell".
//
// Prints one human line and, last, one JSON line for bench/boot.ts:
//   {"peer":"v86","kernel":"686","marker":"GUEST-INIT-OK","seconds":19.8,"emulatorSeconds":19.5,"instructions":2680000000,...}
// Exit status 0 when the marker appeared, 1 on timeout or error.

import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kernel: { type: 'string', default: '686' },
    marker: { type: 'string', default: 'GUEST-INIT-OK' },
    memory: { type: 'string', default: '256' },
    timeout: { type: 'string', default: '600' },
    'no-jit': { type: 'boolean', default: false },
    serial: { type: 'boolean', default: false },
  },
});
const cmdline = positionals.length > 0 ? positionals.join(' ') : 'console=ttyS0 nokaslr cryptomgr.notests guest.shell';

const cache = process.env.TSXEN_CACHE ?? join(homedir(), '.cache', 'tsxen');
const guests = join(cache, 'guests', 'current');
const v86Dir = join(cache, 'peers', 'v86', 'node_modules', 'v86');
const biosDir = join(cache, 'peers', 'seabios');
function need(path, how) {
  if (!existsSync(path)) {
    console.error(`v86-boot: ${path} is missing: run ${how}`);
    process.exit(1);
  }
  return path;
}
const kernelPath = need(join(guests, `vmlinuz-${opts.kernel}`), 'guests/build.sh');
const initrdPath = need(join(guests, 'initramfs.cpio.gz'), 'guests/build.sh');
need(join(v86Dir, 'build', 'libv86.mjs'), 'bench/peers/install-v86.sh');
need(join(biosDir, 'bios.bin'), 'bench/peers/install-v86.sh');

// An ArrayBuffer holding exactly the file (Node's Buffer may share a larger pool).
const image = (path) => {
  const b = readFileSync(path);
  return { buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) };
};

const { V86 } = await import(pathToFileURL(join(v86Dir, 'build', 'libv86.mjs')).href);
const emulator = new V86({
  wasm_path: join(v86Dir, 'build', 'v86.wasm'),
  memory_size: Number(opts.memory) * 1024 * 1024,
  vga_memory_size: 2 * 1024 * 1024,
  bios: image(join(biosDir, 'bios.bin')),
  vga_bios: image(join(biosDir, 'vgabios-stdvga.bin')),
  bzimage: image(kernelPath),
  initrd: image(initrdPath),
  cmdline,
  disable_jit: opts['no-jit'],
  autostart: true,
});

// v86's counter is a wrapping u32 (about 8 s at 500 MIPS): sample it often and sum the deltas.
let instructions = 0;
let lastCounter = 0;
function sampleCounter() {
  const now = emulator.get_instruction_counter();
  instructions += (now - lastCounter) >>> 0;
  lastCounter = now;
}
const sampler = setInterval(sampleCounter, 20);

let emulatorStart = 0;
emulator.add_listener('emulator-started', () => {
  emulatorStart = performance.now();
});

let tail = '';
let finished = false;
emulator.add_listener('serial0-output-byte', (byte) => {
  if (finished) return;
  const ch = String.fromCharCode(byte);
  if (opts.serial) process.stderr.write(ch);
  tail = (tail + ch).slice(-256);
  if (tail.includes(opts.marker)) finish(true);
});

const timer = setTimeout(() => finish(false), Number(opts.timeout) * 1000);

function finish(found) {
  if (finished) return;
  finished = true;
  sampleCounter();
  // performance.now() counts from process start (performance.timeOrigin).
  const seconds = performance.now() / 1000;
  const emulatorSeconds = emulatorStart ? (performance.now() - emulatorStart) / 1000 : 0;
  clearInterval(sampler);
  clearTimeout(timer);
  const result = {
    peer: 'v86',
    kernel: opts.kernel,
    cmdline,
    marker: opts.marker,
    found,
    seconds: Number(seconds.toFixed(3)),
    emulatorSeconds: Number(emulatorSeconds.toFixed(3)),
    instructions,
    mips: emulatorSeconds > 0 ? Math.round(instructions / emulatorSeconds / 1e6) : 0,
    jit: !opts['no-jit'],
  };
  if (found) {
    console.log(`v86 ${opts.kernel}: ${opts.marker} after ${result.seconds} s (${result.emulatorSeconds} s emulating), ${(instructions / 1e9).toFixed(3)} G guest instructions, ${result.mips} MIPS`);
  } else {
    console.log(`v86 ${opts.kernel}: no ${opts.marker} within ${opts.timeout} s (${(instructions / 1e9).toFixed(3)} G guest instructions); last serial output: ${JSON.stringify(tail.slice(-120))}`);
  }
  console.log(JSON.stringify(result));
  // v86 has no ACPI power-off here; end the process rather than wait for the guest.
  process.exit(found ? 0 : 1);
}
