// The probe sequences the guests run against the channels, restated from their
// documented behaviour (pc-platform §6.2): SeaBIOS's per-position detection with a
// single SRST, IDENTIFY PACKET before IDENTIFY, and libata's devchk / SRST /
// classification by signature. Expected outcome for hda = disk, hdc = CD: one ATA
// disk on the primary master, one ATAPI CD on the secondary master, nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdeRig, patternBackend } from './ide-test-rig.js';

const CHANNELS = [
  { base: 0x1f0, ctl: 0x3f6 },
  { base: 0x170, ctl: 0x376 },
];

function rig(): IdeRig {
  return new IdeRig({ hda: { kind: 'disk', backend: patternBackend(2048) }, hdc: { kind: 'cdrom', backend: patternBackend(64, 2048) } });
}

/** PIO-in of one 512-byte IDENTIFY block with interrupts masked; null when the device refuses. */
function identifyPio(r: IdeRig, base: number, ctl: number, dh: number, cmd: number): Uint16Array | null {
  r.outb(ctl, 0x0a); // HD15 | nIEN
  try {
    if (r.inb(base + 7) & 0x80) return null;
    r.outb(base + 6, dh);
    for (let i = 1; i <= 5; i++) r.outb(base + i, 0);
    r.outb(base + 7, cmd);
    const st = r.inb(base + 7);
    if (st & 0x80 || st & 0x01 || !(st & 0x08)) return null;
    const data = r.readData(base, 512);
    r.inb(ctl);
    if (r.inb(base + 7) & (0x80 | 0x20 | 0x08 | 0x01)) return null;
    return new Uint16Array(data.buffer);
  } finally {
    r.outb(ctl, 0x08);
  }
}

test('SeaBIOS-style detection finds the disk on ata0-0 and the CD on ata1-0, nothing on the slaves, no IRQs', () => {
  const r = rig();
  const found: string[] = [];
  CHANNELS.forEach(({ base, ctl }, ch) => {
    let didReset = false;
    for (let slave = 0; slave <= 1; slave++) {
      const dh = slave ? 0xb0 : 0xa0;
      if (r.inb(base + 7) & 0x80) continue;
      r.outb(base + 6, dh);
      const readDh = r.inb(base + 6);
      r.outb(base + 2, 0x55);
      r.outb(base + 3, 0xaa);
      if (r.inb(base + 2) !== 0x55 || r.inb(base + 3) !== 0xaa || readDh !== dh) continue;
      if (!didReset) {
        r.outb(ctl, 0x0e); // HD15 | nIEN | SRST
        r.outb(ctl, 0x0a);
        assert.equal(r.inb(base + 7) & 0x80, 0, 'not busy after SRST');
        r.outb(base + 6, dh);
        assert.equal(r.inb(base + 6), dh, 'selection sticks');
        r.outb(ctl, 0x08);
        didReset = true;
      }
      let id = identifyPio(r, base, ctl, dh, 0xa1);
      let kind = 'atapi';
      if (!id) {
        if (r.inb(base + 7) === 0) continue; // "status not set - can't be a valid drive"
        assert.equal(r.inb(base + 7) & 0x40, 0x40, 'an ATA device is ready');
        id = identifyPio(r, base, ctl, dh, 0xec);
        kind = 'ata';
        if (!id) continue;
      }
      found.push(`ata${ch}-${slave} ${kind} w0=${id[0].toString(16)}`);
      // Word 93 must not claim "device 0 answers for device 1" (0x4041 under mask 0xdf61).
      if (!slave && (id[93] & 0xdf61) === 0x4041) break;
    }
  });
  assert.deepEqual(found, ['ata0-0 ata w0=40', 'ata1-0 atapi w0=85c0']);
  assert.equal(r.irq14.edges + r.irq15.edges, 0, 'everything polled with nIEN');
});

test('libata-style devchk, SRST and classification by signature', () => {
  const r = rig();
  const classes: string[] = [];
  for (const { base, ctl } of CHANNELS) {
    const present = [0, 1].map((dev) => {
      r.outb(base + 6, 0xa0 | (dev << 4));
      r.outb(base + 2, 0x55);
      r.outb(base + 3, 0xaa);
      r.outb(base + 2, 0xaa);
      r.outb(base + 3, 0x55);
      r.outb(base + 2, 0x55);
      r.outb(base + 3, 0xaa);
      return r.inb(base + 2) === 0x55 && r.inb(base + 3) === 0xaa;
    });
    r.outb(ctl, 0x0a | 0x04);
    r.outb(ctl, 0x0a);
    for (const dev of [0, 1]) {
      if (!present[dev]) {
        classes.push('none');
        continue;
      }
      r.outb(base + 6, 0xa0 | (dev << 4));
      const err = r.inb(base + 1);
      const [lbam, lbah] = [r.inb(base + 4), r.inb(base + 5)];
      let diagFailed = false;
      if (err === 0) diagFailed = true;
      else if (!(err === 1 || (dev === 0 && err === 0x81))) {
        classes.push('none');
        continue;
      }
      let cls = lbam === 0 && lbah === 0 ? 'ata' : lbam === 0x14 && lbah === 0xeb ? 'atapi' : 'unknown';
      if (cls === 'unknown') cls = diagFailed ? 'ata' : 'none';
      else if (cls === 'ata' && r.inb(base + 7) === 0) cls = 'none';
      classes.push(cls);
    }
  }
  assert.deepEqual(classes, ['ata', 'none', 'atapi', 'none']);
  assert.equal(r.pci.readConfig((1 << 3) | 1, 0x41, 1) & 0x80, 0x80, 'port enable bits: ata_piix uses both channels');
});
