import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoBus } from '../bus/io-bus.js';
import { NO_IRQ } from '../bus/irq.js';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { PciBus, bdfOf } from '../pci/pci-bus.js';
import { StdVga } from './device.js';

const VRAM = 16 << 20;

function rig() {
  const io = new IoBus();
  const memory = new GuestMemory({ ramBytes: 32 << 20, romBytes: VRAM + (1 << 20) });
  const bus = new PciBus(io, memory, () => NO_IRQ);
  io.registerPio(0xcf8, 8, bus.configPorts, 'pci-config');
  const off = memory.allocateBacking(VRAM);
  const rom = new Uint8Array(39936);
  rom.set([0x55, 0xaa, 39936 / 512]);
  const vga = new StdVga({ vram: memory.bytes.subarray(off, off + VRAM), vramBackingOffset: off, rom });
  vga.registerLegacy(io);
  bus.attach(2, 0, vga);
  const bdf = bdfOf(2, 0);
  return { io, memory, bus, vga, bdf };
}

test('PCI identity, BAR sizes (16 MiB prefetchable VRAM, 4 KiB MMIO) and the ROM BAR', () => {
  const { bus, bdf } = rig();
  assert.equal(bus.readConfig(bdf, 0x00, 4), 0x11111234);
  assert.equal(bus.readConfig(bdf, 0x08, 4), 0x03000002, 'class 030000, revision 2');
  for (const [reg, want] of [
    [0x10, 0xff000008],
    [0x14, 0],
    [0x18, 0xfffff000],
    [0x30, 0xffff0001],
  ] as const) {
    bus.writeConfig(bdf, reg, 4, 0xffffffff);
    assert.equal(bus.readConfig(bdf, reg, 4), want, `config ${reg.toString(16)}`);
  }
});

test('BAR0 maps VRAM linearly and the planar window sees the same bytes; BAR2 reaches DISPI, VGA ports and the QEMU extension', () => {
  const { io, memory, bus, vga, bdf } = rig();
  bus.writeConfig(bdf, 0x10, 4, 0xe0000000);
  bus.writeConfig(bdf, 0x18, 4, 0xe1000000);
  bus.writeConfig(bdf, 0x04, 2, 0x0003);
  // Linear write at VRAM byte 0x4005 = planar address 0x1001, plane 1.
  memory.writeU8(0xe0004005, 0x5c);
  assert.equal(vga.core.vram[0x4005], 0x5c);
  io.pioWrite(0x3ce, 2, 0x0506); // GR6: graphics, A0000/64K
  io.pioWrite(0x3c4, 2, 0x0604); // SR4: planar, odd/even off
  io.pioWrite(0x3ce, 2, 0x0104); // GR4: read plane 1
  assert.equal(io.mmioRead(0xa1001, 1), 0x5c);
  // And the other way: a planar write to plane 3 shows up through BAR0.
  io.pioWrite(0x3c4, 2, 0x0802);
  io.pioWrite(0x3ce, 2, 0xff08);
  io.mmioWrite(0xa0002, 1, 0x99);
  assert.equal(memory.readU8(0xe0000000 + 2 * 4 + 3), 0x99);

  const mmio = 0xe1000000;
  assert.equal(io.mmioRead(mmio + 0x500, 2), 0xb0c0, 'DISPI ID at 0x500');
  io.mmioWrite(mmio + 0x500 + 2 * 1, 2, 1024);
  io.mmioWrite(mmio + 0x500 + 2 * 2, 2, 768);
  io.mmioWrite(mmio + 0x500 + 2 * 3, 2, 32);
  io.mmioWrite(mmio + 0x500 + 2 * 4, 2, 0x41);
  assert.equal(vga.core.dispi.enabled, true);
  io.pioWrite(0x1ce, 2, 1);
  assert.equal(io.pioRead(0x1cf, 2), 1024, 'ports and BAR2 share the DISPI registers');
  assert.equal(io.mmioRead(mmio + 0x500 + 2 * 0xa, 2), 256, '256 × 64 KiB of VRAM');
  assert.equal(io.mmioRead(mmio + 0x503, 1), 0x04, 'byte read of XRES high byte');
  io.mmioWrite(mmio + 0x502, 1, 0x20); // byte write: XRES low byte → 0x420 = 1056
  assert.equal(vga.core.dispi.xres, 1056);
  // VGA ports at 0x400 + (port - 0x3C0): a word write is index then data.
  io.mmioWrite(mmio + 0x408, 1, 7); // 0x3C8 DAC write index
  io.mmioWrite(mmio + 0x409, 1, 0x11);
  io.mmioWrite(mmio + 0x409, 1, 0x22);
  io.mmioWrite(mmio + 0x409, 1, 0x33);
  assert.deepEqual([...vga.core.regs.palette.subarray(21, 24)], [0x11, 0x22, 0x33]);
  io.mmioWrite(mmio + 0x404, 2, 0x0f02); // 0x3C4/0x3C5: SR2 = 0x0F
  assert.equal(vga.core.regs.sr[2], 0x0f);
  assert.equal(io.mmioRead(mmio + 0x404, 1), 2);
  io.mmioWrite(mmio + 0x400, 1, 0x20); // 0x3C0: PAS on, as bochs-drm does
  assert.equal(vga.core.regs.arIndex, 0x20);
  assert.equal(io.mmioRead(mmio + 0x600, 4), 8);
  assert.equal(io.mmioRead(mmio + 0x604, 4), 0x1e1e1e1e);
  assert.equal(io.mmioRead(mmio + 0x000, 4), 0xffffff00, 'EDID header');
  assert.equal(io.mmioRead(mmio + 0xffc, 4), 0);
  // The LFB drawn through BAR0 appears in render().
  memory.writeU32(0xe0000000 + (3 * 1056 + 2) * 4, 0x00102030);
  const f = vga.render();
  assert.equal(f.width, 1056);
  const o = (3 * f.width + 2) * 4;
  assert.deepEqual([...f.rgba.subarray(o, o + 4)], [0x10, 0x20, 0x30, 0xff]);
});

test('legacy decodes: the VGA ports of 0x3B0-0x3DF, 0x1CE-0x1D0, window 0xA0000-0xBFFFF', () => {
  const { io } = rig();
  const names = io.describe().join('\n');
  for (const range of ['0x03b4-0x03b5', '0x03ba-0x03ba', '0x03c0-0x03cf', '0x03d4-0x03d5', '0x03da-0x03da']) {
    assert.match(names, new RegExp(`pio ${range} vga\n`));
  }
  assert.equal(io.pioRead(0x3bc, 1), 0xff, 'LPT1 ports are left free');
  io.registerPio(0x3bc, 4, { pioRead: () => 0x42, pioWrite: () => {} }, 'lpt1');
  assert.equal(io.pioRead(0x3bc, 1), 0x42);
  assert.match(names, /pio 0x01ce-0x01d0 vga-dispi/);
  assert.match(names, /mmio 0x000a0000-0x000bffff vga-window/);
  // 0x1CF is a 16-bit data port even though it is odd.
  io.pioWrite(0x1ce, 2, 3);
  io.pioWrite(0x1cf, 2, 16);
  assert.equal(io.pioRead(0x1cf, 2), 16);
  io.pioWrite(0x1ce, 2, 0);
  io.pioWrite(0x1cf, 2, 0xb0c5);
  assert.equal(io.pioRead(0x1cf, 2), 0xb0c5);
  io.pioWrite(0x1cf, 2, 0x1234); // not an ID: ignored
  assert.equal(io.pioRead(0x1cf, 2), 0xb0c5);
});
