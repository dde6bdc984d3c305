// serial = [ ... ] end to end: a tiny guest on the real Domain and software CPU writes
// to COM1, COM2, COM3 and COM4, and each port's bytes land where the config says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { makeSyntheticBzImage } from '../firmware/linux-boot/synthetic-bzimage.js';
import { connectOutputs, serialLogPath } from './domain-outputs.js';
import { GuestSession } from './harness.js';
import { makeGuestDir } from './testing/guest-files.js';

/** 32-bit code: `text` out of each UART's THR in turn, then cli; hlt (poweroff). */
function portsGuest(writes: Array<[base: number, text: string]>): Uint8Array {
  const code: number[] = [];
  for (const [base, text] of writes) {
    code.push(0x66, 0xba, base & 0xff, base >> 8); // mov dx, base
    for (const c of text) code.push(0xb0, c.charCodeAt(0), 0xee); // mov al, c; out dx, al
  }
  code.push(0xfa, 0xf4); // cli; hlt
  return makeSyntheticBzImage({ code: new Uint8Array(code) });
}

test('a real guest: each COM port goes to its own destination; a "none" in the middle keeps later ports in place', async () => {
  const g = makeGuestDir();
  const savedLogDir = process.env.TSXEN_LOG_DIR;
  process.env.TSXEN_LOG_DIR = join(g.dir, 'logs');
  try {
    writeFileSync(
      join(g.dir, 'ports.bzImage'),
      portsGuest([
        [0x2f8, 'to COM2\n'],
        [0x3e8, 'to COM3\n'],
        [0x2e8, 'to COM4\n'],
        [0x3f8, 'to COM1\n'],
      ]),
    );
    const s = await GuestSession.start({ name: 'ports', kernel: 'ports.bzImage', memory: 32, serial: ['pty', 'file:com2.txt', 'none', 'pty'] }, [], {
      baseDir: g.dir,
      logFile: join(g.dir, 'ports.log'),
      warn: () => {},
    });
    const stdout = new PassThrough();
    let stdoutBytes = 0;
    stdout.on('data', (b: Buffer) => (stdoutBytes += b.length));
    // As `tsxen create` does without -c.
    const outputs = connectOutputs(s.handle, s.config, { terminalAttached: false, stdout, logFile: join(g.dir, 'ports.log') });
    try {
      const exit = await s.waitForExit({ timeoutMs: 10_000 });
      assert.equal(exit.reason, 'poweroff');
    } finally {
      await s.destroy();
      await outputs.close();
    }
    const com1Log = join(g.dir, 'logs', 'ports.console.log');
    const com4Log = join(g.dir, 'logs', 'ports.console.3.log');
    assert.equal(serialLogPath('ports', 3), com4Log);
    assert.deepEqual(outputs.serialFiles, [com1Log, join(g.dir, 'com2.txt'), undefined, com4Log]);
    assert.equal(outputs.consoleFile, com1Log);
    assert.equal(readFileSync(join(g.dir, 'com2.txt'), 'latin1'), 'to COM2\n');
    assert.equal(readFileSync(com1Log, 'latin1'), 'to COM1\n');
    assert.equal(readFileSync(com4Log, 'latin1'), 'to COM4\n');
    // COM3 ("none") existed, so COM4 stayed at 0x2E8, but its bytes went nowhere.
    assert.ok(!existsSync(join(g.dir, 'logs', 'ports.console.2.log')));
    assert.deepEqual(readdirSync(join(g.dir, 'logs')).sort(), ['ports.console.3.log', 'ports.console.log']);
    assert.equal(stdoutBytes, 0);
    // The harness reads COM1 as before, and any port on request.
    assert.equal(s.output, 'to COM1\n');
    assert.equal(s.serialOutput(0), 'to COM1\n');
    assert.equal(s.serialOutput(1), 'to COM2\n');
    assert.equal(s.serialOutput(2), 'to COM3\n');
    assert.equal(s.serialOutput(3), 'to COM4\n');
  } finally {
    if (savedLogDir === undefined) delete process.env.TSXEN_LOG_DIR;
    else process.env.TSXEN_LOG_DIR = savedLogDir;
    g.remove();
  }
});

test('a real guest: with a terminal attached COM1 is left to it, COM2 "stdio" still reaches stdout, and a port without a UART is silent', async () => {
  const g = makeGuestDir();
  try {
    writeFileSync(
      join(g.dir, 'ports.bzImage'),
      portsGuest([
        [0x3f8, 'one'],
        [0x2f8, 'two'],
        [0x3e8, 'three'],
      ]),
    );
    // A trailing "none": no COM3 UART, so the guest's writes to 0x3E8 fall on nothing.
    const s = await GuestSession.start({ name: 'attached', kernel: 'ports.bzImage', memory: 32, serial: ['pty', 'stdio', 'none'] }, [], {
      baseDir: g.dir,
      logFile: join(g.dir, 'attached.log'),
      warn: () => {},
    });
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (b: Buffer) => chunks.push(b));
    const outputs = connectOutputs(s.handle, s.config, { terminalAttached: true, stdout, logFile: join(g.dir, 'attached.log') });
    try {
      assert.equal((await s.waitForExit({ timeoutMs: 10_000 })).reason, 'poweroff');
    } finally {
      await s.destroy();
      await outputs.close();
    }
    assert.deepEqual(outputs.serialFiles, [undefined, undefined]);
    assert.equal(Buffer.concat(chunks).toString('latin1'), 'two');
    assert.equal(s.output, 'one');
    assert.equal(s.serialOutput(2), '');
  } finally {
    g.remove();
  }
});
