// The x86 HVM direct boot ABI (PVH): the ELF note that names the 32-bit entry point
// and the hvm_start_info block whose address the guest finds in EBX.
// Sources: xen/include/public/elfnote.h, xen/include/public/arch-x86/hvm/start_info.h,
// docs/misc/pvh.pandoc. Constants and layouts only.

/** Owner name of Xen's ELF notes (elfnote.h: notes are in the "Xen" namespace). */
export const XEN_ELFNOTE_NAME = 'Xen';
/** elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY = 18, the physical 32-bit entry point (a number of 4 or 8 bytes). */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;

/** start_info.h: "xEn3" with the 0x80 bit of the "E" set. */
export const XEN_HVM_START_MAGIC_VALUE = 0x336ec578;
/** Version 1 adds memmap_paddr / memmap_entries. */
export const HVM_START_INFO_VERSION = 1;

// struct hvm_start_info field offsets (version 1: 56 bytes).
export const HSI_MAGIC = 0;
export const HSI_VERSION = 4;
export const HSI_FLAGS = 8;
export const HSI_NR_MODULES = 12;
export const HSI_MODLIST_PADDR = 16;
export const HSI_CMDLINE_PADDR = 24;
export const HSI_RSDP_PADDR = 32;
export const HSI_MEMMAP_PADDR = 40;
export const HSI_MEMMAP_ENTRIES = 48;
export const HSI_RESERVED = 52;
export const HVM_START_INFO_SIZE = 56;

/** xen.h start_info flags (SIF_*): a domU sets neither. */
export const SIF_PRIVILEGED = 1 << 0;
export const SIF_INITDOMAIN = 1 << 1;

// struct hvm_modlist_entry: paddr, size, cmdline_paddr, reserved (all u64).
export const HVM_MODLIST_PADDR = 0;
export const HVM_MODLIST_SIZE = 8;
export const HVM_MODLIST_CMDLINE_PADDR = 16;
export const HVM_MODLIST_ENTRY_SIZE = 32;

// struct hvm_memmap_table_entry: addr u64, size u64, type u32, reserved u32.
export const HVM_MEMMAP_ADDR = 0;
export const HVM_MEMMAP_SIZE = 8;
export const HVM_MEMMAP_TYPE = 16;
export const HVM_MEMMAP_ENTRY_SIZE = 24;

/** XEN_HVM_MEMMAP_TYPE_*: the ACPI address range types (ACPI 6.2 §15). */
export const XEN_HVM_MEMMAP_TYPE_RAM = 1;
export const XEN_HVM_MEMMAP_TYPE_RESERVED = 2;
export const XEN_HVM_MEMMAP_TYPE_ACPI = 3;
export const XEN_HVM_MEMMAP_TYPE_NVS = 4;
export const XEN_HVM_MEMMAP_TYPE_UNUSABLE = 5;
