// Save images on disk: a round trip through a file, zero-heavy RAM compressed, and
// every failure an error that names the file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSaveImage, savedConfig, SaveImageError, writeSaveImage } from './save-image.js';
import type { DomainImage } from '../hypervisor/save/image-format.js';
import type { DomainConfig } from './domain-config.js';
import type { VcpuState } from '../hypervisor/vcpu/vcpu-state.js';

function image(): DomainImage {
  const memory = new Uint8Array(16 << 20);
  memory.set([1, 2, 3], 0x1000);
  memory[memory.length - 1] = 0xaa;
  const config = { name: 'g', memoryMiB: 16, serials: [{ kind: 'pty' }], debugcon: [], cpuBackend: 'auto' } as unknown as DomainConfig;
  return {
    header: { name: 'g', cpuBackend: 'kvm', savedAt: new Date(0).toISOString() },
    config: { config },
    spec: { name: 'g', memoryBytes: 16 << 20, vcpus: 1, serialPorts: 1, debugconPorts: [], linux: { kernel: new Uint8Array(4096).fill(0x90), cmdline: 'console=ttyS0' } },
    state: { guestNs: 5e9, vcpu: { version: 1 } as unknown as VcpuState, devices: [{ name: 'pit', state: { version: 1 } }], xen: null, memoryMap: [{ gfn: 0, count: 0x100000, offset: -1, readOnly: false }], memory },
  };
}

test('a save image file round-trips; 16 MiB of mostly-zero RAM takes under 1% of it; no temporary file is left', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-save-'));
  try {
    const file = join(dir, 'g.save');
    const img = image();
    const size = writeSaveImage(file, img);
    assert.equal(readFileSync(file).length, size);
    assert.ok(size < 128 << 10, `image is ${size} bytes (under 1% of the RAM)`);
    assert.deepEqual(readdirSync(dir), ['g.save']);
    const back = readSaveImage(file);
    assert.deepEqual(back, img);
    assert.equal(savedConfig(back, file).name, 'g');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing, truncated, foreign and mismatched images: SaveImageError naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-save-'));
  try {
    const file = join(dir, 'g.save');
    const err = (pattern: RegExp) => (e: unknown) => e instanceof SaveImageError && e.message.startsWith(file) && pattern.test(e.message);
    assert.throws(() => readSaveImage(file), err(/no such file/));
    writeSaveImage(file, image());
    truncateSync(file, readFileSync(file).length - 100);
    assert.throws(() => readSaveImage(file), err(/truncated/));
    writeFileSync(file, 'name = "g"\nmemory = 16\n');
    assert.throws(() => readSaveImage(file), err(/not a tsxen save image/));
    const other = image();
    other.config = { config: { ...(other.config as { config: DomainConfig }).config, memoryMiB: 32 } };
    writeSaveImage(file, other);
    assert.throws(() => savedConfig(readSaveImage(file), file), err(/does not match the domain saved/));
    other.config = null;
    writeSaveImage(file, other);
    assert.throws(() => savedConfig(readSaveImage(file), file), err(/no domain configuration/));
    assert.throws(() => writeSaveImage(join(dir, 'no', 'such', 'dir.save'), image()), /cannot write the save image/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
