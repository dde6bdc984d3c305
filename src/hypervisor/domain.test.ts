// Tiny raw-image guests on the software CPU through the whole Domain: devices on
// the bus, exits mapped to shutdown reasons, serial and debugcon output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Domain } from './domain.js';
import type { Clock } from './clock.js';
import type { DomainSpec, RunResult } from './domain-spec.js';

function domainWith(bytes: number[], mode: 'real' | 'flat32', extra: Partial<DomainSpec> = {}) {
  const spec: DomainSpec = {
    name: 't',
    memoryBytes: 4 << 20,
    vcpus: 1,
    serialPorts: 1,
    debugconPorts: [0xe9],
    rawImage: { load: 0x1000, bytes: Uint8Array.from(bytes), entry: 0x1000, mode },
    ...extra,
  };
  // A clock that moves 10 µs per reading, so a run budget always ends.
  let ns = 0;
  const clock: Clock = { nowNs: () => (ns += 10_000) };
  const d = new Domain(spec, { clock });
  const serial: number[] = [];
  const debugcon: number[] = [];
  d.events.on('serial.tx', (e) => serial.push(...e.bytes));
  d.events.on('debugcon.tx', (e) => debugcon.push(...e.bytes));
  const run = (): RunResult => {
    for (let i = 0; i < 100; i++) {
      const r = d.run(1);
      if (r.kind === 'shutdown') return r;
    }
    return { kind: 'running' };
  };
  const text = (b: number[]) => String.fromCharCode(...b);
  return { d, run, serial: () => text(serial), debugcon: () => text(debugcon) };
}

test('real-mode guest writes COM1 and the debug console, then CLI;HLT powers the domain off', () => {
  const g = domainWith(
    [0xba, 0xf8, 0x03, 0xb0, 0x48, 0xee, 0xb0, 0x69, 0xee, 0xb0, 0x44, 0xe6, 0xe9, 0xfa, 0xf4],
    'real',
  );
  const r = g.run();
  assert.equal(r.kind, 'shutdown');
  assert.equal(r.kind === 'shutdown' && r.reason, 'poweroff');
  assert.equal(g.serial(), 'Hi');
  assert.equal(g.debugcon(), 'D');
});

test('a write of 1 to port 0x92 resets the machine: shutdown reason reboot', () => {
  const g = domainWith([0xb0, 0x01, 0xe6, 0x92, 0xeb, 0xfe], 'real');
  const r = g.run();
  assert.deepEqual(r.kind === 'shutdown' && r.reason, 'reboot');
});

test('the i8042 reset pulse (0xFE to port 0x64) reboots', () => {
  const g = domainWith([0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe], 'real');
  const r = g.run();
  assert.deepEqual(r.kind === 'shutdown' && r.reason, 'reboot');
});

test('INT3 with an empty IDT escalates to a triple fault: shutdown reason crash', () => {
  // lidt [0x1100] ; int3   — the descriptor at 0x1100 is limit 0, base 0.
  const code = [0x0f, 0x01, 0x1d, 0x00, 0x11, 0x00, 0x00, 0xcc];
  const bytes = new Array(0x106).fill(0);
  code.forEach((b, i) => (bytes[i] = b));
  const g = domainWith(bytes, 'flat32');
  const r = g.run();
  assert.equal(r.kind, 'shutdown');
  if (r.kind === 'shutdown') {
    assert.equal(r.reason, 'crash');
    assert.match(r.detail, /triple fault/);
  }
});

test('an unexpected failure while emulating stops the domain with a diagnostic, never a hang or silent result', () => {
  // out dx, al to a port whose (deliberately broken) device throws.
  const g = domainWith([0xba, 0x34, 0x12, 0xb0, 0x01, 0xee, 0xf4], 'real');
  g.d.bus.registerPio(0x1234, 1, { pioRead: () => 0, pioWrite: () => { throw new Error('device bug'); } }, 'broken');
  const logs: string[] = [];
  g.d.events.on('log', (e) => logs.push(e.message));
  const r = g.run();
  assert.equal(r.kind, 'shutdown');
  assert.equal(r.kind === 'shutdown' && r.reason, 'crash');
  const log = logs.join('\n');
  assert.match(log, /device bug/);
  assert.match(log, /eip=/i);
  assert.match(log, /bytes at cs:eip: ee f4/);
});

test('isa-debug-exit: a write of V ends the domain with exit status (V << 1) | 1', () => {
  // mov al, 0x10; out 0xf4, al; jmp $
  const g = domainWith([0xb0, 0x10, 0xe6, 0xf4, 0xeb, 0xfe], 'real', { debugExit: { iobase: 0xf4, size: 4 } });
  const r = g.run();
  assert.equal(r.kind, 'shutdown');
  assert.equal(r.kind === 'shutdown' && r.exitStatus, 0x21);
});
