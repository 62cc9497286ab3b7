#!/usr/bin/env bash
# Stops the pgchangeset-devbroker started by deploy/devbroker-start.sh: SIGTERM, waits up to
# 10 s (then SIGKILL), removes devbroker.pid and devbroker.bootstrap (devbroker.log stays).
# Safe to run when it is not running.
#
# Usage: deploy/devbroker-stop.sh
# Environment: PGCS_RUNTIME_DIR (default <repo>/.run)
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

case "${1:-}" in
    "") ;;
    -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUNTIME=${PGCS_RUNTIME_DIR:-$REPO/.run}
if [ ! -d "$RUNTIME" ]; then
    say "not running (no $RUNTIME)"
    exit 0
fi
RUNTIME=$(cd "$RUNTIME" && pwd -P)
PIDFILE=$RUNTIME/devbroker.pid
BOOTSTRAP=$RUNTIME/devbroker.bootstrap

# True when $1 is a live (not zombie) pgchangeset-devbroker serving our bootstrap file.
is_our_broker() {
    local pid=$1 stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    stat=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "${stat%% *}" != Z ] || return 1
    tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$BOOTSTRAP"
}

exec 9>"$RUNTIME/devbroker.lock"
flock -w 30 9 || die "another devbroker-start/stop holds $RUNTIME/devbroker.lock"

pid=$(cat "$PIDFILE" 2>/dev/null || true)
if is_our_broker "$pid"; then
    say "stopping pgchangeset-devbroker (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        is_our_broker "$pid" || break
        sleep 0.1
    done
    if is_our_broker "$pid"; then
        say "still running after 10 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            is_our_broker "$pid" || break
            sleep 0.1
        done
        ! is_our_broker "$pid" || die "pid $pid does not die"
    fi
    say "stopped"
else
    say "not running"
fi
rm -f "$PIDFILE" "$BOOTSTRAP"
