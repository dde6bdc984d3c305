// Everything a Domain needs to run on /dev/kvm: the guest RAM KVM maps (passed as
// DomainOptions.ram) and the createVcpu factory (DomainOptions.createVcpu).
//
// Why the RAM is an mmap and not the domain's own SharedArrayBuffer: KVM needs a
// page-aligned host address for every memory slot, and Node allocates large SABs
// with calloc, whose data starts 16 bytes into a page (measured: address % 4096 =
// 16 for 1, 16 and 64 MiB). So the RAM is anonymous MAP_SHARED memory, wrapped by
// koffi.view as an ArrayBuffer of the same length; GuestMemory uses it through the
// same typed-array views. It is not transferable to another worker by postMessage:
// a worker that needs it maps the same address (`hostAddress`) with koffi.view.

import type { Clock } from '../../hypervisor/clock.js';
import type { GuestMemory } from '../../hypervisor/memory/guest-memory.js';
import type { VcpuBackend } from '../../hypervisor/vcpu/backend.js';
import type { VmOps } from '../../hypervisor/vcpu/vm-ops.js';
import { KvmSystem, KvmVm, allocateGuestRam } from './kvm-system.js';
import { DEFAULT_SLICE_MS, KvmVcpu } from './kvm-vcpu.js';
import { unmap, viewMapping, type Mapping } from './libc.js';

/** MSRs that must reach tsxen as `msr` exits: IA32_APIC_BASE and Xen's hypercall-page MSR. */
export const ROUTED_MSRS = [0x1b, 0x40000000];
const XEN_MSR_HYPERCALL_PAGE = 0x40000000;

export interface KvmDomainBackend {
  /** Pass as DomainOptions.ram (runtime type: an ArrayBuffer over the mmap). */
  ram: SharedArrayBuffer;
  /** Host virtual address of the RAM mapping. */
  hostAddress: bigint;
  createVcpu: (memory: GuestMemory, ops: VmOps, clock: Clock) => VcpuBackend;
  /** The vCPU once createVcpu ran (tests and benchmarks read its exit counts). */
  vcpu(): KvmVcpu | null;
  /**
   * The vCPU's kick record (vcpu-kick.ts) once createVcpu ran: post it to dom0, which
   * calls `new VcpuKick(buffer).kick()` after making an event pending for this domain.
   */
  kickBuffer(): SharedArrayBuffer | null;
  close(): void;
}

/**
 * Open KVM, create the VM, allocate `totalBytes` of guest RAM + ROM backing
 * (GuestMemory's ramBytes + romBytes, i.e. spec.memoryBytes + domainBackingBytes(spec)).
 * `sliceMs` bounds one run() in host time (tests lengthen it to see kicks alone).
 * Throws SyscallError/Error when KVM is unusable; call kvmAvailability() first for a friendly message.
 *
 * The vCPU is created on the calling thread and must run there; other threads
 * interrupt it with `new VcpuKick(backend.vcpu().kick.buffer).kick()`.
 */
export function createKvmDomainBackend(totalBytes: number, devicePath = '/dev/kvm', sliceMs = DEFAULT_SLICE_MS, dom0Ram?: { address: bigint; length: number }): KvmDomainBackend {
  const system = KvmSystem.open(devicePath);
  let vm: KvmVm | null = null;
  let ram: Mapping | null = null;
  try {
    vm = system.createVm();
    vm.setupRealModePages();
    vm.routeMsrsToUserspace(ROUTED_MSRS);
    vm.interceptXenHypercalls(XEN_MSR_HYPERCALL_PAGE);
    // dom0's mapping (its backends see the same pages; it unmaps after this thread is
    // gone), or one of our own for a VM made outside the toolstack (tests, benchmarks).
    if (dom0Ram && dom0Ram.length !== totalBytes) throw new RangeError(`dom0's guest RAM mapping has ${dom0Ram.length} bytes, expected ${totalBytes}`);
    ram = dom0Ram ? viewMapping(dom0Ram.address, dom0Ram.length) : allocateGuestRam(totalBytes);
  } catch (e) {
    vm?.close();
    system.close();
    throw e;
  }
  const theVm = vm;
  const theRam = ram;
  let vcpu: KvmVcpu | null = null;
  return {
    ram: theRam.buffer as unknown as SharedArrayBuffer,
    hostAddress: theRam.address,
    createVcpu: (memory, ops, clock) => {
      if (vcpu) throw new Error('the KVM backend runs one vCPU per domain');
      if (memory.buffer !== (theRam.buffer as unknown)) throw new Error('GuestMemory was not built over the KVM RAM mapping (pass backend.ram as DomainOptions.ram)');
      theVm.syncSlots(memory, theRam);
      // ROM/VRAM mapped or unmapped later (PAM, PCI BARs) must reach KVM's slots too.
      memory.onRemap(() => theVm.syncSlots(memory, theRam));
      vcpu = new KvmVcpu(theVm, theVm.createVcpuFd(0), memory, ops, clock, sliceMs);
      return vcpu;
    },
    vcpu: () => vcpu,
    kickBuffer: () => vcpu?.kick.buffer ?? null,
    close: () => {
      vcpu?.close();
      theVm.close();
      system.close();
      if (!dom0Ram) unmap(theRam);
    },
  };
}
