# shellcheck shell=bash
# Shared by the tests of tests/tls (sourced, not run): where the services, the binary and the
# test PKI (deploy/test-pki.sh) are, the daemon run with a config, checks, and the check that no
# log line holds a secret. A missing service fails the test: it never silently skips.
set -euo pipefail
TLS_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$TLS_TESTS/../.." && pwd -P)
RUNTIME=${PGCS_RUNTIME_DIR:-$REPO/.run}
BIN=${PGCS_BIN_DIR:-$REPO/build/bin}/pgchangeset
SFX=$(tr -dc 'a-z0-9' </dev/urandom | head -c 10 || true)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgcs-tls-test.XXXXXX")
FAILS=0 PASSES=0
LOGS=()   # every daemon log of the test, for check_no_secrets
SECRETS=()  # strings no log may hold (passwords; key lines are added by check_no_secrets)

fail() { printf 'FAIL: %s\n' "$*" >&2; FAILS=$((FAILS + 1)); }
pass() { printf 'ok: %s\n' "$*"; PASSES=$((PASSES + 1)); }
finish() {
    printf '%d passed, %d failed\n' "$PASSES" "$FAILS"
    [ "$FAILS" = 0 ]
}
[ -x "$BIN" ] || { echo "no $BIN: build first" >&2; exit 1; }

pg_conninfo() {
    head -n 1 "$RUNTIME/pg/conninfo" 2>/dev/null ||
        { echo "cannot read $RUNTIME/pg/conninfo: start PostgreSQL first (deploy/pg-start.sh)" >&2; exit 1; }
}

# write_config FILE CONNINFO BROKERS TABLE [KAFKA_LINES] [EXTRA_TOP_LEVEL]: a daemon config;
# KAFKA_LINES (default: properties with message.timeout.ms 20000) end the kafka section.
write_config() {
    cat > "$1" <<YAML
postgres:
  conninfo: "$2"
  slot: ${SLOT:-tls_$SFX}
  publication: ${SLOT:-tls_$SFX}
  tables: [$4]
kafka:
  brokers: "$3"
  topic_prefix: ${PREFIX:-tls_$SFX}
${5:-  properties:
    message.timeout.ms: 20000}
reconnect:
  initial_backoff_ms: 200
  max_backoff_ms: 1000
${6:-}
YAML
}

# consume_until PATTERN SECONDS KCAT_ARGS...: reads the topic with kcat until a record matches.
consume_until() {
    local pattern=$1 seconds=$2 i out
    shift 2
    for ((i = 0; i < seconds; i++)); do
        out=$(timeout 10 kcat -C -e -q -f '%s\n' "$@" 2>/dev/null || true)
        grep -q -- "$pattern" <<<"$out" && return 0
        sleep 1
    done
    return 1
}

# run_refused NAME CONFIG EXIT PATTERN: the daemon exits EXIT within 20 s (no retry storm: one
# "cannot connect" or refusal in its log) and the log matches PATTERN (an extended regex).
run_refused() {
    local name=$1 config=$2 want=$3 pattern=$4 log=$WORK/$1.log rc=0
    LOGS+=("$log")
    timeout 20 "$BIN" run --config "$config" >"$log" 2>&1 || rc=$?
    if [ "$rc" != "$want" ]; then
        fail "$name: exit $rc, expected $want"
        sed 's/^/    /' "$log" | tail -n 15 >&2
    elif ! grep -Eq "$pattern" "$log"; then
        fail "$name: exit $want but the log does not say /$pattern/"
        sed 's/^/    /' "$log" | tail -n 15 >&2
    else
        pass "$name: exit $want, $(grep -Eo "$pattern" "$log" | head -n 1)"
    fi
}

# start_daemon NAME CONFIG: runs the daemon in the background (DAEMON_PID, log WORK/NAME.log).
start_daemon() {
    DAEMON_LOG=$WORK/$1.log
    LOGS+=("$DAEMON_LOG")
    "$BIN" run --config "$2" >"$DAEMON_LOG" 2>&1 &
    DAEMON_PID=$!
}
# stop_daemon NAME: SIGTERM, then the exit status must be 0.
stop_daemon() {
    local rc=0
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" || rc=$?
    if [ "$rc" = 0 ]; then pass "$1: stopped cleanly"; else
        fail "$1: exit $rc on SIGTERM"
        tail -n 15 "$DAEMON_LOG" >&2
    fi
}

# wait_log PATTERN SECONDS: until the running daemon's log matches PATTERN.
wait_log() {
    local i
    for ((i = 0; i < $2 * 5; i++)); do
        grep -Eq "$1" "$DAEMON_LOG" 2>/dev/null && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

# check_no_secrets PKI: no log of this test (LOGS: the daemons', and the servers' where added) holds a password of SECRETS or a line of a private
# key of the PKI folder (the base64 lines between BEGIN and END), at any level.
check_no_secrets() {
    local pki=$1 patterns=$WORK/secret-patterns found=0
    : > "$patterns"
    local s
    for s in "${SECRETS[@]}"; do printf '%s\n' "$s" >> "$patterns"; done
    for s in "$pki"/*.key; do grep -v -- '-----' "$s" >> "$patterns"; done
    printf '%s\n' 'PRIVATE KEY' 'storedKey=' 'serverKey=' >> "$patterns"   # keys; SCRAM secrets
    for s in "${LOGS[@]}"; do
        [ -f "$s" ] || continue
        if grep -Fqf "$patterns" "$s"; then
            fail "$(basename "$s") holds a secret: $(grep -Fnf "$patterns" "$s" | head -n 1 | cut -c1-60)..."
            found=1
        fi
    done
    [ "$found" = 1 ] || pass "no password, private key or SCRAM secret in ${#LOGS[@]} logs ($(cat "${LOGS[@]}" 2>/dev/null | wc -l) lines)"
}
