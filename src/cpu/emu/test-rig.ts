// A test rig that runs one code snippet on the software CPU: 4 MiB of RAM, flat
// 32-bit protected mode at CPL 0 or 3, a GDT/IDT/TSS whose exception handlers are
// single HLT bytes, so the vector is read back from where the CPU halted and the
// error code/EIP/EFLAGS from the frame it pushed (SDM vol. 3A §6.12.1).
//
// The layout matches test/cpu/host-runner.c, so a snippet sees the same addresses,
// the same ESP and the same data buffer on the host CPU and here. Used by the
// differential tests (test/cpu/) and by any test that wants "run these bytes".

import { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { ManualClock } from '../../hypervisor/clock.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import type { SegmentRegister, VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';
import { describeExit, type VmExit } from '../../hypervisor/vcpu/vm-exit.js';
import { EmuVcpu } from './cpu.js';

// ---- layout shared with the host runner --------------------------------------
export const CODE_ADDR = 0x00200000;
/** Longest snippet (the host runner appends a 5-byte JMP, the rig a HLT). */
export const CODE_MAX = 0x4000 - 5;
export const DATA_ADDR = 0x00210000;
export const DATA_LEN = 64;
export const STACK_TOP = 0x00220f00;
/** Compared stack bytes: 256 below the initial ESP and 64 above. */
export const STACK_WINDOW = 0x00220e00;
export const STACK_WINDOW_LEN = 0x140;

// ---- rig-only structures (below the snippet's pages) --------------------------
export const RIG_RAM_BYTES = 4 << 20;
export const GDT_ADDR = 0x1000;
export const IDT_ADDR = 0x2000;
/** 256 handlers of one HLT byte each: handler n is at HANDLERS_ADDR + n. */
export const HANDLERS_ADDR = 0x3000;
export const TSS_ADDR = 0x4000;
/** Ring-0 stack for exceptions raised at CPL 3 (TSS.ESP0). */
export const KERNEL_STACK_TOP = 0x8000;

export const SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1b, SEL_DATA3 = 0x23, SEL_TSS = 0x28;

/** What a snippet left behind (the same shape for the host runner). */
export interface SnippetOutcome {
  /** Exception vector raised, or -1 when the snippet ran to its end. */
  vector: number;
  /** Error code of that exception, or -1 when it has none. */
  errorCode: number;
  /** EAX ECX EDX EBX ESP EBP ESI EDI as uint32, at the end or at the fault. */
  regs: number[];
  /** The end of the snippet, or the EIP the exception pushed (faults: the instruction; traps: the next). */
  eip: number;
  eflags: number;
  data: Uint8Array;
  stack: Uint8Array;
  /** Set when the CPU stopped some other way (an unexpected exit, a thrown error): always a failure. */
  abnormal?: string;
}

export interface RigOutcome extends SnippetOutcome {
  cr2: number;
}

type SegName = 'cs' | 'ss' | 'ds' | 'es' | 'fs' | 'gs';

export interface RigSnippet {
  code: Uint8Array;
  /** EAX ECX EDX EBX ESP EBP ESI EDI; ESP is replaced by `esp` (default STACK_TOP). */
  regs: readonly number[];
  eflags: number;
  /** Data buffer contents (DATA_LEN bytes); zeros if absent. */
  data?: Uint8Array;
  esp?: number;
  /** Privilege level to run at (default 3, like the host). */
  cpl?: 0 | 3;
  /** Changes to the flat segment caches, e.g. `{ ds: { limit: 0xfff } }`. */
  segments?: Partial<Record<SegName, Partial<SegmentRegister>>>;
  /** CR3; page tables are written by the caller into `rig.memory`. */
  cr3?: number;
  /** CR0.PG (default: on when `cr3` is given). */
  paging?: boolean;
  cr4?: number;
  /** CR0.WP (default 1, as Linux). */
  writeProtect?: boolean;
  /** Give up after this many run() slices (default 1000). */
  maxSlices?: number;
}

/** Vectors that push an error code (SDM vol. 3A Table 6-1). */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

/** Ports read all ones, MMIO too; nothing is connected. */
const NO_DEVICES: VmOps = {
  pioRead: (_port, size) => (size === 4 ? 0xffffffff : (1 << (size * 8)) - 1),
  pioWrite: () => {},
  mmioRead: (_a, size) => (size === 4 ? 0xffffffff : (1 << (size * 8)) - 1),
  mmioWrite: () => {},
  acknowledgeInterrupt: () => 0,
};

function flatSegment(selector: number, code: boolean, dpl: number): SegmentRegister {
  return { selector, base: 0, limit: 0xffffffff, type: code ? 0xb : 0x3, s: 1, dpl, present: 1, db: 1, g: 1, avl: 0, l: 0, unusable: 0 };
}

/** An 8-byte GDT descriptor (SDM vol. 3A §3.4.5). */
function descriptor(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}

export class CpuTestRig {
  readonly memory = new GuestMemory({ ramBytes: RIG_RAM_BYTES });
  readonly clock = new ManualClock();
  readonly vcpu: EmuVcpu;

  constructor() {
    this.vcpu = new EmuVcpu(this.memory, NO_DEVICES, this.clock);
    this.writeSystemTables();
  }

  /** Rewrite the GDT, IDT, handlers and TSS (after a test changed them in `memory`). */
  writeSystemTables(): void {
    const m = this.memory;
    const gdt: Array<[number, number]> = [
      [0, 0],
      descriptor(0, 0xfffff, 0x9b, 0xc), // 0x08 ring-0 code, accessed
      descriptor(0, 0xfffff, 0x93, 0xc), // 0x10 ring-0 data
      descriptor(0, 0xfffff, 0xfb, 0xc), // 0x18 ring-3 code
      descriptor(0, 0xfffff, 0xf3, 0xc), // 0x20 ring-3 data
      descriptor(TSS_ADDR, 0x67, 0x8b, 0), // 0x28 busy 32-bit TSS
    ];
    gdt.forEach(([lo, hi], i) => {
      m.writeU32(GDT_ADDR + 8 * i, lo);
      m.writeU32(GDT_ADDR + 8 * i + 4, hi);
    });
    for (let v = 0; v < 256; v++) {
      const handler = HANDLERS_ADDR + v;
      // 32-bit interrupt gate; DPL 3 for #BP and #OF so INT3/INTO work from user mode (as Linux).
      const dpl = v === 3 || v === 4 ? 3 : 0;
      m.writeU32(IDT_ADDR + 8 * v, ((SEL_CODE0 << 16) | (handler & 0xffff)) >>> 0);
      m.writeU32(IDT_ADDR + 8 * v + 4, ((handler & 0xffff0000) | 0x8e00 | (dpl << 13)) >>> 0);
      m.writeU8(handler, 0xf4);
    }
    m.fill(TSS_ADDR, 0x68, 0);
    m.writeU32(TSS_ADDR + 4, KERNEL_STACK_TOP);
    m.writeU32(TSS_ADDR + 8, SEL_DATA0);
    // I/O map base beyond the limit: no port is allowed above IOPL (SDM vol. 1 §18.5.2).
    m.writeU32(TSS_ADDR + 0x64, 0x68 << 16);
  }

  private specialRegisters(s: RigSnippet, cpl: number): VcpuSpecialRegisters {
    const code = cpl === 3 ? SEL_CODE3 : SEL_CODE0;
    const data = cpl === 3 ? SEL_DATA3 : SEL_DATA0;
    const seg = (name: SegName): SegmentRegister => ({ ...flatSegment(name === 'cs' ? code : data, name === 'cs', cpl), ...s.segments?.[name] });
    const paging = s.paging ?? s.cr3 !== undefined;
    // CR0: PE ET NE (+ WP PG); SDM vol. 3A §2.5.
    let cr0 = 0x1 | 0x10 | 0x20;
    if (s.writeProtect ?? true) cr0 |= 1 << 16;
    if (paging) cr0 |= 1 << 31;
    return {
      cs: seg('cs'),
      ss: seg('ss'),
      ds: seg('ds'),
      es: seg('es'),
      fs: seg('fs'),
      gs: seg('gs'),
      tr: { selector: SEL_TSS, base: TSS_ADDR, limit: 0x67, type: 0xb, s: 0, dpl: 0, present: 1, db: 0, g: 0, avl: 0, l: 0, unusable: 0 },
      ldt: { selector: 0, base: 0, limit: 0, type: 0x2, s: 0, dpl: 0, present: 0, db: 0, g: 0, avl: 0, l: 0, unusable: 1 },
      gdt: { base: GDT_ADDR, limit: 6 * 8 - 1 },
      idt: { base: IDT_ADDR, limit: 256 * 8 - 1 },
      cr0: cr0 | 0,
      cr2: 0,
      cr3: s.cr3 ?? 0,
      cr4: s.cr4 ?? 0,
      efer: 0,
      apicBase: 0,
    };
  }

  /** Run one snippet from a fresh vCPU state; never throws for anything the snippet does. */
  run(s: RigSnippet): RigOutcome {
    const cpl = s.cpl ?? 3;
    const m = this.memory;
    const { end, data } = placeSnippet(m, s);

    const vcpu = this.vcpu;
    const outcome: RigOutcome = { vector: -1, errorCode: -1, regs: [], eip: end, eflags: 0, data, stack: new Uint8Array(0), cr2: 0 };
    let exit: VmExit | undefined;
    try {
      vcpu.reset();
      vcpu.setSpecialRegisters(this.specialRegisters(s, cpl));
      const r = s.regs;
      vcpu.setRegisters({ eax: r[0], ecx: r[1], edx: r[2], ebx: r[3], esp: s.esp ?? STACK_TOP, ebp: r[5], esi: r[6], edi: r[7], eip: CODE_ADDR, eflags: s.eflags });
      const maxSlices = s.maxSlices ?? 1000;
      for (let slice = 0; slice < maxSlices; slice++) {
        exit = vcpu.run();
        if (exit.kind !== 'interrupted') break;
      }
      this.readBack(outcome, exit, end, cpl);
    } catch (e) {
      outcome.abnormal = `emu threw: ${e instanceof Error ? e.message : String(e)}`;
      try {
        this.fillRegisters(outcome);
      } catch {
        outcome.regs = [0, 0, 0, 0, 0, 0, 0, 0];
      }
    }
    outcome.data = m.read(DATA_ADDR, DATA_LEN);
    outcome.stack = m.read(STACK_WINDOW, STACK_WINDOW_LEN);
    return outcome;
  }

  private fillRegisters(o: RigOutcome): void {
    const r = this.vcpu.getRegisters();
    o.regs = [r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi].map((v) => v >>> 0);
    o.eip = r.eip >>> 0;
    o.eflags = r.eflags >>> 0;
    o.cr2 = this.vcpu.getSpecialRegisters().cr2 >>> 0;
  }

  /** Decode how the snippet stopped: its final HLT, or one of the handler HLTs. */
  private readBack(o: RigOutcome, exit: VmExit | undefined, end: number, cpl: number): void {
    this.fillRegisters(o);
    if (exit === undefined || exit.kind !== 'hlt') {
      o.abnormal = exit ? `emu stopped with ${describeExit(exit)}${exit.kind === 'internal-error' ? '\n' + exit.diagnostic : ''}` : 'no exit';
      return;
    }
    readHandlerFrame(this.memory, o, end, cpl === 3);
  }
}

/**
 * After a HLT exit with `o` filled from the vCPU's registers: a HLT in the handler
 * area names the exception vector, and the handler's frame gives the faulting EIP,
 * EFLAGS and (from CPL 3) the user ESP. Any other HLT is a CPL-0 one (the rig's own at
 * the end, or one in the snippet). With `userEnd`, the rig's final HLT run at CPL 3 —
 * a #GP(0) at the end address — means the snippet finished. Both backends' rigs use it.
 */
/** Writes a snippet's code (then HLT), its data and a zeroed stack window; the same layout on every backend. */
export function placeSnippet(m: GuestMemory, s: RigSnippet): { end: number; data: Uint8Array } {
  if (s.code.length === 0 || s.code.length > CODE_MAX) throw new RangeError(`snippet of ${s.code.length} bytes`);
  const end = CODE_ADDR + s.code.length;
  m.write(CODE_ADDR, s.code);
  m.writeU8(end, 0xf4);
  const data = new Uint8Array(DATA_LEN);
  if (s.data) data.set(s.data.subarray(0, DATA_LEN));
  m.write(DATA_ADDR, data);
  m.fill(STACK_WINDOW, STACK_WINDOW_LEN, 0);
  return { end, data };
}

export function readHandlerFrame(m: GuestMemory, o: SnippetOutcome, end: number, userEnd: boolean): void {
  const haltedAt = (o.eip - 1) >>> 0;
  if (haltedAt < HANDLERS_ADDR || haltedAt >= HANDLERS_ADDR + 256) {
    o.eip = haltedAt;
    return;
  }
  const vector = haltedAt - HANDLERS_ADDR;
  let frame = o.regs[4];
  let errorCode = -1;
  if (hasErrorCode(vector)) {
    errorCode = m.readU32(frame);
    frame += 4;
  }
  const eip = m.readU32(frame);
  const cs = m.readU32(frame + 4) & 0xffff;
  o.eflags = m.readU32(frame + 8);
  o.regs[4] = (cs & 3) === 3 ? m.readU32(frame + 12) : (frame + 12) >>> 0;
  o.eip = eip;
  if (userEnd && vector === 13 && errorCode === 0 && eip === end) return;
  o.vector = vector;
  o.errorCode = errorCode;
}
