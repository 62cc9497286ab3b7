# shellcheck shell=bash
# Shared by the tests of tests/peers (sourced, not run): where PostgreSQL and Kafka are (the
# runtime folder the deploy scripts write, PGCS_RUNTIME_DIR, default <repo>/.run), unique
# object names, and checks. A missing service fails the test: it never silently skips.
set -euo pipefail
PEERS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$PEERS/../.." && pwd -P)
RUNTIME=${PGCS_RUNTIME_DIR:-$REPO/.run}
SFX=$(tr -dc 'a-z0-9' </dev/urandom | head -c 10 || true)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgcs-peers-test.XXXXXX")
FAILS=0 PASSES=0

fail() { printf 'FAIL: %s\n' "$*" >&2; FAILS=$((FAILS + 1)); }
pass() { printf 'ok: %s\n' "$*"; PASSES=$((PASSES + 1)); }
# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
finish() {
    printf '%d passed, %d failed\n' "$PASSES" "$FAILS"
    [ "$FAILS" = 0 ]
}

pg_conninfo() {
    if [ -n "${PGCS_TEST_PG_CONNINFO:-}" ]; then
        printf '%s\n' "$PGCS_TEST_PG_CONNINFO"
    else
        head -n 1 "$RUNTIME/pg/conninfo" 2>/dev/null ||
            { echo "cannot read $RUNTIME/pg/conninfo: start PostgreSQL first (deploy/pg-start.sh)" >&2; exit 1; }
    fi
}
kafka_bootstrap() {
    head -n 1 "$RUNTIME/kafka/bootstrap" 2>/dev/null ||
        { echo "cannot read $RUNTIME/kafka/bootstrap: start Kafka first (deploy/kafka/kafka-start.sh)" >&2; exit 1; }
}
PG=$(pg_conninfo)
sql() { psql "$PG" -X -q -v ON_ERROR_STOP=1 -At "$@"; }

# wait_for_file FILE SECONDS PID: waits until FILE exists; fails when PID ends first.
wait_for_file() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ -e "$1" ] && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# drop_slot SLOT: drops it once no process holds it (Debezium's exit may lag).
drop_slot() {
    local i
    for ((i = 0; i < 100; i++)); do
        sql -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots
                where slot_name = '$1' and not active" >/dev/null 2>&1 || true
        [ "$(sql -c "select count(*) from pg_replication_slots where slot_name = '$1'")" = 0 ] && return 0
        sleep 0.2
    done
    echo "warning: slot $1 still exists" >&2
}
