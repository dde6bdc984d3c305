// The hypercall page on KVM without KVM_CAP_XEN_HVM (reference/xen-abi.md §2.2 for
// the page's contract: one 32-byte stub per hypercall number at page + 32*nr,
// EAX = number, arguments in the other registers, result in EAX; the bytes
// themselves are opaque to guests). KVM would answer VMCALL itself, so each stub
// leaves through a port write instead; `out imm8, eax` encodes the same in 16/32/
// 64-bit code and clobbers nothing (EDX/RDX carry arguments, so no `out dx`).

import { HYPERCALL_PAGE_STUBS, HYPERCALL_STUB_BYTES, HYPERVISOR_iret } from '../../abi/hypercall-numbers.js';

/**
 * The port the stubs write. 0xe0 is decoded by nothing on the PC/PIIX4 platform
 * tsxen models; an OUT to it is a hypercall only when it comes from the page.
 */
export const HYPERCALL_PORT = 0xe0;

const MOV_EAX_IMM32 = 0xb8;
const OUT_IMM8_EAX = 0xe7;
const RET = 0xc3;
const INT3 = 0xcc;
const UD2 = [0x0f, 0x0b] as const;

export function kvmHypercallPageBytes(): Uint8Array {
  const page = new Uint8Array(4096).fill(INT3);
  for (let nr = 0; nr < HYPERCALL_PAGE_STUBS; nr++) {
    const at = nr * HYPERCALL_STUB_BYTES;
    if (nr === HYPERVISOR_iret) {
      page.set(UD2, at); // HVM guests have no iret hypercall
      continue;
    }
    page[at] = MOV_EAX_IMM32;
    new DataView(page.buffer).setUint32(at + 1, nr, true);
    page[at + 5] = OUT_IMM8_EAX;
    page[at + 6] = HYPERCALL_PORT;
    page[at + 7] = RET;
  }
  return page;
}
