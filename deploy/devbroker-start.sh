#!/usr/bin/env bash
# Starts pgchangeset-devbroker (librdkafka's in-memory mock Kafka cluster; for development and
# tests only) in the background and prints its bootstrap address (host:port[,...]) on stdout.
# When it already runs, only prints the address.
#
# Usage: deploy/devbroker-start.sh [--brokers N]
#   Options are passed to pgchangeset-devbroker (see its --help); they apply only when this
#   call starts it.
#
# Files in $RUNTIME: devbroker.bootstrap (the address), devbroker.pid, devbroker.log.
# Environment:
#   PGCS_RUNTIME_DIR  runtime folder (default <repo>/.run)
#   PGCS_BIN_DIR      folder of the built executables (default <repo>/build/bin)
# Stop it with deploy/devbroker-stop.sh.
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

case "${1:-}" in
    -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUNTIME=${PGCS_RUNTIME_DIR:-$REPO/.run}
mkdir -p "$RUNTIME"
RUNTIME=$(cd "$RUNTIME" && pwd -P)
BIN_DIR=${PGCS_BIN_DIR:-$REPO/build/bin}
BIN=$BIN_DIR/pgchangeset-devbroker
PIDFILE=$RUNTIME/devbroker.pid
BOOTSTRAP=$RUNTIME/devbroker.bootstrap
LOG=$RUNTIME/devbroker.log
WAIT_SECONDS=10

# True when $1 is a live (not zombie) pgchangeset-devbroker serving our bootstrap file.
is_our_broker() {
    local pid=$1 stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    stat=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "${stat%% *}" != Z ] || return 1
    tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$BOOTSTRAP"
}

# One start/stop at a time per runtime folder. The broker must not inherit the lock's fd.
exec 9>"$RUNTIME/devbroker.lock"
flock -w 30 9 || die "another devbroker-start/stop holds $RUNTIME/devbroker.lock"

pid=$(cat "$PIDFILE" 2>/dev/null || true)
if is_our_broker "$pid"; then
    for _ in $(seq 1 $((WAIT_SECONDS * 10))); do
        [ -s "$BOOTSTRAP" ] && break
        sleep 0.1
    done
    [ -s "$BOOTSTRAP" ] || die "pgchangeset-devbroker (pid $pid) runs but wrote no $BOOTSTRAP; see $LOG"
    [ $# -eq 0 ] || say "already running: options '$*' not applied (stop it first to change them)"
    say "already running (pid $pid)"
    cat "$BOOTSTRAP"
    echo
    exit 0
fi
rm -f "$PIDFILE" "$BOOTSTRAP"

[ -x "$BIN" ] || die "$BIN not found; build it first:
  cmake -S $REPO -B $REPO/build && cmake --build $REPO/build --target pgchangeset-devbroker
(or set PGCS_BIN_DIR to the folder that holds it)"

say "starting $BIN $* (log: $LOG)"
printf '\n=== %s: starting %s %s\n' "$(date -u +%FT%TZ)" "$BIN" "$*" >> "$LOG"
# setsid: its own session, so the caller's terminal or process group signals do not reach it.
# Started from a script (no job control), setsid and nohup exec in place: $! is the broker.
setsid nohup "$BIN" --bootstrap-file "$BOOTSTRAP" "$@" </dev/null >>"$LOG" 2>&1 9>&- &
pid=$!
printf '%s\n' "$pid" > "$PIDFILE"

for _ in $(seq 1 $((WAIT_SECONDS * 10))); do
    [ -s "$BOOTSTRAP" ] && break
    if ! kill -0 "$pid" 2>/dev/null || [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]; then
        rm -f "$PIDFILE"
        tail -n 20 "$LOG" >&2 || true
        die "pgchangeset-devbroker exited at start; see $LOG"
    fi
    sleep 0.1
done
if [ ! -s "$BOOTSTRAP" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    tail -n 20 "$LOG" >&2 || true
    die "pgchangeset-devbroker wrote no $BOOTSTRAP within $WAIT_SECONDS s; see $LOG"
fi
is_our_broker "$pid" || die "pid $pid is not the pgchangeset-devbroker just started (see $LOG)"
say "running (pid $pid)"
cat "$BOOTSTRAP"
echo
