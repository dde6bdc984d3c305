// Xen's fixed PCI INTx routing (xen/arch/x86/hvm/irq.c as described in
// reference/pc-platform-and-firmware.md §2.1, §3.4): each device pin reaches one
// of the four PIIX3 links in a "barber pole", and its own IOAPIC GSI >= 16.

/** ISA IRQs hvmloader routes PIIX3 links A-D to (PIRQRC 0x60-0x63). */
export const PCI_LINK_IRQS: readonly number[] = [5, 10, 11, 5];

/** Link (0 = A .. 3 = D) for device `dev`, pin 0 = INTA .. 3 = INTD (hvm_pci_intx_link). */
export function pciIntxLink(dev: number, pin: number): number {
  return (pin + dev) & 3;
}

/** IOAPIC GSI for device `dev`, pin 0-3 (hvm_pci_intx_gsi): 16..47, so 48 IOAPIC pins. */
export function pciIntxGsi(dev: number, pin: number): number {
  return ((dev * 4 + (dev >> 3) + pin) % 32) + 16;
}
