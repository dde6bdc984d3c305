// A stand-in for the hypervisor's Domain with the same surface, for testing the worker,
// the handle and the harness without a CPU. It "boots" by bumping a counter in guest
// RAM (so a test can see whether RAM is fresh after a restart), prints a banner, then
// idles until console input arrives. Input bytes are echoed; some are commands:
//   p → power off   r → reboot   c → crash (shutdown)   x → throw a JS exception
//   l → a log line  d → a debugcon byte   s → spin (report 'running' forever)
//   e → end the worker thread abruptly (process.exit inside a worker)
//   q → isa-debug-exit with value 3 (exit status 7)
// Its "text screen" is the banner plus every byte typed (screenText); screen() is a
// 2x1 image whose first pixel's red is the number of bytes typed; the power button
// powers it off. Each disk with an image is opened through host.openDisk at
// construction; what the opener returned is listed on a third screen row.

import { EventBus, type DomainEventMap } from '../../devices/events.js';
import type { Clock } from '../../hypervisor/clock.js';
import type { DiskSpec, DomainSpec, RunResult } from '../../hypervisor/domain-spec.js';

const FAR_FUTURE_NS = 3600e9;

export class Domain {
  readonly events = new EventBus<DomainEventMap>();
  private readonly ram: Uint8Array;
  private pending: number[] = [];
  private booted = false;
  private outcome: RunResult | undefined;
  private spinning = false;
  private typed = '';
  private readonly disks: string[] = [];

  constructor(
    private readonly spec: DomainSpec,
    private readonly host: { clock: Clock; ram: SharedArrayBuffer; openDisk?: (d: DiskSpec) => unknown },
  ) {
    this.ram = new Uint8Array(host.ram);
    for (const d of spec.disks ?? []) {
      if (d.path !== null) this.disks.push(String((host.openDisk?.(d) as { label?: string } | undefined)?.label ?? 'no opener'));
    }
    // Dom0 allocates RAM plus the HVM platform's backing store (domainBackingBytes).
    if (this.ram.length < spec.memoryBytes) throw new Error(`RAM is ${this.ram.length} bytes, spec says ${spec.memoryBytes}`);
  }

  serialInput(port: number, bytes: Uint8Array): void {
    if (port === 0) this.pending.push(...bytes);
  }

  run(_budgetMs: number): RunResult {
    if (!this.booted) {
      this.booted = true;
      this.ram[0]++;
      this.print(`boot ${this.ram[0]} ${this.spec.name}\r\n`);
    }
    while (this.pending.length > 0 && !this.outcome) {
      const c = this.pending.shift()!;
      this.print(String.fromCharCode(c));
      this.typed += String.fromCharCode(c);
      const ch = String.fromCharCode(c);
      if (ch === 'p') this.outcome = { kind: 'shutdown', reason: 'poweroff', detail: 'ACPI S5' };
      else if (ch === 'r') this.outcome = { kind: 'shutdown', reason: 'reboot', detail: 'i8042 reset' };
      else if (ch === 'c') this.outcome = { kind: 'shutdown', reason: 'crash', detail: 'triple fault' };
      else if (ch === 'x') throw new Error('scripted exception');
      else if (ch === 'l') this.events.emit('log', { level: 'info', source: 'scripted', message: 'a log line' });
      else if (ch === 'd') this.events.emit('debugcon.tx', { ioport: this.spec.debugconPorts[0] ?? 0xe9, bytes: new Uint8Array([0x44]) });
      else if (ch === 's') this.spinning = true;
      else if (ch === 'e') process.exit(7);
      else if (ch === 'q') this.outcome = { kind: 'shutdown', reason: 'poweroff', detail: 'isa-debug-exit 3', exitStatus: 7 };
    }
    if (this.outcome) return this.outcome;
    if (this.spinning) return { kind: 'running' };
    return { kind: 'idle', wakeAtNs: this.host.clock.nowNs() + FAR_FUTURE_NS };
  }

  screenText(): { cols: number; rows: number; lines: string[] } {
    const lines = [`boot ${this.ram[0]} ${this.spec.name}`, this.typed];
    if (this.disks.length > 0) lines.push(`disks: ${this.disks.join(' ')}`);
    return { cols: 80, rows: lines.length, lines };
  }

  screen(): { width: number; height: number; rgba: Uint8Array } {
    return { width: 2, height: 1, rgba: new Uint8Array([this.typed.length & 0xff, 0, 0, 255, 0, 0, 255, 255]) };
  }

  pressPowerButton(): void {
    this.outcome ??= { kind: 'shutdown', reason: 'poweroff', detail: 'ACPI power button' };
  }

  diagnostic(): string {
    return `scripted domain ${this.spec.name}: ram[0]=${this.ram[0]}`;
  }

  private print(text: string): void {
    this.events.emit('serial.tx', { port: 0, bytes: new TextEncoder().encode(text) });
  }
}
