// The strongest check of the VGA model: Debian's SeaVGABIOS for std-vga
// (vgabios-stdvga.bin) runs its POST on the emu CPU against this device — PCI
// config reads, Bochs DISPI detection, mode 3 set with the font loaded into plane 2
// — and then prints through INT 10h AH=0Eh; the text must come back from
// textScreen() and the glyphs from render().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import { EmuVcpu } from '../../cpu/emu/cpu.js';
import { IoBus } from '../bus/io-bus.js';
import { NO_IRQ } from '../bus/irq.js';
import { PciBus, bdfOf } from '../pci/pci-bus.js';
import { StdVga } from './device.js';
import { DISPI_ID5 } from './dispi.js';
import { CS } from '../../cpu/emu/state.js';

const VGA_BIOS = '/usr/share/seabios/vgabios-stdvga.bin';
const STUB = 0x1000;
const VRAM = 16 << 20;

function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-vga-'));
  try {
    writeFileSync(join(dir, 's.asm'), `bits 16\norg ${STUB}\n${source}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 's.bin'), join(dir, 's.asm')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(join(dir, 's.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Every interrupt vector points at an IRET, the option ROM is entered like SeaBIOS
// does (far call to C000:0003, AX = bdf, big real mode), SeaBIOS's console set-up
// (INT 10h AX=0003) follows, then INT 10h teletype prints two lines; after that
// HLT, a VBE mode set, then the same text in modes 12h and 13h.
const STUB_SOURCE = `
  cli
  xor ax, ax
  mov ss, ax
  mov sp, 0x7000
  mov ds, ax
  mov es, ax
  mov byte [0x0600], 0xcf
  xor di, di
  mov cx, 256
fill:
  mov word [di], 0x0600
  mov word [di + 2], 0
  add di, 4
  loop fill
  mov ax, 0x0010
  call 0xc000:0x0003
  mov ax, 0x0003
  int 0x10
  mov si, msg
print:
  mov al, [cs:si]
  test al, al
  jz done
  mov ah, 0x0e
  mov bx, 0x0007
  push si
  int 0x10
  pop si
  inc si
  jmp print
done:
  hlt
  ; Phase 2: VBE mode 0x115 (800x600, 24/32 bpp in SeaVGABIOS's Bochs list) with the LFB bit.
  mov ax, 0x4f02
  mov bx, 0x4115
  int 0x10
  mov [0x0700], ax
  hlt
  ; Phase 3: mode 12h (planar, the BIOS draws glyphs with the write modes), yellow text.
  mov ax, 0x0012
  mov cl, 0x0e
  call teletype
  hlt
  ; Phase 4: mode 13h (chain-4, 8x8 font), light red text.
  mov ax, 0x0013
  mov cl, 0x0c
  call teletype
  hlt
teletype:
  int 0x10
  mov si, msg
.next:
  mov al, [cs:si]
  test al, al
  jz .end
  mov ah, 0x0e
  mov bl, cl
  mov bh, 0
  push si
  push cx
  int 0x10
  pop cx
  pop si
  inc si
  jmp .next
.end:
  ret
msg: db 'Hello from INT 10h', 13, 10, 'tsxen std-vga', 0
`;

test("Debian's vgabios-stdvga.bin initialises the card and prints through INT 10h", () => {
  assert.ok(existsSync(VGA_BIOS), `${VGA_BIOS} is missing (apt-get install seabios)`);
  const rom = new Uint8Array(readFileSync(VGA_BIOS));
  const memory = new GuestMemory({ ramBytes: 16 << 20, romBytes: VRAM + (1 << 20) });
  const io = new IoBus();
  const pci = new PciBus(io, memory, () => NO_IRQ);
  io.registerPio(0xcf8, 8, pci.configPorts, 'pci-config');
  const off = memory.allocateBacking(VRAM);
  const vga = new StdVga({ vram: memory.bytes.subarray(off, off + VRAM), vramBackingOffset: off, rom });
  vga.registerLegacy(io);
  pci.attach(2, 0, vga);
  const bdf = bdfOf(2, 0);
  assert.equal(bdf, 0x10);
  // What hvmloader leaves: BARs assigned, I/O and memory decoding on.
  pci.writeConfig(bdf, 0x10, 4, 0xe0000000);
  pci.writeConfig(bdf, 0x18, 4, 0xe1000000);
  pci.writeConfig(bdf, 0x04, 2, 0x0003);
  // SeaBIOS copies the option ROM to C0000 (shadow RAM, writable during POST).
  memory.write(0xc0000, rom);
  memory.write(STUB, assemble(STUB_SOURCE));

  const ops: VmOps = {
    pioRead: (p, s) => io.pioRead(p, s),
    pioWrite: (p, s, v) => io.pioWrite(p, s, v),
    mmioRead: (a, s) => io.mmioRead(a, s),
    mmioWrite: (a, s, v) => io.mmioWrite(a, s, v),
    acknowledgeInterrupt: () => -1,
  };
  const vcpu = new EmuVcpu(memory, ops, new ManualClock());
  const cpu = vcpu.cpu;
  // SeaBIOS calls option ROMs in big real mode (4 GiB data segment limits): the
  // VGA BIOS reads the EDID through BAR2 with 32-bit offsets.
  for (let s = 0; s < 6; s++) {
    cpu.segSel[s] = 0;
    cpu.segBase[s] = 0;
    if (s !== CS) cpu.segLimit[s] = 0xffffffff;
  }
  cpu.modeChanged();
  cpu.eip = STUB;
  const runToHlt = () => {
    let exit = vcpu.run();
    for (let i = 0; i < 500 && exit.kind === 'interrupted'; i++) exit = vcpu.run();
    assert.equal(exit.kind, 'hlt', `VGA BIOS run ended with ${JSON.stringify(exit)}`);
  };
  runToHlt();

  assert.equal(vga.core.dispi.id, DISPI_ID5, 'the BIOS found Bochs DISPI and settled on ID 0xB0C5');
  const screen = vga.textScreen();
  assert.ok(screen, 'mode 3 is a text mode');
  assert.equal(screen.cols, 80);
  assert.equal(screen.rows, 25);
  assert.equal(screen.lines[0], 'Hello from INT 10h');
  assert.equal(screen.lines[1], 'tsxen std-vga');
  assert.deepEqual(screen.cursor, { row: 1, col: 13 });
  for (let r = 2; r < 25; r++) assert.equal(screen.lines[r], '');

  // The glyphs came from the BIOS's own 8x16 font in plane 2: 'H' has lit pixels in
  // its left column, and the blank cell after the text has none.
  const f = vga.render();
  assert.equal(f.width, 720);
  assert.equal(f.height, 400);
  const lit = (x0: number, y0: number, w: number, h: number) => {
    let n = 0;
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (f.rgba[(y * f.width + x) * 4] > 0x80) n++;
    return n;
  };
  assert.ok(lit(0, 0, 9, 16) >= 14, "'H' is drawn");
  assert.equal(lit(9 * 30, 0, 9, 16), 0, 'blank cells are black');
  const below = (2 * 16 + 8) * f.width * 4;
  assert.deepEqual([...f.rgba.subarray(below, below + 4)], [0, 0, 0, 0xff]);

  // VBE through the BIOS: DISPI programmed for 800x600 with the LFB, which is BAR0.
  cpu.halted = false;
  runToHlt();
  assert.equal(memory.readU16(0x0700), 0x004f, 'VBE call succeeded');
  const d = vga.core.dispi;
  assert.equal(d.enabled, true);
  assert.equal(d.xres, 800);
  assert.equal(d.yres, 600);
  assert.ok(d.bpp === 24 || d.bpp === 32, `bpp ${d.bpp}`);
  assert.equal(vga.textScreen(), null);
  const bytes = d.bpp / 8;
  memory.write(0xe0000000 + 10 * d.pitch + 20 * bytes, new Uint8Array([0x30, 0x20, 0x10]));
  const g = vga.render();
  assert.equal(g.width, 800);
  assert.equal(g.height, 600);
  const o = (10 * 800 + 20) * 4;
  assert.deepEqual([...g.rgba.subarray(o, o + 4)], [0x10, 0x20, 0x30, 0xff]);

  // Graphics-mode text: every pixel of the first character cell is the text colour
  // or black, and 'H' lights a glyph's worth of them.
  const glyphPixels = (w: number, h: number, colour: number[]) => {
    const frame = vga.render();
    let n = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const px = [...frame.rgba.subarray((y * frame.width + x) * 4, (y * frame.width + x) * 4 + 4)];
        if (px[0] === 0 && px[1] === 0 && px[2] === 0) continue;
        assert.deepEqual(px, colour, `pixel ${x},${y}`);
        n++;
      }
    }
    return { n, frame };
  };
  cpu.halted = false;
  runToHlt();
  assert.equal(vga.core.dispi.enabled, false, 'a VGA mode set turns DISPI off');
  const m12 = glyphPixels(8, 16, [0xff, 0xff, 0x55, 0xff]);
  assert.equal(m12.frame.width, 640);
  assert.equal(m12.frame.height, 480);
  assert.ok(m12.n >= 30, `'H' in mode 12h lit ${m12.n} pixels`);
  cpu.halted = false;
  runToHlt();
  const m13 = glyphPixels(8, 8, [0xff, 0x55, 0x55, 0xff]);
  assert.equal(m13.frame.width, 320);
  assert.equal(m13.frame.height, 200);
  assert.ok(m13.n >= 16, `'H' in mode 13h lit ${m13.n} pixels`);
});
