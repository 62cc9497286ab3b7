#!/usr/bin/env bash
# Creates (if missing) and starts a throw-away PostgreSQL cluster (15 unless PGCS_PG_VERSION says
# otherwise) for development and tests.
#
# Usage: deploy/pg-start.sh
#
# Prints the libpq conninfo on stdout (progress goes to stderr) and writes it to
# $RUNTIME/pg/conninfo:  host=127.0.0.1 port=P user=postgres password=postgres dbname=app
# Running it again while the cluster runs only prints the conninfo.
#
# Environment:
#   PGCS_RUNTIME_DIR  runtime folder (default: <repo>/.run); the cluster lives in $RUNTIME/pg
#   PGCS_PG_PORT      TCP port to try first (default 55432); when something else listens
#                     there, the next free port is taken
#   PGCS_PG_WAL_LEVEL wal_level (default logical; tests use replica to check the error)
#   PGCS_PG_VERSION   major version 14, 15, 16, 17 or 18 (default 15, Debian's; 13 too, for
#                     the test that pgchangeset refuses it); the others
#                     come from deploy/pg-fetch.sh (fetched once, then cached). A runtime folder
#                     holds one cluster of one version: a cluster of another version there is
#                     refused, never reused (use one PGCS_RUNTIME_DIR per version)
#   PGCS_PG_TLS       a folder made by deploy/test-pki.sh: the cluster requires TLS (ssl=on with its
#                     server certificate; pg_hba.conf has hostssl lines only), user postgres
#                     logs in with its password, user pgcs_cert (superuser, replication) with its
#                     client certificate only (`cert`, signed by the folder's CA); the conninfo
#                     then says host=localhost sslmode=verify-full sslrootcert=<folder>/ca.crt.
#                     The suite's TLS tests (tests/tls) run one such cluster in its own runtime
#                     folder
#
# Layout of $RUNTIME/pg: data/ (the cluster), socket/ (unix socket), postgresql.log, conninfo,
# port, home, bindir (the server's bin folder, for pg-stop.sh). PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
# user; when that user cannot reach $RUNTIME/pg (e.g. a repository under /root) the cluster
# lives in /var/tmp/pgchangeset-<hash of $RUNTIME/pg> instead, data/, socket/ and
# postgresql.log in $RUNTIME/pg are symlinks to it, and `home` names it.
# Settings: wal_level=logical (PGCS_PG_WAL_LEVEL), max_wal_senders=20, max_replication_slots=20, fsync=off,
# shared_buffers=128MB, max_prepared_transactions=10 (PostgreSQL's regression suite, tests/pgregress),
# wal_sender_timeout=60s, listening on 127.0.0.1 only. Authentication:
# scram-sha-256 over TCP (user postgres, password postgres, replication too), trust on the
# unix socket. Database `app` is created if missing. Stop with deploy/pg-stop.sh. The same on
# every version (all these settings mean the same from 14 to 18).
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

case "${1:-}" in
    "") ;;
    -h|--help) sed -n '2,39s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
VERSION=${PGCS_PG_VERSION:-15}
case "$VERSION" in
    13|14|15|16|17|18) ;;
    *) die "PGCS_PG_VERSION must be 14, 15, 16, 17 or 18 (or 13), not '$VERSION'" ;;
esac
PGBIN=$(bash "$REPO/deploy/pg-fetch.sh" "$VERSION") || die "cannot get PostgreSQL $VERSION (deploy/pg-fetch.sh $VERSION)"
PGBIN=$(cd "$PGBIN" && pwd -P)   # /proc/PID/exe names the resolved path
CLIENTBIN=/usr/lib/postgresql/15/bin   # pg_isready and psql: Debian's client speaks to every version
TLS_DIR=${PGCS_PG_TLS:-}
if [ -n "$TLS_DIR" ]; then
    for f in ca.crt server.crt server.key; do
        [ -f "$TLS_DIR/$f" ] || die "PGCS_PG_TLS=$TLS_DIR has no $f: make it with deploy/test-pki.sh $TLS_DIR"
    done
    TLS_DIR=$(cd "$TLS_DIR" && pwd -P)
fi
RUNTIME=${PGCS_RUNTIME_DIR:-$REPO/.run}
mkdir -p "$RUNTIME"
RUNTIME=$(cd "$RUNTIME" && pwd -P)
PGRUN=$RUNTIME/pg
FIRST_PORT=${PGCS_PG_PORT:-55432}
if ! [[ "$FIRST_PORT" =~ ^[0-9]{4,5}$ ]] || [ "$FIRST_PORT" -lt 1024 ] || [ "$FIRST_PORT" -gt 65000 ]; then
    die "PGCS_PG_PORT must be a port number 1024..65000, not '$FIRST_PORT'"
fi

for tool in initdb pg_ctl postgres; do
    [ -x "$PGBIN/$tool" ] || die "$PGBIN/$tool not found: install PostgreSQL $VERSION (deploy/install-deps.sh, deploy/pg-fetch.sh $VERSION)"
done
[ -x "$CLIENTBIN/pg_isready" ] || die "$CLIENTBIN/pg_isready not found: install postgresql-client-15 (deploy/install-deps.sh)"
command -v psql >/dev/null 2>&1 || die "psql not found: install postgresql-client-15 (deploy/install-deps.sh)"
command -v ss >/dev/null 2>&1 || die "ss not found: install iproute2 (deploy/install-deps.sh)"

# As root, every server-side command runs as `postgres`; otherwise as the calling user.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user: install postgresql-15 (deploy/install-deps.sh)"
    OWNER=postgres
    as_owner() { runuser -u postgres -- "$@" 9>&-; }
else
    OWNER=$(id -un)
    as_owner() { "$@" 9>&-; }
fi
cd /   # the postgres user may not be allowed into the caller's directory

# One pg-start/pg-stop at a time per runtime folder.
exec 9>"$RUNTIME/pg.lock"
flock -w 120 9 || die "another pg-start/pg-stop holds $RUNTIME/pg.lock"

mkdir -p "$PGRUN"

# Where the server's own files live (HOME_DIR): $PGRUN itself when the owner can reach it and
# the socket path stays short, else a private folder under /var/tmp. A choice made before
# sticks as long as its cluster exists.
socket_ok() { [ ${#1} -le 80 ]; }   # "$1/socket/.s.PGSQL.NNNNN" must fit in sun_path (107)
HOME_DIR=
if [ -f "$PGRUN/home" ]; then
    recorded=$(cat "$PGRUN/home")
    [ -d "$recorded/data" ] && HOME_DIR=$recorded
fi
if [ -z "$HOME_DIR" ]; then
    if [ "$OWNER" = postgres ]; then
        chown postgres: "$PGRUN"
    fi
    chmod 0755 "$PGRUN"
    if as_owner test -x "$PGRUN" -a -w "$PGRUN" && socket_ok "$PGRUN/socket"; then
        HOME_DIR=$PGRUN
    else
        hash=$(printf '%s' "$PGRUN" | sha256sum | cut -c1-16)
        HOME_DIR=/var/tmp/pgchangeset-$hash
        say "user $OWNER cannot use $PGRUN (or its path is too long for a socket); the cluster lives in $HOME_DIR"
    fi
fi
for f in data socket postgresql.log; do
    if [ "$HOME_DIR" != "$PGRUN" ]; then
        ln -sfn "$HOME_DIR/$f" "$PGRUN/$f"
    elif [ -L "$PGRUN/$f" ]; then
        rm -f "$PGRUN/$f"   # left from an earlier cluster under /var/tmp
    fi
done
if [ "$HOME_DIR" != "$PGRUN" ]; then
    mkdir -p "$HOME_DIR"
    if [ "$OWNER" = postgres ]; then
        chown postgres: "$HOME_DIR"
    fi
    chmod 0755 "$HOME_DIR"
fi
printf '%s\n' "$HOME_DIR" > "$PGRUN/home"

DATA=$HOME_DIR/data
SOCKDIR=$HOME_DIR/socket
LOG=$HOME_DIR/postgresql.log

write_conninfo() {
    local port=$1 conninfo
    conninfo="host=127.0.0.1 port=$port user=postgres password=postgres dbname=app"
    if [ -n "$TLS_DIR" ]; then
        conninfo="host=localhost port=$port user=postgres password=postgres dbname=app sslmode=verify-full sslrootcert=$TLS_DIR/ca.crt"
    fi
    printf '%s\n' "$conninfo" > "$PGRUN/conninfo.tmp"
    mv -f "$PGRUN/conninfo.tmp" "$PGRUN/conninfo"
    printf '%s\n' "$port" > "$PGRUN/port"
    printf '%s\n' "$conninfo"
}

ensure_app_db() {
    local port=$1
    if [ -z "$(psql -X -q -h "$SOCKDIR" -p "$port" -U postgres -d postgres -Atc \
        "SELECT 1 FROM pg_database WHERE datname = 'app'")" ]; then
        say "creating database app"
        psql -X -q -h "$SOCKDIR" -p "$port" -U postgres -d postgres -c 'CREATE DATABASE app' >/dev/null
    fi
    if [ -n "$TLS_DIR" ]; then
        psql -X -q -h "$SOCKDIR" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -c \
            "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgcs_cert') THEN CREATE ROLE pgcs_cert LOGIN SUPERUSER REPLICATION; END IF; END\$\$" >/dev/null
    fi
}

# State of the server whose pid heads lock file $1 (default: postmaster.pid): none (no file),
# alive, zombie (dead, not yet reaped) or stale (gone, or a reused pid that is no postgres).
pm_state() {
    local pid stat exe
    pid=$(sed -n '1p' "${1:-$DATA/postmaster.pid}" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] || { echo none; return; }
    stat=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null || true)
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    if [ -z "$stat" ]; then
        echo stale
    elif [ "${stat%% *}" = Z ]; then
        echo zombie
    elif [[ "$exe" != "$PGBIN/postgres"* ]]; then
        echo stale
    else
        echo alive
    fi
}

# A cluster of another version is never reused (nor is its running server taken for a stale one).
if [ -f "$DATA/PG_VERSION" ]; then
    found=$(cat "$DATA/PG_VERSION")
    if [ "$found" != "$VERSION" ]; then
        die "the cluster in $DATA is PostgreSQL $found, PGCS_PG_VERSION asks for $VERSION: use another PGCS_RUNTIME_DIR for $VERSION (one per version), or remove this one with deploy/pg-stop.sh --destroy"
    fi
fi
printf '%s\n' "$PGBIN" > "$PGRUN/bindir"   # for deploy/pg-stop.sh

# Already running: report and stop here.
state=$(pm_state)
if [ "$state" = alive ]; then
    port=$(sed -n '4p' "$DATA/postmaster.pid")
    [[ "$port" =~ ^[0-9]+$ ]] || die "cannot read the port from $DATA/postmaster.pid"
    for _ in $(seq 1 120); do
        "$CLIENTBIN/pg_isready" -q -h "$SOCKDIR" -p "$port" -t 1 && break
        [ "$(pm_state)" = alive ] || break
        sleep 0.5
    done
    if "$CLIENTBIN/pg_isready" -q -h "$SOCKDIR" -p "$port" -t 1; then
        say "already running (pid $(sed -n '1p' "$DATA/postmaster.pid"), port $port, data $DATA)"
        ensure_app_db "$port"
        write_conninfo "$port"
        exit 0
    fi
    state=$(pm_state)
    [ "$state" != alive ] ||
        die "PostgreSQL (pid $(sed -n '1p' "$DATA/postmaster.pid")) runs but does not accept connections; see $PGRUN/postgresql.log"
fi
if [ "$state" != none ]; then
    # A server that died without cleaning up (kill -9, crash, reboot). A killed postmaster stays
    # a zombie until init reaps it, and PostgreSQL takes a zombie's lock files as live.
    for _ in $(seq 1 40); do
        [ "$(pm_state)" = zombie ] || break
        sleep 0.25
    done
    say "removing the lock files of a server that is gone (pid $(sed -n '1p' "$DATA/postmaster.pid"))"
    rm -f "$DATA/postmaster.pid"
fi
for lock in "$SOCKDIR"/.s.PGSQL.*.lock; do
    [ -e "$lock" ] || continue
    if [ "$(pm_state "$lock")" != alive ]; then
        rm -f "$lock" "${lock%.lock}"
    fi
done

# Create the cluster.
if [ ! -f "$DATA/PG_VERSION" ]; then
    if [ -e "$DATA" ] && [ -n "$(ls -A "$DATA" 2>/dev/null)" ]; then
        die "$DATA exists but is no PostgreSQL cluster; remove it or run deploy/pg-stop.sh --destroy"
    fi
    say "creating a PostgreSQL $VERSION cluster in $DATA"
    rm -rf "$DATA"
    pwfile=$HOME_DIR/.pwfile
    printf 'postgres\n' > "$pwfile"
    if [ "$OWNER" = postgres ]; then
        chown postgres: "$pwfile"
    fi
    chmod 0600 "$pwfile"
    if ! as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" -E UTF8 \
        --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >"$HOME_DIR/initdb.log" 2>&1; then
        rm -f "$pwfile"
        cat "$HOME_DIR/initdb.log" >&2
        die "initdb failed (log: $HOME_DIR/initdb.log)"
    fi
    rm -f "$pwfile"
    printf "\n# pgchangeset development settings (rewritten by deploy/pg-start.sh on every start)\ninclude_if_exists = 'pgchangeset.conf'\n" \
        >> "$DATA/postgresql.conf"
fi

# Pick the port: the one this cluster had last time if it is free (clients that remember it, like
# the fault tests restarting PostgreSQL, find it again), else the first one from FIRST_PORT on
# that nothing listens on (our cluster is not running, so whatever listens is something else).
# Only listeners count here: a restarted cluster must get its old port back although its old
# connections linger (TIME-WAIT, FIN-WAIT; the server binds with SO_REUSEADDR). A client's
# ephemeral source port on it (55432 is inside Linux's default range) still fails the bind:
# the start below then moves on to the next port.
port_busy() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
port=$FIRST_PORT
previous=$(cat "$PGRUN/port" 2>/dev/null || true)
if [ -z "${PGCS_PG_PORT:-}" ] && [[ "$previous" =~ ^[0-9]{4,5}$ ]] && ! port_busy "$previous"; then
    port=$previous
fi
next_free_port() {
    while port_busy "$port"; do
        say "port $port is in use by something else; trying $((port + 1))"
        port=$((port + 1))
        [ "$port" -lt $((FIRST_PORT + 100)) ] || die "no free port in $FIRST_PORT..$((FIRST_PORT + 99))"
    done
}
next_free_port

as_owner mkdir -p "$SOCKDIR"
as_owner chmod 0755 "$SOCKDIR"
# This machine's PostgreSQL build loads only the output plugins it lists; the suite decodes the
# same WAL with wal2json as an independent oracle. A stock build has no such setting.
described=$(as_owner "$PGBIN/postgres" --describe-config 2>/dev/null || true)
write_settings() {
    as_owner tee "$DATA/pgchangeset.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$SOCKDIR'
wal_level = ${PGCS_PG_WAL_LEVEL:-logical}
max_wal_senders = 20
max_replication_slots = 20
wal_sender_timeout = 60s
fsync = off
shared_buffers = 128MB
max_prepared_transactions = 10
password_encryption = scram-sha-256
EOF
    if [ -n "$TLS_DIR" ]; then
        as_owner tee -a "$DATA/pgchangeset.conf" >/dev/null <<EOF
ssl = on
ssl_cert_file = '$HOME_DIR/tls/server.crt'
ssl_key_file = '$HOME_DIR/tls/server.key'
ssl_ca_file = '$HOME_DIR/tls/ca.crt'
EOF
    fi
    if grep -q '^output_plugin_libraries' <<<"$described"; then
        echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'" |
            as_owner tee -a "$DATA/pgchangeset.conf" >/dev/null
    fi
}
if [ -z "$TLS_DIR" ]; then
    as_owner tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# pgchangeset development cluster (written by deploy/pg-start.sh)
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
EOF
else
    # The server's key must belong to the server's user (mode 0600): a copy in its own folder.
    as_owner mkdir -p "$HOME_DIR/tls"
    for f in ca.crt server.crt server.key; do
        as_owner tee "$HOME_DIR/tls/$f" >/dev/null < "$TLS_DIR/$f"
    done
    as_owner chmod 0600 "$HOME_DIR/tls/server.key"
    as_owner tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# pgchangeset TLS test cluster (written by deploy/pg-start.sh, PGCS_PG_TLS): TLS only over TCP
# TYPE     DATABASE     USER       ADDRESS        METHOD
local      all          all                       trust
local      replication  all                       trust
hostssl    all          pgcs_cert  127.0.0.1/32   cert
hostssl    replication  pgcs_cert  127.0.0.1/32   cert
hostssl    all          postgres   127.0.0.1/32   scram-sha-256
hostssl    replication  postgres   127.0.0.1/32   scram-sha-256
EOF
fi

# The port can be taken between the check and the server's bind (another process's ephemeral
# port): then the next free one is tried, a few times.
for attempt in 1 2 3 4 5; do
    write_settings
    say "starting PostgreSQL $VERSION on 127.0.0.1:$port (log: $PGRUN/postgresql.log)"
    log_start=$({ wc -c <"$LOG"; } 2>/dev/null || echo 0)
    if as_owner "$PGBIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 60 >/dev/null 2>&1; then
        break
    fi
    if [ "$attempt" -lt 5 ] && tail -c +$((log_start + 1)) "$LOG" 2>/dev/null | grep -q 'Address already in use'; then
        say "port $port was taken while starting; trying another"
        port=$((port + 1))
        next_free_port
        continue
    fi
    tail -n 30 "$LOG" >&2 || true
    die "PostgreSQL did not start (log: $PGRUN/postgresql.log)"
done

ready=0
for _ in $(seq 1 60); do
    if "$CLIENTBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
        ready=1
        break
    fi
    sleep 0.5
done
[ "$ready" = 1 ] || { tail -n 30 "$LOG" >&2 || true; die "PostgreSQL does not accept connections on 127.0.0.1:$port"; }

ensure_app_db "$port"
say "running (data $DATA)"
write_conninfo "$port"
