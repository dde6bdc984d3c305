// The CPU instruction-test rig (src/cpu/emu/test-rig.ts) on KvmVcpu: the same
// GDT/IDT/TSS and handler HLTs (copied from the emu rig's memory), the same
// addresses and the same read-back, so an outcome from here compares directly
// with the emu's (test/cpu/compare.ts). Snippets run at CPL 3, where kvm-pvm
// executes guest code natively: KVM is the reference CPU.

import { CODE_ADDR, CpuTestRig, DATA_ADDR, DATA_LEN, HANDLERS_ADDR, RIG_RAM_BYTES, SEL_CODE3, SEL_DATA3, SEL_TSS, STACK_TOP, STACK_WINDOW, STACK_WINDOW_LEN, TSS_ADDR, GDT_ADDR, IDT_ADDR, placeSnippet, readHandlerFrame, type RigSnippet, type SnippetOutcome } from '../emu/test-rig.js';
import type { SegmentRegister } from '../../hypervisor/vcpu/backend.js';
import { initialFpuState } from '../../hypervisor/vcpu/vcpu-state.js';
import { describeExit, type VmExit } from '../../hypervisor/vcpu/vm-exit.js';
import { kvmGuest, type KvmGuest } from './kvm-test-support.js';

const SYSTEM_TABLES_END = 0x10000;

function flat(selector: number, code: boolean): SegmentRegister {
  return { selector, base: 0, limit: 0xffffffff, type: code ? 0xb : 0x3, s: 1, dpl: 3, present: 1, db: 1, g: 1, avl: 0, l: 0, unusable: 0 };
}

export class KvmTestRig {
  readonly guest: KvmGuest;

  constructor() {
    this.guest = kvmGuest(RIG_RAM_BYTES);
    const tables = new CpuTestRig().memory.read(0, SYSTEM_TABLES_END);
    this.guest.memory.write(0, tables);
  }

  run(s: RigSnippet): SnippetOutcome {
    const { memory: m, vcpu } = this.guest;
    const { end, data } = placeSnippet(m, s);
    const o: SnippetOutcome = { vector: -1, errorCode: -1, regs: [], eip: end, eflags: 0, data, stack: new Uint8Array(0) };
    let exit: VmExit | undefined;
    try {
      // One complete record per case (vcpu-state.ts): nothing a case leaves behind (an
      // FPU stack, a shadow, a queued event, a debug register) reaches the next one.
      vcpu.reset();
      // The 32-bit view below is the whole register file (no `long`: R8-R15 and upper halves zero).
      const { long: _long, ...base } = vcpu.getState();
      const r = s.regs;
      vcpu.setState({
        ...base,
        regs: { eax: r[0], ecx: r[1], edx: r[2], ebx: r[3], esp: s.esp ?? STACK_TOP, ebp: r[5], esi: r[6], edi: r[7], eip: CODE_ADDR, eflags: s.eflags },
        fpu: initialFpuState(),
        debug: { dr0: 0, dr1: 0, dr2: 0, dr3: 0, dr6: 0xffff0ff0, dr7: 0x400 },
        events: { interruptShadow: 'none', exception: null, interrupt: null, nmiPending: false, nmiMasked: false },
        halted: false,
        intrLine: false,
        sregs: {
          ...base.sregs,
          cs: flat(SEL_CODE3, true), ss: flat(SEL_DATA3, false), ds: flat(SEL_DATA3, false), es: flat(SEL_DATA3, false), fs: flat(SEL_DATA3, false), gs: flat(SEL_DATA3, false),
          tr: { selector: SEL_TSS, base: TSS_ADDR, limit: 0x67, type: 0xb, s: 0, dpl: 0, present: 1, db: 0, g: 0, avl: 0, l: 0, unusable: 0 },
          ldt: { selector: 0, base: 0, limit: 0, type: 0x2, s: 0, dpl: 0, present: 0, db: 0, g: 0, avl: 0, l: 0, unusable: 1 },
          gdt: { base: GDT_ADDR, limit: 6 * 8 - 1 },
          idt: { base: IDT_ADDR, limit: 256 * 8 - 1 },
          cr0: 0x1 | 0x10 | 0x20 | (1 << 16), cr2: 0, cr3: 0, cr4: 0, efer: 0,
        },
      });
      for (let slice = 0; slice < (s.maxSlices ?? 1000); slice++) {
        exit = vcpu.run();
        if (exit.kind !== 'interrupted') break;
      }
      this.readBack(o, exit, end);
    } catch (e) {
      o.abnormal = `kvm threw: ${e instanceof Error ? e.message : String(e)}`;
    }
    o.data = m.read(DATA_ADDR, DATA_LEN);
    o.stack = m.read(STACK_WINDOW, STACK_WINDOW_LEN);
    return o;
  }

  /** As the emu rig: the handler HLT names the vector; its frame gives EIP, EFLAGS and the user ESP. */
  private readBack(o: SnippetOutcome, exit: VmExit | undefined, end: number): void {
    const r = this.guest.vcpu.getRegisters();
    o.regs = [r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi].map((v) => v >>> 0);
    o.eip = r.eip >>> 0;
    o.eflags = r.eflags >>> 0;
    if (exit === undefined || exit.kind !== 'hlt') {
      o.abnormal = exit ? `kvm stopped with ${describeExit(exit)}${exit.kind === 'internal-error' ? '\n' + exit.diagnostic : ''}` : 'no exit';
      return;
    }
    readHandlerFrame(this.guest.memory, o, end, true);
  }

  close(): void {
    this.guest.close();
  }
}
