# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables set here are used by the scripts that source it
# Shared by kafka-start.sh, kafka-stop.sh, console-consume.sh and topic-dump.sh (sourced, not run).
# Expects $prog, say() and die() to be defined.

KDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$KDIR/../.." && pwd -P)
LIB=$KDIR/lib

# find_java (deploy/java.sh): the java to run, 17 or newer.
# shellcheck source=../java.sh
. "$KDIR/../java.sh"

# Makes sure lib/ is built and current (runs Maven only when needed).
ensure_lib() {
    "$KDIR/fetch.sh" --quiet >/dev/null
}

# Runtime layout.
set_runtime() {
    RUNTIME=${PGCS_RUNTIME_DIR:-$REPO/.run}
    mkdir -p "$RUNTIME/kafka"
    RUNTIME=$(cd "$RUNTIME" && pwd -P)
    KRUN=$RUNTIME/kafka
    CONFIG=$KRUN/server.properties
    DATA=$KRUN/data
    PIDFILE=$KRUN/kafka.pid
    BOOTSTRAP=$KRUN/bootstrap
    PORTS=$KRUN/ports
    LOG=$KRUN/kafka.log
    LOCK=$KRUN/kafka.lock
}

# True when $1 is a live (not zombie) broker (main class kafka.Kafka) started with our $CONFIG.
is_our_broker() {
    local pid=$1 stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    stat=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "${stat%% *}" != Z ] || return 1
    grep -qzxF -- "$CONFIG" "/proc/$pid/cmdline" 2>/dev/null &&
        grep -qzxF -- kafka.Kafka "/proc/$pid/cmdline" 2>/dev/null
}

# Prints the pid of our broker: the one in $PIDFILE, else (pid file lost) any process whose
# command line names $CONFIG. Fails when none runs.
broker_pid() {
    local pid p
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if is_our_broker "$pid"; then
        printf '%s\n' "$pid"
        return 0
    fi
    while read -r p; do
        p=${p#/proc/}
        p=${p%/cmdline}
        if is_our_broker "$p"; then
            printf '%s\n' "$p"
            return 0
        fi
    done < <(grep -lzxF -- "$CONFIG" /proc/[0-9]*/cmdline 2>/dev/null)
    return 1
}
