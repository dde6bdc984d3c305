// A tiny protected-mode guest on the software CPU with the interrupt fabric wired as
// the Domain will wire it (INTR = setIrqLine, INTA = acknowledge, MMIO through the
// IoBus): it programs the LAPIC timer periodic at 1 ms, halts, and counts the timer
// interrupts its handler EOIs; a second guest takes PIT ticks through IOAPIC GSI 2.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.js';
import { GuestMemory } from '../../memory/guest-memory.js';
import { IoBus } from '../../../devices/bus/io-bus.js';
import { EmuVcpu } from '../../../cpu/emu/cpu.js';
import { assemble, LOAD } from '../../../cpu/emu/emu-test-machine.test.js';
import { describeExit } from '../../vcpu/vm-exit.js';
import type { SegmentRegister } from '../../vcpu/backend.js';
import { Pit } from '../pit/device.js';
import { PlatformInterrupts } from './device.js';

/** Guest preamble: own GDT and IDT, gate `vector` → `handler`, flat data segments, stack at 0x8000. */
const PREAMBLE = `
  lgdt [gdtr]
  jmp 0x08:reload
reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x8000
  mov eax, handler
  mov [idt + VECTOR*8], ax
  mov word [idt + VECTOR*8 + 2], 0x08
  mov word [idt + VECTOR*8 + 4], 0x8e00
  shr eax, 16
  mov [idt + VECTOR*8 + 6], ax
  lidt [idtr]
`;

const TABLES = `
align 8
gdt:
  dq 0
  dq 0x00cf9b000000ffff
  dq 0x00cf93000000ffff
gdtr:
  dw 23
  dd gdt
idtr:
  dw 256*8-1
  dd idt
ticks:
  dd 0
align 8
idt:
  times 256*8 db 0
`;

function flat(selector: number, code: boolean): SegmentRegister {
  return { selector, base: 0, limit: 0xffffffff, type: code ? 0xb : 0x3, s: 1, dpl: 0, present: 1, db: 1, g: 1, avl: 0, l: 0, unusable: 0 };
}

function guest(source: string, apic = true) {
  const clock = new ManualClock();
  const memory = new GuestMemory({ ramBytes: 2 << 20 });
  const bus = new IoBus();
  let vcpu: EmuVcpu | undefined;
  const irq = new PlatformInterrupts(clock, { apic, setIntr: (l) => vcpu?.setIrqLine(l) });
  irq.register(bus);
  const inta: Array<{ ns: number; vector: number }> = [];
  vcpu = new EmuVcpu(
    memory,
    {
      pioRead: (p, size) => bus.pioRead(p, size),
      pioWrite: (p, size, v) => bus.pioWrite(p, size, v),
      mmioRead: (a, size) => bus.mmioRead(a, size),
      mmioWrite: (a, size, v) => bus.mmioWrite(a, size, v),
      acknowledgeInterrupt: () => {
        const vector = irq.acknowledge();
        inta.push({ ns: clock.ns, vector });
        return vector;
      },
    },
    clock,
  );
  memory.write(LOAD, assemble(source, 32));
  const s = vcpu.getSpecialRegisters();
  vcpu.setSpecialRegisters({
    ...s,
    cs: flat(0x08, true), ds: flat(0x10, false), es: flat(0x10, false), ss: flat(0x10, false), fs: flat(0x10, false), gs: flat(0x10, false),
    cr0: s.cr0 | 1,
    apicBase: Number(irq.apicBaseMsr?.read() ?? 0n),
  });
  const r = vcpu.getRegisters();
  vcpu.setRegisters({ ...r, eip: LOAD, esp: 0x8000, eflags: 2 });
  return { clock, memory, bus, irq, vcpu, inta };
}

/** Run as the Domain does: on HLT with IF=1, move guest time to the next platform deadline. */
function runUntilCliHlt(g: ReturnType<typeof guest>, deadline: () => number, update: () => void): void {
  for (let slice = 0; slice < 1000; slice++) {
    const exit = g.vcpu.run();
    if (exit.kind === 'interrupted') continue;
    if (exit.kind === 'msr' && exit.index === 0x1b && g.irq.apicBaseMsr) {
      // As the Domain does: the platform owns IA32_APIC_BASE, both RDMSR and WRMSR exit.
      if (!exit.write) {
        g.vcpu.completeMsr(g.irq.apicBaseMsr.read());
        continue;
      }
      const ok = g.irq.apicBaseMsr.write(exit.value);
      g.vcpu.completeMsr(ok ? 0n : undefined);
      continue;
    }
    if (exit.kind !== 'hlt') assert.fail(`unexpected exit ${describeExit(exit)}`);
    if (!exit.interruptsEnabled) return;
    const next = deadline();
    assert.ok(Number.isFinite(next), 'halted with IF=1 and no timer armed');
    g.clock.ns = Math.max(g.clock.ns, next);
    update();
  }
  assert.fail('guest did not finish');
}

test('guest programs the LAPIC timer (periodic, 1 ms) and takes three interrupts through INTA', () => {
  const g = guest(`
VECTOR equ 0x40
${PREAMBLE}
  mov dword [0xfee000f0], 0x1ff      ; SVR: software enable
  mov dword [0xfee003e0], 0x0b       ; divide by 1: 10 ns per count
  mov dword [0xfee00320], 0x20040    ; LVT timer: periodic, vector 0x40
  mov dword [0xfee00380], 100000     ; initial count: 1 ms
  sti
idle:
  hlt
  cmp dword [ticks], 3
  jb idle
  cli
  mov dword [0xfee00380], 0
  mov eax, [ticks]
  mov ebx, [0xfee00100 + 0x20]       ; ISR bits 0x40..0x5F
  hlt
handler:
  inc dword [ticks]
  mov dword [0xfee000b0], 0          ; EOI
  iretd
${TABLES}`);
  runUntilCliHlt(g, () => g.irq.nextDeadlineNs(), () => g.irq.update());
  const r = g.vcpu.getRegisters();
  assert.equal(r.eax, 3, 'handler ran three times');
  assert.equal(r.ebx, 0, 'every interrupt was EOIed');
  assert.deepEqual(g.inta, [
    { ns: 1_000_000, vector: 0x40 },
    { ns: 2_000_000, vector: 0x40 },
    { ns: 3_000_000, vector: 0x40 },
  ]);
  assert.equal(g.irq.nextDeadlineNs(), Infinity, 'the guest stopped the timer');
});

test('guest takes PIT ticks on IOAPIC GSI 2 with the 8259 masked (Linux APIC mode)', () => {
  const g = guest(`
VECTOR equ 0x31
${PREAMBLE}
  mov al, 0xff
  out 0x21, al                       ; mask the 8259s
  out 0xa1, al
  mov dword [0xfee000f0], 0x1ff
  mov dword [0xfec00000], 0x14       ; RTE2 low
  mov dword [0xfec00010], 0x31       ; fixed, edge, physical, vector 0x31
  mov dword [0xfec00000], 0x15       ; RTE2 high: APIC ID 0
  mov dword [0xfec00010], 0
  mov al, 0x34                       ; PIT channel 0, mode 2
  out 0x43, al
  mov al, 0xa9                       ; 1193 counts ≈ 1 ms
  out 0x40, al
  mov al, 0x04
  out 0x40, al
  sti
idle:
  hlt
  cmp dword [ticks], 2
  jb idle
  cli
  mov eax, [ticks]
  hlt
handler:
  inc dword [ticks]
  mov dword [0xfee000b0], 0
  iretd
${TABLES}`);
  const pit = new Pit(g.clock, g.irq.isaLine(0));
  g.bus.registerPio(0x40, 4, pit.ports, 'pit');
  runUntilCliHlt(g, () => pit.nextDeadlineNs(), () => pit.update());
  assert.equal(g.vcpu.getRegisters().eax, 2);
  assert.deepEqual(g.inta.map((i) => i.vector), [0x31, 0x31]);
  assert.equal(g.irq.pic.intrLevel, false, 'the masked 8259 raised nothing');
});

test('guest clears IA32_APIC_BASE.EN: the 8259 then reaches INTR directly (a PC without APIC)', () => {
  const g = guest(`
VECTOR equ 0x20
${PREAMBLE}
  mov ecx, 0x1b
  rdmsr
  mov esi, eax                       ; APIC base as the guest first sees it
  and eax, ~0x800
  wrmsr                              ; hardware-disable the LAPIC
  rdmsr
  mov edi, eax
  mov al, 0x11                       ; 8259 master: ICW1..ICW4, vectors 0x20
  out 0x20, al
  mov al, 0x20
  out 0x21, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x01
  out 0x21, al
  mov al, 0xfe                       ; only IRQ0
  out 0x21, al
  mov al, 0x34
  out 0x43, al
  mov al, 0xa9
  out 0x40, al
  mov al, 0x04
  out 0x40, al
  sti
idle:
  hlt
  cmp dword [ticks], 2
  jb idle
  cli
  mov eax, [ticks]
  mov ebx, [0xfee00030]              ; LAPIC page is open bus while disabled
  hlt
handler:
  inc dword [ticks]
  mov al, 0x20                       ; 8259 EOI
  out 0x20, al
  iretd
${TABLES}`);
  const pit = new Pit(g.clock, g.irq.isaLine(0));
  g.bus.registerPio(0x40, 4, pit.ports, 'pit');
  runUntilCliHlt(g, () => pit.nextDeadlineNs(), () => pit.update());
  const r = g.vcpu.getRegisters();
  assert.equal(r.esi >>> 0, 0xfee00900, 'enabled BSP at reset');
  assert.equal(r.edi >>> 0, 0xfee00100, 'RDMSR sees the write');
  assert.equal(r.eax, 2);
  assert.equal(r.ebx >>> 0, 0xffffffff);
  assert.deepEqual(g.inta.map((i) => i.vector), [0x20, 0x20]);
});
