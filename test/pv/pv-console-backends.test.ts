// dom0's PV console backend serving a small guest on each CPU backend, end to end
// through the toolstack: the guest finds its console ring through HVMOP_get_param,
// writes to it and signals its port; dom0 (the main thread) drains the ring from the
// shared guest memory and sends keystrokes back, which the guest echoes. On kvm the
// guest RAM is dom0's mapping viewed by the worker, and dom0 kicks the vCPU.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestSession } from '../../src/toolstack/harness.js';
import { savedXenstore } from '../../src/toolstack/save-image.js';
import type { DomainSpec } from '../../src/hypervisor/domain-spec.js';
import { assemble, kvmSkipReason, skipLoudly } from '../../src/cpu/kvm/kvm-test-support.js';

const GUEST = `
bits 32
org 0x10000
  mov esp, 0x7000
  mov ecx, 0x40000000          ; Xen's hypercall-page MSR: page at 0x90000
  mov eax, 0x90000
  xor edx, edx
  wrmsr
  mov esi, 17                  ; HVM_PARAM_CONSOLE_PFN
  call get_param
  cmp eax, 0xfefff
  jne fail
  mov esi, 18                  ; HVM_PARAM_CONSOLE_EVTCHN
  call get_param
  mov [port], eax
  mov dword [0xfefff400], 'hi!'  ; out[0..2]
  mov dword [0xfefffc0c], 3      ; out_prod
  call send
poll_input:
  pause
  cmp dword [0xfefffc04], 0      ; in_prod: a keystroke from dom0
  je poll_input
  mov al, [0xfefff000]           ; in[0], echoed as out[3]
  mov [0xfefff403], al
  mov dword [0xfefffc00], 1      ; in_cons
  mov dword [0xfefffc0c], 4
  call send
  mov al, 0x10
  out 0xf4, al                   ; isa-debug-exit: status (0x10 << 1) | 1
fail:
  mov al, 0x01
  out 0xf4, al
get_param:                       ; eax = HVMOP_get_param(DOMID_SELF, esi)
  mov word [param], 0x7ff0
  mov [param + 4], esi
  mov ebx, 1
  mov ecx, param
  call 0x90000 + 34 * 32         ; hvm_op
  test eax, eax
  jnz fail
  mov eax, [param + 8]
  ret
send:                            ; EVTCHNOP_send(port)
  mov ebx, 4
  mov ecx, port
  call 0x90000 + 32 * 32         ; event_channel_op
  ret
align 8
port: dd 0
param: dd 0, 0, 0, 0
`;

function spec(code: Uint8Array): DomainSpec {
  return {
    name: 'pvcon', memoryBytes: 32 << 20, vcpus: 1, serialPorts: 1, debugconPorts: [], xen: true,
    rawImage: { load: 0x10000, bytes: code, entry: 0x10000, mode: 'flat32' },
    debugExit: { iobase: 0xf4, size: 1 },
  };
}

async function echoThroughPvConsole(backend: 'emu' | 'kvm'): Promise<void> {
  const code = assemble(GUEST);
  const g = await GuestSession.start({ name: `pvcon-${backend}`, memory: 32, cpu_backend: backend, serial: 'pty', on_crash: 'destroy' }, [], { spec: spec(code) });
  try {
    assert.equal(g.handle.cpuBackend, backend);
    await g.waitForSerial('hi!', { timeoutMs: 30_000 });
    g.type('Z');
    const exit = await g.waitForExit({ timeoutMs: 30_000 });
    assert.equal(exit.exitStatus, (0x10 << 1) | 1, `${exit.reason}: ${exit.detail}`);
    assert.equal(g.output, 'hi!Z');
  } finally {
    await g.destroy();
  }
}

test('emu: the guest writes hvc0, dom0 drains it and sends a keystroke back', async () => {
  await echoThroughPvConsole('emu');
});

const kvmSkip = kvmSkipReason();
test('kvm: the same through dom0\'s RAM mapping and the vCPU kick', async (t) => {
  if (kvmSkip) return skipLoudly(t, kvmSkip);
  await echoThroughPvConsole('kvm');
});

async function saveAndRestoreWaitingGuest(from: 'emu' | 'kvm', to: 'emu' | 'kvm'): Promise<void> {
  const code = assemble(GUEST);
  const cfg = { name: `pvcon-save-${from}-${to}`, memory: 32, serial: 'pty', on_crash: 'destroy' };
  const g = await GuestSession.start({ ...cfg, cpu_backend: from }, [], { spec: spec(code) });
  let image;
  try {
    await g.waitForSerial('hi!', { timeoutMs: 30_000 });
    g.handle.pause();
    image = await g.handle.saveImage();
  } finally {
    await g.destroy();
  }
  // A new domain (another domid) continues from the image: dom0 serves the same rings.
  const xenstore = savedXenstore(image);
  assert.ok(xenstore, 'the image carries dom0\'s xenstore record');
  const r = await GuestSession.start({ ...cfg, cpu_backend: to }, [], { spec: image.spec, restore: image.state, restoreXenstore: xenstore });
  try {
    assert.equal(r.handle.cpuBackend, to);
    // The restored console has already seen output, so keystrokes go to hvc0 rather than
    // COM1 once dom0's backends are up again (typed until the guest answers).
    const typing = setInterval(() => r.handle.serialInput(new TextEncoder().encode('Q')), 250);
    const exit = await r.waitForExit({ timeoutMs: 30_000 }).finally(() => clearInterval(typing));
    assert.equal(exit.exitStatus, (0x10 << 1) | 1, `${exit.reason}: ${exit.detail}`);
    assert.equal(r.output, 'Q');
  } finally {
    await r.destroy();
  }
}

test('emu → emu: a Xen guest saved while waiting on hvc0 is restored as another domain and its console still works', async () => {
  await saveAndRestoreWaitingGuest('emu', 'emu');
});

test('emu → kvm: the same across CPU backends', async (t) => {
  if (kvmSkip) return skipLoudly(t, kvmSkip);
  await saveAndRestoreWaitingGuest('emu', 'kvm');
});
