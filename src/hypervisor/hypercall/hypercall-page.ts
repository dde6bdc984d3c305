// The hypercall page (reference/xen-abi.md §2.2; xen/arch/x86/msr.c guest_wrmsr_xen,
// vmx/svm init_hypercall_page): the guest writes a page-aligned guest-physical
// address to the MSR CPUID base+2 names, and Xen fills that page with one 32-byte
// stub per hypercall number: `mov eax, nr; vmcall; ret`. SeaBIOS then calls
// page + 17*32 for xen_version. Both VMCALL and VMMCALL trap in every backend, so
// the vendor only decides which bytes the stubs carry.

import type { GuestMemory } from '../memory/guest-memory.js';
import { HYPERCALL_PAGE_STUBS, HYPERCALL_STUB_BYTES, HYPERVISOR_iret } from '../../abi/hypercall-numbers.js';
import { XEN_MSR_HYPERCALL_PAGE, XEN_MSR_HYPERCALL_PAGE_VIRIDIAN } from '../../abi/xen-cpuid.js';

const PAGE_SIZE = 4096;
/** 0F 01 C1 (Intel VMCALL) and 0F 01 D9 (AMD VMMCALL). */
const VMCALL = [0x0f, 0x01, 0xc1] as const;
const VMMCALL = [0x0f, 0x01, 0xd9] as const;
const MOV_EAX_IMM32 = 0xb8;
const RET = 0xc3;
const INT3 = 0xcc;
/** 0F 0B UD2: HVM guests have no iret hypercall. */
const UD2 = [0x0f, 0x0b] as const;

export type HypercallVendor = 'intel' | 'amd';

/** The page's bytes: INT3 filler, stubs at 32*nr, UD2 at the iret stub. */
export function hypercallPageBytes(vendor: HypercallVendor = 'intel'): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE).fill(INT3);
  const call = vendor === 'amd' ? VMMCALL : VMCALL;
  for (let nr = 0; nr < HYPERCALL_PAGE_STUBS; nr++) {
    const at = nr * HYPERCALL_STUB_BYTES;
    if (nr === HYPERVISOR_iret) {
      page.set(UD2, at);
      continue;
    }
    page[at] = MOV_EAX_IMM32;
    page[at + 1] = nr & 0xff;
    page[at + 2] = (nr >>> 8) & 0xff;
    page[at + 3] = (nr >>> 16) & 0xff;
    page[at + 4] = (nr >>> 24) & 0xff;
    page.set(call, at + 5);
    page[at + 8] = RET;
  }
  return page;
}

/** Fill the guest page at `gpa` (page-aligned RAM) with hypercall stubs. Throws GuestMemoryError when it is not RAM. */
export function writeHypercallPage(memory: GuestMemory, gpa: number, vendor: HypercallVendor = 'intel'): void {
  if (gpa % PAGE_SIZE !== 0) throw new RangeError(`hypercall page address 0x${gpa.toString(16)} is not page aligned`);
  memory.write(gpa, hypercallPageBytes(vendor));
}

export interface XenMsrResult {
  /** false: not one of Xen's MSRs; the caller decides (usually #GP). */
  handled: boolean;
  /** RDMSR result when handled without #GP. */
  value?: bigint;
  /** Inject #GP(0), as Xen's guest_{rd,wr}msr_xen return X86EMUL_EXCEPTION. */
  gp?: boolean;
  /** Where the page was written (for the domain log). */
  hypercallPage?: number;
}

export interface XenMsrOptions {
  viridian?: boolean;
  vendor?: HypercallVendor;
}

/**
 * RDMSR/WRMSR of Xen's MSR block (msr.c: 0x40000000-0x400002ff without Viridian,
 * 0x40000200-0x400002ff with it; Viridian owns the rest). Only base+0 exists:
 * it reads as zero; a write with a non-zero page index (low 12 bits) or a frame
 * that is not writable RAM is #GP, otherwise the page is filled. Never throws.
 */
export function handleXenMsr(write: boolean, index: number, value: bigint, memory: GuestMemory, opts: XenMsrOptions = {}): XenMsrResult {
  index >>>= 0;
  const first = opts.viridian ? XEN_MSR_HYPERCALL_PAGE_VIRIDIAN : XEN_MSR_HYPERCALL_PAGE;
  if (index < first || index > XEN_MSR_HYPERCALL_PAGE_VIRIDIAN + 0xff) return { handled: false };
  if (index !== first) return { handled: true, gp: true };
  if (!write) return { handled: true, value: 0n };
  const v = BigInt.asUintN(64, value);
  if ((v & 0xfffn) !== 0n) return { handled: true, gp: true };
  if (v >= 1n << 32n) return { handled: true, gp: true };
  const gpa = Number(v);
  if (!memory.isRam(gpa, PAGE_SIZE)) return { handled: true, gp: true };
  writeHypercallPage(memory, gpa, opts.vendor);
  return { handled: true, hypercallPage: gpa };
}
