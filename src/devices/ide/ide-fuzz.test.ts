// Random guest writes to every IDE port (both channels' command and control blocks,
// the bus master) with random PRD tables in memory: nothing may throw, and the
// registers must stay in their ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BM_BASE, IdeRig, patternBackend } from './ide-test-rig.js';
import type { AccessSize } from '../../hypervisor/types.js';
import { xorshift32 } from '../../../test/support/fuzz.js';

const PORTS = [
  ...Array.from({ length: 8 }, (_, i) => 0x1f0 + i),
  0x3f6,
  ...Array.from({ length: 8 }, (_, i) => 0x170 + i),
  0x376,
  ...Array.from({ length: 16 }, (_, i) => BM_BASE + i),
];
const COMMANDS = [0x20, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35, 0x39, 0x90, 0x91, 0xa0, 0xa1, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0xe7, 0xea, 0xec, 0xef, 0x08];
const CDB_OPS = [0x00, 0x03, 0x12, 0x1b, 0x1e, 0x25, 0x28, 0x43, 0x46, 0x4a, 0x51, 0x5a, 0xa8, 0xbd];

for (const seed of [1, 0xdeadbeef, 12345]) {
  test(`fuzz: 4000 random port accesses (seed ${seed}) never throw and keep state in bounds`, () => {
    const rig = new IdeRig({
      hda: { kind: 'disk', backend: patternBackend(128) },
      hdb: { kind: 'cdrom', backend: patternBackend(16, 2048) },
      hdc: { kind: 'cdrom', backend: null },
    });
    rig.enableBusMaster();
    const rnd = xorshift32(seed);
    for (let i = 0; i < 4000; i++) {
      const r = rnd();
      const port = PORTS[r % PORTS.length];
      const size = ([1, 1, 2, 4] as AccessSize[])[(r >>> 8) & 3];
      let value = rnd();
      // Bias towards meaningful traffic: real commands, CDB opcodes, PRD tables in RAM.
      if ((port & 7) === 7 && port < 0x200 && r & 0x10000) value = COMMANDS[value % COMMANDS.length];
      if ((port & 7) === 0 && port < 0x200 && r & 0x20000) value = CDB_OPS[value % CDB_OPS.length];
      if (r & 0x40000 && port >= BM_BASE) {
        const table = (rnd() % 0x3ff) * 8;
        rig.memory.writeU32(table, rnd() % (8 << 20)); // some in RAM, some past it
        rig.memory.writeU32(table + 4, (rnd() & 0xffff) | (rnd() & 1 ? 0x80000000 : 0));
        if ((port & 7) === 4) value = table;
      }
      if (r & 0x80000) rig.io.pioRead(port, size);
      else rig.io.pioWrite(port, size, value);
    }
    assert.ok(rig.irq14.edges > 5 && rig.irq15.edges > 3, `commands ran: ${rig.irq14.edges}/${rig.irq15.edges} interrupts`);
    for (const slot of ['hda', 'hdb', 'hdc'] as const) {
      const d = rig.ide.drive(slot)!;
      assert.ok(d.status >= 0 && d.status <= 0xff, `${slot} status`);
      assert.ok(d.error >= 0 && d.error <= 0xff, `${slot} error`);
      assert.ok(d.pioRemaining >= 0 && d.pioRemaining <= 0x10000, `${slot} PIO buffer`);
      for (const k of ['count', 'countHob', 'lbaLow', 'lbaMid', 'lbaHigh', 'lbaLowHob', 'lbaMidHob', 'lbaHighHob', 'features', 'device'] as const) {
        const v = d.tf[k];
        assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xff, `${slot} ${k} = ${v}`);
      }
    }
    for (const bm of rig.ide.busMasters) assert.ok(bm.statusRegister >= 0 && bm.statusRegister <= 0x67);
    // The channels still work afterwards: reset them and read a sector.
    rig.ide.reset();
    rig.outb(0x1f0 + 6, 0xe0);
    rig.outb(0x1f0 + 2, 1);
    rig.outb(0x1f0 + 3, 0);
    rig.outb(0x1f0 + 4, 0);
    rig.outb(0x1f0 + 5, 0);
    rig.outb(0x1f0 + 7, 0x20);
    assert.equal(rig.inb(0x1f0 + 7), 0x58);
  });
}
