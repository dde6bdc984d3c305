import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigObject, type CfgObjectValue } from './config-file.js';
import { buildDomainSpec } from './domain-builder.js';
import { makeGuestDir } from './testing/guest-files.js';

test('the builder wires one UART per serial device, keeping a "none" between two', () => {
  const g = makeGuestDir();
  try {
    const ports = (serial?: CfgObjectValue): number =>
      buildDomainSpec(loadConfigObject({ name: 'b', kernel: 'vmlinuz', ...(serial !== undefined ? { serial } : {}) }, { baseDir: g.dir, hostMemoryMiB: 8192 })).serialPorts;
    assert.equal(ports(), 1); // default "pty"
    assert.equal(ports('pty'), 1);
    assert.equal(ports('none'), 0);
    assert.equal(ports([]), 0);
    assert.equal(ports(['pty', 'file:com2.txt']), 2);
    assert.equal(ports(['pty', 'none', 'none']), 1);
    assert.equal(ports(['none', 'none', 'pty']), 3);
    assert.equal(ports(['stdio', 'pty', 'none', 'pty']), 4);
  } finally {
    g.remove();
  }
});
