// runHvmloader on the lead's real PCI bus and chipset (HvmPlatform), then read the
// result back the way SeaBIOS and an OS would: info block -> table pointers and
// E820; RSDP -> XSDT -> FADT -> DSDT/FACS, MADT; SMBIOS; MP; $PIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoBus } from '../../devices/bus/io-bus.js';
import { NO_IRQ } from '../../devices/bus/irq.js';
import { PciFunction } from '../../devices/pci/pci-function.js';
import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import { HvmPlatform } from '../../hypervisor/hvm-platform.js';
import { byteSum } from './table-bytes.js';
import { runHvmloader, TABLE_AREA_BYTES, XEN_TABLE_AREA, type HvmloaderEnv } from './hvmloader.js';

const MiB = 1 << 20;

function machine(opts: { ramBytes?: number; xenTableArea?: boolean } = {}) {
  const ramBytes = opts.ramBytes ?? 64 * MiB;
  const io = new IoBus();
  const memory = new GuestMemory({ ramBytes, romBytes: 24 * MiB });
  const clock = new ManualClock();
  const platform = new HvmPlatform({
    bus: io,
    memory,
    clock,
    isaLine: () => NO_IRQ,
    gsiLine: () => NO_IRQ,
    powerOff: () => {},
    reset: () => {},
    log: () => {},
  }, { vga: 'none', vgaBios: null, drives: {}, xenPlatform: false });
  // A std-vga-like card: VRAM BAR0 as RAM-like backing, a 4 KiB MMIO BAR2, a ROM.
  const vramOffset = memory.allocateBacking(16 * MiB);
  const rom = new Uint8Array(39936);
  rom[0] = 0x55;
  rom[1] = 0xaa;
  const vga = new PciFunction(
    'std-vga',
    { vendorId: 0x1234, deviceId: 0x1111, classCode: 0x030000, revision: 2 },
    [{ kind: 'mem32', size: 16 * MiB, prefetchable: true, backingOffset: vramOffset }, null, { kind: 'mem32', size: 0x1000, mmio: { mmioRead: () => 0x42, mmioWrite: () => {} } }],
    rom,
  );
  platform.pci.attach(2, 0, vga);
  if (opts.xenTableArea) memory.mapBacking(XEN_TABLE_AREA, memory.allocateBacking(TABLE_AREA_BYTES), TABLE_AREA_BYTES, false);
  const cmos = new Map<number, number>();
  const ports: Array<[number, number]> = [];
  const mmio: Array<[number, number]> = [];
  const bios = new Uint8Array(256 * 1024);
  bios[bios.length - 16] = 0xea; // jmp far at the reset vector
  const env: HvmloaderEnv = {
    memory,
    pci: platform.pci,
    cmos: { setCmos: (i, v) => void cmos.set(i, v) },
    ramBytes,
    vcpus: 2,
    apic: true,
    acpi: true,
    bios,
    bootOrder: 'dc',
    outb: (port, value) => {
      ports.push([port, value]);
      io.pioWrite(port, 1, value);
    },
    mmioWrite32: (addr, value) => void mmio.push([addr, value]),
  };
  return { io, memory, platform, vga, cmos, ports, mmio, env };
}

const text = (m: GuestMemory, a: number, n: number) => String.fromCharCode(...m.read(a, n));
const sumAt = (m: GuestMemory, a: number, n: number) => byteSum(m.read(a, n));

/** The tables SeaBIOS would find through the info block, by signature. */
function seabiosView(memory: GuestMemory) {
  assert.equal(text(memory, 0x1000, 14), 'XenHVMSeaBIOS\0');
  const length = memory.readU8(0x1000 + 14);
  assert.ok(length >= 32);
  assert.equal(sumAt(memory, 0x1000, length), 0, 'info block checksum');
  const tablesAt = memory.readU32(0x1010);
  const count = memory.readU32(0x1014);
  const e820At = memory.readU32(0x1018);
  const e820Count = memory.readU32(0x101c);
  assert.ok(tablesAt >= 0x10000 && e820At >= 0x10000, 'arrays live in scratch >= 0x10000');
  assert.ok(count <= 4);
  const tables = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const a = memory.readU32(tablesAt + 4 * i);
    tables.set(text(memory, a, 4), a);
  }
  const e820 = [];
  for (let i = 0; i < e820Count; i++) {
    const a = e820At + 20 * i;
    e820.push({ addr: memory.readU32(a) + memory.readU32(a + 4) * 2 ** 32, size: memory.readU32(a + 8) + memory.readU32(a + 12) * 2 ** 32, type: memory.readU32(a + 16) });
  }
  return { tables, e820 };
}

test('runHvmloader on the real PCI bus: BARs, routing, PM, ELCR, CMOS, BIOS, entry point', () => {
  const m = machine();
  const r = runHvmloader(m.env);
  const pci = m.platform.pci;
  assert.deepEqual(r.entry, { cs: 0xf000, ip: 0xfff0 });
  // VGA: BAR0 VRAM at the start of the hole, BAR2 and the ROM after it; decoding on.
  const vga = (2 << 3) | 0;
  assert.equal(pci.readConfig(vga, 0x10, 4), 0xf0000008);
  assert.equal(m.vga.barAddress(0), 0xf0000000);
  assert.equal(m.vga.barAddress(2), 0xf1010000);
  assert.equal(pci.readConfig(vga, 0x30, 4), 0xf1000000, 'ROM BAR assigned, enable bit clear');
  assert.equal(pci.readConfig(vga, 0x04, 2) & 7, 7);
  assert.equal(pci.readConfig(vga, 0x3c, 1), 0, 'no pin: INTERRUPT_LINE untouched');
  // VRAM reachable at RAM speed through its backing, MMIO BAR2 on the bus.
  m.memory.writeU32(0xf0000100, 0x12345678);
  assert.equal(m.memory.bytes[m.memory.frameOffset[0xf0000] + 0x100], 0x78);
  assert.equal(m.io.mmioRead(0xf1010000, 4), 0x42);
  // PIIX3 links, PM function, SCI_EN through APM 0xB2, ELCR.
  assert.deepEqual([0, 1, 2, 3].map((l) => pci.readConfig(1 << 3, 0x60 + l, 1)), [5, 10, 11, 5]);
  const pm = (1 << 3) | 3;
  assert.equal(pci.readConfig(pm, 0x40, 4), 0xb001);
  assert.equal(pci.readConfig(pm, 0x80, 1) & 1, 1);
  assert.equal(pci.readConfig(pm, 0x3c, 1), 9);
  assert.equal(m.platform.pm.acpiEnabled, true);
  assert.equal(m.io.pioRead(0xb004, 2) & 1, 1, 'PM1a_CNT.SCI_EN reads back at PMBA + 4');
  assert.deepEqual(m.ports.filter(([p]) => p === 0x4d0 || p === 0x4d1), [[0x4d0, 0x20], [0x4d1, 0x0c]]);
  // Virtual wire B: IOAPIC ID, RTE0 ExtINT; LAPIC SVR/LVT0/LVT1.
  assert.deepEqual(m.mmio, [
    [0xfec00000, 0], [0xfec00010, 1 << 24],
    [0xfec00000, 0x11], [0xfec00010, 0],
    [0xfec00000, 0x10], [0xfec00010, 0x700],
    [0xfee000f0, 0x1ff], [0xfee00350, 0x10700], [0xfee00360, 0x400],
  ]);
  // CMOS: low RAM ends 64 KiB below 64 MiB (tables on top); boot 'dc' = CD then disk.
  const c16 = (i: number) => m.cmos.get(i)! | (m.cmos.get(i + 1)! << 8);
  assert.equal(c16(0x15), 640);
  assert.equal(c16(0x17), (64 * MiB - 0x10000 - MiB) / 1024);
  assert.equal(c16(0x34), (64 * MiB - 0x10000 - 16 * MiB) >>> 16);
  assert.equal(m.cmos.get(0x3d), 0x23);
  assert.equal(m.cmos.get(0x38), 0x00);
  // BIOS ends at 1 MiB: its last 16 bytes hold the reset vector.
  assert.equal(r.placement.biosBase, 0xc0000);
  assert.equal(m.memory.readU8(0xffff0), 0xea);
});

test('SeaBIOS view: info block, E820, SMBIOS, MP, $PIR and RSDP all valid', () => {
  const m = machine();
  const r = runHvmloader(m.env);
  const { tables, e820 } = seabiosView(m.memory);
  assert.deepEqual([...tables.keys()], ['_SM_', '_MP_', '$PIR', 'RSD ']);
  assert.deepEqual(e820, r.e820);
  assert.deepEqual(e820.map((e) => e.type), [1, 2, 1, 4, 2]);
  const top = 64 * MiB - TABLE_AREA_BYTES;
  assert.deepEqual(e820[2], { addr: MiB, size: top - MiB, type: 1 });
  assert.deepEqual(e820[3], { addr: top, size: TABLE_AREA_BYTES, type: 4 });
  assert.equal(e820[4].addr + e820[4].size, 2 ** 32);
  // SMBIOS EP: both checksums; its structure table lies in the NVS table area.
  const sm = tables.get('_SM_')!;
  assert.equal(sm % 16, 0);
  assert.equal(sumAt(m.memory, sm, 0x1f), 0);
  assert.equal(sumAt(m.memory, sm + 0x10, 0x0f), 0);
  const smTable = m.memory.readU32(sm + 0x18);
  assert.ok(smTable >= top && smTable < 64 * MiB);
  assert.equal(m.memory.readU8(smTable), 0, 'first structure is type 0');
  // MP: pointer + config within SeaBIOS's 600 bytes, both checksummed.
  const mp = tables.get('_MP_')!;
  assert.equal(sumAt(m.memory, mp, 16), 0);
  const cfg = m.memory.readU32(mp + 4);
  const cfgLen = m.memory.readU16(cfg + 4);
  assert.equal(text(m.memory, cfg, 4), 'PCMP');
  assert.equal(sumAt(m.memory, cfg, cfgLen), 0);
  assert.ok(16 + cfgLen <= 600);
  // $PIR: a slot per device other than the host bridge (1 and 2).
  const pir = tables.get('$PIR')!;
  const pirLen = m.memory.readU16(pir + 6);
  assert.equal(pirLen, 32 + 2 * 16);
  assert.equal(sumAt(m.memory, pir, pirLen), 0);
  // RSDP: the 20-byte and 36-byte checksums.
  const rsdp = tables.get('RSD ')!;
  assert.equal(text(m.memory, rsdp, 8), 'RSD PTR ');
  assert.equal(sumAt(m.memory, rsdp, 20), 0);
  assert.equal(sumAt(m.memory, rsdp, 36), 0);
});

test('OS view of ACPI: RSDP -> XSDT/RSDT -> FADT -> DSDT, FACS; MADT; all checksummed, in the NVS area', () => {
  const m = machine({ xenTableArea: true });
  const r = runHvmloader(m.env);
  const { tables, e820 } = seabiosView(m.memory);
  // Xen's layout: tables from 0xFC001000, E820 NVS from 0xFC000000, RAM up to 64 MiB.
  assert.deepEqual(e820[2], { addr: MiB, size: 63 * MiB, type: 1 });
  assert.deepEqual(e820[3], { addr: 0xfc000000, size: TABLE_AREA_BYTES, type: 4 });
  const rsdp = tables.get('RSD ')!;
  const rsdt = m.memory.readU32(rsdp + 16);
  const xsdt = m.memory.readU32(rsdp + 24);
  const table = (a: number, sig: string) => {
    assert.equal(text(m.memory, a, 4), sig);
    const len = m.memory.readU32(a + 4);
    assert.equal(sumAt(m.memory, a, len), 0, `${sig} checksum`);
    assert.ok(a >= 0xfc001000 && a + len <= 0xfc000000 + TABLE_AREA_BYTES, `${sig} inside the table area`);
    return len;
  };
  const xLen = table(xsdt, 'XSDT');
  const rLen = table(rsdt, 'RSDT');
  const xEntries = Array.from({ length: (xLen - 36) / 8 }, (_, i) => m.memory.readU32(xsdt + 36 + 8 * i));
  const rEntries = Array.from({ length: (rLen - 36) / 4 }, (_, i) => m.memory.readU32(rsdt + 36 + 4 * i));
  assert.deepEqual(xEntries, rEntries);
  const sigs = xEntries.map((a) => text(m.memory, a, 4));
  assert.deepEqual(sigs, ['FACP', 'APIC']);
  const fadt = xEntries[0];
  table(fadt, 'FACP');
  const dsdt = m.memory.readU32(fadt + 40);
  table(dsdt, 'DSDT');
  const facs = m.memory.readU32(fadt + 36);
  assert.equal(facs % 64, 0);
  assert.equal(text(m.memory, facs, 4), 'FACS');
  assert.equal(m.memory.readU32(fadt + 140), dsdt);
  table(xEntries[1], 'APIC');
  assert.equal(r.placement.acpi?.madt, xEntries[1]);
});

test('without APIC only SMBIOS and RSDP are listed and the RSDT has no MADT; without ACPI no RSDP', () => {
  const m = machine();
  m.env.apic = false;
  m.env.vcpus = 1;
  const r = runHvmloader(m.env);
  assert.deepEqual([...seabiosView(m.memory).tables.keys()], ['_SM_', 'RSD ']);
  assert.equal(r.placement.acpi?.madt, null);
  assert.equal(m.mmio.length, 0);
  const m2 = machine();
  m2.env.acpi = false;
  runHvmloader(m2.env);
  assert.deepEqual([...seabiosView(m2.memory).tables.keys()], ['_SM_', '_MP_', '$PIR']);
});

test("20 vCPUs: the MP table would exceed SeaBIOS's 600 bytes, so only $PIR is listed; MADT and SMBIOS list all CPUs", () => {
  const m = machine({ xenTableArea: true });
  const r = runHvmloader({ ...m.env, vcpus: 20 });
  assert.deepEqual([...seabiosView(m.memory).tables.keys()], ['_SM_', '$PIR', 'RSD ']);
  assert.equal(r.placement.mp, null);
  assert.ok(r.log.some((l) => l.includes('exceeds SeaBIOS')));
  const madt = r.placement.acpi!.madt!;
  let lapics = 0;
  for (let at = madt + 44; at < madt + m.memory.readU32(madt + 4); at += m.memory.readU8(at + 1)) if (m.memory.readU8(at) === 0) lapics++;
  assert.equal(lapics, 20);
  const sm = seabiosView(m.memory).tables.get('_SM_')!;
  assert.equal(m.memory.readU16(sm + 0x1c), 8 + 20, 'types 0,1,3,16,17,19,32,127 plus 20 processors');
});

test('bad inputs are refused with a clear error, and missing port access is logged, not fatal', () => {
  const m = machine();
  assert.throws(() => runHvmloader({ ...m.env, vcpus: 0 }), /vCPUs/);
  assert.throws(() => runHvmloader({ ...m.env, ramBytes: 128 * MiB }), /RAM/);
  assert.throws(() => runHvmloader({ ...m.env, bios: new Uint8Array(1000) }), /BIOS/);
  const r = runHvmloader({ ...m.env, outb: undefined, mmioWrite32: undefined, bootOrder: 'cz' });
  assert.ok(r.log.some((l) => l.includes('ELCR should be 0x4d0=0x20 0x4d1=0x0c')));
  assert.ok(r.log.some((l) => l.includes("ignored 'z'")));
});

function haveTool(tool: string): boolean {
  return spawnSync(tool, ['-v'], { encoding: 'utf8' }).error === undefined;
}
const TOOLS = haveTool('iasl') && haveTool('acpiexec');
const SKIP = TOOLS ? false : 'SKIPPED: acpica-tools (iasl, acpiexec) not installed; run `apt-get install -y acpica-tools`';
if (!TOOLS) console.warn(`\n*** hvmloader.test: ${SKIP} ***\n`);

test('ACPICA accepts the tables from guest memory: iasl -d on RSDT/XSDT/FACP/APIC/FACS, acpiexec loads FADT+FACS+DSDT+MADT', { skip: SKIP }, () => {
  const m = machine({ xenTableArea: true });
  const r = runHvmloader(m.env);
  const a = r.placement.acpi!;
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-acpi-'));
  try {
    const dump = (name: string, addr: number, len = m.memory.readU32(addr + 4)) => writeFileSync(join(dir, name), m.memory.read(addr, len));
    dump('facp.dat', a.fadt);
    dump('apic.dat', a.madt!);
    dump('facs.dat', a.facs, 64);
    dump('dsdt.dat', a.dsdt);
    dump('rsdt.dat', a.rsdt);
    dump('xsdt.dat', a.xsdt);
    for (const f of ['facp.dat', 'apic.dat', 'facs.dat', 'rsdt.dat', 'xsdt.dat']) {
      const dis = spawnSync('iasl', ['-d', f], { cwd: dir, encoding: 'utf8' });
      assert.equal(dis.status, 0, dis.stdout + dis.stderr);
      assert.doesNotMatch(dis.stdout + dis.stderr, /error|invalid|warning|incorrect/i, `${f}: ${dis.stdout}${dis.stderr}`);
    }
    const run = spawnSync('acpiexec', ['-b', 'evaluate \\_S5', 'facp.dat', 'dsdt.dat', 'apic.dat', 'facs.dat'], { cwd: dir, encoding: 'utf8' });
    const out = run.stdout + run.stderr;
    assert.equal(run.status, 0, out);
    assert.match(out, /FACP .* \(v04 Xen\s+HVM/);
    assert.match(out, /APIC .* \(v02 Xen\s+HVM/);
    // Our FADT drives the GPE setup: GPE0 at 0xAFE0, 4 bytes = 2 registers, SCI 9.
    assert.match(out, /Initialized GPE 00 to 0F \[_GPE\] 2 regs on interrupt 0x9 \(SCI\)/);
    assert.match(out, /\[Package\] Contains 4 Elements/);
    // acpiexec's built-in hardware self-tests (aetests.c) poke PM2_CNT (ARB_DISABLE) and
    // GPE numbers beyond a 16-GPE block; like Xen's, our FADT has neither.
    const lines = out.split('\n').filter((l) => !/^Unexpected AE_BAD_(ADDRESS|PARAMETER) from Acpi(WriteBitRegister|ReadBitRegister|InstallGpeHandler|EnableGpe|DisableGpe) \(aetests-\d+\)$/.test(l));
    assert.doesNotMatch(lines.join('\n'), /Error|Warning|AE_[A-Z]/i, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
