/* bench/kvm-exit: the C peer's KVM_RUN loop as a function, called once through koffi
 * on tsxen's own vCPU (same VM, same process): what the exits cost without tsxen's
 * JavaScript, so the bench can tell tsxen's code from the Node process around it.
 * Returns the PIO/MMIO exits counted until HLT, -(exit reason) for another exit, or
 * -1000 - errno when KVM_RUN fails. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

long kvm_exit_loop(int vcpu, struct kvm_run *run) {
  long exits = 0;
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno != EINTR) return -1000 - errno;
      /* A SIGURG left pending by tsxen's slice timer: it stays pending (blocked outside
       * KVM_RUN) and would end every KVM_RUN until taken, as tsxen's run loop does. */
      sigset_t urg;
      struct timespec zero = { 0, 0 };
      sigemptyset(&urg);
      sigaddset(&urg, SIGURG);
      sigtimedwait(&urg, NULL, &zero);
      continue;
    }
    switch (run->exit_reason) {
    case KVM_EXIT_HLT:
      return exits;
    case KVM_EXIT_IO:
      exits++;
      break;
    case KVM_EXIT_MMIO:
      exits++;
      if (!run->mmio.is_write) memset(run->mmio.data, 0, sizeof run->mmio.data);
      break;
    default:
      return -(long)run->exit_reason;
    }
  }
}
