// bios_path_override through the whole Domain: the image is a ROM at the top of
// 4 GiB, the CPU starts at the reset vector, a far jump lands in the alias below
// 1 MiB, and writes to the ROM are dropped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Domain } from '../../hypervisor/domain.js';
import type { Clock } from '../../hypervisor/clock.js';
import type { DomainSpec } from '../../hypervisor/domain-spec.js';
import { BiosImageError } from './bios-rom.js';

function romImage(size: number): Uint8Array {
  const img = new Uint8Array(size).fill(0xf4);
  const put = (off: number, bytes: number[]) => img.set(bytes, off);
  // Reset vector (linear 0xFFFFFFF0 = image end - 16): jmp far F000:E000.
  put(size - 16, [0xea, 0x00, 0xe0, 0x00, 0xf0]);
  // F000:E000 (the low alias of the image's last 64 KiB).
  const code = size - 0x10000 + 0xe000;
  put(code, [
    0xb0, 0x4f, 0xe6, 0xe9, // mov al,'O'; out 0xe9,al
    0xb0, 0x4b, 0xe6, 0xe9, // mov al,'K'; out 0xe9,al
    0xb8, 0x00, 0xf0, 0x8e, 0xd8, // mov ax,0xf000; mov ds,ax
    0xc6, 0x06, 0x00, 0xe1, 0x58, // mov byte [0xe100],'X'
    0xa0, 0x00, 0xe1, 0xe6, 0xe9, // mov al,[0xe100]; out 0xe9,al
    0xfa, 0xf4, // cli; hlt
  ]);
  img[size - 0x10000 + 0xe100] = 0x52; // 'R'
  return img;
}

function boot(bios: Uint8Array) {
  const spec: DomainSpec = {
    name: 'override',
    memoryBytes: 4 << 20,
    vcpus: 1,
    serialPorts: 0,
    debugconPorts: [0xe9],
    firmware: { bios, override: true, vgaBios: null, bootOrder: 'c', acpi: false, apic: false },
    vga: 'none',
  };
  let ns = 0;
  const clock: Clock = { nowNs: () => (ns += 10_000) };
  return new Domain(spec, { clock });
}

for (const size of [64 << 10, 128 << 10, 256 << 10]) {
  test(`a ${size >> 10} KiB override BIOS starts at the reset vector and runs from its low alias`, () => {
    const d = boot(romImage(size));
    const out: number[] = [];
    d.events.on('debugcon.tx', (e) => out.push(...e.bytes));
    let r = d.run(50);
    for (let i = 0; i < 20 && r.kind !== 'shutdown'; i++) r = d.run(50);
    assert.equal(r.kind, 'shutdown');
    assert.equal(r.kind === 'shutdown' && r.reason, 'poweroff');
    assert.equal(String.fromCharCode(...out), 'OKR', 'ROM write dropped');
  });
}

test('an override BIOS of the wrong size is a clear error', () => {
  assert.throws(() => boot(new Uint8Array(100 << 10)), (e: unknown) => e instanceof BiosImageError && /64, 128 or 256 KiB.*102400 bytes/.test(e.message));
});
