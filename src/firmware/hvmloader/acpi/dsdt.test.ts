// The generated DSDT checked by ACPICA itself (Debian acpica-tools): `iasl -d`
// must disassemble it cleanly, iasl must recompile that ASL to the very same AML,
// and `acpiexec` must evaluate \_S5 and \_SB.PCI0._PRT (both interrupt models).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDsdt, dsdtBody } from './dsdt.js';
import { byteSum } from '../table-bytes.js';
import { pciIntxGsi } from '../../../devices/chipset/pci-intx-router.js';

const CFG = { pciMemStart: 0xf0000000, pciMemEnd: 0xfbffffff, linkIrqs: [5, 10, 11, 5] };

function haveTool(tool: string): boolean {
  return spawnSync(tool, ['-v'], { encoding: 'utf8' }).error === undefined;
}
const TOOLS = haveTool('iasl') && haveTool('acpiexec');
const SKIP = TOOLS ? false : 'SKIPPED: acpica-tools (iasl, acpiexec) not installed; run `apt-get install -y acpica-tools`';
if (!TOOLS) console.warn(`\n*** dsdt.test: ${SKIP} ***\n`);

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-dsdt-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('DSDT header: signature, length, revision 2, checksum', () => {
  const t = buildDsdt(CFG);
  assert.equal(String.fromCharCode(...t.subarray(0, 4)), 'DSDT');
  assert.equal(t[4] | (t[5] << 8) | (t[6] << 16) | (t[7] << 24), t.length);
  assert.equal(t.length, 36 + dsdtBody(CFG).length);
  assert.equal(t[8], 2);
  assert.equal(byteSum(t), 0);
});

test('DSDT: iasl -d disassembles it without errors and recompiles it to identical AML', { skip: SKIP }, () => {
  withDir((dir) => {
    const aml = buildDsdt(CFG);
    writeFileSync(join(dir, 'dsdt.aml'), aml);
    const dis = spawnSync('iasl', ['-d', 'dsdt.aml'], { cwd: dir, encoding: 'utf8' });
    assert.equal(dis.status, 0, dis.stdout + dis.stderr);
    assert.doesNotMatch(dis.stdout + dis.stderr, /error/i);
    const dsl = readFileSync(join(dir, 'dsdt.dsl'), 'utf8');
    assert.match(dsl, /Name \(_HID, EisaId \("PNP0A03"\)/);
    assert.match(dsl, /Name \(_HID, EisaId \("PNP0303"\)/);
    assert.match(dsl, /Name \(_HID, EisaId \("PNP0F13"\)/);
    assert.match(dsl, /Method \(_PRT, 0, NotSerialized\)/);
    assert.match(dsl, /DWordMemory \(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,\s+0x00000000,\s+\/\/ Granularity\s+0xF0000000,\s+\/\/ Range Minimum\s+0xFBFFFFFF/);
    const comp = spawnSync('iasl', ['-p', 'again', 'dsdt.dsl'], { cwd: dir, encoding: 'utf8' });
    assert.equal(comp.status, 0, comp.stdout + comp.stderr);
    assert.match(comp.stdout, /0 Errors, 0 Warnings, 0 Remarks/);
    const again = readFileSync(join(dir, 'again.aml'));
    // Same AML after the 36-byte header (iasl stamps its own creator id).
    assert.deepEqual([...again.subarray(36)], [...aml.subarray(36)]);
  });
});

/** acpiexec's dump of a returned package: the integers in order. */
function integers(out: string, from: string): number[] {
  const start = out.indexOf(from);
  assert.ok(start >= 0, `no '${from}' in acpiexec output:\n${out}`);
  const end = out.indexOf('Evaluating', start + from.length);
  const section = out.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/\[Integer\] = ([0-9A-F]+)/g)].map((m) => parseInt(m[1], 16));
}

test('DSDT: acpiexec evaluates \\_S5 and \\_SB.PCI0._PRT in PIC and APIC mode', { skip: SKIP }, () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'dsdt.aml'), buildDsdt(CFG));
    const cmds = 'evaluate \\_S5; evaluate \\_SB.PCI0._PRT; evaluate \\_PIC 1; evaluate \\_SB.PCI0._PRT';
    const run = spawnSync('acpiexec', ['-b', cmds, 'dsdt.aml'], { cwd: dir, encoding: 'utf8' });
    const out = run.stdout + run.stderr;
    assert.equal(run.status, 0, out);
    assert.doesNotMatch(out, /AE_[A-Z_]+ /, out.slice(0, 4000));
    assert.deepEqual(integers(out, 'Evaluating \\_S5'), [0, 0, 0, 0]);
    const parts = out.split('Evaluating \\_SB.PCI0._PRT');
    assert.equal(parts.length, 3);
    const pic = integers('Evaluating \\_SB.PCI0._PRT' + parts[1], 'Evaluating \\_SB.PCI0._PRT');
    const apic = integers('Evaluating \\_SB.PCI0._PRT' + parts[2], 'Evaluating \\_SB.PCI0._PRT');
    assert.equal(pic.length, 31 * 4 * 4);
    assert.equal(apic.length, 31 * 4 * 4);
    for (let dev = 1; dev < 32; dev++) {
      for (let pin = 0; pin < 4; pin++) {
        const i = ((dev - 1) * 4 + pin) * 4;
        assert.deepEqual(pic.slice(i, i + 3), [(dev << 16) | 0xffff, pin, 0]);
        assert.equal(pic[i + 3], CFG.linkIrqs[(dev + pin) & 3], `PIC-mode IRQ of ${dev}:${pin}`);
        assert.equal(apic[i + 3], pciIntxGsi(dev, pin), `GSI of ${dev}:${pin}`);
      }
    }
    // Fact sheet examples: 00:03.0 INTA -> GSI 28; 00:02.0 INTA -> link C -> IRQ 11.
    assert.equal(apic[((3 - 1) * 4 + 0) * 4 + 3], 28);
    assert.equal(pic[((2 - 1) * 4 + 0) * 4 + 3], 11);
  });
});
