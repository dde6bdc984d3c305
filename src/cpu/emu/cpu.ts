// The software vCPU backend: runs decoded blocks until something needs the
// hypervisor and reports it as a VmExit, like VT hardware (ARCHITECTURE.md "Two
// CPU backends, one seam"). Interrupts are taken between blocks; faults restore
// EIP/ESP and go to interrupts.ts; anything the CPU cannot do stops the domain
// with a diagnostic.
//
// One try/catch surrounds the block loop (not each instruction); the loop itself
// allocates nothing. Instructions are counted per block.

import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import type { Clock } from '../../hypervisor/clock.js';
import type {
  CpuidEntry, SegmentRegister, VcpuBackend, VcpuRegisters, VcpuRegisters64, VcpuSpecialRegisters,
} from '../../hypervisor/vcpu/backend.js';
import { REGISTERS64 } from '../../hypervisor/vcpu/backend.js';
import type { VmExit } from '../../hypervisor/vcpu/vm-exit.js';
import type { VcpuState } from '../../hypervisor/vcpu/vcpu-state.js';
import {
  ATTR_AVL, ATTR_DB, ATTR_DPL_SHIFT, ATTR_G, ATTR_L, ATTR_P, ATTR_S, ATTR_UNUSABLE, CpuException, CpuState, CR0_PE, CS, DS, EAX, EDX, ES, ESP,
  EXC_DB, EXC_GP, FLAG_IF, FLAG_TF, FLAG_VM, FS, GS, LDTR, SS, TR, UnimplementedInstruction,
} from './state.js';
import { readEflags, writeEflags, setArithFlags } from './flags.js';
import { Mmu, ACCESS_READ, ACCESS_WRITE } from './mmu.js';
import { Fpu } from './fpu.js';
import { CpuSegmentedMemory } from './segmented-memory.js';
import { DecodeCache, type Block } from './decode-cache.js';
import { compileBlock, COMPILE_THRESHOLD } from './block-compiler.js';
import { deliverEvent, raiseException, EVENT_EXCEPTION, EVENT_EXTERNAL } from './interrupts.js';
import { cpuidLookup, readTsc, reloadPagingState } from './system.js';
import { formatDiagnostic, recordEvent, EV_EXCEPTION, EV_INTERRUPT } from './diagnostics.js';
import { exportEmuState, importEmuState } from './vcpu-state.js';

/** Default run slice in instructions before an `interrupted` exit. */
export const DEFAULT_SLICE = 50_000;

export class EmuVcpu implements VcpuBackend {
  readonly cpu: CpuState;
  readonly cache: DecodeCache;
  /** Instructions per run() slice. */
  sliceInstructions = DEFAULT_SLICE;
  private exitRequested = false;
  private pendingMsr: { write: boolean } | null = null;

  constructor(memory: GuestMemory, ops: VmOps, clock: Clock) {
    const cpu = new CpuState(memory, ops, clock);
    this.cpu = cpu;
    cpu.mmu = new Mmu(cpu);
    cpu.smem = new CpuSegmentedMemory(cpu);
    cpu.fpu = new Fpu(cpu);
    const cache = new DecodeCache(cpu);
    this.cache = cache;
    cpu.mmu.onCodeWrite = (phys, len) => cache.codeWrite(phys, len);
    // Block links assume unchanged translations: any TLB flush starts a new chain epoch.
    const mmu = cpu.mmu;
    const flush = mmu.flush.bind(mmu);
    const invalidatePage = mmu.invalidatePage.bind(mmu);
    mmu.flush = (includeGlobal: boolean) => {
      cache.epoch++;
      flush(includeGlobal);
    };
    mmu.invalidatePage = (linear: number) => {
      cache.epoch++;
      invalidatePage(linear);
    };
    memory.onWrite((first, last) => cache.invalidateFrames(first, last));
    // A frame now backed by something else (a PCI BAR moved, a ROM unmapped): cached
    // translations and decoded code of it are stale (mmu.ts CONTRACT).
    memory.onRemap((first, last) => {
      cache.invalidateFrames(first, last);
      mmu.flush(true);
    });
    this.reset();
  }

  // ---- running ---------------------------------------------------------------

  run(): VmExit {
    const cpu = this.cpu;
    if (cpu.pendingExit !== null) return this.takeExit();
    let budget = this.sliceInstructions;
    for (;;) {
      try {
        budget = this.runBlocks(budget);
        if (cpu.pendingExit !== null) return this.takeExit();
        if (cpu.halted && !this.exitRequested) return { kind: 'hlt', interruptsEnabled: (cpu.flags & FLAG_IF) !== 0 };
        this.exitRequested = false;
        return { kind: 'interrupted' };
      } catch (e) {
        const exit = this.handleThrow(e);
        if (exit !== null) return exit;
        // A delivered fault counts against the slice, so a handler that faults again
        // and again still gives control back.
        if (--budget <= 0) return { kind: 'interrupted' };
      }
    }
  }

  /**
   * The block loop. Returns the remaining budget when it has to stop (exit pending,
   * halted, slice over). A block that ended on a plain near branch (or its page's
   * end) remembers its successors, so loops go block to block without a lookup.
   */
  private runBlocks(budget: number): number {
    const cpu = this.cpu;
    const cache = this.cache;
    const regs = cpu.regs;
    let prev: Block | null = null;
    while (budget > 0 && !this.exitRequested) {
      if (cpu.pendingExit !== null) return budget;
      const shadow = cpu.interruptShadow;
      if (shadow !== 0) cpu.interruptShadow = 0;
      const eip0 = cpu.eip;
      if (shadow === 0 && cpu.intrLine && (cpu.flags & FLAG_IF) !== 0) {
        // A fault while delivering is reported at the interrupted instruction.
        cpu.insnEip = eip0;
        cpu.savedEsp = regs[ESP];
        prev = null;
        this.takeInterrupt();
      }
      if (cpu.halted) return budget;
      let block: Block;
      const epoch = cache.epoch;
      if (prev !== null && prev.link1Eip === eip0 && prev.link1Epoch === epoch && prev.link1!.valid) block = prev.link1!;
      else if (prev !== null && prev.link2Eip === eip0 && prev.link2Epoch === epoch && prev.link2!.valid) block = prev.link2!;
      else {
        // Fetch and decode faults belong to the instruction at CS:EIP.
        cpu.insnEip = cpu.eip;
        cpu.savedEsp = regs[ESP];
        block = cache.find();
        if (prev !== null && block.cached) {
          // Keep the older link in slot 2, the new one in slot 1.
          prev.link2 = prev.link1;
          prev.link2Eip = prev.link1Eip;
          prev.link2Epoch = prev.link1Epoch;
          prev.link1 = block;
          prev.link1Eip = eip0;
          prev.link1Epoch = epoch;
        }
      }
      let insns = block.insns;
      const single = shadow !== 0 || (cpu.flags & FLAG_TF) !== 0;
      cache.currentGfn = block.gfn;
      cpu.stopBlock = false;
      let k = 0;
      if (block.compiled !== null && !single) {
        // Self loops and chained blocks counted their earlier instructions in cpu.instructions.
        const before = cpu.instructions;
        cache.chainTail = block;
        k = block.compiled(cpu, budget, 0);
        budget -= cpu.instructions - before;
        // k counts the last block of a chain: links and chainability are its.
        if (cache.chainTail !== block) {
          block = cache.chainTail;
          insns = block.insns;
        }
      } else {
        if (block.cached && ++block.hits === COMPILE_THRESHOLD) block.compiled = compileBlock(block, cache);
        const limit = single ? 1 : insns.length;
        const mask = block.code32 ? -1 : 0xffff;
        while (k < limit) {
          const ins = insns[k++];
          const eip = cpu.eip;
          cpu.insnEip = eip;
          cpu.savedEsp = regs[ESP];
          cpu.eip = (eip + ins.len) & mask;
          ins.exec(cpu, ins);
          if (cpu.stopBlock) break;
        }
      }
      cpu.instructions += k;
      budget -= k;
      // The successor may be linked when the last instruction run left the lookup state alone.
      if (block.cached && (k === insns.length ? block.chainable : k > 0 && insns[k - 1].chainable)) {
        prev = block;
      } else {
        // Something a lookup depends on may have changed (CS, CPL, paging, mode).
        prev = null;
        cache.epoch++;
      }
      if (single && (cpu.flags & FLAG_TF) !== 0 && shadow === 0 && !cpu.halted && cpu.pendingExit === null) {
        // Single-step trap after the instruction (SDM vol. 3A §17.3.1.4): DR6.BS.
        cpu.dr[6] |= 1 << 14;
        cpu.insnEip = cpu.eip;
        cpu.savedEsp = regs[ESP];
        deliverEvent(cpu, EXC_DB, EVENT_EXCEPTION, -1);
      }
    }
    return budget;
  }

  /** INTA: take the controller's vector and deliver it (wakes a halted CPU). */
  private takeInterrupt(): void {
    const cpu = this.cpu;
    const vector = cpu.ops.acknowledgeInterrupt();
    if (vector < 0) return;
    cpu.halted = false;
    this.cache.epoch++;
    recordEvent(cpu, EV_INTERRUPT, vector, 0, 0);
    deliverEvent(cpu, vector & 0xff, EVENT_EXTERNAL, -1);
  }

  /** Turn something thrown by an instruction into either a delivered exception (null) or an exit. */
  private handleThrow(e: unknown): VmExit | null {
    const cpu = this.cpu;
    if (e instanceof CpuException) {
      // Faults leave the registers as before the instruction.
      cpu.eip = cpu.insnEip;
      cpu.regs[ESP] = cpu.savedEsp;
      recordEvent(cpu, EV_EXCEPTION, e.vector, e.errorCode, 0);
      this.cache.epoch++;
      try {
        raiseException(cpu, e);
      } catch (e2) {
        if (e2 instanceof CpuException) {
          return { kind: 'triple-fault', detail: `exception ${e2.vector} while delivering exception ${e.vector} at ${hex8(cpu.insnEip)}` };
        }
        return this.internalError(e2);
      }
      if (cpu.pendingExit !== null) return this.takeExit();
      return null;
    }
    cpu.eip = cpu.insnEip;
    cpu.regs[ESP] = cpu.savedEsp;
    return this.internalError(e);
  }

  private internalError(e: unknown): VmExit {
    const cpu = this.cpu;
    let reason: string;
    if (e instanceof UnimplementedInstruction) reason = `unimplemented instruction ${e.what}`;
    else if (e instanceof Error) reason = `emulator error: ${e.message}`;
    else reason = `emulator error: ${String(e)}`;
    let diagnostic = formatDiagnostic(cpu);
    if (e instanceof Error && e.stack) diagnostic += '\n' + e.stack.split('\n').slice(0, 6).join('\n');
    return { kind: 'internal-error', reason, diagnostic };
  }

  private takeExit(): VmExit {
    const cpu = this.cpu;
    const exit = cpu.pendingExit as VmExit;
    cpu.pendingExit = null;
    if (exit.kind === 'msr') this.pendingMsr = { write: exit.write };
    return exit;
  }

  completeMsr(value: bigint | undefined): void {
    const cpu = this.cpu;
    const pending = this.pendingMsr;
    if (pending === null) return;
    this.pendingMsr = null;
    if (value === undefined) {
      cpu.insnEip = cpu.eip;
      cpu.savedEsp = cpu.regs[ESP];
      try {
        raiseException(cpu, new CpuException(EXC_GP, 0));
      } catch (e) {
        if (e instanceof CpuException) cpu.pendingExit = { kind: 'triple-fault', detail: `exception ${e.vector} while delivering #GP for an MSR access` };
        else throw e;
      }
      return;
    }
    if (!pending.write) {
      cpu.regs[EAX] = Number(value & 0xffffffffn) | 0;
      cpu.regs[EDX] = Number((value >> 32n) & 0xffffffffn) | 0;
    }
    cpu.eip = cpu.code32 ? (cpu.eip + cpu.exitInsnLen) | 0 : (cpu.eip + cpu.exitInsnLen) & 0xffff;
  }

  /**
   * Linear → physical for the hypervisor (a hypercall's guest handles), as a
   * supervisor access through the guest's page tables; undefined when the walk
   * faults. A fault here is not the guest's: CR2 is left as it was (Xen returns
   * -EFAULT for a bad handle, it injects nothing).
   */
  translate(linear: number, write: boolean): number | undefined {
    const cpu = this.cpu;
    if ((cpu.cr0 & 0x80000000) === 0) return linear >>> 0;
    const cr2 = cpu.cr2;
    try {
      return cpu.mmu.translate(linear | 0, write ? ACCESS_WRITE : ACCESS_READ, false);
    } catch (e) {
      if (e instanceof CpuException) return undefined;
      throw e;
    } finally {
      cpu.cr2 = cr2;
    }
  }

  requestExit(): void {
    this.exitRequested = true;
  }

  setIrqLine(level: boolean): void {
    this.cpu.intrLine = level;
  }

  setCpuid(entries: CpuidEntry[]): void {
    this.cpu.cpuid = entries.slice();
  }

  // ---- state -------------------------------------------------------------------

  getRegisters(): VcpuRegisters {
    const r = this.cpu.regs;
    return {
      eax: r[0] >>> 0, ecx: r[1] >>> 0, edx: r[2] >>> 0, ebx: r[3] >>> 0,
      esp: r[4] >>> 0, ebp: r[5] >>> 0, esi: r[6] >>> 0, edi: r[7] >>> 0,
      eip: this.cpu.eip >>> 0,
      eflags: readEflags(this.cpu) >>> 0,
    };
  }

  readonly longMode = false;
  /** RDTSC counts the domain clock's nanoseconds (system.ts readTsc). */
  readonly tscKhz = 1_000_000;

  readTsc(): bigint {
    return readTsc(this.cpu);
  }

  getRegisters64(): VcpuRegisters64 {
    const r = this.getRegisters();
    return {
      rax: BigInt(r.eax), rbx: BigInt(r.ebx), rcx: BigInt(r.ecx), rdx: BigInt(r.edx), rsi: BigInt(r.esi), rdi: BigInt(r.edi),
      rsp: BigInt(r.esp), rbp: BigInt(r.ebp), r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n,
      rip: BigInt(r.eip), rflags: BigInt(r.eflags),
    };
  }

  /** The software CPU has 32-bit registers only: a value it cannot hold is refused, never truncated. */
  setRegisters64(regs: VcpuRegisters64): void {
    for (const name of REGISTERS64) {
      const v = regs[name];
      const fits = /^r\d/.test(name) ? v === 0n : v >= 0n && v <= 0xffffffffn;
      if (!fits) throw new RangeError(`${name} = 0x${BigInt.asUintN(64, v).toString(16)}: the software CPU has no long mode (32-bit registers, no R8-R15)`);
    }
    this.setRegisters({
      eax: Number(regs.rax), ebx: Number(regs.rbx), ecx: Number(regs.rcx), edx: Number(regs.rdx), esi: Number(regs.rsi),
      edi: Number(regs.rdi), esp: Number(regs.rsp), ebp: Number(regs.rbp), eip: Number(regs.rip), eflags: Number(regs.rflags),
    });
  }

  setRegisters(regs: VcpuRegisters): void {
    const cpu = this.cpu;
    const r = cpu.regs;
    r[0] = regs.eax; r[1] = regs.ecx; r[2] = regs.edx; r[3] = regs.ebx;
    r[4] = regs.esp; r[5] = regs.ebp; r[6] = regs.esi; r[7] = regs.edi;
    cpu.eip = regs.eip | 0;
    writeEflags(cpu, regs.eflags | 0);
    cpu.modeChanged();
    cpu.mmu.flush(true);
    this.cache.epoch++;
  }

  getSpecialRegisters(): VcpuSpecialRegisters {
    const cpu = this.cpu;
    const seg = (s: number) => segmentOut(cpu, s);
    return {
      cs: seg(CS), ds: seg(DS), es: seg(ES), fs: seg(FS), gs: seg(GS), ss: seg(SS), tr: seg(TR), ldt: seg(LDTR),
      gdt: { base: cpu.gdtBase >>> 0, limit: cpu.gdtLimit },
      idt: { base: cpu.idtBase >>> 0, limit: cpu.idtLimit },
      cr0: cpu.cr0 >>> 0, cr2: cpu.cr2 >>> 0, cr3: cpu.cr3 >>> 0, cr4: cpu.cr4 >>> 0,
      efer: cpu.efer >>> 0, apicBase: cpu.apicBase >>> 0,
    };
  }

  setSpecialRegisters(s: VcpuSpecialRegisters): void {
    const cpu = this.cpu;
    segmentIn(cpu, CS, s.cs); segmentIn(cpu, DS, s.ds); segmentIn(cpu, ES, s.es); segmentIn(cpu, FS, s.fs);
    segmentIn(cpu, GS, s.gs); segmentIn(cpu, SS, s.ss); segmentIn(cpu, TR, s.tr); segmentIn(cpu, LDTR, s.ldt);
    cpu.gdtBase = s.gdt.base | 0; cpu.gdtLimit = s.gdt.limit & 0xffff;
    cpu.idtBase = s.idt.base | 0; cpu.idtLimit = s.idt.limit & 0xffff;
    cpu.cr0 = s.cr0 | 0; cpu.cr2 = s.cr2 | 0; cpu.cr3 = s.cr3 | 0; cpu.cr4 = s.cr4 | 0;
    cpu.efer = s.efer | 0; cpu.apicBase = s.apicBase | 0;
    // CPL: 0 in real mode, 3 in V86, else CS.RPL (fact sheet §2).
    cpu.cpl = (cpu.cr0 & CR0_PE) === 0 ? 0 : cpu.flags & FLAG_VM ? 3 : s.cs.selector & 3;
    cpu.modeChanged();
    // Like KVM_SET_SREGS: PAE paging reloads the PDPTEs from CR3; the TLB starts empty.
    reloadPagingState(cpu);
  }

  /** The complete state (vcpu-state.ts); an RDMSR/WRMSR exit not yet completed re-executes after a restore. */
  getState(): VcpuState {
    return exportEmuState(this);
  }

  setState(state: VcpuState): string[] {
    const notes = importEmuState(this, state);
    this.pendingMsr = null;
    this.exitRequested = false;
    return notes;
  }

  /** Power-on state (SDM vol. 3A "Processor Management and Initialization"; fact sheet §2). */
  reset(): void {
    const cpu = this.cpu;
    cpu.regs.fill(0);
    cpu.eip = 0xfff0;
    cpu.flags = 2;
    setArithFlags(cpu, 0);
    const dataAttr = 3 | ATTR_S | ATTR_P; // read/write, accessed
    for (let s = 0; s < 6; s++) {
      cpu.segSel[s] = 0;
      cpu.segBase[s] = 0;
      cpu.segLimit[s] = 0xffff;
      cpu.segAttr[s] = dataAttr;
    }
    cpu.segSel[CS] = 0xf000;
    cpu.segBase[CS] = 0xffff0000 | 0;
    cpu.segAttr[CS] = 0xb | ATTR_S | ATTR_P; // execute/read, accessed
    cpu.segSel[LDTR] = 0; cpu.segBase[LDTR] = 0; cpu.segLimit[LDTR] = 0xffff; cpu.segAttr[LDTR] = 2 | ATTR_P;
    cpu.segSel[TR] = 0; cpu.segBase[TR] = 0; cpu.segLimit[TR] = 0xffff; cpu.segAttr[TR] = 0xb | ATTR_P;
    cpu.gdtBase = 0; cpu.gdtLimit = 0xffff;
    cpu.idtBase = 0; cpu.idtLimit = 0xffff;
    cpu.cpl = 0;
    cpu.cr0 = 0x60000010; cpu.cr2 = 0; cpu.cr3 = 0; cpu.cr4 = 0; cpu.efer = 0;
    cpu.dr.fill(0);
    cpu.dr[6] = 0xffff0ff0 | 0;
    cpu.dr[7] = 0x400;
    cpu.pdpte.fill(0);
    cpu.sysenterCs = 0; cpu.sysenterEsp = 0; cpu.sysenterEip = 0;
    cpu.pat = 0x0007040600070406n;
    cpu.tscOffset = 0n;
    cpu.halted = false;
    cpu.interruptShadow = 0;
    cpu.deliveringVector = -1;
    cpu.pendingExit = null;
    this.pendingMsr = null;
    cpu.modeChanged();
    cpu.regs[EDX] = cpuidLookup(cpu, 1, 0)[0];
    cpu.fpu.reset();
    cpu.mmu.flush(true);
    this.cache.flush();
  }
}

function hex8(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

function segmentOut(cpu: CpuState, s: number): SegmentRegister {
  const a = cpu.segAttr[s];
  return {
    selector: cpu.segSel[s] & 0xffff,
    base: cpu.segBase[s] >>> 0,
    limit: cpu.segLimit[s] >>> 0,
    type: a & 0xf,
    s: a & ATTR_S ? 1 : 0,
    dpl: (a >> ATTR_DPL_SHIFT) & 3,
    present: a & ATTR_P ? 1 : 0,
    db: a & ATTR_DB ? 1 : 0,
    g: a & ATTR_G ? 1 : 0,
    avl: a & ATTR_AVL ? 1 : 0,
    l: a & ATTR_L ? 1 : 0,
    unusable: a & ATTR_UNUSABLE ? 1 : 0,
  };
}

function segmentIn(cpu: CpuState, s: number, r: SegmentRegister): void {
  cpu.segSel[s] = r.selector & 0xffff;
  cpu.segBase[s] = r.base | 0;
  cpu.segLimit[s] = r.limit >>> 0;
  cpu.segAttr[s] =
    (r.type & 0xf) | (r.s ? ATTR_S : 0) | ((r.dpl & 3) << ATTR_DPL_SHIFT) | (r.present ? ATTR_P : 0) |
    (r.avl ? ATTR_AVL : 0) | (r.l ? ATTR_L : 0) | (r.db ? ATTR_DB : 0) | (r.g ? ATTR_G : 0) | (r.unusable ? ATTR_UNUSABLE : 0);
}
