// The Multiboot test kernel (kernel.asm), built with nasm + ld and booted by
// tsxen's Multiboot loader on the software CPU: it reads its command line and
// first module from the information structure, prints them and the module's
// byte sum on COM1, and ends through isa-debug-exit with value (sum & 0x7F).
//
// 1. Runs now: loader + EmuVcpu + a bus with a 16550 at COM1 and DebugExit at 0xF4.
// 2. The same through `new Domain(spec)` with DomainSpec.multiboot and debugExit:
//    the exit status comes back as RunResult.exitStatus.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GuestMemory } from '../../../src/hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../../src/hypervisor/clock.js';
import { EmuVcpu } from '../../../src/cpu/emu/cpu.js';
import { IoBus } from '../../../src/devices/bus/io-bus.js';
import { NO_IRQ } from '../../../src/devices/bus/irq.js';
import { Uart16550 } from '../../../src/devices/uart16550/device.js';
import { DebugExit, debugExitStatus } from '../../../src/devices/debug-exit/device.js';
import { loadMultiboot } from '../../../src/firmware/multiboot/load-multiboot.js';
import type { DomainSpec, MultibootSpec } from '../../../src/hypervisor/domain-spec.js';
import { Domain } from '../../../src/hypervisor/domain.js';
import type { AccessSize } from '../../../src/hypervisor/types.js';
import { buildNasmKernel, nasmToolsMissing } from '../nasm-kernel.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const source = join(root, 'test/guests/multiboot');

const missing = nasmToolsMissing('the Multiboot test kernel');
if (missing) console.warn(`SKIPPING Multiboot kernel tests: ${missing}`);

/** Assemble and link kernel.asm; returns the ELF bytes. */
function buildKernel(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-multiboot-'));
  try {
    return new Uint8Array(readFileSync(buildNasmKernel(source, dir, 'kernel.elf')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A module whose byte sum is known (and whose low 7 bits are not 0, so success differs from failure). */
const MODULE = Uint8Array.from({ length: 6000 }, (_, i) => (i * 31 + 7) & 0xff);
const MODULE_SUM = MODULE.reduce((a, b) => a + b, 0) >>> 0;

/** The DomainSpec.multiboot shape the lead wires. */
function multibootSpec(kernel: Uint8Array): MultibootSpec {
  return { kernel, cmdline: 'mbtest.elf verbose=1', modules: [{ bytes: MODULE, cmdline: 'payload.bin size=6000' }] };
}

function expectedSerial(): string {
  return `cmdline=mbtest.elf verbose=1\nmodule=payload.bin size=6000\nsum=${MODULE_SUM.toString(16).padStart(8, '0')}\n`;
}

test('the module sum is a useful exit value', () => {
  assert.notEqual(MODULE_SUM & 0x7f, 0);
});

test('Multiboot kernel: built with nasm/ld, loaded, run on the software CPU: command lines, module sum, debug-exit status', { skip: missing ?? false }, () => {
  const kernel = buildKernel();
  const memory = new GuestMemory({ ramBytes: 32 << 20 });
  const entry = loadMultiboot(memory, multibootSpec(kernel), 'mbtest.elf');
  assert.equal(entry.layout.kernel.format, 'elf');

  const bus = new IoBus();
  const serial: number[] = [];
  bus.registerPio(0x3f8, 8, new Uart16550(NO_IRQ, (b) => serial.push(b)).ports, 'com1');
  let exitStatus: number | undefined;
  bus.registerPio(0xf4, 4, new DebugExit((status) => (exitStatus ??= status)), 'debug-exit');
  const vcpu = new EmuVcpu(
    memory,
    {
      pioRead: (p: number, s: AccessSize) => bus.pioRead(p, s),
      pioWrite: (p: number, s: AccessSize, v: number) => bus.pioWrite(p, s, v),
      mmioRead: (a: number, s: AccessSize) => bus.mmioRead(a, s),
      mmioWrite: (a: number, s: AccessSize, v: number) => bus.mmioWrite(a, s, v),
      acknowledgeInterrupt: () => 0,
    },
    new ManualClock(),
  );
  vcpu.setSpecialRegisters(entry.sregs);
  vcpu.setRegisters(entry.regs);
  let last = '';
  for (let i = 0; i < 200 && exitStatus === undefined; i++) {
    const exit = vcpu.run();
    last = exit.kind;
    if (exit.kind !== 'interrupted' && exit.kind !== 'io') break;
  }
  assert.equal(String.fromCharCode(...serial), expectedSerial());
  assert.equal(exitStatus, debugExitStatus(MODULE_SUM & 0x7f), `exit status (last exit: ${last})`);
});

test(
  'Multiboot kernel through new Domain(spec): serial output and RunResult.exitStatus',
  { skip: missing ?? false },
  () => {
    const spec: DomainSpec = {
      name: 'multiboot-test',
      memoryBytes: 32 << 20,
      vcpus: 1,
      multiboot: multibootSpec(buildKernel()),
      debugExit: { iobase: 0xf4, size: 4 },
      serialPorts: 1,
      debugconPorts: [],
    };
    const clock = { nowNs: () => Number(process.hrtime.bigint()) };
    const domain = new Domain(spec, { clock });
    const serial: number[] = [];
    domain.events.on('serial.tx', (e) => serial.push(...e.bytes));
    let result = domain.run(200);
    for (let i = 0; i < 50 && result.kind !== 'shutdown'; i++) result = domain.run(200);
    assert.equal(result.kind, 'shutdown');
    assert.equal(String.fromCharCode(...serial), expectedSerial());
    assert.ok(result.kind === 'shutdown' && result.exitStatus === debugExitStatus(MODULE_SUM & 0x7f), `exit status: ${JSON.stringify(result)}`);
  },
);
