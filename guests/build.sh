#!/usr/bin/env bash
# Build tsxen's test guests from Debian 12 i386 packages (and one amd64 guest for
# cpu_backend="kvm") into a cache outside git (facts: /work/shared/reference/test-guests.md).
#
#   ${TSXEN_CACHE:-$HOME/.cache/tsxen}/guests/<key>/   <key> = hash of guests/*.sh and guests/xs/*.c
#   ${TSXEN_CACHE:-$HOME/.cache/tsxen}/guests/current  -> <key>
#
# Outputs: vmlinuz-686, vmlinuz-686-pae, config-686, config-686-pae,
# vmlinux-686-pae (the ELF inside vmlinuz-686-pae, for PVH boot),
# initramfs.cpio.gz (busybox-static + init.sh as /init + /bin/xs, the xenstore
# client from xs/xs.c + the 686-pae Xen modules), busybox-version,
# packages (the exact .deb versions used), default.cfg / default-pae.cfg (xl.cfg
# for the kernel + initramfs), modules-686-pae/ (Xen PV driver modules, depmod'ed),
# the amd64 guest: vmlinuz-amd64, config-amd64, release-amd64, modules-amd64/,
# initramfs-amd64.cpio.gz (busybox-static:amd64, the same /init, an x86_64 /bin/xs)
# and default-amd64.cfg (x86-64 kernels need long mode: cpu_backend="kvm" only),
# and from firmware-images.sh the firmware-boot guests: cd-686.iso, disk-686.img,
# memtest.iso with cd.cfg, disk.cfg, memtest.cfg (see README.md).
#
# A cached build returns at once. The last line printed is the output directory.
# Root (or sudo) is needed only to install host tools, add the i386 architecture
# or refresh the package lists.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TSXEN_CACHE:-$HOME/.cache/tsxen}/guests
# Every script that shapes the output is in the key (the glob sorts: same order each time).
key=$(cat "$here"/*.sh "$here"/xs/*.c | sha256sum | cut -c1-16)
out=$cache/$key

log() { echo "guests/build.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=kernel-modules.sh
source "$here/kernel-modules.sh"

finish() {
  ln -sfn "$key" "$cache/current"
  echo "$out"
}

if [[ -f $out/.complete ]]; then finish; exit 0; fi

# One build at a time (parallel test runners may all call this script).
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ -f $out/.complete ]]; then finish; exit 0; fi

# ---- host prerequisites ------------------------------------------------------
as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"
  fi
}

# host tool -> Debian package that provides it
declare -A tools=([cpio]=cpio [gzip]=gzip [xz]=xz-utils [depmod]=kmod [modinfo]=kmod [dpkg-deb]=dpkg [sha256sum]=coreutils
  [xorriso]=xorriso [syslinux]=syslinux [mcopy]=mtools [mdir]=mtools [mkfs.vfat]=dosfstools [sfdisk]=fdisk)
# data files -> package (the CD and disk boot loaders)
declare -A files=([/usr/lib/ISOLINUX/isolinux.bin]=isolinux [/usr/lib/syslinux/modules/bios/ldlinux.c32]=syslinux-common [/usr/lib/syslinux/mbr/mbr.bin]=syslinux-common)
missing=()
for tool in "${!tools[@]}"; do
  command -v "$tool" >/dev/null || missing+=("${tools[$tool]}")
done
for file in "${!files[@]}"; do
  [[ -f $file ]] || missing+=("${files[$file]}")
done
# /bin/xs is a static i386 program: gcc -m32 -static needs gcc-multilib (it pulls in
# libc6-dev-i386, whose /usr/lib32/libc.a is the static libc).
if ! echo 'int main(void) { return 0; }' | gcc -m32 -static -x c -o /dev/null - 2>/dev/null; then
  missing+=(gcc-multilib)
fi
# The amd64 initramfs's /bin/xs is a static x86_64 program (libc6-dev's libc.a; gcc-multilib
# brings it too).
if ! echo 'int main(void) { return 0; }' | gcc -m64 -static -x c -o /dev/null - 2>/dev/null; then
  missing+=(libc6-dev)
fi
if ((${#missing[@]})); then
  log "installing host tools: ${missing[*]}"
  as_root bash "$here/../scripts/apt-update.sh"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! dpkg --print-foreign-architectures | grep -qx i386 && [[ $(dpkg --print-architecture) != i386 ]]; then
  log "adding the i386 architecture"
  as_root dpkg --add-architecture i386
  as_root bash "$here/../scripts/apt-update.sh"
fi

# The meta packages name the concrete kernel (linux-image-6.1.0-NN-686); refresh
# the package lists only when something we need is unknown.
wanted_packages=(linux-image-686:i386 linux-image-686-pae:i386 busybox-static:i386 linux-image-amd64:amd64 busybox-static:amd64)
have_packages() { apt-cache show "${wanted_packages[@]}" >/dev/null 2>&1; }
if ! have_packages; then
  log "package lists lack what we need: apt-get update"
  as_root bash "$here/../scripts/apt-update.sh"
  have_packages || die "one of ${wanted_packages[*]} is not in the archive"
fi
concrete() {
  apt-cache depends "$1" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1
}
k686=$(concrete linux-image-686:i386)
kpae=$(concrete linux-image-686-pae:i386)
# amd64 is the native architecture here, so apt names the dependency without ":amd64".
kamd64=$(concrete linux-image-amd64:amd64)
kamd64=${kamd64%:amd64}:amd64
[[ -n $k686 && -n $kpae && $kamd64 != :amd64 ]] || die "cannot resolve the kernel packages from linux-image-686{,-pae}:i386 and linux-image-amd64"

# ---- download and unpack -----------------------------------------------------
work=$(mktemp -d "$cache/.build-$key-XXXXXX")
# apt-get download runs as the _apt user when started as root: it needs a
# directory it can reach and write (the cache may sit under a private $HOME).
debs=$(mktemp -d) && chmod 0777 "$debs"
trap 'rm -rf "$work" "$debs"' EXIT
# memtest86+ is an amd64 package only (it carries the ia32 binary and ISO too).
downloads=("$k686" "$kpae" busybox-static:i386 "$kamd64" busybox-static:amd64 memtest86+:amd64)
log "downloading ${downloads[*]}"
(cd "$debs" && apt-get download -q "${downloads[@]}" >&2) || {
  log "download failed: apt-get update and retry"
  as_root bash "$here/../scripts/apt-update.sh"
  (cd "$debs" && apt-get download -q "${downloads[@]}" >&2)
}
unpack() { # dir package arch [paths...]: the whole .deb, or only the tar members named
  local dir=$work/$1 deb=("$debs"/"$2"_*_"$3".deb)
  shift 3
  [[ -f ${deb[0]} ]] || die "no $2 .deb for $3 in $debs"
  mkdir -p "$dir"
  if (($#)); then dpkg-deb --fsys-tarfile "${deb[0]}" | tar -x -C "$dir" --wildcards "$@"
  else dpkg-deb -x "${deb[0]}" "$dir"; fi
}
unpack k686 "${k686%:i386}" i386
unpack kpae "${kpae%:i386}" i386
unpack busybox busybox-static i386
# The amd64 kernel .deb unpacks to 400 MB, nearly all modules: take only the kernel, the
# module lists and the Xen PV drivers (9 MB). The module walk below fails loudly if a
# dependency falls outside this set.
unpack kamd64 "${kamd64%:amd64}" amd64 './boot/vmlinuz-*' './boot/config-*' \
  './lib/modules/*/modules.order' './lib/modules/*/modules.builtin' './lib/modules/*/modules.builtin.modinfo' \
  './lib/modules/*/kernel/drivers/xen/*' './lib/modules/*/kernel/drivers/block/xen-blkfront.ko' './lib/modules/*/kernel/drivers/net/xen-netfront.ko'
unpack busybox-amd64 busybox-static amd64

stage=$work/out
mkdir "$stage"
for d in "$debs"/*.deb; do dpkg-deb -W --showformat='${Package} ${Version} ${Architecture}\n' "$d"; done > "$stage/packages"

kernel_files() { # unpacked-dir flavour
  local src=$1 flavour=$2
  local vmlinuz=("$src"/boot/vmlinuz-*) config=("$src"/boot/config-*)
  [[ -f ${vmlinuz[0]} && -f ${config[0]} ]] || die "no boot/vmlinuz-* or boot/config-* in the $flavour package"
  cp "${vmlinuz[0]}" "$stage/vmlinuz-$flavour"
  cp "${config[0]}" "$stage/config-$flavour"
  basename "${vmlinuz[0]}" | sed 's/^vmlinuz-//' > "$stage/release-$flavour"
}
kernel_files "$work/k686" 686
kernel_files "$work/kpae" 686-pae
kernel_files "$work/kamd64" amd64

# ---- vmlinux-686-pae: the ELF kernel inside the bzImage, for PVH boot ------------
# Linux boot protocol (Documentation/x86/boot.rst): setup_sects (u8 at 0x1f1, 0
# means 4), payload_offset (u32 at 0x248) and payload_length (u32 at 0x24c, both
# protocol >= 2.08) locate the compressed vmlinux relative to the protected-mode
# code at (setup_sects + 1) * 512. Debian compresses it with XZ; the build appends
# the 4-byte uncompressed size after the XZ stream, hence --single-stream.
u8_at() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u16_at() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }
u32_at() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
extract_vmlinux() { # bzImage elf
  local bz=$1 elf=$2 setup_sects version pm off len
  [[ $(od -An -c -j $((0x202)) -N4 "$bz" | tr -d ' ') == HdrS ]] || die "$bz has no Linux boot protocol header"
  version=$(u16_at "$bz" $((0x206)))
  ((version >= 0x208)) || die "$bz: boot protocol $(printf %x "$version") predates payload_offset (2.08)"
  setup_sects=$(u8_at "$bz" $((0x1f1)))
  ((setup_sects == 0)) && setup_sects=4
  pm=$(((setup_sects + 1) * 512))
  off=$(u32_at "$bz" $((0x248)))
  len=$(u32_at "$bz" $((0x24c)))
  [[ $(od -An -tx1 -j $((pm + off)) -N6 "$bz" | tr -d ' ') == fd377a585a00 ]] || die "$bz: the payload is not XZ"
  dd if="$bz" iflag=skip_bytes,count_bytes skip=$((pm + off)) count="$len" bs=64K status=none | xz -dc --single-stream > "$elf"
  [[ $(od -An -tx1 -N4 "$elf" | tr -d ' ') == 7f454c46 ]] || die "$elf (from $bz) is not ELF"
  # XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry point. readelf names Xen's notes by number.
  if command -v readelf >/dev/null; then
    local notes
    notes=$(readelf -n "$elf")
    grep -Eq '^ *Xen .*\(0x00000012\)' <<<"$notes" || die "$elf has no Xen PHYS32_ENTRY note (readelf -n)"
  fi
}
extract_vmlinux "$stage/vmlinuz-686-pae" "$stage/vmlinux-686-pae"

# ---- Xen PV modules of the 686-pae and amd64 kernels, for the initramfs -----------
#   xen_modules FLAVOUR UNPACKED   -> STAGE/modules-FLAVOUR/lib/modules/RELEASE, depmod'ed
xen_modules() {
  local flavour=$1 unpacked=$2
  local release moddir modout
  release=$(cat "$stage/release-$flavour")
  moddir=$unpacked/lib/modules/$release
  modout=$stage/modules-$flavour/lib/modules/$release
  mkdir -p "$modout"
  cp "$moddir"/modules.order "$moddir"/modules.builtin "$moddir"/modules.builtin.modinfo "$modout/"
  copy_modules "$moddir" "$modout" "$flavour" xen-blkfront xen-netfront xen-evtchn xenfs xen-privcmd xen-gntdev
  depmod -b "$stage/modules-$flavour" "$release"
}
xen_modules 686-pae "$work/kpae"
xen_modules amd64 "$work/kamd64"

# ---- initramfs ---------------------------------------------------------------
#   initramfs ROOT BUSYBOX GCC_ARCH MODULES OUT
# A root tree at ROOT (BUSYBOX: an unpacked busybox-static, GCC_ARCH: -m32 or -m64 for
# /bin/xs, MODULES: a modules-FLAVOUR directory) packed as OUT. ROOT stays: the
# firmware guests (firmware-images.sh) start from the i386 one, $work/root.
initramfs() {
  local root=$1 busybox=$2 arch=$3 modules=$4 cpio_out=$5 verb
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt,tmp,root}
  cp "$busybox/bin/busybox" "$root/bin/busybox"
  # --list-full gives each applet's usual path (bin/sh, sbin/poweroff, usr/bin/awk).
  "$root/bin/busybox" --list-full | while read -r applet; do
    [[ $applet == bin/busybox || -e $root/$applet ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
  done
  install -m 0755 "$here/init.sh" "$root/init"
  # Without -f, busybox's poweroff/reboot/halt only signal PID 1 (an init daemon's
  # job); /init is a shell that sits in a foreground shell, where traps wait until that
  # shell exits. So these three act at once, for a user's `poweroff` and for the
  # kernel's orderly_poweroff (it runs /sbin/poweroff when dom0 writes
  # control/shutdown = poweroff: Linux drivers/xen/manage.c).
  for verb in poweroff reboot halt; do
    rm -f "$root/sbin/$verb"
    printf '#!/bin/sh\n# No init daemon here: act at once (guests/build.sh).\nexec /bin/busybox %s -f "$@"\n' "$verb" > "$root/sbin/$verb"
    chmod 0755 "$root/sbin/$verb"
  done
  # /bin/xs: the xenstore client /init's xenbus check uses (xs/xs.c).
  gcc "$arch" -static -Os -s -Wall -o "$root/bin/xs" "$here/xs/xs.c"
  # The kernel's Xen modules (xenfs, xen-evtchn, ...) for /init to modprobe; a kernel
  # ignores a /lib/modules of another release (the 686 one shares the i386 image).
  cp -a "$modules/lib" "$root/"
  # /dev/console must exist before devtmpfs is mounted, or init has no stdout.
  mknod -m 0600 "$root/dev/console" c 5 1
  # Same input, same bytes: fixed timestamps, sorted names, no gzip name/time.
  find "$root" -exec touch -h -d @0 {} +
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --reproducible -R 0:0 --quiet) | gzip -9 -n > "$cpio_out"
}
initramfs "$work/root" "$work/busybox" -m32 "$stage/modules-686-pae" "$stage/initramfs.cpio.gz"
initramfs "$work/root-amd64" "$work/busybox-amd64" -m64 "$stage/modules-amd64" "$stage/initramfs-amd64.cpio.gz"
# The banner names the Debian version: "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) ..."
{ "$work/root/bin/busybox" 2>&1 || true; } | head -n 1 > "$stage/busybox-version"

# ---- xl.cfg files ------------------------------------------------------------
write_cfg() { # file flavour initramfs [comment]
  cat > "$stage/$1" <<EOF
# Generated by tsxen guests/build.sh: Debian $(cat "$stage/release-$2") + busybox initramfs.${4:+
# $4}
name = "guest-$2"
type = "hvm"
memory = 256
kernel = "$out/vmlinuz-$2"
ramdisk = "$out/$3"
cmdline = "console=ttyS0 nokaslr cryptomgr.notests guest.shell"
serial = "pty"
on_reboot = "restart"
EOF
}
write_cfg default.cfg 686 initramfs.cpio.gz
write_cfg default-pae.cfg 686-pae initramfs.cpio.gz
# No cpu_backend line: the user picks; tsxen refuses an x86-64 kernel on the software CPU.
write_cfg default-amd64.cfg amd64 initramfs-amd64.cpio.gz 'An x86-64 kernel: it needs long mode, so cpu_backend = "kvm" on a host with VT-x/AMD-V.'

# ---- firmware-boot guests: isolinux CD, syslinux disk, memtest86+ ------------------
bash "$here/firmware-images.sh" "$stage" "$work" "$out" "$debs"

touch "$stage/.complete"
rm -rf "$out"
mv "$stage" "$out"
log "built $(cat "$out/release-686"), $(cat "$out/release-686-pae") and $(cat "$out/release-amd64") guests"
finish
