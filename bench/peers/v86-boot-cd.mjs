#!/usr/bin/env node
// Boot an ISO from the CD-ROM drive in the v86 peer (bench/peers/install-v86.sh):
// Debian's QEMU-build SeaBIOS + std-vga BIOS, the image as v86's `cdrom`. The guest's
// COM1 output is copied to stdout as it comes, so bench/boot-cd.ts can time the
// marker exactly as it does for tsxen and QEMU; the parent ends this process.
//
//   node bench/peers/v86-boot-cd.mjs ISO [--memory MIB] [--no-jit]

import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { memory: { type: 'string', default: '256' }, 'no-jit': { type: 'boolean', default: false } },
});
const iso = positionals[0];
const cache = process.env.TSXEN_CACHE ?? join(homedir(), '.cache', 'tsxen');
const v86Dir = join(cache, 'peers', 'v86', 'node_modules', 'v86');
const biosDir = join(cache, 'peers', 'seabios');
for (const [path, how] of [[iso, 'guests/build.sh'], [join(v86Dir, 'build', 'libv86.mjs'), 'bench/peers/install-v86.sh'], [join(biosDir, 'bios.bin'), 'bench/peers/install-v86.sh']]) {
  if (!path || !existsSync(path)) {
    console.error(`v86-boot-cd: ${path ?? 'the ISO argument'} is missing: run ${how}`);
    process.exit(1);
  }
}

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
  cdrom: image(iso),
  disable_jit: opts['no-jit'],
  autostart: true,
});
emulator.add_listener('serial0-output-byte', (byte) => {
  process.stdout.write(Buffer.of(byte));
});
