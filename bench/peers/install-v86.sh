#!/usr/bin/env bash
# Install the v86 peer for benchmarks: npm `v86` (pinned) and Debian's SeaBIOS +
# VGA BIOS, into ${TSXEN_CACHE:-$HOME/.cache/tsxen}/peers/ — never into tsxen's
# own node_modules or package.json (peers are only measured against).
#
#   peers/v86/node_modules/v86/     the emulator (build/libv86.mjs, build/v86.wasm)
#   peers/seabios/bios.bin          SeaBIOS, QEMU build (v86 needs no Xen support)
#   peers/seabios/vgabios-stdvga.bin
#
# Quick when already installed. The last line printed is the peers directory.
set -euo pipefail
apt_update="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/apt-update.sh"

V86_VERSION=0.5.462
peers=${TSXEN_CACHE:-$HOME/.cache/tsxen}/peers
log() { echo "bench/peers/install-v86.sh: $*" >&2; }

v86=$peers/v86
installed=$(node -p "require('$v86/node_modules/v86/package.json').version" 2>/dev/null || true)
# npm stamps the build's git hash on: 0.5.462+g5f9a90f.
if [[ $installed != "$V86_VERSION" && $installed != "$V86_VERSION+"* ]]; then
  log "installing npm v86@$V86_VERSION"
  rm -rf "$v86"
  mkdir -p "$v86"
  # A private package.json so npm installs here, not in an enclosing project.
  echo '{ "name": "tsxen-peer-v86", "private": true }' > "$v86/package.json"
  npm install --prefix "$v86" --no-audit --no-fund --loglevel=error "v86@$V86_VERSION" >&2
fi

bios=$peers/seabios
if [[ ! -f $bios/bios.bin || ! -f $bios/vgabios-stdvga.bin ]]; then
  log "fetching Debian's seabios package"
  debs=$(mktemp -d)
  trap 'rm -rf "$debs"' EXIT
  # apt-get download runs as _apt when started as root: it must be able to write here.
  chmod 0777 "$debs"
  (cd "$debs" && { apt-get download -q seabios >&2 || { [[ $(id -u) == 0 ]] && bash "$apt_update" && apt-get download -q seabios >&2; }; })
  dpkg-deb -x "$debs"/seabios_*.deb "$debs/x"
  mkdir -p "$bios"
  cp "$debs/x/usr/share/seabios/bios.bin" "$debs/x/usr/share/seabios/vgabios-stdvga.bin" "$bios/"
  dpkg-deb -W --showformat='${Package} ${Version}\n' "$debs"/seabios_*.deb > "$bios/version"
fi

echo "$peers"
