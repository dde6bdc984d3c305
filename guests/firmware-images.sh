#!/usr/bin/env bash
# The firmware-boot test guests, built by guests/build.sh into its staging
# directory (facts: /work/shared/reference/test-guests.md; El Torito:
# pc-platform-and-firmware.md §6.7). No loop devices, no mounts: xorriso writes
# the CD, sfdisk/mkfs.vfat/syslinux/mtools write the disk image as a file.
#
#   bash firmware-images.sh STAGE WORK OUT DEBS
#     STAGE  build.sh's output being assembled (has vmlinuz-686{,-pae}, release-686{,-pae})
#     WORK   build.sh's scratch: k686/, kpae/ (unpacked kernel .debs), root/ (initramfs tree)
#     OUT    the final cache directory (absolute paths written into the .cfg files)
#     DEBS   the downloaded .debs (memtest86+)
#
# Adds to STAGE: modules-686/ and modules-686-pae-storage/ (storage modules),
# initramfs-686-storage.cpio.gz, initramfs-686-pae-storage.cpio.gz, check.bin +
# check.sha256, cd-686.iso, cd-686-pae.iso, disk-686.img, memtest.iso, cd.cfg,
# cd-pae.cfg, disk.cfg, memtest.cfg.
set -euo pipefail

stage=$1 work=$2 out=$3 debs=$4
log() { echo "guests/firmware-images.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=kernel-modules.sh
source "$(dirname "${BASH_SOURCE[0]}")/kernel-modules.sh"

for tool in xorriso sfdisk mkfs.vfat syslinux mcopy mdir; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install xorriso isolinux syslinux syslinux-common mtools dosfstools fdisk)"
done
isolinux_bin=/usr/lib/ISOLINUX/isolinux.bin
ldlinux_c32=/usr/lib/syslinux/modules/bios/ldlinux.c32
mbr_bin=/usr/lib/syslinux/mbr/mbr.bin
for f in "$isolinux_bin" "$ldlinux_c32" "$mbr_bin"; do
  [[ -f $f ]] || die "$f is missing (apt-get install isolinux syslinux-common)"
done

# ---- storage modules and the storage initramfs, per kernel flavour ------------------
# Debian builds libata, ata_piix, SCSI disk/CD, isofs and vfat as modules
# (config-686 and config-686-pae: CONFIG_ATA_PIIX=m, CONFIG_BLK_DEV_SR=m,
# CONFIG_ISO9660_FS=m, ...), so the firmware guests' initramfs carries them and
# /init modprobes them.
#   storage_initramfs FLAVOUR UNPACKED   (UNPACKED: WORK's unpacked kernel .deb)
# writes STAGE/modules-FLAVOUR-storage/ (686: modules-686/) and
# STAGE/initramfs-FLAVOUR-storage.cpio.gz: the same /init and busybox as
# initramfs.cpio.gz plus the modules; that file stays as it was (the direct-boot
# guests need no storage drivers).
storage_initramfs() {
  local flavour=$1 unpacked=$2
  local release moddir modroot modout fwroot
  release=$(cat "$stage/release-$flavour")
  moddir=$unpacked/lib/modules/$release
  modroot=$stage/modules-686
  [[ $flavour == 686 ]] || modroot=$stage/modules-$flavour-storage
  modout=$modroot/lib/modules/$release
  mkdir -p "$modout"
  # Modules build.sh already put in the initramfs for this kernel (the 686-pae Xen
  # drivers) stay loadable: one depmod over both sets, whose modules.dep replaces theirs.
  [[ -d $work/root/lib/modules/$release ]] && cp -a "$work/root/lib/modules/$release/." "$modout/"
  cp "$moddir"/modules.order "$moddir"/modules.builtin "$moddir"/modules.builtin.modinfo "$modout/"
  # crct10dif_generic and crc64_rocksoft_generic are sd_mod's soft dependencies (the
  # CRC libraries ask the crypto API for them); busybox modprobe ignores softdeps,
  # so /init loads them by name.
  local wanted=(button ata_piix sd_mod sr_mod isofs vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1 crct10dif_generic crc64_rocksoft_generic)
  copy_modules "$moddir" "$modout" "$flavour" "${wanted[@]}"
  depmod -b "$modroot" "$release"

  fwroot=$work/root-storage-$flavour
  cp -a "$work/root" "$fwroot"
  cp -a "$modroot/lib" "$fwroot/"
  find "$fwroot" -exec touch -h -d @0 {} +
  (cd "$fwroot" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --reproducible -R 0:0 --quiet) | gzip -9 -n > "$stage/initramfs-$flavour-storage.cpio.gz"
}
release=$(cat "$stage/release-686")
storage_initramfs 686 "$work/k686"
# The 686-pae kernel is a Xen PV-on-HVM guest (CONFIG_XEN_PVHVM_GUEST=y: the
# xen-platform-pci driver and the unplug handshake are built in).
storage_initramfs 686-pae "$work/kpae"

# ---- the data file the CD guest checks ---------------------------------------------
# 1 MiB of deterministic bytes in which every 2 KiB CD sector differs (a numbered
# line per 7 bytes), so a wrong or repeated sector changes the sha256.
# (149797 lines of 7 bytes, cut to 1 MiB; no `| head`, whose SIGPIPE pipefail would see.)
seq -w 0 149796 > "$stage/check.bin"
truncate -s 1048576 "$stage/check.bin"
[[ $(stat -c %s "$stage/check.bin") == 1048576 ]] || die "check.bin is not 1 MiB"
sha256sum < "$stage/check.bin" | cut -d' ' -f1 > "$stage/check.sha256"
sum=$(cat "$stage/check.sha256")

# Kernel command lines: cryptomgr.notests skips 57% of a boot's instructions.
common="console=ttyS0 nokaslr cryptomgr.notests"

# ---- isolinux CDs, El Torito no-emulation -----------------------------------------
#   isolinux_cd ISO VOLUME KERNEL INITRD APPEND [WAIT]
# A CD with isolinux booting KERNEL + INITRD with the command line APPEND, and
# /data/check.bin for the cdrom check. `serial 0 115200` (must be first) echoes
# isolinux's own output to COM1 too and takes input from it. Without WAIT, prompt 0
# boots the default at once; with WAIT (tenths of a second) isolinux shows `boot:`
# on COM1 for that long, so a test can type `linux WORDS` to add WORDS to APPEND
# (isolinux passes what follows the label name to the kernel) or Enter to go on.
isolinux_cd() {
  local iso=$1 volume=$2 kernel=$3 initrd=$4 append=$5 wait=${6:-}
  local prompt=0 timeout=1
  [[ -n $wait ]] && prompt=1 timeout=$wait
  local cdtree=$work/cd-${iso%.iso}
  mkdir -p "$cdtree/isolinux" "$cdtree/data"
  cp "$isolinux_bin" "$ldlinux_c32" "$cdtree/isolinux/"
  cp "$kernel" "$cdtree/vmlinuz"
  cp "$initrd" "$cdtree/initrd.gz"
  cp "$stage/check.bin" "$cdtree/data/check.bin"
  cat > "$cdtree/isolinux/isolinux.cfg" <<EOF
serial 0 115200
default linux
prompt $prompt
timeout $timeout
label linux
  kernel /vmlinuz
  append initrd=/initrd.gz $append
EOF
  find "$cdtree" -exec touch -h -d @0 {} +
  SOURCE_DATE_EPOCH=0 xorriso -as mkisofs -quiet -o "$stage/$iso" -V "$volume" -R -J \
    -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
    "$cdtree" >&2
}
isolinux_cd cd-686.iso TSXEN_CD686 "$stage/vmlinuz-686" "$stage/initramfs-686-storage.cpio.gz" \
  "$common guest.test=cdrom,platform guest.sha256=$sum guest.poweroff"
# cd-686-pae.iso: the Xen PV-on-HVM kernel through the firmware (issue 5 §7): with the
# Xen platform PCI device present Linux unplugs the emulated IDE disks early; /init
# reports the CD, the PCI drivers and dmesg, then leaves a shell on ttyS0 for the
# test to type into. isolinux waits 5 s at `boot:` for words to add to the kernel
# command line (xen_emul_unplug=never, ...), then boots this one.
pae_append="$common guest.test=cdrom,platform,dmesg guest.sha256=$sum guest.shell"
isolinux_cd cd-686-pae.iso TSXEN_CD686PAE "$stage/vmlinuz-686-pae" "$stage/initramfs-686-pae-storage.cpio.gz" "$pae_append" 50

# ---- disk-686.img: MBR + one FAT16 partition at 1 MiB, syslinux ------------------
img=$stage/disk-686.img
part_start=2048 # sectors (1 MiB)
part_sectors=$((47 * 2048))
truncate -s 48M "$img"
# Type 0x0E = FAT16 (LBA), bootable.
printf 'label: dos\nlabel-id: 0x7a78656e\nstart=%d, size=%d, type=e, bootable\n' "$part_start" "$part_sectors" | sfdisk -q "$img" >&2
mkfs.vfat -F 16 -n TSXENDISK --invariant --offset "$part_start" "$img" $((part_sectors / 2)) >/dev/null
syslinux --install --offset $((part_start * 512)) "$img"
# mbr.bin is the 440-byte boot code before the disk signature and partition table.
dd if="$mbr_bin" of="$img" bs=440 count=1 conv=notrunc status=none
cat > "$work/syslinux.cfg" <<EOF
serial 0 115200
default linux
prompt 0
timeout 1
label linux
  kernel /vmlinuz
  append initrd=/initrd.gz $common guest.test=disk,pwrbtn guest.poweroff
EOF
export MTOOLS_SKIP_CHECK=1
mcopy -i "$img@@$((part_start * 512))" -m "$work/syslinux.cfg" ::/syslinux.cfg
mcopy -i "$img@@$((part_start * 512))" -m "$stage/vmlinuz-686" ::/vmlinuz
mcopy -i "$img@@$((part_start * 512))" -m "$stage/initramfs-686-storage.cpio.gz" ::/initrd.gz
listing=$(mdir -i "$img@@$((part_start * 512))" -a ::/)
[[ $listing =~ ldlinux\ +sys ]] || die "syslinux did not install ldlinux.sys into $img"

# ---- memtest.iso: Debian's memtest86+ ISO (El Torito 1.44 MB floppy emulation) -----
mkdir -p "$work/memtest"
dpkg-deb -x "$debs"/memtest86+_*.deb "$work/memtest"
cp "$work/memtest/usr/lib/memtest86+/memtest86+ia32.iso" "$stage/memtest.iso"
cp "$work/memtest/boot/memtest86+ia32.bin" "$stage/memtest86+ia32.bin"

# ---- xl.cfg files --------------------------------------------------------------
write_cfg() { # file name what disk-spec boot
  cat > "$stage/$1" <<EOF
# Generated by tsxen guests/build.sh: $3, booted by the firmware (no kernel=).
name = "$2"
type = "hvm"
memory = 256
disk = [ '$4' ]
boot = "$5"
vga = "stdvga"
serial = "pty"
EOF
}
write_cfg cd.cfg guest-cd-686 "isolinux CD with Debian $release + busybox initramfs + /data/check.bin" \
  "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=$out/cd-686.iso" d
write_cfg disk.cfg guest-disk-686 "MBR + FAT16 + syslinux disk with Debian $release (writes /written.txt)" \
  "format=raw, vdev=hda, access=rw, target=$out/disk-686.img" c
write_cfg cd-pae.cfg guest-cd-686-pae "isolinux CD with Debian $(cat "$stage/release-686-pae") (Xen PV-on-HVM) + busybox initramfs + /data/check.bin" \
  "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=$out/cd-686-pae.iso" d
write_cfg memtest.cfg guest-memtest "memtest86+ $(dpkg-deb -f "$debs"/memtest86+_*.deb Version) ia32 CD" \
  "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=$out/memtest.iso" d
log "built cd-686.iso, cd-686-pae.iso, disk-686.img, memtest.iso"
