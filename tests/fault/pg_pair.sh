#!/usr/bin/env bash
# A PostgreSQL primary and a streaming hot standby for the failover scenarios
# (tests/fault/failover_test.cpp), from deploy/pg-fetch.sh's binaries (14, 16, 17, 18; 15 is
# Debian's).
#
# Usage: tests/fault/pg_pair.sh start MAJOR DIR    creates and starts both in DIR (a new folder)
#        tests/fault/pg_pair.sh stop-primary DIR    pg_ctl stop -m immediate on the primary
#        tests/fault/pg_pair.sh promote DIR         pg_ctl promote on the standby
#        tests/fault/pg_pair.sh destroy DIR         stops both (-m immediate), removes DIR
#
# `start` writes DIR/primary.conninfo, DIR/standby.conninfo and DIR/both.conninfo (the two
# hosts, target_session_attrs=read-write: the primary, and after a promotion the standby).
# Ports: the first two free ones from PGCS_PAIR_PORT (default 56140) on.
# The standby is a cold copy of the cleanly stopped primary (the package has no
# pg_basebackup), streaming through the physical slot `standby_slot` with
# hot_standby_feedback=on, synchronously (synchronous_standby_names = standby1, so a commit
# the client saw is on the standby). On 17+: sync_replication_slots=on on the standby and
# synchronized_standby_slots = standby_slot on the primary (the README's failover settings).
set -euo pipefail

prog=$(basename "$0")
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

cmd=${1:-}
case "$cmd" in
    start) [ $# -eq 3 ] || die "usage: $prog start MAJOR DIR" ;;
    stop-primary|promote|destroy) [ $# -eq 2 ] || die "usage: $prog $cmd DIR" ;;
    -h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown command '$cmd' (try --help)" ;;
esac

if [ "$(id -u)" -eq 0 ]; then
    as_owner() { runuser -u postgres -- "$@"; }
else
    as_owner() { "$@"; }
fi
cd /   # the postgres user may not be allowed into the caller's directory

if [ "$cmd" != start ]; then
    DIR=$2
    [ -f "$DIR/bin" ] || die "$DIR is no pair made by $prog start"
    BIN=$(cat "$DIR/bin")
    case "$cmd" in
        stop-primary) as_owner "$BIN/pg_ctl" stop -D "$DIR/primary" -m immediate -w -t 60 >/dev/null ;;
        promote) as_owner "$BIN/pg_ctl" promote -D "$DIR/standby" -w -t 60 >/dev/null ;;
        destroy)
            for node in primary standby; do
                if [ -f "$DIR/$node/postmaster.pid" ]; then
                    as_owner "$BIN/pg_ctl" stop -D "$DIR/$node" -m immediate -w -t 60 >/dev/null 2>&1 || true
                fi
            done
            rm -rf "$DIR" ;;
    esac
    exit 0
fi

MAJOR=$2
DIR=$3
BIN=$(bash "$REPO/deploy/pg-fetch.sh" "$MAJOR")
[ ! -e "$DIR" ] || die "$DIR exists: give a new folder"
mkdir -p "$DIR"
[ "$(id -u)" -ne 0 ] || chown postgres: "$DIR"
chmod 0755 "$DIR"
as_owner test -w "$DIR" || die "user postgres cannot write $DIR: choose a folder under /var/tmp"
printf '%s\n' "$BIN" > "$DIR/bin"

port_busy() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
port=${PGCS_PAIR_PORT:-56140}
ports=()
while [ ${#ports[@]} -lt 2 ]; do
    port_busy "$port" || ports+=("$port")
    port=$((port + 1))
done
P1=${ports[0]}
P2=${ports[1]}

pwfile=$DIR/.pwfile
printf 'postgres\n' > "$pwfile"
[ "$(id -u)" -ne 0 ] || chown postgres: "$pwfile"
as_owner "$BIN/initdb" -D "$DIR/primary" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 ||
    { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
rm -f "$pwfile"
as_owner mkdir -p "$DIR/sock"
as_owner tee "$DIR/primary/pg_hba.conf" >/dev/null <<'EOF'
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
EOF
echo "include_if_exists = 'pair.conf'" | as_owner tee -a "$DIR/primary/postgresql.conf" >/dev/null
common="listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/sock'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
fsync = off
wal_sender_timeout = 20s
password_encryption = scram-sha-256"
slots_setting=
[ "$MAJOR" -lt 17 ] || slots_setting="synchronized_standby_slots = 'standby_slot'"
as_owner tee "$DIR/primary/pair.conf" >/dev/null <<EOF
$common
port = $P1
$slots_setting
EOF
start() { as_owner "$BIN/pg_ctl" start -D "$DIR/$1" -l "$DIR/$1.log" -w -t 60 >/dev/null ||
    { tail -n 20 "$DIR/$1.log" >&2; die "the $1 did not start"; }; }
psql_at() { psql -X -q -h "$DIR/sock" -p "$1" -U postgres -d "$2" -Atc "$3"; }

start primary
psql_at "$P1" postgres "CREATE DATABASE app" >/dev/null
psql_at "$P1" postgres "SELECT pg_create_physical_replication_slot('standby_slot', true)" >/dev/null
as_owner "$BIN/pg_ctl" stop -D "$DIR/primary" -m fast -w -t 60 >/dev/null
# The cold copy, without the primary's slot, its pid file or its settings.
as_owner cp -a "$DIR/primary" "$DIR/standby"
as_owner find "$DIR/standby/pg_replslot" -mindepth 1 -delete
sync_setting=
[ "$MAJOR" -lt 17 ] || sync_setting="sync_replication_slots = on"
as_owner tee "$DIR/standby/pair.conf" >/dev/null <<EOF
$common
port = $P2
primary_conninfo = 'host=127.0.0.1 port=$P1 user=postgres password=postgres dbname=app application_name=standby1'
primary_slot_name = 'standby_slot'
hot_standby_feedback = on
$sync_setting
EOF
as_owner touch "$DIR/standby/standby.signal"
# Synchronous from now on (set before the copy, CREATE DATABASE would wait for a standby).
echo "synchronous_standby_names = 'standby1'" | as_owner tee -a "$DIR/primary/pair.conf" >/dev/null
start primary
start standby

for _ in $(seq 1 120); do
    state=$(psql_at "$P1" postgres \
        "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")
    [ "$state" = sync ] && break
    sleep 0.5
done
[ "${state:-}" = sync ] || die "the standby does not stream synchronously (logs: $DIR/*.log)"
conn="user=postgres password=postgres dbname=app"
printf 'host=127.0.0.1 port=%s %s\n' "$P1" "$conn" > "$DIR/primary.conninfo"
printf 'host=127.0.0.1 port=%s %s\n' "$P2" "$conn" > "$DIR/standby.conninfo"
printf 'host=127.0.0.1,127.0.0.1 port=%s,%s %s target_session_attrs=read-write\n' "$P1" "$P2" \
    "$conn" > "$DIR/both.conninfo"
say "PostgreSQL $MAJOR primary on $P1, standby on $P2 ($DIR)"
