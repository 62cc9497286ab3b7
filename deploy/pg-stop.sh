#!/usr/bin/env bash
# Stops the development PostgreSQL cluster started by deploy/pg-start.sh (pg_ctl stop -m fast).
# Safe to run when it is not running or does not exist.
#
# Usage: deploy/pg-stop.sh [--destroy]
#   --destroy  also delete the cluster's data ($RUNTIME/pg and, if used, its
#              /var/tmp/pgchangeset-<hash> folder)
#
# Environment: PGCS_RUNTIME_DIR (default <repo>/.run), as for deploy/pg-start.sh. Any version
# pg-start.sh made (PGCS_PG_VERSION) is stopped with its own pg_ctl: the one pg-start.sh recorded
# in $RUNTIME/pg/bindir, else the one of the version in the cluster's PG_VERSION.
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

destroy=0
case "${1:-}" in
    "") ;;
    --destroy) destroy=1 ;;
    -h|--help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUNTIME=${PGCS_RUNTIME_DIR:-$REPO/.run}
if [ ! -d "$RUNTIME" ]; then
    say "no runtime folder $RUNTIME: nothing to stop"
    exit 0
fi
RUNTIME=$(cd "$RUNTIME" && pwd -P)
PGRUN=$RUNTIME/pg

if [ "$(id -u)" -eq 0 ]; then
    as_owner() { runuser -u postgres -- "$@" 9>&-; }
else
    as_owner() { "$@" 9>&-; }
fi
cd /

exec 9>"$RUNTIME/pg.lock"
flock -w 120 9 || die "another pg-start/pg-stop holds $RUNTIME/pg.lock"

HOME_DIR=$PGRUN
if [ -f "$PGRUN/home" ]; then
    HOME_DIR=$(cat "$PGRUN/home")
fi
DATA=$HOME_DIR/data
PGBIN=
if [ -f "$PGRUN/bindir" ]; then
    PGBIN=$(cat "$PGRUN/bindir")
fi
if [ ! -x "$PGBIN/pg_ctl" ] && [ -f "$DATA/PG_VERSION" ]; then
    PGBIN=$(bash "$REPO/deploy/pg-fetch.sh" "$(cat "$DATA/PG_VERSION")" 2>/dev/null || true)
fi
[ -x "$PGBIN/pg_ctl" ] || PGBIN=/usr/lib/postgresql/15/bin
PGBIN=$(cd "$PGBIN" && pwd -P)

# State of the server named in postmaster.pid: none (no pid file), alive, or stale (gone, a
# zombie not yet reaped, or a reused pid that is no postgres). pg-start.sh clears the leftovers.
pm_state() {
    local pid stat exe
    pid=$(sed -n '1p' "$DATA/postmaster.pid" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] || { echo none; return; }
    stat=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null || true)
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    if [ -z "$stat" ] || [ "${stat%% *}" = Z ] || [[ "$exe" != "$PGBIN/postgres"* ]]; then   # gone, zombie, reused pid
        echo stale
    else
        echo alive
    fi
}

case "$(pm_state)" in
    alive)
        say "stopping PostgreSQL (data $DATA)"
        if ! as_owner "$PGBIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null 2>&1 &&
            [ "$(pm_state)" = alive ]; then
            say "fast shutdown did not finish in 60 s; shutting down immediately"
            as_owner "$PGBIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 30 >/dev/null 2>&1 ||
                [ "$(pm_state)" != alive ] ||
                die "PostgreSQL (pid $(sed -n '1p' "$DATA/postmaster.pid")) does not stop"
        fi
        say "stopped"
        ;;
    stale)
        say "not running (the server of pid $(sed -n '1p' "$DATA/postmaster.pid") died without a shutdown)"
        ;;
    *)
        say "not running"
        ;;
esac
rm -f "$PGRUN/conninfo" "$PGRUN/port"

if [ "$destroy" = 1 ]; then
    case "$HOME_DIR" in
        "$PGRUN") ;;
        /var/tmp/pgchangeset-*) say "deleting $HOME_DIR"; rm -rf -- "$HOME_DIR" ;;
        *) die "refusing to delete unexpected cluster folder '$HOME_DIR' (from $PGRUN/home)" ;;
    esac
    if [ -e "$PGRUN" ] || [ -L "$PGRUN" ]; then
        say "deleting $PGRUN"
        rm -rf -- "$PGRUN"
    fi
    say "destroyed"
fi
