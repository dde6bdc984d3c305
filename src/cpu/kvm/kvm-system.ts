// /dev/kvm and one VM on it: capability checks, memory slots over the domain's
// RAM, the TSS/identity-map pages VT needs for real mode, and the MSR routing
// that sends the Xen and APIC-base MSRs to tsxen (api.rst §4 "API description").

import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../../hypervisor/memory/guest-memory.js';
import * as abi from './kvm-abi.js';
import { KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, xenHvmConfig } from './kvm-xen-abi.js';
import { closeFd, ioctl, ioctlBuf, mapShared, openDevice, SyscallError, unmap, type Mapping } from './libc.js';

/** Guest-physical pages KVM uses for real-mode emulation on VT (QEMU's choice: top of the 4 GiB hole, below the LAPIC/ROM). */
export const KVM_IDENTITY_MAP_ADDR = 0xfeffc000;
export const KVM_TSS_ADDR = 0xfeffd000;

export class KvmSystem {
  private constructor(
    readonly fd: number,
    readonly path: string,
  ) {}

  /** Open the KVM device; throws SyscallError (ENOENT, EACCES...) or Error for a wrong API version. */
  static open(path = '/dev/kvm'): KvmSystem {
    const fd = openDevice(path);
    let version: number;
    try {
      version = ioctl(fd, abi.KVM_GET_API_VERSION, 0, 'KVM_GET_API_VERSION');
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    if (version !== abi.KVM_API_VERSION) {
      closeFd(fd);
      throw new Error(`${path}: KVM API version ${version}, expected ${abi.KVM_API_VERSION}`);
    }
    return new KvmSystem(fd, path);
  }

  checkExtension(cap: number): number {
    return ioctl(this.fd, abi.KVM_CHECK_EXTENSION, cap, 'KVM_CHECK_EXTENSION');
  }

  vcpuMmapSize(): number {
    return ioctl(this.fd, abi.KVM_GET_VCPU_MMAP_SIZE, 0, 'KVM_GET_VCPU_MMAP_SIZE');
  }

  createVm(): KvmVm {
    return new KvmVm(this, ioctl(this.fd, abi.KVM_CREATE_VM, 0, 'KVM_CREATE_VM'));
  }

  close(): void {
    closeFd(this.fd);
  }
}

/** Guest RAM (+ ROM backing) as anonymous shared memory KVM can map (see README.md: why not the SAB itself). */
export function allocateGuestRam(totalBytes: number): Mapping {
  if (!Number.isInteger(totalBytes) || totalBytes <= 0 || totalBytes % PAGE_SIZE !== 0) {
    throw new RangeError(`guest RAM of ${totalBytes} bytes is not a positive multiple of 4 KiB`);
  }
  return mapShared(totalBytes, -1, 'guest RAM');
}

interface Slot {
  gpa: number;
  offset: number;
  size: number;
  readOnly: boolean;
}

export class KvmVm {
  /** KVM_EXIT_XEN carries the guest's Xen hypercalls (interceptXenHypercalls). */
  xenHypercallIntercept = false;
  private slots: Slot[] = [];
  readonly readOnlyMemory: boolean;

  constructor(
    readonly system: KvmSystem,
    readonly fd: number,
  ) {
    this.readOnlyMemory = system.checkExtension(abi.KVM_CAP_READONLY_MEM) > 0;
  }

  /** VT's real-mode support pages; harmless elsewhere (SVM ignores them). */
  setupRealModePages(): void {
    if (this.system.checkExtension(abi.KVM_CAP_SET_TSS_ADDR) > 0) ioctl(this.fd, abi.KVM_SET_TSS_ADDR, KVM_TSS_ADDR, 'KVM_SET_TSS_ADDR');
    if (this.system.checkExtension(abi.KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(KVM_IDENTITY_MAP_ADDR), true);
      ioctlBuf(this.fd, abi.KVM_SET_IDENTITY_MAP_ADDR, b, 'KVM_SET_IDENTITY_MAP_ADDR');
    }
  }

  /**
   * Make KVM's slots match GuestMemory's frame map: every run of frames backed by
   * consecutive bytes of `ram` is one slot (RAM, ROM read-only where KVM can, VRAM);
   * MMIO frames have no slot, so accesses exit as KVM_EXIT_MMIO.
   */
  syncSlots(memory: GuestMemory, ram: Mapping): void {
    const want: Slot[] = [];
    const fo = memory.frameOffset;
    const ro = memory.frameReadOnly;
    let run: Slot | null = null;
    for (let gfn = 0; gfn < fo.length; gfn++) {
      const off = fo[gfn];
      const readOnly = ro[gfn] === 1;
      if (off >= 0 && run && run.offset + run.size === off && run.readOnly === readOnly) {
        run.size += PAGE_SIZE;
        continue;
      }
      if (run) want.push(run);
      run = off >= 0 ? { gpa: gfn << PAGE_SHIFT >>> 0, offset: off, size: PAGE_SIZE, readOnly } : null;
    }
    if (run) want.push(run);
    for (const s of want) {
      if (s.offset + s.size > ram.length) throw new RangeError(`memory slot at 0x${s.gpa.toString(16)} lies outside the KVM RAM mapping`);
    }
    // Delete every old slot first (size 0), then add: KVM refuses overlapping slots.
    for (let i = 0; i < this.slots.length; i++) this.setSlot(i, { gpa: this.slots[i].gpa, offset: 0, size: 0, readOnly: false }, ram);
    want.forEach((s, i) => this.setSlot(i, s, ram));
    this.slots = want;
  }

  /** The current slots, for diagnostics and tests. */
  get slotList(): ReadonlyArray<Readonly<Slot>> {
    return this.slots;
  }

  private setSlot(index: number, s: Slot, ram: Mapping): void {
    const b = new Uint8Array(32);
    const v = new DataView(b.buffer);
    v.setUint32(0, index, true);
    v.setUint32(4, s.readOnly && this.readOnlyMemory ? abi.KVM_MEM_READONLY : 0, true);
    v.setBigUint64(8, BigInt(s.gpa), true);
    v.setBigUint64(16, BigInt(s.size), true);
    v.setBigUint64(24, s.size ? ram.address + BigInt(s.offset) : 0n, true);
    ioctlBuf(this.fd, abi.KVM_SET_USER_MEMORY_REGION, b, `KVM_SET_USER_MEMORY_REGION slot ${index} gpa 0x${s.gpa.toString(16)}`);
  }

  /**
   * Have KVM hand every Xen hypercall (VMCALL/VMMCALL) to userspace as KVM_EXIT_XEN
   * (kvm-xen-abi.ts), where the host supports it; false where it does not (then
   * tsxen's port-exit hypercall page is the only way in: hypercall-stubs.ts).
   * `msr` stays filtered to userspace, so tsxen itself fills the hypercall page.
   */
  interceptXenHypercalls(msr: number): boolean {
    const supported = this.system.checkExtension(abi.KVM_CAP_XEN_HVM);
    if (supported <= 0 || (supported & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL) === 0) return false;
    ioctlBuf(this.fd, abi.KVM_XEN_HVM_CONFIG, xenHvmConfig(KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, msr), 'KVM_XEN_HVM_CONFIG');
    this.xenHypercallIntercept = true;
    return true;
  }

  /**
   * RDMSR/WRMSR that KVM would refuse, and those the filter denies, exit to userspace
   * (KVM_CAP_X86_USER_SPACE_MSR); the filter denies `msrs` so they always reach tsxen.
   */
  routeMsrsToUserspace(msrs: number[]): void {
    for (const cap of [abi.KVM_CAP_X86_USER_SPACE_MSR, abi.KVM_CAP_X86_MSR_FILTER]) {
      if (this.system.checkExtension(cap) <= 0) throw new Error(`KVM lacks capability ${cap === abi.KVM_CAP_X86_MSR_FILTER ? 'KVM_CAP_X86_MSR_FILTER' : 'KVM_CAP_X86_USER_SPACE_MSR'}`);
    }
    this.enableCap(abi.KVM_CAP_X86_USER_SPACE_MSR, [abi.KVM_MSR_EXIT_REASON_INVAL | abi.KVM_MSR_EXIT_REASON_UNKNOWN | abi.KVM_MSR_EXIT_REASON_FILTER]);
    if (msrs.length > 16) throw new RangeError('at most 16 filtered MSR ranges');
    // kvm_msr_filter: flags u32 (+pad), ranges[16] { flags u32, nmsrs u32, base u32, (pad), bitmap u64 }.
    const b = new Uint8Array(392);
    const v = new DataView(b.buffer);
    v.setUint32(0, abi.KVM_MSR_FILTER_DEFAULT_ALLOW, true);
    // A zero bit denies; every range points at the same zeroed page (KVM copies it).
    const zeros = mapShared(PAGE_SIZE, -1, 'MSR filter bitmap');
    msrs.forEach((msr, i) => {
      const at = 8 + i * 24;
      v.setUint32(at, abi.KVM_MSR_FILTER_READ | abi.KVM_MSR_FILTER_WRITE, true);
      v.setUint32(at + 4, 1, true);
      v.setUint32(at + 8, msr >>> 0, true);
      v.setBigUint64(at + 16, zeros.address, true);
    });
    try {
      ioctlBuf(this.fd, abi.KVM_X86_SET_MSR_FILTER, b, 'KVM_X86_SET_MSR_FILTER');
    } finally {
      unmap(zeros);
    }
  }

  enableCap(cap: number, args: number[]): void {
    const b = new Uint8Array(104);
    const v = new DataView(b.buffer);
    v.setUint32(0, cap, true);
    args.forEach((a, i) => v.setBigUint64(8 + i * 8, BigInt(a), true));
    ioctlBuf(this.fd, abi.KVM_ENABLE_CAP, b, `KVM_ENABLE_CAP ${cap}`);
  }

  createVcpuFd(id: number): number {
    return ioctl(this.fd, abi.KVM_CREATE_VCPU, id, 'KVM_CREATE_VCPU');
  }

  close(): void {
    closeFd(this.fd);
  }
}

export { SyscallError };
