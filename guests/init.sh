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
#   guest.test=NAME[,NAME]  checks to run: cpu fs time dmesg cdrom disk platform pwrbtn
#                           xenbus hvc
#   guest.sha256=HEX        what /data/check.bin on the CD must hash to (cdrom)
#   guest.poweroff | guest.reboot | guest.shell (default: shell)

export PATH=/bin:/sbin:/usr/bin:/usr/sbin

# What busybox init does for these signals (sent by busybox poweroff/halt/reboot
# without -f). A trap runs between commands: at once in the idle loops, but only
# after a foreground shell exits; /sbin/{poweroff,reboot,halt} therefore act
# directly (guests/build.sh). Xen's PV reboot needs neither: Linux's ctrl_alt_del()
# restarts at once while no init has turned Ctrl-Alt-Del off.
trap 'poweroff -f' USR2
trap 'halt -f' USR1
trap 'reboot -f' TERM

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
# Xen's sysfs version (xen_version major/minor/extra), present when Linux runs on Xen.
[ -r /sys/hypervisor/version/major ] && fact hypervisor.version "$(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)$(cat /sys/hypervisor/version/extra)"
# Paging mode comes from the kernel build, not the CPU: Debian names its PAE
# (3-level) kernels *-pae; every other 32-bit kernel uses 2-level paging. The CPU's
# "pae" flag (in cpu.flags) only says the CPU could. An x86-64 kernel uses 4-level
# paging, or 5-level where the CPU has LA57 (Debian's amd64 builds CONFIG_X86_5LEVEL=y;
# Intel SDM vol. 3A §4.5).
case "$(uname -m) $(uname -r)" in
  x86_64\ *) if cpuinfo flags | grep -qw la57; then fact paging 5-level; else fact paging 4-level; fi ;;
  *-pae) fact paging PAE ;;
  *) fact paging 2-level ;;
esac

pass() { echo "TEST $1 PASS"; }
fail() { echo "TEST $1 FAIL $2"; }

# cpu: integer and floating-point arithmetic (awk's doubles: the x87 on i686, SSE2 on
# x86_64). The Pentium FDIV operands: a correct FPU gives 1.33382, the buggy one 1.33374.
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

# ---- firmware-boot guests (cd-686.iso, disk-686.img): IDE through ata_piix ----
# The 686 kernel has libata, ata_piix, sd/sr, isofs and vfat as modules; the
# storage initramfs carries them (guests/firmware-images.sh). Loaded once.
storage_loaded=
load_storage() {
  [ -n "$storage_loaded" ] && return
  storage_loaded=1
  for m in crct10dif_generic crc64_rocksoft_generic ata_piix sd_mod sr_mod cdrom isofs nls_cp437 nls_ascii nls_utf8 nls_iso8859-1 vfat; do
    modprobe "$m" 2>&1 || echo "modprobe $m failed"
  done
}

# Waits up to $2 seconds for block device $1 (SCSI scanning finishes after modprobe).
wait_block() {
  n=0
  while [ ! -b "$1" ] && [ "$n" -lt "$2" ]; do sleep 1; n=$((n + 1)); done
  [ -b "$1" ]
}

# cdrom: mount the CD (hdc = /dev/sr0) and hash the 1 MiB data file.
test_cdrom() {
  load_storage
  want=
  for word in $(cat /proc/cmdline); do
    case "$word" in guest.sha256=*) want=${word#guest.sha256=} ;; esac
  done
  wait_block /dev/sr0 60 || { fail cdrom "no /dev/sr0"; return; }
  mkdir -p /mnt/cd
  mount -t iso9660 -o ro /dev/sr0 /mnt/cd || { fail cdrom "cannot mount /dev/sr0"; return; }
  sum=$(sha256sum < /mnt/cd/data/check.bin | cut -d' ' -f1)
  size=$(wc -c < /mnt/cd/data/check.bin)
  fact cdrom.sha256 "$sum"
  fact cdrom.size "$size"
  umount /mnt/cd
  if [ -z "$want" ]; then fail cdrom "no guest.sha256= on the command line"
  elif [ "$sum" = "$want" ]; then pass cdrom
  else fail cdrom "sha256 $sum, want $want"; fi
}

# disk: mount the boot disk's FAT partition (hda = /dev/sda1), write a file (the
# numbers 1-20000, md5 e071f707df7bbeee2a6a1eb48011ddd0), sync, read it back.
test_disk() {
  load_storage
  wait_block /dev/sda1 60 || { fail disk "no /dev/sda1"; return; }
  mkdir -p /mnt/disk
  mount -t vfat /dev/sda1 /mnt/disk || { fail disk "cannot mount /dev/sda1"; return; }
  seq 1 20000 > /mnt/disk/written.txt
  sync
  umount /mnt/disk
  # Read back after a fresh mount, from the device, not the page cache of the old one.
  echo 3 > /proc/sys/vm/drop_caches
  mount -t vfat -o ro /dev/sda1 /mnt/disk || { fail disk "cannot mount /dev/sda1 again"; return; }
  sum=$(md5sum < /mnt/disk/written.txt | cut -d' ' -f1)
  umount /mnt/disk
  fact disk.md5 "$sum"
  if [ "$sum" = e071f707df7bbeee2a6a1eb48011ddd0 ]; then pass disk; else fail disk "read back md5 $sum"; fi
}

# platform: what the firmware and chipset gave Linux, as facts (a test compares).
test_platform() {
  load_storage
  # Let the ATA probes finish so their dmesg lines and IRQs are there.
  wait_block /dev/sr0 30 || wait_block /dev/sda 30
  fact acpi.tables "$(ls /sys/firmware/acpi/tables 2>/dev/null | tr '\n' ' ')"
  if grep -q IO-APIC /proc/interrupts; then fact ioapic yes; else fact ioapic no; fi
  fact clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
  fact clocksource.available "$(cat /sys/devices/system/clocksource/clocksource0/available_clocksource)"
  for dev in /sys/bus/pci/devices/*; do
    [ -e "$dev/vendor" ] || continue
    vendor=$(cat "$dev/vendor") device=$(cat "$dev/device") class=$(cat "$dev/class")
    driver=none
    [ -e "$dev/driver" ] && driver=$(basename "$(readlink "$dev/driver")")
    fact "pci.${dev##*/}" "${vendor#0x}:${device#0x} class=${class#0x} driver=$driver"
  done
  # libata's transfer mode per attached device (MWDMA2/UDMA* = bus-master DMA in use).
  for d in /sys/class/ata_device/dev*; do
    [ -r "$d/class" ] || continue
    class=$(cat "$d/class")
    [ "$class" = none ] || [ "$class" = unknown ] || fact "ata.${d##*/}" "class=$class xfer=$(cat "$d/xfer_mode")"
  done
  grep -E 'ata|IO-APIC' /proc/interrupts | while read -r line; do fact interrupts "$line"; done
  dmesg | grep -E 'ata[0-9]|DMA|scsi |sr0|sd 0|ata_piix' | while read -r line; do fact dmesg "$line"; done
  pass platform
}

# pwrbtn: the ACPI fixed power button (PM1 PWRBTN) pressed from the host reaches
# Linux as an SCI: the ACPI button driver (a module) enables the fixed event; say
# PWRBTN-READY for the host to press and wait for ACPICA to count the event.
test_pwrbtn() {
  modprobe button 2>&1 || echo "modprobe button failed"
  f=/sys/firmware/acpi/interrupts/ff_pwr_btn
  [ -r "$f" ] || { fail pwrbtn "no $f"; return; }
  fact pwrbtn.before "$(cat "$f")"
  echo PWRBTN-READY
  n=0
  while [ "$n" -lt 120 ]; do
    set -- $(cat "$f")
    if [ "${1:-0}" -gt 0 ]; then fact pwrbtn.after "$(cat "$f")"; pass pwrbtn; return; fi
    sleep 1
    n=$((n + 1))
  done
  fail pwrbtn "no power button event in 120 s ($(cat "$f"))"
}

# ---- Xen PV-on-HVM guests (686-pae with xen_interface=1): xenbus and hvc0 ----------
# The 686-pae kernel has xenbus and /dev/xen/xenbus built in, xenfs and xen-evtchn as
# modules (build.sh puts them in /lib/modules). Loaded once; a failed modprobe (no
# modules.dep entry) falls back to insmod of the file.
xen_loaded=
load_xen() {
  [ -n "$xen_loaded" ] && return
  xen_loaded=1
  for m in xen-privcmd xenfs xen-evtchn; do
    grep -q "^$(echo "$m" | tr - _) " /proc/modules && continue
    modprobe "$m" 2>/dev/null && continue
    ko=$(find "/lib/modules/$(uname -r)" -name "$m.ko*" | head -n 1)
    if [ -n "$ko" ]; then insmod "$ko" 2>&1 || echo "insmod $ko failed"
    else echo "no module $m"; fi
  done
  # xenfs: /proc/xen/xenbus is xs's fallback when there is no /dev/xen/xenbus.
  [ -d /proc/xen ] && ! grep -q ' /proc/xen ' /proc/mounts && mount -t xenfs xenfs /proc/xen
}

# xenbus: the guest's own xenstore nodes through /bin/xs (relative paths are under
# /local/domain/<domid>): read domid, name, memory/target; write data/tsxen-test and
# read it back; then say XS-WATCH-READY and watch data/from-dom0 for 2 events (the
# initial fire and dom0's write), each printed as it comes as XS-WATCH-EVENT PATH TOKEN.
# The host writes data/from-dom0 after the first event (the watch is then in place).
test_xenbus() {
  load_xen
  if [ -e /dev/xen/xenbus ]; then fact xenbus.dev /dev/xen/xenbus; else fact xenbus.dev none; fi
  if grep -q ' /proc/xen ' /proc/mounts; then fact xenfs mounted; else fact xenfs none; fi
  [ -r /proc/xen/capabilities ] && fact xenfs.capabilities "$(cat /proc/xen/capabilities)"
  domid=$(xs read domid 2>&1) || { fail xenbus "xs read domid: $domid"; return; }
  name=$(xs read name 2>&1) || { fail xenbus "xs read name: $name"; return; }
  target=$(xs read memory/target 2>&1) || { fail xenbus "xs read memory/target: $target"; return; }
  fact xs.domid "$domid"
  fact xs.name "$name"
  fact xs.memory.target "$target"
  written="tsxen-test from domain $domid"
  err=$(xs write data/tsxen-test "$written" 2>&1) || { fail xenbus "xs write data/tsxen-test: $err"; return; }
  back=$(xs read data/tsxen-test 2>&1) || { fail xenbus "xs read data/tsxen-test: $back"; return; }
  fact xs.data.tsxen-test "$back"
  fact xs.ls.data "$(xs ls data 2>&1 | tr '\n' ' ')"
  # A missing node is an XS_ERROR: xs prints its name and exits 1.
  missing=$(xs read data/no-such-node 2>&1)
  fact xs.read.missing "rc=$? $missing"
  echo XS-WATCH-READY
  # Each event is printed the moment it arrives (tee); xs's status and error come
  # through the same pipe (a pipeline's status would be the last command's).
  { xs -t 600 watch data/from-dom0 t 2 2>&1; echo "XS-WATCH-RC $?"; } | while read -r line; do
    case "$line" in
      XS-WATCH-RC\ *) echo "$line" ;;
      xs:\ *) echo "XS-WATCH-ERROR $line" ;;
      *) echo "XS-WATCH-EVENT $line" ;;
    esac
  done | tee /tmp/xs-watch
  events=$(grep -c '^XS-WATCH-EVENT .* t$' /tmp/xs-watch)
  last=$(grep '^XS-WATCH-EVENT ' /tmp/xs-watch | tail -n 1)
  rc=$(sed -n 's/^XS-WATCH-RC //p' /tmp/xs-watch)
  fact xs.watch.events "$events"
  fact xs.watch.rc "$rc"
  from=$(xs read data/from-dom0 2>&1)
  fact xs.data.from-dom0 "$from"
  dmesg | grep -iE 'xen|xenbus|platform|evtchn|grant' | while read -r line; do fact xen.dmesg "$line"; done
  case "$domid" in '' | *[!0-9]*) fail xenbus "domid '$domid' is not a number"; return ;; esac
  case "$target" in '' | *[!0-9]*) fail xenbus "memory/target '$target' is not a number"; return ;; esac
  if [ -z "$name" ]; then fail xenbus "empty name"
  elif [ "$back" != "$written" ]; then fail xenbus "data/tsxen-test read back '$back', wrote '$written'"
  elif [ "$rc" != 0 ] || [ "$events" != 2 ]; then fail xenbus "watch: rc $rc, $events events"
  else
    case "$last" in
      *data/from-dom0\ t) pass xenbus ;;
      *) fail xenbus "last watch event '$last'" ;;
    esac
  fi
}

# hvc: the Xen PV console (hvc_xen, built in): its tty, its driver, the consoles.
test_hvc() {
  if [ -e /sys/class/tty/hvc0 ]; then fact hvc0.sysfs "$(cat /sys/class/tty/hvc0/dev)"; else fact hvc0.sysfs none; fi
  drivers=$(grep '^hvc' /proc/tty/drivers | tr -s ' ' | tr '\n' ';')
  fact tty.drivers.hvc "${drivers:-none}"
  fact consoles "$(tr -s ' ' < /proc/consoles | tr '\n' ';')"
  fact console.active "$(cat /sys/class/tty/console/active)"
  dmesg | grep -iE 'hvc|xen.*console' | while read -r line; do fact hvc.dmesg "$line"; done
  if [ ! -e /sys/class/tty/hvc0 ]; then fail hvc "no /sys/class/tty/hvc0"
  elif [ -z "$drivers" ]; then fail hvc "no hvc driver in /proc/tty/drivers"
  else pass hvc; fi
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
          cpu | fs | time | dmesg | cdrom | disk | platform | pwrbtn | xenbus | hvc) "test_$name" ;;
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
