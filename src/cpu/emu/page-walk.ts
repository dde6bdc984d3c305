// Guest page-table walks: 32-bit paging (4 KiB and 4 MiB pages) and PAE paging
// (4 KiB and 2 MiB pages, XD), with the permission checks, A/D updates, the #PF
// error code and the PAE PDPTE register load (SDM vol. 3A ch. 4 "Paging":
// §4.3 32-bit paging, §4.4 PAE paging, §4.6 access rights, §4.7 page-fault
// exceptions, §4.8 accessed and dirty flags).
//
// The walker never allocates: its result lands in the fields of one reusable
// PageWalk object owned by the MMU.

import { CpuException, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, EFER_NXE, EXC_GP, EXC_PF, type CpuState } from './state.js';

// #PF error-code bits (SDM vol. 3A §4.7).
export const PF_PRESENT = 1 << 0;
export const PF_WRITE = 1 << 1;
export const PF_USER = 1 << 2;
export const PF_RSVD = 1 << 3;
export const PF_FETCH = 1 << 4;

/** Access kinds (also exported by mmu.ts for callers). */
const ACCESS_WRITE = 1;
const ACCESS_EXEC = 2;

const TWO32 = 0x100000000;
/** MAXPHYADDR = 36 (CPUID.80000008 absent, PAE advertised): PAE bits 62:36 are reserved (high dword 30:4). */
const PAE_RSVD_HIGH = 0x7ffffff0;
/** PAE PDPTE reserved bits in the low dword: 2:1 and 8:5 (SDM Table 4-8). */
const PDPTE_RSVD_LOW = 0x1e6;
/** 32-bit 4 MiB PDE: bits 21:17 reserved with MAXPHYADDR 36 (bits 16:13 carry PA 35:32, PSE-36). */
const PDE4M_RSVD = 0x3e0000;
/** PAE 2 MiB PDE: bits 20:13 reserved (bit 12 is PAT). */
const PDE2M_RSVD = 0x1fe000;

/** Set an entry's A (and D) bits in guest memory, atomically enough for one vCPU. */
function setEntryBits(cpu: CpuState, phys: number, bits: number): void {
  if (phys >= TWO32) return;
  const mem = cpu.memory;
  const gfn = phys >>> 12;
  const off = mem.frameOffset[gfn];
  if (off < 0 || mem.frameReadOnly[gfn]) return;
  const i = off + (phys & 0xfff);
  const b = mem.bytes;
  if (cpu.mmu.codePages[gfn]) cpu.mmu.onCodeWrite(phys, 1);
  b[i] |= bits;
}

/** A little-endian dword of guest-physical memory; non-RAM reads go to the bus. */
export function physRead32(cpu: CpuState, phys: number): number {
  if (phys >= TWO32) return -1;
  const mem = cpu.memory;
  const off = mem.frameOffset[phys >>> 12];
  if (off < 0) return cpu.ops.mmioRead(phys, 4) | 0;
  const i = off + (phys & 0xfff);
  const b = mem.bytes;
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

/**
 * Load the four PAE PDPTEs from CR3 into cpu.pdpte (SDM vol. 3A §4.4.1). A present
 * PDPTE with a reserved bit set raises #GP(0) and loads nothing.
 */
export function loadPdptes(cpu: CpuState, cr3: number): void {
  const base = (cr3 & ~0x1f) >>> 0;
  const lo = [0, 0, 0, 0];
  const hi = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    lo[i] = physRead32(cpu, base + i * 8);
    hi[i] = physRead32(cpu, base + i * 8 + 4);
    if ((lo[i] & 1) !== 0 && ((lo[i] & PDPTE_RSVD_LOW) !== 0 || (hi[i] & (PAE_RSVD_HIGH | 0x80000000)) !== 0)) {
      throw new CpuException(EXC_GP, 0);
    }
  }
  for (let i = 0; i < 4; i++) {
    cpu.pdpte[2 * i] = lo[i];
    cpu.pdpte[2 * i + 1] = hi[i];
  }
}

export class PageWalk {
  /** Physical address of the accessed byte. */
  phys = 0;
  /** The translation allows user-mode access (U/S=1 at every level). */
  user = false;
  /** The translation is writable at every level (R/W=1 everywhere). */
  writable = false;
  /** Instruction fetches are forbidden (XD at some level, EFER.NXE=1). */
  noExec = false;
  /** G=1 in the final entry and CR4.PGE=1: survives CR3 loads. */
  global = false;
  /** The translation came from a 4 MiB or 2 MiB page. */
  large = false;
  /** The final entry has D=1 (or was just set). */
  dirty = false;

  constructor(private readonly cpu: CpuState) {}

  /**
   * Translate `linear` for `access` as a `user` (CPL 3) access, set A/D bits, and
   * fill the fields above. Throws #PF (CR2 = linear) on any failure; entries that
   * cause a fault are not updated.
   */
  walk(linear: number, access: number, user: boolean): void {
    const cpu = this.cpu;
    if ((cpu.cr0 & CR0_PG) === 0) {
      this.phys = linear >>> 0;
      this.user = this.writable = this.dirty = true;
      this.noExec = this.global = this.large = false;
      return;
    }
    if ((cpu.cr4 & CR4_PAE) !== 0) this.walkPae(linear, access, user);
    else this.walk32(linear, access, user);
  }

  private fault(linear: number, access: number, user: boolean, bits: number): never {
    const cpu = this.cpu;
    let code = bits;
    if (access === ACCESS_WRITE) code |= PF_WRITE;
    if (user) code |= PF_USER;
    // I/D is reported only when XD can exist (SDM §4.7: NXE=1 with PAE paging).
    if (access === ACCESS_EXEC && (cpu.efer & EFER_NXE) !== 0 && (cpu.cr4 & CR4_PAE) !== 0) code |= PF_FETCH;
    cpu.cr2 = linear | 0;
    throw new CpuException(EXC_PF, code);
  }

  /** Permission checks common to both modes (SDM §4.6). */
  private check(linear: number, access: number, user: boolean, us: boolean, rw: boolean, xd: boolean): void {
    if (user && !us) this.fault(linear, access, user, PF_PRESENT);
    if (access === ACCESS_WRITE && !rw && (user || (this.cpu.cr0 & CR0_WP) !== 0)) this.fault(linear, access, user, PF_PRESENT);
    if (access === ACCESS_EXEC && xd) this.fault(linear, access, user, PF_PRESENT);
  }

  private walk32(linear: number, access: number, user: boolean): void {
    const cpu = this.cpu;
    const pdeAddr = ((cpu.cr3 & 0xfffff000) >>> 0) + ((linear >>> 22) << 2);
    const pde = physRead32(cpu, pdeAddr);
    if ((pde & 1) === 0) this.fault(linear, access, user, 0);
    if ((pde & 0x80) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) {
      if ((pde & PDE4M_RSVD) !== 0) this.fault(linear, access, user, PF_PRESENT | PF_RSVD);
      this.check(linear, access, user, (pde & 4) !== 0, (pde & 2) !== 0, false);
      let bits = 0x20;
      if (access === ACCESS_WRITE) bits |= 0x40;
      if ((pde & bits) !== bits) setEntryBits(cpu, pdeAddr, bits);
      this.phys = ((pde >>> 13) & 0xf) * TWO32 + ((pde & 0xffc00000) >>> 0) + (linear & 0x3fffff);
      this.finish(pde, pde, bits, true);
      return;
    }
    const pteAddr = ((pde & 0xfffff000) >>> 0) + (((linear >>> 12) & 0x3ff) << 2);
    const pte = physRead32(cpu, pteAddr);
    if ((pte & 1) === 0) this.fault(linear, access, user, 0);
    this.check(linear, access, user, (pde & pte & 4) !== 0, (pde & pte & 2) !== 0, false);
    if ((pde & 0x20) === 0) setEntryBits(cpu, pdeAddr, 0x20);
    let bits = 0x20;
    if (access === ACCESS_WRITE) bits |= 0x40;
    if ((pte & bits) !== bits) setEntryBits(cpu, pteAddr, bits);
    this.phys = ((pte & 0xfffff000) >>> 0) + (linear & 0xfff);
    this.finish(pde, pte, bits, false);
  }

  private walkPae(linear: number, access: number, user: boolean): void {
    const cpu = this.cpu;
    const nxe = (cpu.efer & EFER_NXE) !== 0;
    const rsvdHigh = nxe ? PAE_RSVD_HIGH : PAE_RSVD_HIGH | 0x80000000;
    const slot = (linear >>> 30) << 1;
    const pdpLo = cpu.pdpte[slot];
    const pdpHi = cpu.pdpte[slot + 1];
    if ((pdpLo & 1) === 0) this.fault(linear, access, user, 0);
    const pdeAddr = (pdpHi & 0xf) * TWO32 + ((pdpLo & 0xfffff000) >>> 0) + (((linear >>> 21) & 0x1ff) << 3);
    const pdeLo = physRead32(cpu, pdeAddr);
    const pdeHi = physRead32(cpu, pdeAddr + 4);
    if ((pdeLo & 1) === 0) this.fault(linear, access, user, 0);
    if ((pdeHi & rsvdHigh) !== 0) this.fault(linear, access, user, PF_PRESENT | PF_RSVD);
    if ((pdeLo & 0x80) !== 0) {
      if ((pdeLo & PDE2M_RSVD) !== 0) this.fault(linear, access, user, PF_PRESENT | PF_RSVD);
      this.check(linear, access, user, (pdeLo & 4) !== 0, (pdeLo & 2) !== 0, nxe && pdeHi < 0);
      let bits = 0x20;
      if (access === ACCESS_WRITE) bits |= 0x40;
      if ((pdeLo & bits) !== bits) setEntryBits(cpu, pdeAddr, bits);
      this.phys = (pdeHi & 0xf) * TWO32 + ((pdeLo & 0xffe00000) >>> 0) + (linear & 0x1fffff);
      this.noExec = nxe && pdeHi < 0;
      this.finish(pdeLo, pdeLo, bits, true);
      return;
    }
    const pteAddr = (pdeHi & 0xf) * TWO32 + ((pdeLo & 0xfffff000) >>> 0) + (((linear >>> 12) & 0x1ff) << 3);
    const pteLo = physRead32(cpu, pteAddr);
    const pteHi = physRead32(cpu, pteAddr + 4);
    if ((pteLo & 1) === 0) this.fault(linear, access, user, 0);
    if ((pteHi & rsvdHigh) !== 0) this.fault(linear, access, user, PF_PRESENT | PF_RSVD);
    const xd = nxe && (pdeHi | pteHi) < 0;
    this.check(linear, access, user, (pdeLo & pteLo & 4) !== 0, (pdeLo & pteLo & 2) !== 0, xd);
    if ((pdeLo & 0x20) === 0) setEntryBits(cpu, pdeAddr, 0x20);
    let bits = 0x20;
    if (access === ACCESS_WRITE) bits |= 0x40;
    if ((pteLo & bits) !== bits) setEntryBits(cpu, pteAddr, bits);
    this.phys = (pteHi & 0xf) * TWO32 + ((pteLo & 0xfffff000) >>> 0) + (linear & 0xfff);
    this.noExec = xd;
    this.finish(pdeLo, pteLo, bits, false);
  }

  /** Record rights of a successful walk; `upper` and `leaf` are the low dwords used. */
  private finish(upper: number, leaf: number, setBits: number, large: boolean): void {
    const cpu = this.cpu;
    this.user = (upper & leaf & 4) !== 0;
    this.writable = (upper & leaf & 2) !== 0;
    this.global = (leaf & 0x100) !== 0 && (cpu.cr4 & CR4_PGE) !== 0;
    this.large = large;
    this.dirty = ((leaf | setBits) & 0x40) !== 0;
    if ((cpu.cr4 & CR4_PAE) === 0) this.noExec = false;
  }
}
