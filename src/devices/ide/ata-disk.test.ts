import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlockBackend } from '../block/block-backend.js';
import { IdeRig, patternBackend, patternByte } from './ide-test-rig.js';
import { MemoryBlockBackend } from './memory-block-backend.js';
import { AtaDisk } from './ata-disk.js';

const P = 0x1f0;
const CTL = 0x3f6;
const S = 0x170;

function expectPattern(data: Uint8Array, firstSector: number, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const s = firstSector + Math.floor(i / 512);
    if (data[i] !== patternByte(s, i % 512)) assert.fail(`${what}: byte ${i} (sector ${s}) is ${data[i]}, expected ${patternByte(s, i % 512)}`);
  }
}

function identify(rig: IdeRig, base: number, cmd = 0xec): Uint16Array {
  rig.outb(base + 7, cmd);
  assert.equal(rig.inb(base + 7) & 0x08, 0x08, 'IDENTIFY offers data');
  const bytes = rig.readData(base, 512);
  return new Uint16Array(bytes.buffer);
}

function wordString(w: Uint16Array, first: number, count: number): string {
  let s = '';
  for (let i = first; i < first + count; i++) s += String.fromCharCode(w[i] >>> 8, w[i] & 0xff);
  return s.trimEnd();
}

/** A huge sparse disk: the pattern computed on the fly, so LBA48 addresses past 2^28 sectors can be read. */
class SparseDisk implements BlockBackend {
  readonly readOnly = true;
  constructor(readonly sizeBytes: number) {}
  read(offset: number, dest: Uint8Array): void {
    for (let i = 0; i < dest.length; i++) {
      const pos = offset + i;
      dest[i] = patternByte(Math.floor(pos / 512) % 0x1000000, pos % 512);
    }
  }
  write(): void {
    throw new Error('read-only');
  }
  flush(): void {}
}

test('signatures after power-on and SRST: ATA master, ATAPI slave; no interrupt', () => {
  const rig = new IdeRig({ hda: { kind: 'disk', backend: patternBackend(64) }, hdb: { kind: 'cdrom', backend: null } });
  const sig = () => [rig.inb(P + 2), rig.inb(P + 3), rig.inb(P + 4), rig.inb(P + 5), rig.inb(P + 1)];
  assert.deepEqual(sig(), [1, 1, 0, 0, 1]);
  assert.equal(rig.inb(P + 7), 0x50, 'ATA: DRDY|DSC');
  rig.outb(P + 6, 0xb0);
  assert.deepEqual(sig(), [1, 1, 0x14, 0xeb, 1]);
  assert.equal(rig.inb(P + 7), 0x00, 'ATAPI: DRDY clear');
  // Scribble on the task file, then SRST.
  rig.outb(P + 2, 0x55);
  rig.outb(P + 3, 0xaa);
  assert.equal(rig.inb(P + 2), 0x55);
  assert.equal(rig.inb(P + 3), 0xaa);
  rig.outb(CTL, 0x04);
  assert.equal(rig.inb(CTL) & 0x80, 0x80, 'BSY while SRST is asserted');
  rig.outb(CTL, 0x00);
  assert.equal(rig.inb(P + 6) & 0x10, 0, 'device 0 selected after reset');
  assert.deepEqual(sig(), [1, 1, 0, 0, 1]);
  rig.outb(P + 6, 0xb0);
  assert.deepEqual(sig(), [1, 1, 0x14, 0xeb, 1]);
  assert.equal(rig.irq14.edges, 0);
});

test('absent devices: empty channel reads 0; absent slave latches the task file, status 0, ignores commands', () => {
  const rig = new IdeRig({ hdc: { kind: 'disk', backend: patternBackend(64) } });
  // Primary channel is empty.
  for (let r = 0; r < 8; r++) assert.equal(rig.inb(P + r), 0, `empty channel register ${r}`);
  rig.outb(P + 2, 0x55);
  assert.equal(rig.inb(P + 2), 0);
  assert.equal(rig.inb(CTL), 0);
  // Secondary: master present, slave absent.
  rig.outb(S + 6, 0xb0);
  rig.outb(S + 2, 0x55);
  rig.outb(S + 3, 0xaa);
  assert.equal(rig.inb(S + 2), 0x55, 'SeaBIOS 0x55/0xAA probe reads back');
  assert.equal(rig.inb(S + 3), 0xaa);
  assert.equal(rig.inb(S + 7), 0, 'absent slave status 0 (libata drops it)');
  rig.outb(S + 7, 0xec);
  assert.equal(rig.inb(S + 7), 0);
  assert.equal(rig.irq15.edges, 0);
  rig.outb(S + 6, 0xa0);
  assert.equal(rig.inb(S + 7), 0x50);
});

test('IDENTIFY DEVICE words (§6.3) and IRQ; IDENTIFY PACKET aborts on a disk', () => {
  const sectors = 20 * 16 * 63 + 5;
  const rig = new IdeRig({ hda: { kind: 'disk', backend: patternBackend(sectors) } });
  const w = identify(rig, P);
  assert.equal(rig.irq14.edges, 1);
  assert.equal(w[0], 0x0040);
  assert.deepEqual([w[1], w[3], w[6]], [20, 16, 63]);
  assert.equal(wordString(w, 27, 20), 'TSXEN HARDDISK');
  assert.equal(wordString(w, 10, 10), 'TSXEN-HDA');
  assert.equal(w[47], 0x8010);
  assert.equal(w[49] & 0x0300, 0x0300, 'LBA and DMA');
  assert.equal(w[53], 0x0007);
  assert.equal(w[59], 0x0110, 'multiple mode 16 valid');
  assert.equal(w[60] | (w[61] << 16), sectors);
  assert.equal(w[63] & 0x07, 0x07, 'MWDMA0-2');
  assert.equal(w[64] & 0x03, 0x03, 'PIO3-4');
  assert.equal(w[80], 0x00f0);
  assert.equal(w[83] & 0xc000, 0x4000);
  assert.equal(w[83] & 0x3400, 0x3400, 'LBA48, FLUSH, FLUSH EXT');
  assert.equal(w[85] & 0x20, 0x20, 'write cache on');
  assert.equal(w[93], 0x6001);
  assert.equal(w[100] + w[101] * 0x10000, sectors);
  assert.equal(rig.inb(P + 7), 0x50, 'data drained, status read acks the IRQ');
  assert.equal(rig.irq14.level, false);
  rig.outb(P + 7, 0xa1);
  assert.equal(rig.inb(P + 7), 0x41, 'DRDY|ERR');
  assert.equal(rig.inb(P + 1), 0x04, 'ABRT');
  assert.equal(rig.irq14.edges, 2);
  // SET FEATURES MWDMA2 is reflected in word 63.
  rig.outb(P + 1, 0x03);
  rig.outb(P + 2, 0x22);
  rig.outb(P + 7, 0xef);
  assert.equal(rig.inb(P + 7), 0x50);
  assert.equal(identify(rig, P)[63], 0x0407);
  rig.outb(P + 1, 0x03);
  rig.outb(P + 2, 0x27); // MWDMA7 does not exist
  rig.outb(P + 7, 0xef);
  assert.equal(rig.inb(P + 7), 0x41);
});

test('PIO READ SECTORS: one DRQ block and one IRQ per sector; WRITE SECTORS: first DRQ without IRQ', () => {
  const backend = patternBackend(64);
  const rig = new IdeRig({ hda: { kind: 'disk', backend } });
  rig.lba28(P, false, 5, 3);
  rig.outb(P + 7, 0x20);
  for (let s = 0; s < 3; s++) {
    assert.equal(rig.irq14.edges, s + 1, `IRQ for sector ${s}`);
    assert.equal(rig.inb(P + 7), 0x58, 'DRDY|DSC|DRQ (and acks the IRQ)');
    expectPattern(rig.readData(P, 512), 5 + s, `sector ${5 + s}`);
  }
  assert.equal(rig.inb(CTL), 0x50, 'DRQ clear after the last sector');
  assert.equal(rig.irq14.edges, 3, 'no interrupt after the last PIO-in block');
  assert.deepEqual([rig.inb(P + 3), rig.inb(P + 4), rig.inb(P + 5)], [7, 0, 0], 'LBA registers: last sector read');

  // 32-bit data port access reads two words at a time.
  rig.lba28(P, false, 9, 1);
  rig.outb(P + 7, 0x20);
  const dw = rig.inl(P);
  assert.equal(dw, (patternByte(9, 0) | (patternByte(9, 1) << 8) | (patternByte(9, 2) << 16) | (patternByte(9, 3) << 24)) >>> 0);

  const edges = rig.irq14.edges;
  rig.inb(P + 7);
  rig.lba28(P, false, 40, 2);
  rig.outb(P + 7, 0x30);
  assert.equal(rig.irq14.edges, edges, 'first DRQ of a write comes without an interrupt');
  assert.equal(rig.inb(CTL), 0x58);
  rig.writeData(P, new Uint8Array(512).fill(0xa5));
  assert.equal(rig.irq14.edges, edges + 1, 'IRQ after sector 1');
  assert.equal(rig.inb(P + 7), 0x58, 'DRQ for sector 2');
  rig.writeData(P, new Uint8Array(512).fill(0x5a));
  assert.equal(rig.irq14.edges, edges + 2, 'IRQ after the last sector too');
  assert.equal(rig.inb(P + 7), 0x50);
  assert.ok(backend.bytes.subarray(40 * 512, 41 * 512).every((b) => b === 0xa5));
  assert.ok(backend.bytes.subarray(41 * 512, 42 * 512).every((b) => b === 0x5a));
  assert.equal(backend.bytes[42 * 512], patternByte(42, 0), 'nothing past the range written');
});

test('READ/WRITE MULTIPLE use SET MULTIPLE blocks with one IRQ per block', () => {
  const backend = patternBackend(64);
  const rig = new IdeRig({ hda: { kind: 'disk', backend } });
  rig.outb(P + 6, 0xe0);
  rig.outb(P + 2, 3); // not a power of two
  rig.outb(P + 7, 0xc6);
  assert.equal(rig.inb(P + 7), 0x41);
  rig.outb(P + 2, 4);
  rig.outb(P + 7, 0xc6);
  assert.equal(rig.inb(P + 7), 0x50);
  const before = rig.irq14.edges;
  rig.lba28(P, false, 10, 10);
  rig.outb(P + 7, 0xc4);
  const sizes: number[] = [];
  let sector = 10;
  while (rig.inb(CTL) & 0x08) {
    rig.inb(P + 7);
    const drive = rig.ide.drive('hda')!;
    const n = drive.pioRemaining;
    sizes.push(n / 512);
    expectPattern(rig.readData(P, n), sector, 'multiple block');
    sector += n / 512;
  }
  assert.deepEqual(sizes, [4, 4, 2]);
  assert.equal(rig.irq14.edges - before, 3);

  rig.lba28(P, false, 20, 6);
  rig.outb(P + 7, 0xc5);
  rig.writeData(P, new Uint8Array(4 * 512).fill(1));
  rig.inb(P + 7);
  rig.writeData(P, new Uint8Array(2 * 512).fill(2));
  assert.equal(rig.inb(P + 7), 0x50);
  assert.ok(backend.bytes.subarray(20 * 512, 24 * 512).every((b) => b === 1));
  assert.ok(backend.bytes.subarray(24 * 512, 26 * 512).every((b) => b === 2));
});

test('LBA48: HOB FIFOs read back, READ SECTORS EXT past 2^28 sectors, IDENTIFY capacities', () => {
  const sectors = 0x20000000123; // > 2^40 sectors, sparse
  const rig = new IdeRig({ hda: { kind: 'disk', backend: new SparseDisk(sectors * 512) } });
  const w = identify(rig, P);
  assert.equal(w[60] | (w[61] << 16), 0x0fffffff, 'LBA28 capacity saturates');
  assert.equal(w[100] + w[101] * 0x10000 + w[102] * 0x100000000, sectors);
  const lba = 0x123456789a;
  rig.lba48(P, false, lba, 0x0102);
  rig.outb(CTL, 0x80); // HOB
  assert.deepEqual([rig.inb(P + 2), rig.inb(P + 3), rig.inb(P + 4), rig.inb(P + 5)], [0x01, 0x34, 0x12, 0x00]);
  rig.outb(CTL, 0x00);
  assert.deepEqual([rig.inb(P + 2), rig.inb(P + 3), rig.inb(P + 4), rig.inb(P + 5)], [0x02, 0x9a, 0x78, 0x56]);
  rig.outb(P + 7, 0x24);
  let n = 0;
  while (rig.inb(P + 7) & 0x08) {
    const data = rig.readData(P, 512);
    expectPattern(data, (lba + n) % 0x1000000, `ext sector ${n}`);
    n++;
  }
  assert.equal(n, 0x102);
  // The registers hold the last sector's 48-bit address.
  const last = lba + 0x101;
  rig.outb(CTL, 0x80);
  assert.equal(rig.inb(P + 3), Math.floor(last / 0x1000000) & 0xff);
  rig.outb(CTL, 0x00);
  assert.equal(rig.inb(P + 3), last & 0xff);
  // Writes to a read-only backend abort.
  rig.lba48(P, false, 1, 1);
  rig.outb(P + 7, 0x34);
  assert.equal(rig.inb(P + 7), 0x41);
  assert.equal(rig.inb(P + 1), 0x04);
});

test('CHS addressing after INITIALIZE DEVICE PARAMETERS; range and opcode errors; FLUSH reaches the backend', () => {
  const backend = patternBackend(4 * 16 * 63);
  const rig = new IdeRig({ hda: { kind: 'disk', backend } });
  rig.outb(P + 6, 0xa0 | 15); // heads - 1 = 15
  rig.outb(P + 2, 63);
  rig.outb(P + 7, 0x91);
  assert.equal(rig.inb(P + 7), 0x50);
  // C=1, H=2, S=3 -> (1*16 + 2)*63 + 2 = 1136
  rig.outb(P + 6, 0xa0 | 2);
  rig.outb(P + 2, 1);
  rig.outb(P + 3, 3);
  rig.outb(P + 4, 1);
  rig.outb(P + 5, 0);
  rig.outb(P + 7, 0x20);
  expectPattern(rig.readData(P, 512), 1136, 'CHS sector');
  rig.outb(P + 6, 0xa0);
  rig.outb(P + 3, 0); // sector 0 does not exist in CHS
  rig.outb(P + 7, 0x20);
  assert.equal(rig.inb(P + 7), 0x41);
  assert.equal(rig.inb(P + 1) & 0x10, 0x10, 'IDNF');

  rig.lba28(P, false, 4 * 16 * 63 - 1, 2); // one past the end
  rig.outb(P + 7, 0x20);
  assert.equal(rig.inb(P + 7), 0x41);
  assert.equal(rig.inb(P + 1) & 0x10, 0x10);
  rig.outb(P + 7, 0x00); // NOP aborts
  assert.equal(rig.inb(P + 7), 0x41);
  rig.outb(P + 7, 0xb0); // SMART: not offered
  assert.equal(rig.inb(P + 1), 0x04);
  rig.outb(P + 7, 0xe7);
  assert.equal(rig.inb(P + 7), 0x50);
  rig.outb(P + 7, 0xea);
  assert.equal(rig.inb(P + 7), 0x50);
  assert.equal(backend.flushes, 2);
  rig.outb(P + 7, 0xe5);
  assert.equal(rig.inb(P + 2), 0xff, 'CHECK POWER MODE: active');
});

test('nIEN keeps INTRQ off the wire; EXECUTE DEVICE DIAGNOSTIC reloads signatures with an IRQ', () => {
  const rig = new IdeRig({ hda: { kind: 'disk', backend: patternBackend(64) } });
  rig.outb(CTL, 0x02);
  rig.lba28(P, false, 0, 1);
  rig.outb(P + 7, 0x20);
  assert.equal(rig.irq14.edges, 0);
  rig.readData(P, 512);
  assert.equal(rig.inb(CTL), 0x50);
  rig.outb(CTL, 0x00);
  assert.equal(rig.irq14.edges, 0, 'an interrupt raised under nIEN is dropped, not delivered later');
  rig.outb(P + 7, 0x90);
  assert.equal(rig.irq14.edges, 1);
  assert.deepEqual([rig.inb(P + 1), rig.inb(P + 2), rig.inb(P + 3), rig.inb(P + 4), rig.inb(P + 5)], [1, 1, 1, 0, 0]);
  assert.equal(rig.inb(P + 7), 0x50);
  assert.equal(rig.irq14.level, false);
});

test('a backend that fails a read reports UNC instead of throwing', () => {
  const backend = new MemoryBlockBackend(new Uint8Array(64 * 512));
  backend.read = () => {
    throw new Error('EIO');
  };
  const disk = new AtaDisk(backend);
  disk.tf.device = 0xe0;
  disk.tf.count = 1;
  disk.execute(0x20);
  assert.equal(disk.status, 0x41);
  assert.equal(disk.error & 0x40, 0x40);
});
