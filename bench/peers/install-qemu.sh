#!/usr/bin/env bash
# Install the QEMU peer for benchmarks: Debian's qemu-system-x86 (qemu-system-i386,
# TCG here: the machines have no usable VT-x) with apt-get, only when a benchmark
# runs. Quick when already installed. The last line printed is the binary's path.
set -euo pipefail
apt_update="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/apt-update.sh"
log() { echo "bench/peers/install-qemu.sh: $*" >&2; }

if ! command -v qemu-system-i386 >/dev/null; then
  [[ $(id -u) == 0 ]] || { log "qemu-system-i386 is missing and installing it needs root: apt-get install qemu-system-x86"; exit 1; }
  log "installing qemu-system-x86"
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >&2; }
  install || { bash "$apt_update" && install; }
fi
command -v qemu-system-i386
