import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BM_BASE, IdeRig, patternBackend, patternByte } from './ide-test-rig.js';

// CD-ROM as secondary master (hdc), as Xen's default config puts it.
const S = 0x170;
const CTL = 0x376;
const BM1 = BM_BASE + 8;

function cdRig(blocks: number | null): IdeRig {
  const rig = new IdeRig({ hdc: { kind: 'cdrom', backend: blocks === null ? null : patternBackend(blocks, 2048) } });
  rig.enableBusMaster();
  return rig;
}

/** Send a PACKET command and its 12-byte CDB; returns after the CDB is written. */
function packet(rig: IdeRig, cdb: number[], limit: number, dma = false): void {
  rig.outb(S + 6, 0xa0);
  rig.outb(S + 1, dma ? 1 : 0);
  rig.outb(S + 4, limit & 0xff);
  rig.outb(S + 5, limit >>> 8);
  const edges = rig.irq15.edges;
  rig.outb(S + 7, 0xa0);
  assert.equal(rig.inb(CTL) & 0x88, 0x08, 'DRQ for the CDB, not busy');
  assert.equal(rig.inb(S + 2) & 3, 1, 'interrupt reason: CoD');
  assert.equal(rig.irq15.edges, edges, 'no interrupt before the CDB');
  const bytes = new Uint8Array(12);
  bytes.set(cdb);
  rig.writeData(S, bytes);
}

interface Result {
  data: Uint8Array;
  blocks: number[];
  status: number;
  error: number;
  irqs: number;
}

/** Collect PIO data blocks until the status phase. */
function pioCommand(rig: IdeRig, cdb: number[], limit = 0xfffe): Result {
  const edges = rig.irq15.edges;
  packet(rig, cdb, limit);
  const chunks: Uint8Array[] = [];
  const blocks: number[] = [];
  for (let guard = 0; guard < 10000; guard++) {
    const status = rig.inb(S + 7);
    const reason = rig.inb(S + 2) & 3;
    if (!(status & 0x08)) {
      assert.equal(reason, 3, 'status phase: CoD|IO');
      const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        data.set(c, o);
        o += c.length;
      }
      return { data, blocks, status, error: rig.inb(S + 1), irqs: rig.irq15.edges - edges };
    }
    assert.equal(reason, 2, 'data phase: IO');
    const n = rig.inb(S + 4) | (rig.inb(S + 5) << 8);
    blocks.push(n);
    chunks.push(rig.readData(S, n));
  }
  assert.fail('no status phase');
}

function senseOf(rig: IdeRig): [number, number, number] {
  const r = pioCommand(rig, [0x03, 0, 0, 0, 18]);
  assert.equal(r.data.length, 18);
  assert.equal(r.data[0], 0x70);
  return [r.data[2], r.data[12], r.data[13]];
}

test('IDENTIFY aborts with the packet signature; IDENTIFY PACKET DEVICE words', () => {
  const rig = cdRig(16);
  rig.outb(S + 6, 0xa0);
  rig.outb(S + 7, 0xec);
  assert.equal(rig.inb(S + 7) & 0x01, 0x01);
  assert.equal(rig.inb(S + 1), 0x04);
  assert.deepEqual([rig.inb(S + 4), rig.inb(S + 5)], [0x14, 0xeb]);
  rig.outb(S + 7, 0xa1);
  assert.equal(rig.inb(S + 7), 0x48);
  const w = new Uint16Array(rig.readData(S, 512).buffer);
  assert.equal(w[0], 0x85c0);
  assert.equal(w[49] & 0x0300, 0x0300);
  assert.equal(w[80], 0x1e);
  assert.equal(String.fromCharCode(w[27] >>> 8, w[27] & 0xff, w[28] >>> 8), 'TSX');
});

test('no medium: TEST UNIT READY fails NOT READY, REQUEST SENSE 2/3A, READ CAPACITY fails', () => {
  const rig = cdRig(null);
  const tur = pioCommand(rig, [0x00]);
  assert.equal(tur.status & 0x01, 0x01, 'CHECK CONDITION');
  assert.equal(tur.error >>> 4, 2, 'sense key in error bits 7:4');
  assert.equal(tur.irqs, 1);
  assert.deepEqual(senseOf(rig), [2, 0x3a, 0x01]);
  assert.deepEqual(senseOf(rig), [0, 0, 0], 'REQUEST SENSE clears');
  assert.equal(pioCommand(rig, [0x25]).error >>> 4, 2);
  const bad = pioCommand(rig, [0xff]);
  assert.equal(bad.error, 0x54, 'ILLEGAL REQUEST | ABRT');
  assert.deepEqual(senseOf(rig), [5, 0x20, 0]);
});

test('medium change: UNIT ATTENTION once, then ready; GESN reports the new medium once', () => {
  const rig = cdRig(null);
  const cd = rig.ide.cdrom('hdc')!;
  cd.insertMedium(patternBackend(32, 2048));
  const gesn = pioCommand(rig, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8]);
  assert.equal(gesn.status & 1, 0, 'GESN is exempt from UNIT ATTENTION');
  assert.deepEqual([...gesn.data], [0, 6, 4, 0x10, 2, 2, 0, 0], 'new media, present');
  assert.equal(pioCommand(rig, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8]).data[4], 0, 'event consumed');
  assert.equal(pioCommand(rig, [0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8]).error >>> 4, 5, 'asynchronous GESN is refused');
  const tur = pioCommand(rig, [0x00]);
  assert.equal(tur.error >>> 4, 6);
  assert.deepEqual(senseOf(rig), [6, 0x28, 0]);
  assert.equal(pioCommand(rig, [0x00]).status, 0x40, 'ready now');
  // REQUEST SENSE itself reports (and clears) a pending UNIT ATTENTION.
  cd.insertMedium(patternBackend(32, 2048));
  assert.deepEqual(senseOf(rig), [6, 0x28, 0]);
  assert.equal(pioCommand(rig, [0x00]).status, 0x40);
  const cap = pioCommand(rig, [0x25]);
  assert.deepEqual([...cap.data], [0, 0, 0, 31, 0, 0, 8, 0]);
});

test('READ(10) PIO: DRQ blocks bounded by the byte-count limit, one IRQ each plus the status phase', () => {
  const rig = cdRig(64);
  const expectBlocks = (data: Uint8Array, lba: number) => {
    for (let i = 0; i < data.length; i++) {
      const s = lba * 4 + Math.floor(i / 512);
      if (data[i] !== patternByte(s, i % 512)) assert.fail(`byte ${i}`);
    }
  };
  const r = pioCommand(rig, [0x28, 0, 0, 0, 0, 2, 0, 0, 3], 2048);
  assert.deepEqual(r.blocks, [2048, 2048, 2048]);
  assert.equal(r.irqs, 4);
  assert.equal(r.status, 0x40);
  expectBlocks(r.data, 2);
  const r2 = pioCommand(rig, [0x28, 0, 0, 0, 0, 5, 0, 0, 3], 0x1000);
  assert.deepEqual(r2.blocks, [4096, 2048]);
  expectBlocks(r2.data, 5);
  const r3 = pioCommand(rig, [0x28, 0, 0, 0, 0, 1, 0, 0, 1], 0x3ff);
  assert.deepEqual(r3.blocks, [0x3fe, 0x3fe, 4], 'odd limits round down to even');
  expectBlocks(r3.data, 1);
  const r4 = pioCommand(rig, [0xa8, 0, 0, 0, 0, 10, 0, 0, 0, 2], 0xffff);
  assert.deepEqual(r4.blocks, [4096], 'READ(12), limit 0xFFFF');
  expectBlocks(r4.data, 10);
  const out = pioCommand(rig, [0x28, 0, 0, 0, 0, 63, 0, 0, 2]);
  assert.equal(out.error >>> 4, 5);
  assert.deepEqual(senseOf(rig), [5, 0x21, 0]);
  assert.equal(pioCommand(rig, [0x28, 0, 0, 0, 0, 0, 0, 0, 0]).status, 0x40, 'zero blocks: just status');
});

test('READ(10) by DMA through the bus master', () => {
  const rig = cdRig(64);
  rig.prdTable(0x1000, [
    [0x10000, 2048],
    [0x20000, 4096],
  ]);
  rig.outl(BM1 + 4, 0x1000);
  rig.outb(BM1, 0x08);
  packet(rig, [0x28, 0, 0, 0, 0, 7, 0, 0, 3], 0, true);
  assert.equal(rig.inb(CTL) & 0x08, 0x08, 'DRQ: waiting for the bus master');
  rig.outb(BM1, 0x09);
  assert.equal(rig.inb(BM1 + 2), 0x04);
  assert.equal(rig.inb(S + 7), 0x40);
  assert.equal(rig.inb(S + 2), 3);
  const a = rig.memory.read(0x10000, 2048);
  const b = rig.memory.read(0x20000, 4096);
  for (let i = 0; i < 2048; i++) if (a[i] !== patternByte(28 + (i >> 9), i & 511)) assert.fail(`a[${i}]`);
  for (let i = 0; i < 4096; i++) if (b[i] !== patternByte(32 + (i >> 9), i & 511)) assert.fail(`b[${i}]`);
  // INQUIRY by DMA as well, truncated to its allocation length.
  rig.outb(BM1, 0);
  rig.outb(BM1 + 2, 0x06);
  rig.prdTable(0x1000, [[0x30000, 36]]);
  rig.outb(BM1, 0x08);
  packet(rig, [0x12, 0, 0, 0, 36], 0, true);
  rig.outb(BM1, 0x09);
  const inq = rig.memory.read(0x30000, 36);
  assert.equal(inq[0], 5);
  assert.equal(inq[1], 0x80);
  assert.equal(String.fromCharCode(...inq.subarray(8, 13)), 'TSXEN');
});

test('READ TOC formats 0 (LBA and MSF), 1 and 2', () => {
  const rig = cdRig(1000);
  const f0 = pioCommand(rig, [0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24]).data;
  assert.deepEqual([...f0], [0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xaa, 0, 0, 0, 0x03, 0xe8]);
  const msf = pioCommand(rig, [0x43, 2, 0, 0, 0, 0, 0, 0x03, 0x24]).data;
  // Track 1 at 00:02:00, lead-out LBA 1000 + 150 = 1150 frames = 00:15:25.
  assert.deepEqual([...msf.subarray(8, 12)], [0, 0, 2, 0]);
  assert.deepEqual([...msf.subarray(16, 20)], [0, 0, 15, 25]);
  const leadout = pioCommand(rig, [0x43, 0, 0, 0, 0, 0, 0xaa, 0, 12]).data;
  assert.equal(leadout[6], 0xaa);
  assert.equal(pioCommand(rig, [0x43, 0, 0, 0, 0, 0, 2, 0, 12]).error >>> 4, 5, 'no track 2');
  const f1 = pioCommand(rig, [0x43, 0, 1, 0, 0, 0, 0, 0, 12]).data;
  assert.deepEqual([...f1], [0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0]);
  const f1old = pioCommand(rig, [0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40]).data;
  assert.deepEqual([...f1old], [...f1], 'format in byte 9 bits 7:6');
  const f2 = pioCommand(rig, [0x43, 2, 2, 0, 0, 0, 0, 0, 0xff]).data;
  assert.equal(f2.length, 48);
  assert.equal((f2[0] << 8) | f2[1], 46);
  assert.equal(f2[4 + 2 * 11 + 3], 0xa2, 'lead-out entry');
  assert.deepEqual([...f2.subarray(4 + 2 * 11 + 8, 4 + 2 * 11 + 11)], [0, 15, 25]);
  const short = pioCommand(rig, [0x43, 0, 0, 0, 0, 0, 0, 0, 4]).data;
  assert.equal(short.length, 4, 'allocation length truncates');
});

test('PREVENT blocks eject; eject empties the tray and tells the host; GESN reports the removal', () => {
  const rig = cdRig(16);
  const cd = rig.ide.cdrom('hdc')!;
  let ejected = 0;
  cd.onEject = () => ejected++;
  assert.equal(pioCommand(rig, [0x1e, 0, 0, 0, 1]).status, 0x40);
  assert.equal(cd.isLocked, true);
  const denied = pioCommand(rig, [0x1b, 0, 0, 0, 0x02]);
  assert.equal(denied.error >>> 4, 5);
  assert.deepEqual(senseOf(rig), [5, 0x53, 0x02]);
  assert.equal(cd.hasMedium, true);
  pioCommand(rig, [0x1e, 0, 0, 0, 0]);
  assert.equal(pioCommand(rig, [0x1b, 0, 0, 0, 0x02]).status, 0x40);
  assert.equal(cd.hasMedium, false);
  assert.equal(cd.isTrayOpen, true);
  assert.equal(ejected, 1);
  assert.equal(pioCommand(rig, [0x00]).error >>> 4, 2);
  assert.deepEqual(senseOf(rig), [2, 0x3a, 0x02], 'no medium, tray open');
  const ev = pioCommand(rig, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8]).data;
  assert.deepEqual([ev[4], ev[5]], [3, 1], 'media removal, door open');
  pioCommand(rig, [0x1b, 0, 0, 0, 0x03]); // load: closes the tray
  assert.equal(cd.isTrayOpen, false);
  assert.deepEqual((pioCommand(rig, [0x00]), senseOf(rig)), [2, 0x3a, 0x01]);
});

test('INQUIRY, GET CONFIGURATION, MODE SENSE(10) 2A/3F, READ DISC INFORMATION, MECHANISM STATUS', () => {
  const rig = cdRig(16);
  const inq = pioCommand(rig, [0x12, 0, 0, 0, 96]).data;
  assert.equal(inq.length, 36);
  assert.deepEqual([inq[0], inq[1], inq[3], inq[4]], [5, 0x80, 0x21, 31]);
  assert.equal(pioCommand(rig, [0x12, 1, 0x80, 0, 96]).error >>> 4, 5, 'no VPD pages');
  const conf = pioCommand(rig, [0x46, 0, 0, 0, 0, 0, 0, 0x01, 0x00]).data;
  assert.equal((conf[6] << 8) | conf[7], 0x0008, 'current profile: CD-ROM');
  assert.equal(((conf[0] << 24) | (conf[1] << 16) | (conf[2] << 8) | conf[3]) + 4, conf.length);
  assert.deepEqual([conf[8], conf[9]], [0, 0], 'feature 0 first');
  const only3 = pioCommand(rig, [0x46, 2, 0, 3, 0, 0, 0, 0x01, 0x00]).data;
  assert.equal(only3.length, 16);
  assert.equal(only3[9], 3);
  const m2a = pioCommand(rig, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128]).data;
  assert.equal(m2a[8], 0x2a);
  assert.equal((m2a[0] << 8) | m2a[1], m2a.length - 2);
  const all = pioCommand(rig, [0x5a, 0, 0x3f, 0, 0, 0, 0, 0x10, 0]).data;
  assert.ok(all.length > m2a.length);
  assert.equal(pioCommand(rig, [0x5a, 0, 0x33, 0, 0, 0, 0, 0, 128]).error >>> 4, 5, 'unknown page');
  assert.equal(pioCommand(rig, [0x5a, 0, 0xea, 0, 0, 0, 0, 0, 128]).error >>> 4, 5, 'saved values');
  const disc = pioCommand(rig, [0x51, 0, 0, 0, 0, 0, 0, 0, 34]).data;
  assert.deepEqual([disc[2], disc[3], disc[4]], [0x0e, 1, 1]);
  const mech = pioCommand(rig, [0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8]).data;
  assert.equal(mech.length, 8);
  assert.equal(pioCommand(rig, [0x55]).error, 0x54, 'MODE SELECT not supported');
});

test('ATAPI DEVICE RESET reloads the signature without an interrupt; SRST too', () => {
  const rig = cdRig(16);
  pioCommand(rig, [0x00]);
  const edges = rig.irq15.edges;
  rig.outb(S + 7, 0x08);
  assert.deepEqual([rig.inb(S + 2), rig.inb(S + 3), rig.inb(S + 4), rig.inb(S + 5)], [1, 1, 0x14, 0xeb]);
  assert.equal(rig.irq15.edges, edges);
  assert.equal(rig.inb(S + 7), 0);
});
