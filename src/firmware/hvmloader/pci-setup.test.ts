import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setupPci, type PciConfigAccess } from './pci-setup.js';

/** A bus-0 configuration space with per-byte write masks, enough to size BARs. */
class FakePciSpace implements PciConfigAccess {
  private readonly fns = new Map<number, { config: Uint8Array; mask: Uint8Array }>();
  readonly writes: string[] = [];

  add(dev: number, fn: number, id: { vendor: number; device: number; cls: number; pin?: number }, bars: Array<{ kind: 'io' | 'mem32' | 'mem64'; size: number; prefetch?: boolean } | null> = [], romSize = 0): number {
    const config = new Uint8Array(256);
    const mask = new Uint8Array(256);
    const v = new DataView(config.buffer);
    const m = new DataView(mask.buffer);
    v.setUint16(0, id.vendor, true);
    v.setUint16(2, id.device, true);
    v.setUint16(0x0a, id.cls, true);
    config[0x3d] = id.pin ?? 0;
    m.setUint16(4, 0x0547, true);
    mask[0x3c] = 0xff;
    mask[0x40] = mask[0x41] = mask[0x42] = mask[0x43] = 0xff;
    mask[0x80] = 0xff;
    for (let o = 0x60; o < 0x64; o++) mask[o] = 0x8f;
    bars.forEach((b, i) => {
      if (!b) return;
      const off = 0x10 + 4 * i;
      v.setUint32(off, b.kind === 'io' ? 1 : (b.kind === 'mem64' ? 4 : 0) | (b.prefetch ? 8 : 0), true);
      // An I/O decoder of 16 address bits: the upper half reads 0 after sizing.
      m.setUint32(off, b.kind === 'io' ? ~(b.size - 1) & 0xfffc : ~(b.size - 1) & 0xfffffff0, true);
      if (b.kind === 'mem64') m.setUint32(off + 4, b.size > 2 ** 32 ? ~(b.size / 2 ** 32 - 1) >>> 0 : 0xffffffff, true);
    });
    if (romSize) m.setUint32(0x30, (~(romSize - 1) & 0xfffff800) | 1, true);
    const bdf = (dev << 3) | fn;
    this.fns.set(bdf, { config, mask });
    return bdf;
  }

  readConfig(bdf: number, offset: number, size: 1 | 2 | 4): number {
    const f = this.fns.get(bdf);
    if (!f) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    let v = 0;
    for (let i = 0; i < size; i++) v |= f.config[offset + i] << (8 * i);
    return v >>> 0;
  }

  writeConfig(bdf: number, offset: number, size: 1 | 2 | 4, value: number): void {
    const f = this.fns.get(bdf);
    if (!f) return;
    this.writes.push(`${bdf.toString(16)}:${offset.toString(16)}`);
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      f.config[o] = (f.config[o] & ~f.mask[o]) | ((value >>> (8 * i)) & f.mask[o]);
    }
  }

  functions(): number[] {
    return [...this.fns.keys()].sort((a, b) => a - b);
  }

  u32(bdf: number, off: number): number {
    return this.readConfig(bdf, off, 4);
  }
}

function platform() {
  const pci = new FakePciSpace();
  const host = pci.add(0, 0, { vendor: 0x8086, device: 0x1237, cls: 0x0600 });
  const isa = pci.add(1, 0, { vendor: 0x8086, device: 0x7000, cls: 0x0601 });
  for (let l = 0; l < 4; l++) pci.writeConfig(isa, 0x60 + l, 1, 0x80);
  const ide = pci.add(1, 1, { vendor: 0x8086, device: 0x7010, cls: 0x0101 }, [null, null, null, null, { kind: 'io', size: 16 }]);
  const pm = pci.add(1, 3, { vendor: 0x8086, device: 0x7113, cls: 0x0680, pin: 1 });
  const vga = pci.add(2, 0, { vendor: 0x1234, device: 0x1111, cls: 0x0300 }, [{ kind: 'mem32', size: 16 << 20, prefetch: true }, null, { kind: 'mem32', size: 0x1000 }], 0x10000);
  const nic = pci.add(3, 0, { vendor: 0x10ec, device: 0x8139, cls: 0x0200, pin: 1 }, [{ kind: 'io', size: 256 }, { kind: 'mem32', size: 256 }], 0x40000);
  const big = pci.add(4, 0, { vendor: 0x8086, device: 0x100e, cls: 0x0200, pin: 2 }, [{ kind: 'mem64', size: 32 << 20 }, null, { kind: 'io', size: 64 }]);
  return { pci, host, isa, ide, pm, vga, nic, big };
}

test('PIIX3 links A-D -> 5, 10, 11, 5; INTERRUPT_LINE by the barber pole; the PM function keeps 9', () => {
  const { pci, isa, pm, nic, big } = platform();
  const r = setupPci(pci, { lowMemEnd: 64 << 20, log: () => {} });
  assert.deepEqual([0, 1, 2, 3].map((l) => pci.readConfig(isa, 0x60 + l, 1)), [5, 10, 11, 5]);
  assert.deepEqual(r.linkIrqs, [5, 10, 11, 5]);
  // 00:03.0 INTA -> link (0 + 3) & 3 = D -> 5 (fact sheet example); 00:04.0 INTB -> (1 + 4) & 3 = B -> 10.
  assert.equal(pci.readConfig(nic, 0x3c, 1), 5);
  assert.equal(pci.readConfig(big, 0x3c, 1), 10);
  assert.equal(pci.readConfig(pm, 0x3c, 1), 9);
  assert.equal(pci.u32(pm, 0x40), 0xb001);
  assert.equal(pci.readConfig(pm, 0x80, 1), 0x01);
});

test('IDE legacy decode: IDETIM bit 15 on both channels', () => {
  const { pci, ide } = platform();
  setupPci(pci, { lowMemEnd: 64 << 20, log: () => {} });
  assert.equal(pci.readConfig(ide, 0x40, 2), 0x8000);
  assert.equal(pci.readConfig(ide, 0x42, 2), 0x8000);
});

test('memory BARs largest first from 0xF0000000, naturally aligned; I/O from 0xC000; ROMs disabled; 64-bit pairs', () => {
  const { pci, ide, vga, nic, big } = platform();
  const logs: string[] = [];
  const r = setupPci(pci, { lowMemEnd: 64 << 20, log: (m) => logs.push(m) });
  assert.equal(r.pciMemStart, 0xf0000000);
  assert.equal(r.vga, vga);
  // Sizes: big 32 MiB, vga 16 MiB, nic ROM 256 KiB, vga ROM 64 KiB, vga BAR2 4 KiB, nic 256 B.
  assert.equal(pci.u32(big, 0x10), 0xf0000004);
  assert.equal(pci.u32(big, 0x14), 0);
  assert.equal(pci.u32(vga, 0x10), 0xf2000008);
  assert.equal(pci.u32(nic, 0x30), 0xf3000000); // enable bit 0 stays clear
  assert.equal(pci.u32(vga, 0x30), 0xf3040000);
  assert.equal(pci.u32(vga, 0x18), 0xf3050000);
  assert.equal(pci.u32(nic, 0x14), 0xf3051000);
  // I/O: nic 256, big 64, ide 16.
  assert.equal(pci.u32(nic, 0x10), 0xc001);
  assert.equal(pci.u32(big, 0x18), 0xc101);
  assert.equal(pci.u32(ide, 0x20), 0xc141);
  // COMMAND: master everywhere, MEM/IO where assigned; the VGA gets IO although it has no I/O BAR.
  assert.equal(pci.readConfig(vga, 4, 2), 0x7);
  assert.equal(pci.readConfig(nic, 4, 2), 0x7);
  assert.equal(pci.readConfig(ide, 4, 2), 0x5);
  assert.ok(r.bars.every((b) => b.address !== null));
  for (const b of r.bars) assert.equal(b.address! % b.size, 0, `alignment of ${JSON.stringify(b)}`);
  assert.ok(logs.some((m) => m.includes('primary VGA')));
});

test('a hole too small for the BARs doubles downward, but never over low RAM', () => {
  const pci = new FakePciSpace();
  pci.add(0, 0, { vendor: 0x8086, device: 0x1237, cls: 0x0600 });
  const a = pci.add(2, 0, { vendor: 0x1234, device: 0x1111, cls: 0x0300 }, [{ kind: 'mem32', size: 256 << 20 }]);
  const r = setupPci(pci, { lowMemEnd: 256 << 20, log: () => {} });
  assert.equal(r.pciMemStart, 0xe0000000);
  assert.equal(pci.u32(a, 0x10), 0xe0000000);
  const logs: string[] = [];
  const r2 = setupPci(pci, { lowMemEnd: 0xe8000000, log: (m) => logs.push(m) });
  assert.equal(r2.pciMemStart, 0xf0000000);
  assert.equal(r2.bars[0].address, null);
  assert.ok(logs.some((m) => m.includes('does not fit')));
});

test('a 64-bit BAR larger than 4 GiB is reported and left alone', () => {
  const pci = new FakePciSpace();
  const f = pci.add(5, 0, { vendor: 0x1af4, device: 0x1000, cls: 0x0200 }, [{ kind: 'mem64', size: 2 ** 33 }]);
  const logs: string[] = [];
  const r = setupPci(pci, { lowMemEnd: 64 << 20, log: (m) => logs.push(m) });
  assert.equal(r.bars[0].size, 2 ** 33);
  assert.equal(r.bars[0].address, null);
  assert.equal(pci.u32(f, 0x10), 0x4);
  assert.ok(logs.some((m) => m.includes('does not fit')));
});
