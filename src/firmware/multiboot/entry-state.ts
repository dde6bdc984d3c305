// The machine state at a Multiboot kernel's entry (Multiboot 0.6.96 §3.2): EAX =
// 0x2BADB002, EBX = the information structure, CS a 32-bit read/execute segment
// with offset 0 and limit 0xFFFFFFFF, DS/ES/FS/GS/SS read/write with the same
// base and limit, A20 on, CR0.PG = 0, CR0.PE = 1, EFLAGS.VM = 0 and IF = 0. The
// spec leaves GDTR undefined; we point it at a real flat GDT anyway so that a
// kernel reloading a selector before installing its own GDT still works.

import type { SegmentRegister, VcpuRegisters, VcpuSpecialRegisters } from '../../hypervisor/vcpu/backend.js';

export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

/** Selectors in the boot GDT: null, unused, code, data (the layout Linux's 32-bit boot uses too). */
export const MULTIBOOT_BOOT_CS = 0x10;
export const MULTIBOOT_BOOT_DS = 0x18;
/** Flat 4 GiB descriptors, G=1 D=1 P=1 DPL 0, execute/read and read/write, accessed (Intel SDM vol. 3A §3.4.5). */
const CODE_DESCRIPTOR = 0x00cf9b000000ffffn;
const DATA_DESCRIPTOR = 0x00cf93000000ffffn;
export const BOOT_GDT_BYTES = 32;

const CR0_PE = 1 << 0;
/** ET reads 1 on every processor since the 486 (SDM vol. 3A §2.5). */
const CR0_ET = 1 << 4;
/** IA32_APIC_BASE at reset on the bootstrap processor. */
const APIC_BASE_BSP_RESET = 0xfee00900;
/** EFLAGS bit 1 is always 1; IF, VM and everything else clear. */
const EFLAGS_RESERVED = 0x2;

export function bootGdtBytes(): Uint8Array {
  const gdt = new Uint8Array(BOOT_GDT_BYTES);
  const view = new DataView(gdt.buffer);
  view.setBigUint64(MULTIBOOT_BOOT_CS, CODE_DESCRIPTOR, true);
  view.setBigUint64(MULTIBOOT_BOOT_DS, DATA_DESCRIPTOR, true);
  return gdt;
}

function flat(selector: number, type: number): SegmentRegister {
  return { selector, base: 0, limit: 0xffffffff, type, s: 1, dpl: 0, present: 1, db: 1, g: 1, avl: 0, l: 0, unusable: 0 };
}

export function multibootEntryRegisters(entry: number, infoAddr: number): VcpuRegisters {
  // ESP is undefined by §3.2 (the kernel sets its own stack); 0 keeps it deterministic.
  return { eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: infoAddr >>> 0, ecx: 0, edx: 0, esi: 0, edi: 0, esp: 0, ebp: 0, eip: entry >>> 0, eflags: EFLAGS_RESERVED };
}

export function multibootEntrySpecialRegisters(gdtBase: number): VcpuSpecialRegisters {
  const data = () => flat(MULTIBOOT_BOOT_DS, 0x3);
  return {
    cs: flat(MULTIBOOT_BOOT_CS, 0xb),
    ds: data(),
    es: data(),
    fs: data(),
    gs: data(),
    ss: data(),
    // VM entry needs a usable busy 32-bit TSS in TR even though no task has run (SDM vol. 3C §26.3.1.2).
    tr: { selector: 0, base: 0, limit: 0x67, type: 0xb, s: 0, dpl: 0, present: 1, db: 0, g: 0, avl: 0, l: 0, unusable: 0 },
    ldt: { selector: 0, base: 0, limit: 0, type: 0x2, s: 0, dpl: 0, present: 0, db: 0, g: 0, avl: 0, l: 0, unusable: 1 },
    gdt: { base: gdtBase >>> 0, limit: BOOT_GDT_BYTES - 1 },
    idt: { base: 0, limit: 0 },
    cr0: CR0_PE | CR0_ET,
    cr2: 0,
    cr3: 0,
    cr4: 0,
    efer: 0,
    apicBase: APIC_BASE_BSP_RESET,
  };
}
