#!/usr/bin/env bash
# Installs pgchangeset as a systemd service: builds (Release) if needed, installs the binary
# under PREFIX, the units into PGCS_UNIT_DIR and an example config into PGCS_ETC_DIR (never
# overwriting an existing config). Idempotent.
# Usage: deploy/install.sh [--prefix /usr/local]
# Environment: PGCS_UNIT_DIR (default /etc/systemd/system), PGCS_ETC_DIR (default /etc/pgchangeset)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=/usr/local
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "usage: deploy/install.sh [--prefix DIR]" >&2; exit 2 ;;
  esac
done
unit_dir=${PGCS_UNIT_DIR:-/etc/systemd/system}
etc_dir=${PGCS_ETC_DIR:-/etc/pgchangeset}
cd "$repo"
if [ ! -x build/bin/pgchangeset ]; then
  bash deploy/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target pgchangeset
fi
cmake --install build --prefix "$prefix" >/dev/null
echo "installed $prefix/bin/pgchangeset"
mkdir -p "$unit_dir" "$etc_dir"
for unit in pgchangeset.service pgchangeset@.service; do
  sed "s|/usr/local/bin/pgchangeset|$prefix/bin/pgchangeset|g; s|/usr/local/share/doc|$prefix/share/doc|g" \
    "deploy/$unit" > "$unit_dir/$unit"
  echo "installed $unit_dir/$unit"
done
if [ ! -e "$etc_dir/pgchangeset.yaml" ]; then
  install -m 0644 deploy/example/pgchangeset.yaml "$etc_dir/pgchangeset.yaml"
  echo "installed an example config: $etc_dir/pgchangeset.yaml (edit it)"
else
  echo "kept the existing $etc_dir/pgchangeset.yaml"
fi
if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
  systemctl daemon-reload
fi
cat <<MSG

Next: edit $etc_dir/pgchangeset.yaml, check it with
  $prefix/bin/pgchangeset check-config --config $etc_dir/pgchangeset.yaml
then start it with
  systemctl enable --now pgchangeset
(or, one pipeline per config $etc_dir/NAME.yaml: systemctl enable --now pgchangeset@NAME)
MSG
