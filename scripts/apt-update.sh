#!/usr/bin/env bash
# apt-get update that survives a mirror caught mid-sync ("File has unexpected size
# ... Mirror sync in progress?"): retry a few times, then go on with the lists we
# have and let the install or download that needs a package fail if it is really
# missing. Run as root.
for attempt in 1 2 3; do
  if apt-get update -q >/dev/null 2>/tmp/tsxen-apt-update.err; then exit 0; fi
  echo "tsxen: apt-get update failed (attempt $attempt of 3): $(grep -m1 '^E:' /tmp/tsxen-apt-update.err)" >&2
  sleep $((attempt * 5))
done
echo "tsxen: going on with the package lists we have" >&2
exit 0
