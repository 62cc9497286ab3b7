#!/usr/bin/env bash
# Checks the systemd units with `systemd-analyze verify` (any output is a failure), pointing
# their ExecStart at BINARY (default: build/bin/pgchangeset), and that `systemd-analyze security`
# rates each unit's exposure 2.0 or below (--offline: no systemd as PID 1 needed; skipped with a
# message where systemd-analyze has no --offline, systemd before 250).
# Usage: deploy/systemd-verify.sh [BINARY]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=$(realpath "${1:-$repo/build/bin/pgchangeset}")
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed (package systemd)" >&2; exit 1; }
[ -x "$binary" ] || { echo "no executable at $binary: build first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in pgchangeset.service pgchangeset@.service; do
  sed "s|/usr/local/bin/pgchangeset|$binary|g" "$repo/deploy/$unit" > "$work/$unit"
done
cp "$work/pgchangeset@.service" "$work/pgchangeset@example.service"
status=0
for unit in pgchangeset.service pgchangeset@example.service; do
  out=$(cd "$work" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$work/$unit" 2>&1) || status=1
  if [ -n "$out" ]; then
    printf '%s: %s\n' "$unit" "$out" >&2
    status=1
  else
    echo "$unit: systemd-analyze verify: clean"
  fi
done
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
  for unit in pgchangeset.service pgchangeset@example.service; do
    # --threshold is in tenths: 20 is an exposure of 2.0; above it the command fails.
    if out=$(cd "$work" && systemd-analyze security --offline=yes --threshold=20 "$work/$unit" 2>&1); then
      echo "$unit: $(tail -n 1 <<<"$out")"
    else
      printf '%s: systemd-analyze security rates it above 2.0:\n%s\n' "$unit" "$out" >&2
      status=1
    fi
  done
else
  echo "systemd-analyze security --offline is not available here (systemd < 250): exposure not checked"
fi
exit $status
