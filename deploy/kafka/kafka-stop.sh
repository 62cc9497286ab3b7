#!/usr/bin/env bash
# Stops the Kafka broker started by deploy/kafka/kafka-start.sh: SIGTERM (controlled shutdown),
# waits up to 30 s, then SIGKILL. Removes kafka.pid and bootstrap; the data and kafka.log stay.
# Safe to run when it is not running.
#
# Usage: deploy/kafka/kafka-stop.sh [--destroy]
#   --destroy  also delete the data: everything in $RUNTIME/kafka but kafka.log (the next start
#              formats a new cluster)
# Environment: PGCS_RUNTIME_DIR (default <repo>/.run), PGCS_KAFKA_STOP_TIMEOUT (default 30 s)
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

destroy=0
case "${1:-}" in
    "") ;;
    --destroy) destroy=1 ;;
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

# shellcheck source=deploy/kafka/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
RUNTIME=${PGCS_RUNTIME_DIR:-$REPO/.run}
if [ ! -d "$RUNTIME/kafka" ]; then
    say "not running (no $RUNTIME/kafka)"
    exit 0
fi
set_runtime
STOP_TIMEOUT=${PGCS_KAFKA_STOP_TIMEOUT:-30}
[[ "$STOP_TIMEOUT" =~ ^[0-9]+$ ]] || die "PGCS_KAFKA_STOP_TIMEOUT must be a number of seconds"

exec 9>"$LOCK"
flock -w 120 9 || die "another kafka-start/stop holds $LOCK"

if pid=$(broker_pid); then
    say "stopping Kafka (pid $pid)"
    t0=$(date +%s)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((STOP_TIMEOUT * 10))); do
        is_our_broker "$pid" || break
        sleep 0.1
    done
    killed=0
    if is_our_broker "$pid"; then
        killed=1
        say "still running after $STOP_TIMEOUT s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            is_our_broker "$pid" || break
            sleep 0.1
        done
        ! is_our_broker "$pid" || die "pid $pid does not die"
    fi
    # A class data sharing archive asked for by kafka-start.sh is complete once the JVM has
    # exited by itself.
    for jsa in "$KRUN"/cds-*.jsa.new; do
        [ -e "$jsa" ] || continue
        if [ "$killed" = 0 ] && [ -s "$jsa" ]; then
            mv -f "$jsa" "${jsa%.new}"
        else
            rm -f "$jsa"
        fi
    done
    say "stopped after $(($(date +%s) - t0)) s"
else
    say "not running"
fi
rm -f "$PIDFILE" "$BOOTSTRAP"

if [ "$destroy" = 1 ]; then
    say "removing the data in $KRUN"
    find "$KRUN" -mindepth 1 -maxdepth 1 ! -name kafka.log ! -name kafka.lock -exec rm -rf {} +
fi
