// One HVM domain: its memory, its platform and devices, its vCPU, and the loop that
// runs them. Pure (no Node): the toolstack runs it inside the domain's worker thread.
//
// The layout follows a PC as Xen's HVM domains see it (reference/xen-hvm-architecture.md
// §6): legacy PIC pair, PIT, RTC/CMOS, COM1-COM4, i8042, port 0x92 and 0x80, and
// QEMU-style debug consoles. The platform timers are driven by the domain clock and
// polled between run slices, so guest time and device time never disagree.

import { GuestMemory, PAGE_SIZE } from './memory/guest-memory.js';
import { InstructionClock, type Clock } from './clock.js';
import { runs64BitCode, type CpuidEntry, type VcpuBackend, type VcpuSpecialRegisters, type SegmentRegister } from './vcpu/backend.js';
import type { VmOps } from './vcpu/vm-ops.js';
import { describeExit, type VmExit } from './vcpu/vm-exit.js';
import { presentsXen, type DiskSpec, type DomainSpec, type PvRings, type RunResult, type ShutdownReason } from './domain-spec.js';
import type { BlockBackend } from '../devices/block/block-backend.js';
import type { IdeDrives } from '../devices/ide/piix-ide.js';
import type { AccessSize } from './types.js';
import { domainCpuidPolicy, hideCpuidFlags } from './cpuid-policy.js';
import { IoBus } from '../devices/bus/io-bus.js';
import { EventBus, type DomainEventMap } from '../devices/events.js';
import type { PicPair } from './platform/pic/device.js';
import { PlatformInterrupts } from './platform/interrupts/device.js';
import { Pit } from './platform/pit/device.js';
import { RtcCmos } from './platform/rtc/device.js';
import { Uart16550 } from '../devices/uart16550/device.js';
import { I8042 } from '../devices/i8042/device.js';
import { SystemControlPort, PostCodePort } from '../devices/system-control/device.js';
import { DebugCon } from '../devices/debugcon/device.js';
import { EmuVcpu } from '../cpu/emu/cpu.js';
import { loadLinux } from '../firmware/linux-boot/load-linux.js';
import { HvmPlatform, VRAM_BYTES } from './hvm-platform.js';
import { biosEntryState, mapBiosRom } from '../firmware/bios/bios-rom.js';
import { runHvmloader, XEN_TABLE_AREA, TABLE_AREA_BYTES } from '../firmware/hvmloader/hvmloader.js';
import { writeCmosMemorySizes } from '../firmware/hvmloader/cmos.js';
import { NO_IRQ, type IrqLine } from '../devices/bus/irq.js';
import { loadMultiboot } from '../firmware/multiboot/load-multiboot.js';
import { loadPvh } from '../firmware/pvh/load-pvh.js';
import { DebugExit } from '../devices/debug-exit/device.js';
import { createXenDomain, type CallbackVia, type XenDomain } from './xen-domain.js';
import { e820FromMemory, type E820Entry } from '../firmware/linux-boot/e820.js';
import { withXenLeaves } from './hypercall/xen-cpuid-leaves.js';
import { handleXenMsr } from './hypercall/hypercall-page.js';
import { XEN_MSR_HYPERCALL_PAGE } from '../abi/xen-cpuid.js';
import { dispatchHypercall } from './hypercall/dispatch.js';
import { Dom0Link } from './dom0-link.js';
import { initXenStoreInterface } from '../abi/xs-wire.js';
import { HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN } from '../abi/hvm-params.js';
import { callerWidth, type BlockRequest, type HypercallCallerMode } from './hypercall/hypercall-context.js';
import { applyDomainState, gatherDomainState, type DomainParts, type DomainState, type SaveableState } from './domain-save.js';

/** ISA COM ports and their IRQs (PC/AT convention). */
const COM_PORTS: ReadonlyArray<readonly [number, number]> = [
  [0x3f8, 4],
  [0x2f8, 3],
  [0x3e8, 4],
  [0x2e8, 3],
];

/** Bounds of a software-CPU run slice, in instructions. */
const MIN_SLICE = 64;
const MAX_SLICE = 50_000;

/** Serial output is flushed to listeners at least this often (bytes). */
const SERIAL_FLUSH_BYTES = 4096;

/** Guest-physical space beyond RAM the domain needs for device memory and ROMs (VRAM, option ROMs, ACPI tables, a BIOS ROM). */
export function domainBackingBytes(spec: DomainSpec): number {
  const xen = presentsXen(spec) ? XEN_BACKING_BYTES : 0;
  if (!needsHvmPlatform(spec)) return xen;
  const vram = vgaKind(spec) === 'stdvga' ? VRAM_BYTES : 0;
  const biosRom = spec.firmware?.override ? spec.firmware.bios.length : 0;
  return vram + biosRom + ROM_AND_TABLE_BYTES + xen;
}

/** Xen's pages outside RAM: shared_info, grant frames (Xen's default max_grant_frames 64), the store and console rings, with room to spare. */
const XEN_BACKING_BYTES = 1 << 20;
const MAX_GRANT_FRAMES = 64;

/** Xen's toolstack places its special pages at 0xFEFF8 + k: k = 4 xenstore, 7 console (xen-abi.md §8). */
const XENSTORE_GFN = 0xfeffc;
const CONSOLE_GFN = 0xfefff;

/** Option ROMs (VGA BIOS 64 KiB) and the ACPI table area at 0xFC000000. */
const ROM_AND_TABLE_BYTES = 2 << 20;

/** Open every IDE drive of the spec through the host's opener. */
function openDrives(spec: DomainSpec, open: DomainOptions['openDisk']): IdeDrives {
  const drives: IdeDrives = {};
  for (const d of spec.disks ?? []) {
    if (drives[d.vdev]) throw new RangeError(`disk: ${d.vdev} is given twice`);
    if (d.path !== null && !open) throw new RangeError(`disk ${d.vdev}: no disk opener was given to the domain`);
    drives[d.vdev] = { kind: d.devtype, backend: d.path === null ? null : open!(d) };
  }
  return drives;
}

/** The graphics card: std-vga by default with firmware (the VGA BIOS needs one), none for direct boot. */
function vgaKind(spec: DomainSpec): 'stdvga' | 'none' {
  return spec.vga ?? (spec.firmware ? 'stdvga' : 'none');
}

function needsHvmPlatform(spec: DomainSpec): boolean {
  return !!spec.firmware || (spec.disks?.length ?? 0) > 0 || spec.vga === 'stdvga';
}

export interface DomainOptions {
  clock: Clock;
  /** Guest RAM shared with dom0; allocated here when absent. */
  ram?: SharedArrayBuffer;
  /** Wall-clock source for the RTC (ms since the epoch). */
  wallClockMs?: () => number;
  /** Opens an IDE drive's image (the worker passes the Node raw-image opener); required when spec.disks is not empty. */
  openDisk?: (d: DiskSpec) => BlockBackend;
  /** CPU backend factory; the software CPU by default. */
  createVcpu?: (memory: GuestMemory, ops: VmOps, clock: Clock) => VcpuBackend;
  /** The domain's id (xenstore paths, event channels); dom0 allocates it. Default 1. */
  domid?: number;
  /**
   * dom0's backends (xenstored, the PV console) in another thread, reached through this
   * link (dom0-link.ts). With it a Xen domain gets its xenstore and console rings; without
   * it (a domain run alone) the store/console params stay 0 and Linux runs without them.
   */
  dom0Link?: SharedArrayBuffer;
  /** dom0's live-domain table: one byte per domid, 1 while that domain exists. */
  liveDomains?: SharedArrayBuffer;
}

export class Domain {
  readonly events = new EventBus<DomainEventMap>();
  readonly memory: GuestMemory;
  readonly bus = new IoBus();
  /** Guest time: what the platform timers and the TSC see. */
  readonly clock: Clock;
  /** Host time: run budgets and idle sleeps. */
  private readonly hostClock: Clock;
  private readonly guestClock: InstructionClock | null;
  /** The software vCPU, when that is the backend: its slices end exactly at timer deadlines. */
  private readonly emu: EmuVcpu | null = null;
  readonly vcpu: VcpuBackend;
  /** The CPUID table the guest sees (cpuid-policy.ts + the Xen leaves); saved with the domain. */
  readonly cpuid: CpuidEntry[];
  /** SCHEDOP_block/poll asked to idle the vCPU (set by the hypercall, taken by its exit). */
  private blockRequest: BlockRequest | null = null;
  readonly pic: PicPair;
  /** 8259s, and with apic=1 the IOAPIC and the vCPU's LAPIC. */
  readonly interrupts: PlatformInterrupts;
  readonly pit: Pit;
  readonly rtc: RtcCmos;
  readonly uarts: Uart16550[] = [];
  readonly i8042: I8042;
  private readonly serialOut: number[][] = [];
  private shutdownRequest: { reason: ShutdownReason; detail: string; exitStatus?: number } | null = null;
  private vcpuDown = false;
  private finished: RunResult | null = null;
  /** The last exits, newest last, for diagnostics. */
  private readonly exitTrace: string[] = [];
  /** ISA IRQ n as the platform routes it (8259, and the IOAPIC in APIC mode). */
  private readonly isaLine: (irq: number) => IrqLine;
  /** An IOAPIC pin (GSI); goes nowhere without an IOAPIC. */
  private readonly gsiLine: (gsi: number) => IrqLine;
  /** PCI bus 0 with the chipset and PCI devices (firmware boot, disks, VGA). */
  readonly hvm: HvmPlatform | null = null;
  /** A LAPIC and IOAPIC exist (firmware boot with apic=1). */
  private readonly apicPresent: boolean;
  /** The domain sees Xen: CPUID leaves 0x40000000+, the hypercall page MSR, hypercalls. */
  private readonly xen: boolean;
  /** Its Xen objects (event channels, grant table, shared_info, HVM params), once booted. */
  xenState: XenDomain | null = null;
  /** Where event-channel upcalls go (HVM_PARAM_CALLBACK_IRQ). */
  private callbackVia: CallbackVia = { type: 'none' };
  private callbackLine: IrqLine | null = null;
  readonly domid: number;
  /** dom0's backends in the main thread (dom0-link.ts), when there is a dom0. */
  private readonly dom0Link: Dom0Link | null;
  /** Another domain of this host has the id (dom0's live-domain table; false without one). */
  private readonly domainExists: (domid: number) => boolean;
  /** The store and console rings dom0 services, once a Xen domain with a dom0 booted. */
  pvRings: PvRings | null = null;

  constructor(
    readonly spec: DomainSpec,
    opts: DomainOptions,
  ) {
    this.hostClock = opts.clock;
    // The software CPU drives guest time by its retired instructions (deterministic
    // timer calibration); other backends run in real time on the host clock.
    this.guestClock = opts.createVcpu ? null : new InstructionClock(opts.clock);
    this.clock = this.guestClock ?? opts.clock;
    this.memory = new GuestMemory({ ramBytes: spec.memoryBytes, romBytes: domainBackingBytes(spec) }, opts.ram);
    this.domid = opts.domid ?? 1;
    this.dom0Link = opts.dom0Link ? new Dom0Link(opts.dom0Link) : null;
    const live = opts.liveDomains ? new Uint8Array(opts.liveDomains) : null;
    this.domainExists = (d) => live !== null && Number.isInteger(d) && d >= 0 && d < live.length && Atomics.load(live, d) === 1;

    // Xen's apic=1 (the default for HVM): a LAPIC and a 48-pin IOAPIC, only with the
    // firmware that describes them (MADT); direct boot stays a PIC-only PC.
    this.apicPresent = !!spec.firmware && !spec.firmware.override && spec.firmware.apic;
    this.interrupts = new PlatformInterrupts(this.clock, { apic: this.apicPresent, setIntr: (level) => this.driveIntr(level) });
    this.interrupts.register(this.bus);
    this.pic = this.interrupts.pic;

    this.isaLine = (irq) => this.interrupts.isaLine(irq);
    this.gsiLine = this.apicPresent ? (gsi) => this.interrupts.gsiLine(gsi) : () => NO_IRQ;

    this.pit = new Pit(this.clock, this.isaLine(0));
    this.bus.registerPio(0x40, 4, this.pit.ports, 'pit');
    this.bus.registerPio(0x61, 1, this.pit.port61, 'port61');

    this.rtc = new RtcCmos(this.clock, opts.wallClockMs ?? (() => Date.now()), this.isaLine(8));
    this.bus.registerPio(0x70, 2, this.rtc.ports, 'rtc-cmos');
    // Memory sizes in CMOS as a PC BIOS leaves them (hvmloader writes them again with its low-RAM end).
    writeCmosMemorySizes(this.rtc, spec.memoryBytes);

    this.i8042 = new I8042(this.isaLine(1), this.isaLine(12), () => this.requestShutdown('reboot', 'i8042 reset pulse'));
    this.bus.registerPio(0x60, 1, this.i8042.ports.data, 'i8042-data');
    this.bus.registerPio(0x64, 1, this.i8042.ports.command, 'i8042-cmd');
    this.bus.registerPio(0x92, 1, new SystemControlPort(() => this.requestShutdown('reboot', 'port 0x92 reset')), 'port92');
    this.bus.registerPio(0x80, 1, new PostCodePort(), 'post-code');

    if (!Number.isInteger(spec.serialPorts) || spec.serialPorts < 0 || spec.serialPorts > COM_PORTS.length) {
      throw new RangeError(`serial ports: ${spec.serialPorts} is not 0..${COM_PORTS.length}`);
    }
    for (let i = 0; i < spec.serialPorts; i++) {
      const [base, irq] = COM_PORTS[i];
      const out: number[] = [];
      this.serialOut.push(out);
      const uart = new Uart16550(this.isaLine(irq), (byte) => {
        out.push(byte);
        if (out.length >= SERIAL_FLUSH_BYTES) this.flushSerial();
      });
      this.uarts.push(uart);
      this.bus.registerPio(base, 8, uart.ports, `com${i + 1}`);
    }
    for (const ioport of spec.debugconPorts) {
      this.bus.registerPio(ioport, 1, new DebugCon((byte) => this.events.emit('debugcon.tx', { ioport, bytes: Uint8Array.of(byte) })), `debugcon@${ioport.toString(16)}`);
    }

    if (spec.debugExit) {
      // QEMU's isa-debug-exit: the guest ends the domain and chooses the exit status.
      const dev = new DebugExit((status, value) => {
        if (!this.shutdownRequest) this.shutdownRequest = { reason: 'poweroff', detail: `isa-debug-exit: guest wrote ${value.toString(16)}`, exitStatus: status };
        this.vcpu.requestExit();
      });
      this.bus.registerPio(spec.debugExit.iobase, spec.debugExit.size, dev, 'isa-debug-exit');
    }

    if (needsHvmPlatform(spec)) {
      this.hvm = new HvmPlatform({
        bus: this.bus,
        memory: this.memory,
        clock: this.clock,
        isaLine: this.isaLine,
        gsiLine: this.gsiLine,
        powerOff: (detail) => this.requestShutdown('poweroff', detail),
        reset: (detail) => this.requestShutdown('reboot', detail),
        log: (level, message) => this.log(level, 'platform', message),
      }, { vga: vgaKind(spec), vgaBios: spec.firmware?.vgaBios ?? null, drives: openDrives(spec, opts.openDisk), xenPlatform: presentsXen(spec) && spec.xenPlatformPci !== false });
    }

    const ops: VmOps = {
      pioRead: (p: number, size: AccessSize) => this.bus.pioRead(p, size),
      pioWrite: (p: number, size: AccessSize, v: number) => this.bus.pioWrite(p, size, v),
      mmioRead: (a: number, size: AccessSize) => this.bus.mmioRead(a, size),
      mmioWrite: (a: number, size: AccessSize, v: number) => this.bus.mmioWrite(a, size, v),
      acknowledgeInterrupt: () => this.acknowledgeInterrupt(),
    };
    if (opts.createVcpu) {
      this.vcpu = opts.createVcpu(this.memory, ops, this.clock);
    } else {
      const emu = new EmuVcpu(this.memory, ops, this.clock);
      this.guestClock?.attach(() => emu.cpu.instructions);
      this.vcpu = emu;
      this.emu = emu;
    }
    // Firmware boot presents Xen (SeaBIOS's Xen path needs the CPUID leaves, the
    // hypercall-page MSR and xen_version); direct boot stays a bare PC.
    this.xen = presentsXen(spec);
    // A backend that runs long mode shows the x86-64 set (cpuid-policy.ts).
    const policy = hideCpuidFlags(domainCpuidPolicy({ apic: this.apicPresent, longMode: this.vcpu.longMode }), spec.cpuidHidden ?? []);
    this.cpuid = this.xen ? withXenLeaves(policy, { tscKhz: this.vcpu.tscKhz, domId: this.domid, vcpuId: 0 }) : policy;
    this.vcpu.setCpuid(this.cpuid);
    this.vcpu.reset();
    this.boot();
  }

  /** Host → guest bytes on COM(index+1). Excess beyond the UART's input cap is dropped. */
  serialInput(index: number, bytes: Uint8Array): void {
    const uart = this.uarts[index];
    if (uart) uart.receive(bytes);
  }

  /** A device or the toolstack asks the domain to stop. The first request wins. */
  requestShutdown(reason: ShutdownReason, detail: string): void {
    if (!this.shutdownRequest) this.shutdownRequest = { reason, detail };
    this.vcpu.requestExit();
  }

  /**
   * Run the domain for about `budgetMs` of host time (less if it goes idle or
   * shuts down). Serial output produced meanwhile is emitted before returning.
   */
  run(budgetMs: number): RunResult {
    if (this.finished) return this.finished;
    const deadline = this.hostClock.nowNs() + budgetMs * 1e6;
    let result: RunResult = { kind: 'running' };
    for (;;) {
      this.guestClock?.sync();
      this.pit.update();
      this.rtc.update();
      this.interrupts.update();
      this.hvm?.update();
      this.xenState?.runTimers(this.clock.nowNs());
      if (this.dom0Link?.guestSendsPending) this.deliverDom0Sends();
      if (this.shutdownRequest) {
        result = this.finish(this.shutdownRequest.reason, this.shutdownRequest.detail, this.shutdownRequest.exitStatus);
        break;
      }
      if (this.emu && this.guestClock) {
        // Guest time moves with instructions, so a slice can end exactly at the next
        // timer deadline: no tick is ever late by more than one block, none coalesced.
        const due = this.nextTimerNs() - this.clock.nowNs();
        this.emu.sliceInstructions = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.ceil(due / this.guestClock.nsPerInstruction)));
      }
      const exit = this.vcpu.run();
      // A level upcall line follows evtchn_upcall_pending, which the guest clears itself.
      if (this.callbackLine || this.callbackVia.type === 'vector') this.upcall();
      if (exit.kind !== 'interrupted') this.trace(exit);
      const r = this.handleExit(exit);
      if (r) {
        result = r;
        break;
      }
      if (this.hostClock.nowNs() >= deadline) break;
    }
    this.flushSerial();
    return result;
  }

  /** Guest time of the next platform timer event. */
  private nextTimerNs(): number {
    const xen = this.xenState ? this.xenState.nextTimerDeadlineNs() : Infinity;
    return Math.min(this.pit.nextDeadlineNs(), this.rtc.nextDeadlineNs(), this.interrupts.nextDeadlineNs(), this.hvm ? this.hvm.nextDeadlineNs() : Infinity, xen);
  }

  /** The current screen of the graphics card as RGBA pixels, or null without one. */
  screen(): { width: number; height: number; rgba: Uint8Array } | null {
    return this.hvm?.vga?.render() ?? null;
  }

  /** The text-mode screen as lines of text, or null (no card, or a graphics mode). */
  screenText(): { cols: number; rows: number; lines: string[] } | null {
    return this.hvm?.vga?.textScreen() ?? null;
  }

  /** The ACPI power button (xl trigger power). Without ACPI nothing happens. */
  pressPowerButton(): void {
    this.hvm?.pm.pressPowerButton();
  }

  // ---- save / restore (domain-save.ts; tsxen save / restore) ---------------------

  /** xl save's snapshot of this domain. Call between run() slices; the memory is copied, so it may run on (-c). */
  save(): DomainState {
    return gatherDomainState(this.saveParts());
  }

  /**
   * Continue a saved domain: call on a fresh Domain of the image's spec, built on a
   * clock that resumes at `state.guestNs` (save/resumed-clock.ts), before its first
   * run(). Throws RestoreError when the image does not fit; warnings go to the log.
   */
  restore(state: DomainState): void {
    // Guest time is the saved time while the image is applied (no instruction retires
    // meanwhile), so the TSC, the PM timer and every timer continue from one instant.
    this.guestClock?.resetTo(state.guestNs);
    for (const w of applyDomainState(this.saveParts(), state)) this.log('warn', 'restore', w);
    // The hypercall page holds the saving backend's stubs: write ours (as at the MSR write).
    const page = this.xenState?.hypercallPage;
    if (page !== null && page !== undefined && handleXenMsr(true, XEN_MSR_HYPERCALL_PAGE, BigInt(page), this.memory).hypercallPage === page) this.vcpu.hypercallPageInstalled?.(page);
  }

  /** What an image holds of this domain, under stable record names. */
  private saveParts(): DomainParts {
    const devices: Array<{ name: string; device: SaveableState }> = [
      { name: 'interrupts', device: this.interrupts },
      { name: 'pit', device: this.pit },
      { name: 'rtc', device: this.rtc },
      { name: 'i8042', device: this.i8042 },
      ...this.uarts.map((device, i) => ({ name: `com${i + 1}`, device })),
    ];
    // PCI config space (BARs, PAM, PIRQ routes, PM base) before the functions' own records, then PIIX4 PM's registers.
    if (this.hvm) devices.push({ name: 'pci', device: this.hvm.pci }, { name: 'pm', device: this.hvm.pm });
    if (this.hvm) devices.push({ name: 'ide', device: this.hvm.ide });
    if (this.hvm?.vga) devices.push({ name: 'vga', device: this.hvm.vga });
    if (this.hvm?.xenPlatform) devices.push({ name: 'xen-platform', device: this.hvm.xenPlatform });
    return { memory: this.memory, vcpu: this.vcpu, cpuid: this.cpuid, nowNs: () => this.clock.nowNs(), devices, xen: this.xenState };
  }

  /** Registers and recent exits, for crash reports and `tsxen dmesg`. */
  diagnostic(): string {
    const r = this.vcpu.getRegisters();
    const s = this.vcpu.getSpecialRegisters();
    const h = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    const seg = (name: string, x: SegmentRegister) => `${name}=${x.selector.toString(16).padStart(4, '0')} base=${h(x.base)} limit=${h(x.limit)} type=${x.type} dpl=${x.dpl} p=${x.present} db=${x.db}`;
    return [
      `eax=${h(r.eax)} ebx=${h(r.ebx)} ecx=${h(r.ecx)} edx=${h(r.edx)} esi=${h(r.esi)} edi=${h(r.edi)} ebp=${h(r.ebp)} esp=${h(r.esp)}`,
      `eip=${h(r.eip)} eflags=${h(r.eflags)} cr0=${h(s.cr0)} cr2=${h(s.cr2)} cr3=${h(s.cr3)} cr4=${h(s.cr4)} efer=${h(s.efer)}`,
      ...(['cs', 'ss', 'ds', 'es', 'fs', 'gs', 'tr', 'ldt'] as const).map((n) => seg(n, s[n])),
      `gdt=${h(s.gdt.base)}/${s.gdt.limit.toString(16)} idt=${h(s.idt.base)}/${s.idt.limit.toString(16)}`,
      'last exits:',
      ...this.exitTrace.map((e) => '  ' + e),
    ].join('\n');
  }

  private handleExit(exit: VmExit): RunResult | null {
    switch (exit.kind) {
      case 'interrupted':
      case 'io':
      case 'mmio':
        return null;
      case 'hlt': {
        if (!exit.interruptsEnabled) {
          // Xen: HLT with interrupts off takes the vCPU down; all down => poweroff.
          this.vcpuDown = true;
          return this.finish('poweroff', 'every vCPU halted with interrupts disabled');
        }
        return this.idle();
      }
      case 'msr': {
        const apicBase = exit.index === 0x1b ? this.interrupts.apicBaseMsr : null;
        if (apicBase) {
          // IA32_APIC_BASE belongs to the LAPIC (SDM §10.4.4): a bad value is #GP.
          if (!exit.write) this.vcpu.completeMsr(apicBase.read());
          else this.vcpu.completeMsr(apicBase.write(exit.value) ? 0n : undefined);
          return null;
        }
        const xen = this.xen ? handleXenMsr(exit.write, exit.index, exit.value, this.memory) : { handled: false as const };
        if (xen.handled && !xen.gp) {
          if (xen.hypercallPage !== undefined) {
            this.log('info', 'xen', `hypercall page at ${xen.hypercallPage.toString(16)}`);
            if (this.xenState) {
              this.xenState.hypercallPage = xen.hypercallPage;
              // Xen latches the shared_info layout from the writer's mode here (xen-abi.md §2.2).
              const s = this.vcpu.getSpecialRegisters();
              this.xenState.latchGuestWidth(callerWidth(callerMode(s, this.vcpu.getRegisters().eflags)));
            }
          }
          this.vcpu.completeMsr(exit.write ? 0n : (xen.value ?? 0n));
          return null;
        }
        // Not an MSR this platform has (or a bad write to Xen's): #GP, as hardware does.
        this.log('warn', 'vcpu0', `${describeExit(exit)}: ${xen.handled ? 'refused' : 'unknown MSR'}, injecting #GP`);
        this.vcpu.completeMsr(undefined);
        return null;
      }
      case 'hypercall':
        if (!this.xen) return this.finish('crash', 'hypercall without the Xen interface enabled');
        this.hypercall();
        if (this.blockRequest) {
          // SCHEDOP_block/poll with nothing pending: idle as HLT does, also until the poll's
          // timeout. Any wake-up returns from the call (Xen wakes an HVM poller on any interrupt).
          const { deadlineNs } = this.blockRequest;
          this.blockRequest = null;
          return this.idle(deadlineNs);
        }
        return null;
      case 'triple-fault':
        this.log('error', 'vcpu0', `triple fault: ${exit.detail}\n${this.diagnostic()}`);
        return this.finish('crash', `triple fault: ${exit.detail}`);
      case 'internal-error':
        this.log('error', 'vcpu0', `${exit.reason}\n${exit.diagnostic}`);
        return this.finish('crash', exit.reason);
    }
  }

  /**
   * The domain's Xen objects (xen-domain.ts): shared_info and grant frames come from
   * the backing store; an upcall (a vCPU's evtchn_upcall_pending going 0 → 1) goes
   * where HVM_PARAM_CALLBACK_IRQ says — a LAPIC vector, a GSI, or the platform
   * device's INTx — as Xen's hvm_assert_evtchn_irq does.
   */
  private startXen(e820: readonly E820Entry[]): void {
    const link = this.dom0Link;
    const xen = createXenDomain({
      memory: this.memory,
      domid: this.domid,
      e820,
      maxGrantFrames: MAX_GRANT_FRAMES,
      kick: () => this.upcall(),
      now: () => this.clock.nowNs(),
      // HVM_PARAM_CALLBACK_IRQ's vector type is injected directly (driveIntr/acknowledgeInterrupt).
      callbackVector: true,
      longMode: this.vcpu.longMode,
      // Xen's PV clock and vCPU timers need the guest TSC the time info describes, at the
      // rate CPUID's Xen time leaf reports: the software CPU counts the domain clock's
      // nanoseconds; KVM's TSC runs at the host's rate (KVM_GET_TSC_KHZ) and is read through
      // the vCPU. A backend that cannot say its rate offers no PV clock.
      ...(this.vcpu.tscKhz > 0 ? { pvTime: true, tscHz: this.vcpu.tscKhz * 1000, readTsc: () => this.vcpu.readTsc() } : {}),
      ...(link ? { notifyDom0: (port: number) => link.notifyDom0(port) } : {}),
      domainExists: this.domainExists,
    });
    xen.hvm.onCallbackVia((via) => {
      this.callbackLine?.set(false);
      this.callbackLine = null;
      this.callbackVia = via;
      if (via.type === 'gsi') this.callbackLine = via.gsi < 16 ? this.isaLine(via.gsi) : this.gsiLine(via.gsi);
      else if (via.type === 'pci-intx') this.callbackLine = this.hvm?.xenPlatform?.intx ?? null;
      this.log('info', 'xen', `event channel upcall via ${JSON.stringify(via)}`);
      this.upcall();
    });
    this.xenState = xen;
    if (link) this.pvRings = this.placePvRings(xen);
  }

  /**
   * What Xen's toolstack does for an HVM guest's xenstore and primary console: a zeroed
   * special page each, an unbound port in the guest's table for dom0 bound
   * interdomain from dom0's side, and the HVM params Linux reads (xen-abi.md §8, §11, §16).
   */
  private placePvRings(xen: XenDomain): PvRings {
    const page = (gfn: number): number => {
      const offset = this.memory.allocateBacking(PAGE_SIZE);
      this.memory.mapBacking(gfn * PAGE_SIZE, offset, PAGE_SIZE, false);
      return offset;
    };
    const channel = (): [guest: number, dom0: number] => {
      const guest = xen.dom0.allocUnbound(this.domid, 0);
      const dom0 = xen.dom0.bindInterdomain(this.domid, guest);
      if (guest < 0 || dom0 < 0) throw new Error(`cannot bind the store/console event channels (${guest}, ${dom0})`);
      return [guest, dom0];
    };
    const storeOffset = page(XENSTORE_GFN);
    const consoleOffset = page(CONSOLE_GFN);
    const [storeGuestPort, storeDom0Port] = channel();
    const [consoleGuestPort, consoleDom0Port] = channel();
    // bindInterdomain raised dom0's end once (Xen does the same); nothing is queued yet.
    this.dom0Link?.takeDom0Ports();
    initXenStoreInterface(this.memory.bytes.subarray(storeOffset, storeOffset + PAGE_SIZE), storeGuestPort);
    xen.hvm.setByToolstack(HVM_PARAM_STORE_PFN, XENSTORE_GFN);
    xen.hvm.setByToolstack(HVM_PARAM_STORE_EVTCHN, storeGuestPort);
    xen.hvm.setByToolstack(HVM_PARAM_CONSOLE_PFN, CONSOLE_GFN);
    xen.hvm.setByToolstack(HVM_PARAM_CONSOLE_EVTCHN, consoleGuestPort);
    this.log('info', 'xen', `xenstore ring at gfn ${XENSTORE_GFN.toString(16)} port ${storeGuestPort}, console ring at gfn ${CONSOLE_GFN.toString(16)} port ${consoleGuestPort}`);
    return { domid: this.domid, storeGfn: XENSTORE_GFN, storeOffset, storeGuestPort, storeDom0Port, consoleGfn: CONSOLE_GFN, consoleOffset, consoleGuestPort, consoleDom0Port };
  }

  /** dom0's backends notified the guest: dom0's EVTCHNOP_send on each port (raises the guest's end). */
  private deliverDom0Sends(): void {
    const link = this.dom0Link;
    const dom0 = this.xenState?.dom0;
    if (!link) return;
    for (const port of link.takeGuestSends()) dom0?.send(port);
  }

  /**
   * Deliver (or hold) the event-channel upcall of vCPU 0 per the callback via: the
   * vector type raises INTR while evtchn_upcall_pending (acknowledgeInterrupt
   * then hands out the vector); GSI/INTx drive their line level-high.
   */
  private upcall(): void {
    if (this.callbackVia.type === 'vector') this.driveIntr(this.interrupts.intrLevel);
    else this.callbackLine?.set(this.xenState?.sharedInfo.upcallPending(0) ?? false);
  }

  /** The vector callback is due: via type 2 and vCPU 0's evtchn_upcall_pending set. */
  private callbackVectorPending(): boolean {
    return this.callbackVia.type === 'vector' && (this.xenState?.sharedInfo.upcallPending(0) ?? false);
  }

  /** The vCPU's INTR pin: the platform's (PIC/LAPIC) level, or a due vector callback. */
  private driveIntr(platformLevel: boolean): void {
    this.vcpu.setIrqLine(platformLevel || this.callbackVectorPending());
  }

  /**
   * INTA. Xen (hvm_vcpu_has_pending_irq) injects the callback vector before PIC and
   * LAPIC interrupts, straight into the vCPU: not through the LAPIC's IRR/ISR, so the
   * guest never EOIs it (xen-abi.md §5.4). Linux clears evtchn_upcall_pending in its
   * handler, which ends the request.
   */
  private acknowledgeInterrupt(): number {
    if (this.callbackVia.type === 'vector' && this.callbackVectorPending()) return this.callbackVia.vector;
    if (this.callbackVia.type === 'vector' && !this.interrupts.intrLevel) {
      // The line rose for a callback the guest has since taken (it cleared
      // evtchn_upcall_pending): Xen samples that flag at each VM entry, so nothing is due.
      this.driveIntr(false);
      return -1;
    }
    const vector = this.interrupts.acknowledge();
    this.driveIntr(this.interrupts.intrLevel);
    return vector;
  }

  /**
   * Nothing to run until the next timer (HLT), or `deadlineNs` of domain time (a
   * SCHEDOP_poll timeout): the idle result the caller sleeps on, or null when due already.
   */
  private idle(deadlineNs = Infinity): RunResult | null {
    const next = Math.min(this.nextTimerNs(), deadlineNs);
    let now = this.clock.nowNs();
    if (next <= now) return null;
    if (this.guestClock) {
      // Halted: nothing observes guest time, so it may move on to host time, but
      // never past the next timer: every tick is delivered, none is coalesced
      // (Xen's delay_for_missed_ticks), so jiffies stay in step with the TSC.
      const host = this.hostClock.nowNs();
      if (host > now) {
        this.guestClock.advanceTo(Math.min(host, next));
        if (next <= host) return null;
        now = this.clock.nowNs();
      }
    }
    this.flushSerial();
    return { kind: 'idle', wakeAtNs: this.hostClock.nowNs() + (next - now) };
  }

  /** A VMCALL from the guest: Xen's hypercall table (src/hypervisor/hypercall). */
  private hypercall(): void {
    const s = this.vcpu.getSpecialRegisters();
    const regs = this.vcpu.getRegisters();
    const mode = callerMode(s, regs.eflags);
    const pe = mode !== 'real';
    const paging = (s.cr0 & 0x80000000) !== 0;
    dispatchHypercall({
      regs: { get: () => this.vcpu.getRegisters(), set: (r) => this.vcpu.setRegisters(r) },
      regs64: { get: () => this.vcpu.getRegisters64(), set: (r) => this.vcpu.setRegisters64(r) },
      memory: this.memory,
      cpl: pe ? s.cs.selector & 3 : 0,
      mode,
      // Guest handles are linear addresses: with paging on, walk the guest's page tables.
      ...(paging ? { translate: (linear: number, write: boolean) => (this.vcpu.translate ? this.vcpu.translate(linear, write) : undefined) } : {}),
      log: (level, message) => this.log(level, 'xen', message),
      shutdown: (reason) => this.xenShutdown(reason),
      block: (request) => (this.blockRequest = request),
      ...(this.xenState ? { xen: this.xenState.state } : {}),
      console: (text) => this.log('info', 'xen-console', text.replace(/\n$/, '')),
    });
  }

  /** SCHEDOP_shutdown: Xen's SHUTDOWN_* reasons onto the domain's lifecycle (xl on_poweroff/on_reboot/on_crash). */
  private xenShutdown(reason: number): void {
    const detail = `SCHEDOP_shutdown reason ${reason}`;
    if (reason === 0) this.requestShutdown('poweroff', detail);
    else if (reason === 1 || reason === 5) this.requestShutdown('reboot', detail);
    else if (reason === 2) this.log('warn', 'xen', `${detail} (suspend): save/restore is not available; the domain keeps running`);
    else this.requestShutdown('crash', detail);
  }

  private finish(reason: ShutdownReason, detail: string, exitStatus?: number): RunResult {
    this.log(reason === 'crash' ? 'error' : 'info', 'domain', `shutdown: ${reason} (${detail})`);
    this.finished = { kind: 'shutdown', reason, detail, ...(exitStatus !== undefined ? { exitStatus } : {}) };
    return this.finished;
  }

  private trace(exit: VmExit): void {
    this.exitTrace.push(describeExit(exit));
    if (this.exitTrace.length > 32) this.exitTrace.shift();
  }

  private log(level: 'info' | 'warn' | 'error', source: string, message: string): void {
    this.events.emit('log', { level, source, message });
  }

  private flushSerial(): void {
    for (let i = 0; i < this.serialOut.length; i++) {
      const out = this.serialOut[i];
      if (out.length === 0) continue;
      this.events.emit('serial.tx', { port: i, bytes: Uint8Array.from(out) });
      out.length = 0;
    }
  }



  /**
   * Xen's firmware boot (pc-platform §1-2): hvmloader's work is done here, in the
   * domain builder, before the first instruction — PCI setup, ACPI/MP/SMBIOS tables in
   * the area at 0xFC000000, CMOS, E820, the XenHVMSeaBIOS info block, the BIOS copied
   * to end at 1 MiB — then the vCPU starts at F000:FFF0 in real mode.
   */
  private runFirmwareLoader(firmware: NonNullable<DomainSpec['firmware']>): E820Entry[] {
    const hvm = this.hvm;
    if (!hvm) throw new Error('firmware boot without the HVM platform');
    const tables = this.memory.allocateBacking(TABLE_AREA_BYTES);
    this.memory.mapBacking(XEN_TABLE_AREA, tables, TABLE_AREA_BYTES, false);
    const result = runHvmloader({
      memory: this.memory,
      pci: hvm.pci,
      cmos: this.rtc,
      ramBytes: this.spec.memoryBytes,
      vcpus: this.spec.vcpus,
      apic: firmware.apic && this.apicPresent,
      acpi: firmware.acpi,
      bios: firmware.bios,
      bootOrder: firmware.bootOrder,
      outb: (port, value) => this.bus.pioWrite(port, 1, value),
      mmioWrite32: (address, value) => this.bus.mmioWrite(address, 4, value),
    });
    for (const line of result.log) this.log('info', 'hvmloader', line);
    const entry = biosEntryState(this.vcpu.getRegisters(), this.vcpu.getSpecialRegisters(), 0xf0000);
    this.vcpu.setSpecialRegisters(entry.sregs);
    this.vcpu.setRegisters(entry.regs);
    return result.e820;
  }

  private boot(): void {
    const { linux, rawImage, firmware, multiboot, pvh } = this.spec;
    // The memory map Xen's XENMEM_memory_map reports: hvmloader's, else the RAM as it is.
    let e820: E820Entry[] | null = null;
    if (firmware?.override) {
      // bios_path_override: a ROM at the top of the address space, entered at the
      // architectural reset vector (no hvmloader).
      mapBiosRom(this.memory, firmware.bios);
      const entry = biosEntryState(this.vcpu.getRegisters(), this.vcpu.getSpecialRegisters(), 0xffff0000);
      this.vcpu.setSpecialRegisters(entry.sregs);
      this.vcpu.setRegisters(entry.regs);
    } else if (firmware) {
      e820 = this.runFirmwareLoader(firmware);
    } else if (multiboot) {
      const entry = loadMultiboot(this.memory, multiboot);
      this.vcpu.setSpecialRegisters(entry.sregs);
      this.vcpu.setRegisters(entry.regs);
    } else if (pvh) {
      // PVH (Xen docs/misc/pvh.pandoc): no firmware; the start_info's memory map is
      // the one XENMEM_memory_map reports, and the kernel needs Xen's hypercalls.
      if (!this.xen) throw new RangeError('pvh: a PVH kernel needs the Xen interface (DomainSpec.xen)');
      e820 = e820FromMemory(this.memory);
      const entry = loadPvh(this.memory, pvh, { e820 });
      this.vcpu.setSpecialRegisters(entry.sregs);
      this.vcpu.setRegisters(entry.regs);
    } else if (linux) {
      const entry = loadLinux(this.memory, linux);
      this.vcpu.setSpecialRegisters(entry.sregs);
      this.vcpu.setRegisters(entry.regs);
    } else if (rawImage) {
      this.memory.write(rawImage.load, rawImage.bytes);
      const s = this.vcpu.getSpecialRegisters();
      if (rawImage.mode === 'real') {
        s.cs = { ...s.cs, selector: 0, base: 0 };
        this.vcpu.setSpecialRegisters(s);
      } else {
        this.vcpu.setSpecialRegisters(flat32(s));
      }
      this.vcpu.setRegisters({ ...this.vcpu.getRegisters(), eip: rawImage.entry, esp: 0 });
    }
    if (this.xen) this.startXen(e820 ?? e820FromMemory(this.memory));
  }
}

/** Xen's hvm_guest_x86_mode: real, vm86, 16- or 32-bit protected (incl. compat mode), or 64-bit (EFER.LMA and CS.L). */
function callerMode(s: VcpuSpecialRegisters, eflags: number): HypercallCallerMode {
  if ((s.cr0 & 1) === 0) return 'real';
  if ((eflags & 0x20000) !== 0) return 'vm86';
  if (runs64BitCode(s)) return 'long64';
  return s.cs.db ? 'protected32' : 'protected16';
}

/** Flat 32-bit protected mode, CPL 0, paging off: what a raw 32-bit test image expects. */
function flat32(s: VcpuSpecialRegisters): VcpuSpecialRegisters {
  const seg = (selector: number, type: number): SegmentRegister => ({
    selector,
    base: 0,
    limit: 0xffffffff,
    type,
    s: 1,
    dpl: 0,
    present: 1,
    db: 1,
    g: 1,
    avl: 0,
    l: 0,
    unusable: 0,
  });
  const data = seg(0x18, 3);
  return { ...s, cs: seg(0x10, 11), ds: data, es: data, ss: data, fs: data, gs: data, cr0: s.cr0 | 1 };
}
