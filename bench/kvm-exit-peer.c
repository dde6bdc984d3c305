/* bench/kvm-exit peer: the same KVM_RUN loop as tsxen's KvmVcpu, in C.
 * usage: kvm-exit-peer <guest.bin> <pio|mmio|hypercall> ; prints "<exits> <ns> <cpu-ns>"
 * (wall time, and the process's CPU time, which a loaded machine inflates less).
 * The guest (assembled by bench/kvm-exit.ts) runs in real mode at 0000:1000 for
 * pio/mmio, flat 32-bit protected mode for hypercall, and ends with HLT.
 * Same ioctls as tsxen: where KVM_CAP_SYNC_REGS has the general registers, KVM
 * writes them into kvm_run at every exit (kvm_valid_regs), a hypercall reads its
 * arguments there and leaves the result there for the next KVM_RUN (kvm_dirty_regs). */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s guest.bin pio|mmio|hypercall\n", argv[0]); return 2; }
  int mode = strcmp(argv[2], "pio") == 0 ? 0 : strcmp(argv[2], "mmio") == 0 ? 1 : 2;
  size_t ram_size = 1 << 20;
  uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ram == MAP_FAILED) die("mmap ram");
  FILE *f = fopen(argv[1], "rb");
  if (!f) die("guest");
  fread(ram + 0x1000, 1, 0x8000, f);
  fclose(f);

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("/dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0, .memory_size = 0xa0000, .userspace_addr = (uint64_t)(uintptr_t)ram };
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  int sync_regs = (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS) != 0;
  if (sync_regs) run->kvm_valid_regs = KVM_SYNC_X86_REGS;

  struct kvm_sregs sregs;
  ioctl(vcpu, KVM_GET_SREGS, &sregs);
  sregs.cs.selector = 0; sregs.cs.base = 0;
  if (mode == 2) {
    struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1, .db = 1, .s = 1, .g = 1 };
    struct kvm_segment data = code;
    data.selector = 0x10; data.type = 3;
    sregs.cs = code; sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr0 = 0x31;
  }
  if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
  struct kvm_regs regs;
  memset(&regs, 0, sizeof regs);
  regs.rip = 0x1000; regs.rflags = 2; regs.rsp = 0x7000;
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");

  long exits = 0;
  struct timespec t0, t1, c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN");
    if (run->exit_reason == KVM_EXIT_HLT) break;
    if (run->exit_reason == KVM_EXIT_IO) {
      exits++;
      if (mode == 2) {
        /* A hypercall: read the arguments, answer in EAX (what tsxen's domain does). */
        if (sync_regs) {
          regs = run->s.regs.regs;
          run->s.regs.regs.rax = 0; /* loaded by the next KVM_RUN */
          run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        } else {
          ioctl(vcpu, KVM_GET_REGS, &regs);
          regs.rax = 0;
          ioctl(vcpu, KVM_SET_REGS, &regs);
        }
      }
      continue;
    }
    if (run->exit_reason == KVM_EXIT_MMIO) {
      exits++;
      if (!run->mmio.is_write) memset(run->mmio.data, 0, sizeof run->mmio.data);
      continue;
    }
    fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  printf("%ld %lld %lld\n", exits, (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
         (long long)(c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec));
  return 0;
}
