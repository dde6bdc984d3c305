#!/usr/bin/env bash
# Make this checkout ready to run: host packages, npm packages, the compiled
# TypeScript, and the Debian test guests. Each step is skipped when already done,
# so it is cheap to call before every command.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'tsxen: %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))"
  exit 1
fi

# Host tools: guest building (cpio, xz, kmod; CD and disk images: xorriso, isolinux,
# syslinux, mtools, dosfstools, fdisk), the firmware (Debian's SeaBIOS and VGA BIOS),
# and for the tests the CPU differential runner (nasm, gcc -m32) and ACPI table checks.
need_pkgs=()
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
command -v depmod >/dev/null || need_pkgs+=(kmod)
[ -e /usr/share/seabios/bios-256k.bin ] || need_pkgs+=(seabios)
command -v xorriso >/dev/null || need_pkgs+=(xorriso)
[ -e /usr/lib/ISOLINUX/isolinux.bin ] || need_pkgs+=(isolinux)
command -v syslinux >/dev/null || need_pkgs+=(syslinux)
[ -e /usr/lib/syslinux/mbr/mbr.bin ] || need_pkgs+=(syslinux-common)
command -v mcopy >/dev/null || need_pkgs+=(mtools)
command -v mkfs.vfat >/dev/null || need_pkgs+=(dosfstools)
command -v sfdisk >/dev/null || need_pkgs+=(fdisk)
if [ "${TSXEN_WITH_TEST_TOOLS:-0}" = 1 ]; then
  command -v nasm >/dev/null || need_pkgs+=(nasm)
  [ -e /usr/lib32/crti.o ] || need_pkgs+=(gcc-multilib)
  command -v iasl >/dev/null || need_pkgs+=(acpica-tools)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "installing host packages: ${need_pkgs[*]}"
  $SUDO bash scripts/apt-update.sh
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_pkgs[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

npx tsc -b

# The Debian kernels and initramfs (cached outside git; rebuilt when the script changes).
bash guests/build.sh >/dev/null
