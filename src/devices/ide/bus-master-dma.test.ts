import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BM_BASE, IDE_BDF, IdeRig, patternBackend, patternByte } from './ide-test-rig.js';

const P = 0x1f0;
const S = 0x170;
const BM0 = BM_BASE;
const BM1 = BM_BASE + 8;
const TABLE = 0x1000;

function expectPattern(data: Uint8Array, firstSector: number): void {
  for (let i = 0; i < data.length; i++) {
    const s = firstSector + Math.floor(i / 512);
    if (data[i] !== patternByte(s, i % 512)) assert.fail(`byte ${i}: ${data[i]} != ${patternByte(s, i % 512)}`);
  }
}

function diskRig(): IdeRig {
  const rig = new IdeRig({ hda: { kind: 'disk', backend: patternBackend(256) }, hdc: { kind: 'disk', backend: patternBackend(256) } });
  rig.enableBusMaster();
  return rig;
}

test('READ DMA in the Linux order: PRD pointer, direction, command, START; data lands along the PRDs', () => {
  const rig = diskRig();
  rig.prdTable(TABLE, [
    [0x10000, 1024],
    [0x30000, 512],
  ]);
  rig.outl(BM0 + 4, TABLE);
  rig.outb(BM0, 0x08); // write to memory, not started
  rig.lba28(P, false, 9, 3);
  rig.outb(P + 7, 0xc8);
  assert.equal(rig.irq14.edges, 0, 'nothing happens before START');
  rig.outb(BM0, 0x09);
  expectPattern(rig.memory.read(0x10000, 1024), 9);
  expectPattern(rig.memory.read(0x30000, 512), 11);
  assert.equal(rig.memory.readU8(0x30000 + 512), 0, 'nothing past the PRD region');
  assert.equal(rig.inb(BM0 + 2), 0x04, 'interrupt set, active clear (PRDs matched the data exactly)');
  assert.equal(rig.irq14.edges, 1);
  assert.equal(rig.inb(P + 7), 0x50);
  rig.outb(BM0, 0x00);
  rig.outb(BM0 + 2, 0x04); // W1C
  assert.equal(rig.inb(BM0 + 2), 0x00);
  assert.equal(rig.inl(BM0 + 4), TABLE, 'PRD pointer reads back');
});

test('WRITE DMA EXT with START before the command; byte count 0 means 64 KiB', () => {
  const backend = patternBackend(256);
  const rig = new IdeRig({ hda: { kind: 'disk', backend } });
  rig.enableBusMaster();
  rig.memory.fill(0x40000, 0x10000, 0xc3);
  rig.prdTable(TABLE, [[0x40000, 0]]); // 0 = 64 KiB
  rig.outl(BM0 + 4, TABLE);
  rig.outb(BM0, 0x01); // read from memory, START
  rig.lba48(P, false, 100, 128);
  rig.outb(P + 7, 0x35);
  assert.ok(backend.bytes.subarray(100 * 512, 228 * 512).every((b) => b === 0xc3));
  assert.equal(backend.bytes[228 * 512], patternByte(228, 0));
  assert.equal(rig.inb(BM0 + 2), 0x04);
  assert.equal(rig.inb(P + 7), 0x50);
});

test('a PRD pointing outside RAM: error bit, command aborted, IRQ, no throw', () => {
  const rig = diskRig();
  rig.prdTable(TABLE, [[0xfff00000, 512]]);
  rig.outl(BM0 + 4, TABLE);
  rig.outb(BM0, 0x08);
  rig.lba28(P, false, 0, 1);
  rig.outb(P + 7, 0xc8);
  rig.outb(BM0, 0x09);
  assert.equal(rig.inb(BM0 + 2), 0x06, 'error | interrupt, not active');
  assert.equal(rig.inb(P + 7), 0x41);
  assert.equal(rig.inb(P + 1), 0x04);
  assert.equal(rig.irq14.edges, 1);
  // A PRD table itself outside RAM behaves the same.
  rig.outb(BM0, 0x00);
  rig.outb(BM0 + 2, 0x06);
  rig.outl(BM0 + 4, 0xfffffff8);
  rig.lba28(P, false, 0, 1);
  rig.outb(P + 7, 0xc8);
  rig.outb(BM0, 0x09);
  assert.equal(rig.inb(BM0 + 2), 0x06);
  assert.equal(rig.inb(P + 7), 0x41);
});

test('PRDs shorter than the data: error; longer than the data: active stays set', () => {
  const rig = diskRig();
  rig.prdTable(TABLE, [[0x10000, 512]]);
  rig.outl(BM0 + 4, TABLE);
  rig.outb(BM0, 0x08);
  rig.lba28(P, false, 0, 2);
  rig.outb(P + 7, 0xc8);
  rig.outb(BM0, 0x09);
  assert.equal(rig.inb(BM0 + 2), 0x06);
  assert.equal(rig.inb(P + 7), 0x41);

  rig.outb(BM0, 0x00);
  rig.outb(BM0 + 2, 0x06);
  rig.prdTable(TABLE, [[0x10000, 4096]]);
  rig.outb(BM0, 0x08);
  rig.lba28(P, false, 3, 2);
  rig.outb(P + 7, 0xc8);
  rig.outb(BM0, 0x09);
  assert.equal(rig.inb(BM0 + 2), 0x05, 'interrupt | active');
  assert.equal(rig.inb(P + 7), 0x50);
  expectPattern(rig.memory.read(0x10000, 1024), 3);
});

test('no DMA while PCI COMMAND.BUS_MASTER is clear; enabling it runs the armed transfer', () => {
  const rig = diskRig();
  rig.pci.writeConfig(IDE_BDF, 0x04, 2, 0x01);
  rig.prdTable(TABLE, [[0x10000, 512]]);
  rig.outl(BM0 + 4, TABLE);
  rig.outb(BM0, 0x08);
  rig.lba28(P, false, 7, 1);
  rig.outb(P + 7, 0xc8);
  rig.outb(BM0, 0x09);
  assert.equal(rig.memory.readU8(0x10000), 0);
  assert.equal(rig.inb(BM0 + 2), 0x01, 'active, waiting');
  assert.equal(rig.irq14.edges, 0);
  rig.pci.writeConfig(IDE_BDF, 0x04, 2, 0x05);
  expectPattern(rig.memory.read(0x10000, 512), 7);
  assert.equal(rig.inb(BM0 + 2), 0x04);
});

test('secondary channel bus master at BAR4 + 8 drives IRQ 15', () => {
  const rig = diskRig();
  rig.prdTable(TABLE, [[0x20000, 512]]);
  rig.outl(BM1 + 4, TABLE);
  rig.outb(BM1, 0x08);
  rig.lba28(S, false, 42, 1);
  rig.outb(S + 7, 0xc8);
  rig.outb(BM1, 0x09);
  expectPattern(rig.memory.read(0x20000, 512), 42);
  assert.equal(rig.irq15.edges, 1);
  assert.equal(rig.irq14.edges, 0);
  assert.equal(rig.inb(BM1 + 2), 0x04);
  assert.equal(rig.inb(BM0 + 2), 0x00);
  rig.outb(BM1 + 2, 0x60); // drive DMA-capable bits are plain storage
  assert.equal(rig.inb(BM1 + 2), 0x64);
});

test('PIIX3 IDE config: 8086:7010, class 0x010180, IDETIM decode on both channels, BAR4 sizes as 16 I/O ports', () => {
  const rig = new IdeRig({});
  const cfg = (o: number, s: 1 | 2 | 4) => rig.pci.readConfig(IDE_BDF, o, s);
  assert.equal(cfg(0, 4), 0x70108086);
  assert.equal(cfg(0x08, 4) >>> 8, 0x010180);
  assert.equal(cfg(0x41, 1) & 0x80, 0x80);
  assert.equal(cfg(0x43, 1) & 0x80, 0x80);
  rig.pci.writeConfig(IDE_BDF, 0x40, 2, 0xa307);
  assert.equal(cfg(0x40, 2), 0xa307);
  rig.pci.writeConfig(IDE_BDF, 0x20, 4, 0xffffffff);
  assert.equal(cfg(0x20, 4), 0xfffffff1);
  for (const bar of [0x10, 0x14, 0x18, 0x1c]) assert.equal(cfg(bar, 4), 0, `BAR at ${bar} unused`);
});
