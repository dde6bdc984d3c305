// Save record for the IOAPIC (Xen hvm/save.h HVM_SAVE_CODE(IOAPIC)). Pin input
// levels are not saved: the devices driving them re-assert on restore.

export interface IoapicState {
  version: 1;
  id: number;
  ioregsel: number;
  /** Per pin: RTE low and high words, remote IRR included. */
  rteLow: number[];
  rteHigh: number[];
}
