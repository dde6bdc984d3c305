import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { GuestSession } from '../toolstack/harness.js';
import { makeGuestDir } from '../toolstack/testing/guest-files.js';
import { attachSerialConsole, CONSOLE_ESCAPE } from './serial-console.js';

const SCRIPTED = new URL('../toolstack/testing/scripted-domain.js', import.meta.url).href;

test('typed bytes up to Ctrl-] reach the guest, guest bytes reach the output, then it detaches', async () => {
  const g = makeGuestDir();
  const s = await GuestSession.start({ name: 'con', kernel: 'vmlinuz', memory: 32 }, [], {
    domainModule: SCRIPTED,
    logFile: join(g.dir, 'con.log'),
    baseDir: g.dir,
  });
  try {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d: Buffer) => (shown += d.toString('latin1')));
    await s.waitForSerial('boot 1 con\r\n');
    const con = attachSerialConsole(s.handle, { input, output });
    assert.equal(con.raw, false, 'a pipe is not a terminal');
    input.write('ab');
    await s.waitForSerial('ab');
    while (shown !== 'ab') await new Promise((r) => setTimeout(r, 10));
    // One chunk: "k", the escape, then bytes that must NOT reach the guest.
    input.write(Buffer.from([0x6b, CONSOLE_ESCAPE, 0x7a, 0x7a]));
    await con.escaped;
    await s.waitForSerial('k');
    // Detached: neither direction is connected any more.
    input.write('q');
    s.type('y');
    await s.waitForSerial('y');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.output, 'boot 1 con\r\nabky');
    assert.equal(shown, 'ab', 'output after Ctrl-] still reached the terminal');
  } finally {
    await s.destroy();
    g.remove();
  }
});
