#!/usr/bin/env bash
# Boot the default guest (Debian's 686 kernel + a busybox initramfs) to a shell on
# this terminal. Ctrl-] leaves and destroys the domain.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-ready.sh
cache="${TSXEN_CACHE:-$HOME/.cache/tsxen}"
exec node dist/src/cli/main.js create -c "$cache/guests/current/default.cfg" "$@"
