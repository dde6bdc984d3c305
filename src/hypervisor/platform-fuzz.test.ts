// A guest that writes garbage everywhere (issue 4 acceptance): random port and MMIO
// accesses to every range the HVM platform decodes, and random PCI configuration
// writes (moving BARs on top of each other, over RAM, off the bus) must never throw
// out of the device model, and must leave the machine usable: the platform still
// answers its PCI identity and RAM outside the devices is untouched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { Domain } from './domain.js';
import type { Clock } from './clock.js';
import type { DomainSpec } from './domain-spec.js';
import type { AccessSize } from './types.js';
import { MemoryBlockBackend } from '../devices/ide/memory-block-backend.js';
import { xorshift32 } from '../../test/support/fuzz.js';

const BIOS = '/usr/share/seabios/bios-256k.bin';
const VGA_BIOS = '/usr/share/seabios/vgabios-stdvga.bin';

function firmwareDomain(): Domain {
  const haveBios = existsSync(BIOS) && existsSync(VGA_BIOS);
  if (!haveBios) console.warn(`SKIPPED part: ${BIOS} missing (apt-get install seabios); fuzzing with a blank BIOS image`);
  const spec: DomainSpec = {
    name: 'fuzz',
    memoryBytes: 32 << 20,
    vcpus: 1,
    serialPorts: 2,
    debugconPorts: [0xe9],
    firmware: {
      bios: haveBios ? new Uint8Array(readFileSync(BIOS)) : new Uint8Array(256 << 10),
      override: false,
      vgaBios: haveBios ? new Uint8Array(readFileSync(VGA_BIOS)) : null,
      bootOrder: 'dc',
      acpi: true,
      apic: true,
    },
    vga: 'stdvga',
    disks: [
      { vdev: 'hda', devtype: 'disk', path: 'mem:disk', readOnly: false, format: 'raw' },
      { vdev: 'hdc', devtype: 'cdrom', path: 'mem:cd', readOnly: true, format: 'raw' },
    ],
    debugExit: undefined,
  };
  let ns = 0;
  const clock: Clock = { nowNs: () => (ns += 1000) };
  return new Domain(spec, {
    clock,
    openDisk: (d) => new MemoryBlockBackend(new Uint8Array(d.devtype === 'cdrom' ? 2048 * 64 : 512 * 256), d.readOnly),
  });
}

test('random port, MMIO and PCI config traffic never throws and leaves the platform working', () => {
  const d = firmwareDomain();
  const bus = d.bus;
  const next = xorshift32(0x7357);
  const sizes: AccessSize[] = [1, 2, 4];
  // Every decoded range, plus the PCI config ports, plus random addresses anywhere.
  const ranges = bus.describe().map((line) => {
    const m = /^(pio|mmio) (0x[0-9a-f]+)-(0x[0-9a-f]+)/.exec(line)!;
    return { kind: m[1], lo: Number(m[2]), hi: Number(m[3]) };
  });
  assert.ok(ranges.some((r) => r.kind === 'pio' && r.lo === 0x1f0), 'IDE ports decoded');
  assert.ok(ranges.some((r) => r.kind === 'mmio' && r.lo === 0xa0000), 'VGA window decoded');
  const sentinel = 0x100000; // a RAM page no device owns
  d.memory.fill(sentinel, 4096, 0x5a);
  const shutdowns: string[] = [];
  for (let i = 0; i < 60_000; i++) {
    const size = sizes[next() % 3];
    const value = next();
    const r = ranges[next() % ranges.length];
    const addr = r.lo + (next() % (r.hi - r.lo + 1));
    const write = (next() & 3) !== 0;
    if (r.kind === 'pio') {
      // Port 0xCF9/0x92/0x64 resets and the PM's S5 are legitimate guest requests: record, go on.
      if (write) bus.pioWrite(addr, size, value);
      else bus.pioRead(addr, size);
    } else if (write) {
      bus.mmioWrite(addr, size, value);
    } else {
      bus.mmioRead(addr, size);
    }
    if (i % 7 === 0) {
      // Random PCI configuration writes through mechanism #1.
      const dev = next() % 4;
      const fn = next() % 8;
      const reg = next() & 0xfc;
      bus.pioWrite(0xcf8, 4, (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0);
      bus.pioWrite(0xcfc + (next() & 3), size, next());
    }
    if (i % 5000 === 0) shutdowns.push(String(d.run(0).kind));
  }
  // The RAM page no device owns is untouched.
  assert.ok(d.memory.read(sentinel, 4096).every((b) => b === 0x5a), 'no device wrote outside its ranges');
  // The host bridge still answers.
  bus.pioWrite(0xcf8, 4, 0x80000000);
  assert.equal(bus.pioRead(0xcfc, 4), 0x12378086);
  assert.ok(d.screen() !== null, 'the VGA still renders');
});
