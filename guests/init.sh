#!/bin/sh
# /init of the tsxen test initramfs (PID 1, busybox sh). Built into the image by
# guests/build.sh. Everything it prints goes to /dev/console (console=ttyS0), one
# fact or result per line, so a harness can grep the serial output:
#
#   GUEST-INIT-OK                 userland is running
#   FACT key=value                what the guest sees (CPU, memory, command line...)
#   TEST name PASS | TEST name FAIL reason
#   GUEST-END                     checks done; then the action below
#
# Kernel command-line words it obeys (the kernel ignores dotted words it does
# not know, and /proc/cmdline still shows them):
#   guest.test=NAME[,NAME]  checks to run: cpu fs time dmesg
#   guest.poweroff | guest.reboot | guest.shell (default: shell)

export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo GUEST-INIT-OK

fact() { echo "FACT $1=$2"; }
# First value of a /proc/cpuinfo field ("model name : X" -> X).
cpuinfo() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -n 1; }

fact uname.m "$(uname -m)"
fact uname.r "$(uname -r)"
fact cpu.model "$(cpuinfo 'model name')"
fact cpu.vendor "$(cpuinfo vendor_id)"
fact cpu.family "$(cpuinfo 'cpu family')"
fact cpu.flags "$(cpuinfo flags)"
fact mem.total "$(sed -n 's/^MemTotal:[[:space:]]*//p' /proc/meminfo)"
fact cmdline "$(cat /proc/cmdline)"
[ -r /sys/hypervisor/type ] && fact hypervisor "$(cat /sys/hypervisor/type)"
# Paging mode comes from the kernel build, not the CPU: Debian names its PAE
# (3-level) kernels *-pae; every other 32-bit kernel uses 2-level paging. The CPU's
# "pae" flag (in cpu.flags) only says the CPU could.
case "$(uname -r)" in
  *-pae) fact paging PAE ;;
  *) fact paging 2-level ;;
esac

pass() { echo "TEST $1 PASS"; }
fail() { echo "TEST $1 FAIL $2"; }

# cpu: integer and floating-point arithmetic (awk uses the x87 here). The
# Pentium FDIV operands: a correct FPU gives 1.33382, the buggy one 1.33374.
test_cpu() {
  cat /proc/cpuinfo
  quotient=$(awk 'BEGIN { print 4195835 / 3145727 }')
  product=$((123456 * 789 % 65536))
  echo "cpu: 4195835/3145727=$quotient 123456*789%65536=$product"
  if [ "$quotient" != 1.33382 ]; then fail cpu "awk 4195835/3145727 gave $quotient, want 1.33382"
  elif [ "$product" != 20288 ]; then fail cpu "shell 123456*789%65536 gave $product, want 20288"
  else pass cpu; fi
}

# fs: write a file on a fresh tmpfs, read it back, compare checksums.
test_fs() {
  mkdir -p /mnt/fs-test && mount -t tmpfs tmpfs /mnt/fs-test || { fail fs "cannot mount tmpfs"; return; }
  seq 1 20000 > /mnt/fs-test/numbers
  cp /mnt/fs-test/numbers /mnt/fs-test/copy
  sum=$(md5sum < /mnt/fs-test/copy | cut -d' ' -f1)
  lines=$(wc -l < /mnt/fs-test/copy)
  echo "fs: md5=$sum lines=$lines"
  umount /mnt/fs-test
  if [ "$sum" = e071f707df7bbeee2a6a1eb48011ddd0 ]; then pass fs; else fail fs "md5 $sum"; fi
}

# time: the clock runs; `sleep 1` takes about one second of uptime.
test_time() {
  date
  before=$(cut -d' ' -f1 /proc/uptime)
  sleep 1
  after=$(cut -d' ' -f1 /proc/uptime)
  echo "time: uptime $before -> $after"
  if awk -v a="$before" -v b="$after" 'BEGIN { d = b - a; exit !(d >= 0.9 && d < 5) }'; then pass time
  else fail time "uptime went from $before to $after over sleep 1"; fi
}

test_dmesg() {
  echo DMESG-BEGIN
  dmesg
  echo DMESG-END
  if dmesg | grep -q 'Linux version'; then pass dmesg; else fail dmesg "no 'Linux version' line"; fi
}

action=shell
for word in $(cat /proc/cmdline); do
  case "$word" in
    guest.test=*)
      for name in $(echo "${word#guest.test=}" | tr ',' ' '); do
        case "$name" in
          cpu | fs | time | dmesg) "test_$name" ;;
          *) fail "$name" "unknown test" ;;
        esac
      done
      ;;
    guest.poweroff) action=poweroff ;;
    guest.reboot) action=reboot ;;
    guest.shell) action=shell ;;
  esac
done
echo GUEST-END

case "$action" in
  poweroff) poweroff -f ;;
  reboot) reboot -f ;;
esac
# PID 1 must never exit (the kernel panics), so a shell that ends starts again.
# setsid + cttyhack give the shell a controlling terminal: job control, ^C work.
while true; do setsid cttyhack sh; done
