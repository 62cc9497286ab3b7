#!/usr/bin/env bash
# The PostgreSQL version matrix: for each major, fetches its server (deploy/pg-fetch.sh), starts
# a cluster of it in a runtime folder of its own ($PGCS_RUNTIME_DIR/pgV, port PGCS_PG_PORT + 100
# + V or the next free one), runs the CTest label pgV against it (the [pgmatrix] cases: capture,
# types, streaming, snapshot, restart, generated columns; on the dev broker; for 13, which is
# not supported, the test that it is refused) and stops it.
# Prints each version's time. deploy/test.sh runs it; it needs a build and a running dev broker.
#
# Usage: deploy/test-pg-matrix.sh [MAJOR...]     (default: 13 14 16 17 18)
#
# Environment: PGCS_RUNTIME_DIR (default <repo>/.run: the dev broker's, and the parent of the
# clusters), PGCS_PG_PORT (default 55432).
set -euo pipefail

prog=$(basename "$0")
case "${1:-}" in
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PGCS_RUNTIME_DIR=${PGCS_RUNTIME_DIR:-$repo/.run}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(13 14 16 17 18)
for v in "${versions[@]}"; do
    case "$v" in
        13|14|16|17|18) ;;
        15) printf '%s: error: 15 runs the whole suite (deploy/test.sh), it has no pg15 label\n' "$prog" >&2; exit 2 ;;
        *) printf '%s: error: no PostgreSQL %s in the matrix: use 13, 14, 16, 17 or 18\n' "$prog" "$v" >&2; exit 2 ;;
    esac
done
[ -f "$PGCS_RUNTIME_DIR/devbroker.bootstrap" ] ||
    { printf '%s: error: no dev broker in %s: start deploy/devbroker-start.sh first\n' "$prog" "$PGCS_RUNTIME_DIR" >&2; exit 1; }

stop_all() {
    for v in "${versions[@]}"; do
        PGCS_RUNTIME_DIR="$PGCS_RUNTIME_DIR/pg$v" bash deploy/pg-stop.sh >/dev/null 2>&1 || true
    done
}
trap stop_all EXIT

failed=()
summary=()
for v in "${versions[@]}"; do
    started=$SECONDS
    bash deploy/pg-fetch.sh "$v" >/dev/null
    PGCS_RUNTIME_DIR="$PGCS_RUNTIME_DIR/pg$v" PGCS_PG_VERSION=$v \
        PGCS_PG_PORT=$((${PGCS_PG_PORT:-55432} + 100 + v)) bash deploy/pg-start.sh >/dev/null
    ready=$((SECONDS - started))
    result=passed
    ctest --test-dir build --output-on-failure -j2 -L "^pg$v\$" || { result=FAILED; failed+=("$v"); }
    PGCS_RUNTIME_DIR="$PGCS_RUNTIME_DIR/pg$v" bash deploy/pg-stop.sh 2>/dev/null
    summary+=("PostgreSQL $v: $result in $((SECONDS - started)) s (cluster ready after $ready s)")
    echo "${summary[-1]}"
done
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    printf '%s: failed on PostgreSQL %s\n' "$prog" "${failed[*]}" >&2
    exit 1
fi
