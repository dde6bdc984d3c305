// The whole Domain on the KVM backend, wired as the toolstack will wire it
// (DomainOptions.ram + createVcpu from createKvmDomainBackend): COM1 and debugcon
// output, and the PIT's IRQ 0 through tsxen's 8259 waking a HLT.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Domain, domainBackingBytes } from '../../hypervisor/domain.js';
import type { Clock } from '../../hypervisor/clock.js';
import type { DomainSpec, RunResult } from '../../hypervisor/domain-spec.js';
import { createKvmDomainBackend } from './kvm-backend.js';
import { assemble, kvmSkipReason, skipLoudly } from './kvm-test-support.js';

const skip = kvmSkipReason();

function runOnKvm(source: string): { result: RunResult; serial: string; debugcon: string } {
  const spec: DomainSpec = {
    name: 'kvm-t',
    memoryBytes: 4 << 20,
    vcpus: 1,
    serialPorts: 1,
    debugconPorts: [0xe9],
    rawImage: { load: 0x1000, bytes: assemble(source), entry: 0x1000, mode: 'real' },
  };
  const kvm = createKvmDomainBackend(spec.memoryBytes + domainBackingBytes(spec));
  const clock: Clock = { nowNs: () => Number(process.hrtime.bigint()) };
  try {
    const d = new Domain(spec, { clock, ram: kvm.ram, createVcpu: kvm.createVcpu });
    const serial: number[] = [];
    const debugcon: number[] = [];
    d.events.on('serial.tx', (e) => serial.push(...e.bytes));
    d.events.on('debugcon.tx', (e) => debugcon.push(...e.bytes));
    const deadline = Date.now() + 10_000;
    let result: RunResult = { kind: 'running' };
    while (Date.now() < deadline) {
      result = d.run(5);
      if (result.kind === 'shutdown') break;
    }
    return { result, serial: String.fromCharCode(...serial), debugcon: String.fromCharCode(...debugcon) };
  } finally {
    kvm.close();
  }
}

test('Domain on KVM: COM1 and debugcon output, CLI;HLT powers off', (t) => {
  if (skip) return skipLoudly(t, skip);
  const r = runOnKvm(`bits 16
org 0x1000
  mov dx, 0x3f8
  mov al, 'o'
  out dx, al
  mov al, 'k'
  out dx, al
  mov al, '!'
  out 0xe9, al
  cli
  hlt
`);
  assert.equal(r.result.kind, 'shutdown');
  assert.equal(r.result.kind === 'shutdown' && r.result.reason, 'poweroff');
  assert.equal(r.serial, 'ok');
  assert.equal(r.debugcon, '!');
});

test('Domain on KVM: the PIT interrupt through the 8259 wakes HLT three times', (t) => {
  if (skip) return skipLoudly(t, skip);
  const r = runOnKvm(`bits 16
org 0x1000
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [8*4], tick
  mov word [8*4+2], 0
  mov al, 0x11        ; ICW1: edge, cascade, ICW4
  out 0x20, al
  mov al, 0x08        ; ICW2: IRQ0 -> vector 8
  out 0x21, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x01        ; ICW4: 8086 mode
  out 0x21, al
  mov al, 0xfe        ; only IRQ0
  out 0x21, al
  mov al, 0x34        ; PIT ch0, lo/hi, rate generator
  out 0x43, al
  mov ax, 11932       ; about 10 ms
  out 0x40, al
  mov al, ah
  out 0x40, al
  mov byte [0x600], 0
.wait:
  sti
  hlt
  cmp byte [0x600], 3
  jb .wait
  cli
  hlt
tick:
  push ax
  inc byte [0x600]
  mov al, 'T'
  out 0xe9, al
  mov al, 0x20        ; EOI
  out 0x20, al
  pop ax
  iret
`);
  assert.equal(r.result.kind === 'shutdown' && r.result.reason, 'poweroff', JSON.stringify(r.result));
  assert.equal(r.debugcon, 'TTT');
});
