#!/usr/bin/env bash
# Run the whole test suite: unit tests, CPU differential tests against the host CPU,
# and the real-guest tests (Debian kernels booted end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
TSXEN_WITH_TEST_TOOLS=1 bash scripts/ensure-ready.sh
mapfile -t files < <(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no test files found under dist/" >&2
  exit 1
fi
# Two cores: run two test files at a time (the slow guest boots spread across both).
exec node --test --test-concurrency=2 "$@" "${files[@]}"
