// Each firmware table on its own: lengths, checksums, and the fields guests read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteSum, TableBytes } from './table-bytes.js';
import { buildFacs, buildFadt, buildMadt, buildRootTable, buildRsdp, FADT_LENGTH } from './acpi/tables.js';
import { buildMpTable, buildPirTable, mpTableLength, SEABIOS_MP_LIMIT } from './mp-table.js';
import { buildSmbiosEntryPoint, buildSmbiosStructures } from './smbios.js';
import { buildInfoBlock } from './info-block.js';
import { bootOrderCmos, writeCmosMemorySizes } from './cmos.js';
import { buildE820, encodeE820 } from './e820.js';

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const text = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));

test('TableBytes.checksum makes a range sum to zero; u64 splits high and low', () => {
  const t = new TableBytes(8).u32(0, 0xdeadbeef).u8(5, 0x42);
  t.checksum(7);
  assert.equal(byteSum(t.bytes), 0);
  const q = new TableBytes(8).u64(0, 0x1_2345_6789);
  assert.equal(u32(q.bytes, 0), 0x23456789);
  assert.equal(u32(q.bytes, 4), 1);
});

test('RSDP v2: both checksums, RSDT and XSDT addresses, length 36', () => {
  const r = buildRsdp(0xfc001234, 0xfc005678);
  assert.equal(r.length, 36);
  assert.equal(text(r, 0, 8), 'RSD PTR ');
  assert.equal(byteSum(r, 0, 20), 0);
  assert.equal(byteSum(r, 0, 36), 0);
  assert.equal(r[15], 2);
  assert.equal(u32(r, 16), 0xfc001234);
  assert.equal(u32(r, 20), 36);
  assert.equal(u32(r, 24), 0xfc005678);
  assert.equal(u32(r, 28), 0);
});

test('RSDT has u32 entries, XSDT u64; both checksummed with the header length', () => {
  const rsdt = buildRootTable('RSDT', [0x1000, 0x2000]);
  const xsdt = buildRootTable('XSDT', [0x1000, 0x2000]);
  assert.equal(rsdt.length, 44);
  assert.equal(xsdt.length, 52);
  assert.equal(u32(rsdt, 4), 44);
  assert.equal(byteSum(rsdt), 0);
  assert.equal(byteSum(xsdt), 0);
  assert.equal(u32(rsdt, 40), 0x2000);
  assert.equal(u32(xsdt, 44), 0x2000);
  assert.equal(text(rsdt, 10, 6), 'Xen   ');
});

test('FADT rev 4: PM blocks at 0xB000, SCI 9, SMI_CMD 0, RESET_REG 0xCF9 = 6, X_ fields equal', () => {
  const f = buildFadt({ facs: 0xfc001000, dsdt: 0xfc001040, gpe0Block: 0xafe0 });
  assert.equal(f.length, FADT_LENGTH);
  assert.equal(text(f, 0, 4), 'FACP');
  assert.equal(f[8], 4);
  assert.equal(byteSum(f), 0);
  assert.equal(u32(f, 36), 0xfc001000);
  assert.equal(u32(f, 40), 0xfc001040);
  assert.equal(u16(f, 46), 9);
  assert.equal(u32(f, 48), 0);
  assert.deepEqual([u32(f, 56), u32(f, 64), u32(f, 76), u32(f, 80)], [0xb000, 0xb004, 0xb008, 0xafe0]);
  assert.deepEqual([...f.subarray(88, 94)], [4, 2, 0, 4, 4, 0]);
  assert.equal(u16(f, 109), 2);
  const flags = u32(f, 112);
  assert.ok(flags & (1 << 10), 'RESET_REG_SUP');
  assert.ok(flags & (1 << 8), 'TMR_VAL_EXT');
  assert.deepEqual([...f.subarray(116, 120)], [1, 8, 0, 1]);
  assert.equal(u32(f, 120), 0xcf9);
  assert.equal(f[128], 6);
  assert.equal(u32(f, 132), 0xfc001000);
  assert.equal(u32(f, 140), 0xfc001040);
  // X_PM1a_EVT, X_PM1a_CNT, X_PM_TMR, X_GPE0: I/O space, widths = LEN * 8.
  for (const [off, width, port] of [[148, 32, 0xb000], [172, 16, 0xb004], [208, 32, 0xb008], [220, 32, 0xafe0]]) {
    assert.equal(f[off], 1);
    assert.equal(f[off + 1], width);
    assert.equal(u32(f, off + 4), port);
  }
  const noGpe = buildFadt({ facs: 0, dsdt: 0, gpe0Block: 0 });
  assert.equal(noGpe[92], 0);
  assert.equal(u32(noGpe, 224), 0);
});

test('FACS: 64 bytes, signature, version 1', () => {
  const f = buildFacs();
  assert.equal(f.length, 64);
  assert.equal(text(f, 0, 4), 'FACS');
  assert.equal(u32(f, 4), 64);
  assert.equal(f[32], 1);
});

test('MADT: a LAPIC per vCPU (ID 2n), the IOAPIC, IRQ0 -> GSI 2 and 5/9/10/11 level', () => {
  const m = buildMadt(3);
  assert.equal(text(m, 0, 4), 'APIC');
  assert.equal(u32(m, 4), m.length);
  assert.equal(byteSum(m), 0);
  assert.equal(u32(m, 36), 0xfee00000);
  assert.equal(u32(m, 40), 1);
  const entries: Uint8Array[] = [];
  for (let at = 44; at < m.length; at += m[at + 1]) entries.push(m.subarray(at, at + m[at + 1]));
  const lapics = entries.filter((e) => e[0] === 0);
  assert.deepEqual(lapics.map((e) => [e[2], e[3], u32(e, 4)]), [[0, 0, 1], [1, 2, 1], [2, 4, 1]]);
  const ioapic = entries.filter((e) => e[0] === 1);
  assert.equal(ioapic.length, 1);
  assert.deepEqual([ioapic[0][2], u32(ioapic[0], 4), u32(ioapic[0], 8)], [1, 0xfec00000, 0]);
  const overrides = entries.filter((e) => e[0] === 2).map((e) => [e[3], u32(e, 4), u16(e, 8)]);
  assert.deepEqual(overrides, [[0, 2, 0], [5, 5, 0x0f], [9, 9, 0x0f], [10, 10, 0x0f], [11, 11, 0x0f]]);
});

test('MP table: pointer + config with checksums, CPU/bus/IOAPIC/interrupt entries, fits SeaBIOS for few CPUs', () => {
  const at = 0x10040;
  const t = buildMpTable(at, { vcpus: 2, cpuSignature: 0x620, cpuFeatures: 0x1234 });
  assert.equal(t.length, mpTableLength(2));
  assert.ok(t.length <= SEABIOS_MP_LIMIT);
  assert.equal(text(t, 0, 4), '_MP_');
  assert.equal(u32(t, 4), at + 16);
  assert.equal(t[8], 1);
  assert.equal(t[9], 4);
  assert.equal(byteSum(t, 0, 16), 0);
  assert.equal(t[12], 0);
  const c = t.subarray(16);
  assert.equal(text(c, 0, 4), 'PCMP');
  assert.equal(u16(c, 4), c.length);
  assert.equal(byteSum(c), 0);
  assert.equal(u32(c, 36), 0xfee00000);
  const entries: Uint8Array[] = [];
  for (let o = 44; o < c.length; o += c[o] === 0 ? 20 : 8) entries.push(c.subarray(o, o + (c[o] === 0 ? 20 : 8)));
  assert.equal(u16(c, 34), entries.length);
  const cpus = entries.filter((e) => e[0] === 0);
  assert.deepEqual(cpus.map((e) => [e[1], e[3], u32(e, 4), u32(e, 8)]), [[0, 3, 0x620, 0x1234], [2, 1, 0x620, 0x1234]]);
  assert.equal(text(entries.find((e) => e[0] === 1)!, 2, 6), 'ISA   ');
  const ints = entries.filter((e) => e[0] === 3).map((e) => ({ kind: e[1], flags: u16(e, 2), irq: e[5], pin: e[7] }));
  assert.deepEqual(ints[0], { kind: 3, flags: 0, irq: 0, pin: 0 });
  assert.deepEqual(ints.find((i) => i.kind === 0 && i.irq === 0), { kind: 0, flags: 0, irq: 0, pin: 2 });
  assert.equal(ints.find((i) => i.irq === 2), undefined);
  assert.equal(ints.find((i) => i.irq === 10)!.flags, 0x0f);
  assert.equal(ints.find((i) => i.irq === 4)!.flags, 0);
  assert.ok(mpTableLength(19) <= SEABIOS_MP_LIMIT);
  assert.ok(mpTableLength(20) > SEABIOS_MP_LIMIT);
});

test('$PIR: header, slots with link = 0x60 + ((dev + pin) & 3), checksum', () => {
  const p = buildPirTable([1, 2, 3], [5, 10, 11, 5]);
  assert.equal(p.length, 32 + 48);
  assert.equal(text(p, 0, 4), '$PIR');
  assert.equal(u16(p, 4), 0x0100);
  assert.equal(u16(p, 6), p.length);
  assert.equal(p[9], 0x08);
  assert.deepEqual([u16(p, 12), u16(p, 14)], [0x8086, 0x122e]);
  assert.equal(byteSum(p), 0);
  const slot = p.subarray(32 + 32, 48 + 32); // device 3
  assert.equal(slot[1], 3 << 3);
  assert.deepEqual([slot[2], slot[5], slot[8], slot[11]], [0x63, 0x60, 0x61, 0x62]);
  assert.equal(u16(slot, 3), 0x0c20);
});

test('SMBIOS: entry point checksums and counts; structures walk to type 127 with the listed types', () => {
  const s = buildSmbiosStructures({ vcpus: 2, ramBytes: 256 << 20, cpuSignature: 0x620, cpuFeatures: 0x1 });
  const ep = buildSmbiosEntryPoint(0xfc002000, s.table.length, s.count, s.maxSize);
  assert.equal(ep.length, 0x1f);
  assert.equal(text(ep, 0, 4), '_SM_');
  assert.equal(text(ep, 0x10, 5), '_DMI_');
  assert.equal(byteSum(ep), 0);
  assert.equal(byteSum(ep, 0x10, 0x1f), 0);
  assert.deepEqual([ep[6], ep[7], ep[0x1e]], [2, 4, 0x24]);
  assert.equal(u16(ep, 0x16), s.table.length);
  assert.equal(u32(ep, 0x18), 0xfc002000);
  assert.equal(u16(ep, 0x1c), s.count);
  // Walk: formatted area, then strings up to a double NUL.
  const t = s.table;
  const seen: Array<{ type: number; handle: number; strings: string[]; at: number }> = [];
  let at = 0;
  let max = 0;
  while (at < t.length) {
    const type = t[at];
    const len = t[at + 1];
    let end = at + len;
    const strings: string[] = [];
    let cur = '';
    while (!(t[end] === 0 && t[end + 1] === 0)) {
      if (t[end] === 0) {
        strings.push(cur);
        cur = '';
      } else cur += String.fromCharCode(t[end]);
      end++;
    }
    if (cur) strings.push(cur);
    end += 2;
    max = Math.max(max, end - at);
    seen.push({ type, handle: u16(t, at + 2), strings, at });
    at = end;
    if (type === 127) break;
  }
  assert.equal(at, t.length);
  assert.equal(max, s.maxSize);
  assert.deepEqual(seen.map((x) => x.type), [0, 1, 3, 4, 4, 16, 17, 19, 32, 127]);
  assert.deepEqual(seen.map((x) => x.handle), [...seen.keys()]);
  assert.deepEqual(seen[1].strings.slice(0, 2), ['Xen', 'HVM domU']);
  const t17 = seen.find((x) => x.type === 17)!;
  assert.equal(u16(t, t17.at + 0x0c), 256);
  assert.equal(u16(t, t17.at + 4), seen.find((x) => x.type === 16)!.handle);
  const t19 = seen.find((x) => x.type === 19)!;
  assert.equal(u32(t, t19.at + 8), 256 * 1024 - 1);
  const t4 = seen.find((x) => x.type === 4)!;
  assert.equal(u32(t, t4.at + 8), 0x620);
  assert.equal(t[t4.at + 0x18], 0x41);
});

test('info block: signature, length 32, checksum, fields', () => {
  const b = buildInfoBlock({ tables: 0x10100, tablesCount: 3, e820: 0x10200, e820Count: 6 });
  assert.equal(b.length, 32);
  assert.equal(text(b, 0, 14), 'XenHVMSeaBIOS\0');
  assert.equal(b[14], 32);
  assert.equal(byteSum(b), 0);
  assert.deepEqual([u32(b, 16), u32(b, 20), u32(b, 24), u32(b, 28)], [0x10100, 3, 0x10200, 6]);
});

test('CMOS: sizes capped, boot order nibbles', () => {
  const cmos = new Map<number, number>();
  writeCmosMemorySizes({ setCmos: (i, v) => void cmos.set(i, v) }, 32 << 20);
  assert.equal(cmos.get(0x15)! | (cmos.get(0x16)! << 8), 640);
  assert.equal(cmos.get(0x17)! | (cmos.get(0x18)! << 8), 31 * 1024);
  assert.equal(cmos.get(0x30)! | (cmos.get(0x31)! << 8), 31 * 1024);
  assert.equal(cmos.get(0x34)! | (cmos.get(0x35)! << 8), 256);
  writeCmosMemorySizes({ setCmos: (i, v) => void cmos.set(i, v) }, 0xe0000000);
  assert.equal(cmos.get(0x17)! | (cmos.get(0x18)! << 8), 0xffff);
  assert.equal(cmos.get(0x34)! | (cmos.get(0x35)! << 8), 0xdf00);
  assert.deepEqual(bootOrderCmos('c'), { reg3d: 0x02, reg38: 0x00, devices: [2], ignored: '' });
  assert.deepEqual(bootOrderCmos('dc'), { reg3d: 0x23, reg38: 0x00, devices: [3, 2], ignored: '' });
  assert.deepEqual(bootOrderCmos('cdn'), { reg3d: 0x32, reg38: 0x40, devices: [2, 3, 4], ignored: '' });
  assert.deepEqual(bootOrderCmos('axcc'), { reg3d: 0x21, reg38: 0x00, devices: [1, 2], ignored: 'xc' });
  assert.equal(bootOrderCmos('').reg3d, 0);
});

test('E820: hvmloader layout in both table placements; 20-byte encoding', () => {
  const xen = buildE820({ biosBase: 0xc0000, lowRamEnd: 128 << 20, tables: { start: 0xfc000000, end: 0xfc010000 }, platformStart: 0xfc000000 });
  assert.deepEqual(xen, [
    { addr: 0, size: 0xa0000, type: 1 },
    { addr: 0xc0000, size: 0x40000, type: 2 },
    { addr: 0x100000, size: (128 << 20) - 0x100000, type: 1 },
    { addr: 0xfc000000, size: 0x10000, type: 4 },
    { addr: 0xfc010000, size: 0x100000000 - 0xfc010000, type: 2 },
  ]);
  const top = buildE820({ biosBase: 0xe0000, lowRamEnd: (128 << 20) - 0x10000, tables: { start: (128 << 20) - 0x10000, end: 128 << 20 }, platformStart: 0xfc000000 });
  assert.deepEqual(top.slice(2), [
    { addr: 0x100000, size: (128 << 20) - 0x110000, type: 1 },
    { addr: (128 << 20) - 0x10000, size: 0x10000, type: 4 },
    { addr: 0xfc000000, size: 0x4000000, type: 2 },
  ]);
  const enc = encodeE820(xen);
  assert.equal(enc.length, 100);
  assert.equal(u32(enc, 80 + 0), 0xfc010000);
  assert.equal(u32(enc, 80 + 8), 0x100000000 - 0xfc010000);
  assert.equal(u32(enc, 80 + 12), 0);
  assert.equal(u32(enc, 80 + 16), 2);
});
