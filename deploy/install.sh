#!/usr/bin/env bash
# Installs pgchangeset on this host from its Debian package, with apt-get, which pulls only
# the runtime libraries (libpq5, librdkafka1, ...): no PostgreSQL server, JDK or Maven.
# Without DEB, builds the package from this clone first (Release, in build/; installs only the
# build dependencies: deploy/install-deps.sh --build). Enables and starts nothing; an edited
# /etc/pgchangeset/pgchangeset.yaml is kept. Idempotent.
# Usage: deploy/install.sh [DEB]
#   DEB  a package built elsewhere (pgchangeset_<version>_amd64.deb, from
#        `cmake --build build --target package`): a production host then needs no compiler
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() { echo "usage: deploy/install.sh [pgchangeset_VERSION_amd64.deb]" >&2; exit 2; }
deb=
case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
  -*) usage ;;
  *) [ $# -eq 1 ] || usage; deb=$(realpath "$1")
     [ -f "$deb" ] || { echo "deploy/install.sh: no file $1" >&2; exit 2; } ;;
esac
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deploy/install.sh: run as root (or with sudo)" >&2; exit 1; }
  sudo=(sudo)
fi

if [ -z "$deb" ]; then
  cd "$repo"
  # A fresh build leaves the tests out: CPack first builds every target of the tree.
  if [ ! -f build/CMakeCache.txt ]; then
    bash deploy/install-deps.sh --build
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPGCS_TESTS=OFF >/dev/null
  fi
  cmake --build build -j2
  cpack --config build/CPackConfig.cmake -B build >/dev/null
  version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' build/CPackConfig.cmake)
  deb=$repo/build/pgchangeset_${version}_amd64.deb
  [ -f "$deb" ] || { echo "deploy/install.sh: cpack wrote no $deb" >&2; exit 1; }
  echo "built $deb"
fi

# --reinstall: a rebuilt package of the same version replaces the installed one. confold: an
# edited config is kept when the package's example changes too.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  --reinstall -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$deb"
echo "installed $(dpkg-query -W -f='${Package} ${Version}' pgchangeset): /usr/bin/pgchangeset," \
  "/usr/lib/systemd/system/pgchangeset{,@}.service, /etc/pgchangeset/pgchangeset.yaml"
cat <<'MSG'

Next: edit /etc/pgchangeset/pgchangeset.yaml, check it with
  pgchangeset check-config --config /etc/pgchangeset/pgchangeset.yaml
then start it with
  systemctl enable --now pgchangeset
(or, one pipeline per config /etc/pgchangeset/NAME.yaml: systemctl enable --now pgchangeset@NAME)
MSG
