#!/usr/bin/env bash
# PostgreSQL's own regression suite under capture: pg_regress runs the installed PostgreSQL 15's
# tests (Debian's source of the same version) in a throwaway database published FOR ALL TABLES,
# while build/bin/pgchangeset streams it to Kafka and wal2json decodes the same WAL on a slot of
# its own, created at the same point. At the end, per table, the INSERT/UPDATE/DELETE events in
# Kafka must equal wal2json's, and the daemon must still be running (never stopped on a
# transaction). pg_regress's own pass/fail is not checked: only the capture is.
#
# Usage: tests/pgregress/run.sh [--subset] [--source DIR] [--kafka | --brokers HOST:PORT] [--keep]
#   --subset   a short fixed schedule (tests/pgregress/subset_schedule: encoding, arrays,
#              prepared_xacts, alter_table, create_table and what they need), for CI
#   (default)  the whole parallel_schedule (217 tests, about 5 million events; use --kafka)
#   --source DIR  a PostgreSQL 15 source tree (DIR/src/test/regress) instead of fetching one
#              (also PGCS_PGREGRESS_SOURCE)
#   --kafka    write to Apache Kafka (deploy/kafka; fetched and started if not running, with
#              message.max.bytes=16777216: the suite has events of up to 1.6 MB). The full run
#              needs it: the dev broker keeps at most 5 MB per partition (the check reports
#              records a broker no longer holds), and vacuum's table alone gets 4 million events
#   --brokers  another Kafka to write to (default: the dev broker of deploy/devbroker-start.sh)
#   --keep     keep the database, the slots and the results folder afterwards
#
# Needs: build/bin/pgchangeset and build/bin/pgregress_count, PostgreSQL (deploy/pg-start.sh,
# started here if it is not running) and, without --brokers, the dev broker (started here if
# not running). Without --source it runs as root: it installs postgresql-server-dev-15 if
# missing and gets the source with `apt-get source --download-only postgresql-15=<installed
# version>`; when apt has no source index it adds one for the run (deb-src for the suites the
# system's own deb entries use, in /etc/apt/sources.list.d/pgcs-pgregress-src.sources, removed
# at exit) and runs apt-get update. The source and regress.so are kept in
# /var/tmp/pgcs-pgregress/<version> for the next run. Results: $RUNTIME/pgregress/.
# Exit 0: counts equal and the daemon ran throughout; 1: not; 2: bad usage or setup failure.
set -euo pipefail
prog=tests/pgregress/run.sh
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
here=$repo/tests/pgregress
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }
fail() { printf '%s: FAILED: %s\n' "$prog" "$*" >&2; exit 1; }

subset=0
source_dir=${PGCS_PGREGRESS_SOURCE:-}
brokers=
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --subset) subset=1 ;;
        --source) [ $# -ge 2 ] || die "--source needs a folder"; source_dir=$2; shift ;;
        --brokers) [ $# -ge 2 ] || die "--brokers needs HOST:PORT"; brokers=$2; shift ;;
        --kafka) brokers=kafka ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,33s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
    shift
done

PGBIN=/usr/lib/postgresql/15/bin
PG_CONFIG=$PGBIN/pg_config
PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress
export PGCS_RUNTIME_DIR=${PGCS_RUNTIME_DIR:-$repo/.run}
mkdir -p "$PGCS_RUNTIME_DIR"
RUNTIME=$(cd "$PGCS_RUNTIME_DIR" && pwd -P)
OUT=$RUNTIME/pgregress
DAEMON=$repo/build/bin/pgchangeset
COUNT=$repo/build/bin/pgregress_count
for f in "$DAEMON" "$COUNT"; do
    [ -x "$f" ] || die "$f not found: build first (cmake --build build)"
done
[ -x "$PG_REGRESS" ] || die "$PG_REGRESS not found: install postgresql-client-15"
[ -x "$PGBIN/pg_recvlogical" ] || die "$PGBIN/pg_recvlogical not found: install postgresql-client-15"
[ -e /usr/lib/postgresql/15/lib/wal2json.so ] ||
    die "wal2json not installed: install postgresql-15-wal2json (deploy/install-deps.sh)"

as_pg=()   # pg_regress runs as the server's user: the server writes into its output folder
if [ "$(id -u)" -eq 0 ]; then
    as_pg=(runuser -u postgres --)
fi

src_list=/etc/apt/sources.list.d/pgcs-pgregress-src.sources
pids=()
cleanup() {
    set +e
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    [ -f "$src_list.ours" ] && rm -f "$src_list" "$src_list.ours"
}
trap cleanup EXIT

# --- 1. the regression suite's source and regress.so ------------------------------------------
version=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
[ -n "$version" ] || die "postgresql-15 is not installed (deploy/install-deps.sh)"

# deb-src entries for the suites of the system's own deb entries (the distribution's codename and
# its -updates/-security), from the deb822 .sources files and the one-line lists.
add_source_index() {
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || die "cannot tell the Debian codename from /etc/os-release"
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] && [ "$f" != "$src_list" ] || continue
            awk -v c="$codename" '
                function flush() {
                    if (stanza != "" && deb && suite_ok && !disabled) { gsub(/Types:[^\n]*/, "Types: deb-src", stanza); print stanza }
                    stanza = ""; deb = 0; suite_ok = 0; disabled = 0
                }
                /^[ \t]*$/ { flush(); next }
                /^#/ { next }
                { stanza = stanza $0 "\n" }
                /^Types:/ { if ($0 ~ /(^|[ \t])deb([ \t]|$)/) deb = 1 }
                /^Enabled:[ \t]*no/ { disabled = 1 }
                /^Suites:/ { for (i = 2; i <= NF; i++) if ($i ~ ("^" c "(-[a-z]+)?$")) suite_ok = 1 }
                END { flush() }' "$f"
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            awk -v c="$codename" '
                /^deb[ \t]/ {
                    n = 2; if ($2 ~ /^\[/) { while ($n !~ /\]$/) n++; n++ }
                    if ($(n + 1) ~ ("^" c "(-[a-z]+)?$")) {
                        line = "Types: deb-src\nURIs: " $n "\nSuites: " $(n + 1) "\nComponents:"
                        for (i = n + 2; i <= NF; i++) line = line " " $i
                        print line "\n"
                    }
                }' "$f"
        done
    } > "$src_list.tmp"
    [ -s "$src_list.tmp" ] || { rm -f "$src_list.tmp"; die "no deb entry for '$codename' in /etc/apt to derive deb-src entries from"; }
    mv "$src_list.tmp" "$src_list"
    touch "$src_list.ours"
    say "no source index: added deb-src entries for this run ($src_list), running apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
}

fetch_source() {
    local dir=$1 got=
    [ "$(id -u)" -eq 0 ] || die "fetching the source needs root (apt-get); or pass --source DIR"
    mkdir -p "$dir/dl"
    cd "$dir/dl"
    if ! apt-get source --download-only "postgresql-15=$version" >"$dir/dl/apt.log" 2>&1; then
        if grep -q 'deb-src' "$dir/dl/apt.log" || ! apt-cache showsrc postgresql-15 >/dev/null 2>&1 ||
            [ -z "$(apt-cache showsrc postgresql-15 2>/dev/null)" ]; then
            add_source_index
        fi
        if ! apt-get source --download-only "postgresql-15=$version" >"$dir/dl/apt.log" 2>&1; then
            say "the source of postgresql-15 $version is not available; taking the newest one apt has"
            apt-get source --download-only postgresql-15 >"$dir/dl/apt.log" 2>&1 || {
                cat "$dir/dl/apt.log" >&2
                die "apt-get source --download-only postgresql-15 failed (or pass --source DIR)"
            }
        fi
    fi
    got=$(ls "$dir"/dl/postgresql-15_*.orig.tar.* 2>/dev/null | head -n1)
    [ -n "$got" ] || die "apt-get source left no postgresql-15_*.orig.tar.* in $dir/dl"
    tar -xf "$got" -C "$dir" --strip-components=1 --wildcards '*/src/test/regress/*'
    rm -rf "$dir/dl"
    cd "$repo"
}

if [ -n "$source_dir" ]; then
    source_dir=$(cd "$source_dir" && pwd -P) || die "--source $source_dir: no such folder"
    [ -f "$source_dir/src/test/regress/parallel_schedule" ] ||
        die "--source $source_dir has no src/test/regress/parallel_schedule (a PostgreSQL 15 source tree)"
    work=/var/tmp/pgcs-pgregress/source-$(printf '%s' "$source_dir" | sha256sum | cut -c1-12)
else
    work=/var/tmp/pgcs-pgregress/$version
fi
mkdir -p "$work"
chmod 0755 /var/tmp/pgcs-pgregress "$work"
if [ -n "$source_dir" ]; then
    # The server reads the suite's data files itself (COPY FROM): a copy where it may read.
    rm -rf "$work/src"
    mkdir -p "$work/src/test"
    cp -r "$source_dir/src/test/regress" "$work/src/test/"
elif [ ! -f "$work/src/test/regress/parallel_schedule" ]; then
    say "fetching the source of postgresql-15 $version"
    fetch_source "$work"
fi
regress=$work/src/test/regress
chmod -R a+rX "$work"

if [ ! -f "$($PG_CONFIG --includedir-server)/postgres.h" ]; then
    [ "$(id -u)" -eq 0 ] || die "postgresql-server-dev-15 is missing: install it (apt-get install postgresql-server-dev-15)"
    say "installing postgresql-server-dev-15 (PGXS, to build regress.so)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "postgresql-server-dev-15=$version" >&2 ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            postgresql-server-dev-15 >&2 || die "cannot install postgresql-server-dev-15"
fi
lib=$work/lib
if [ ! -f "$lib/regress.so" ] || [ "$regress/regress.c" -nt "$lib/regress.so" ]; then
    say "building regress.so with PGXS"
    mkdir -p "$lib"
    cp "$regress/regress.c" "$lib/"
    printf 'MODULES = regress\nPG_CONFIG = %s\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n' \
        "$PG_CONFIG" > "$lib/Makefile"
    make -s -C "$lib" with_llvm=no >&2 || die "building regress.so failed"
fi
# The suite loads autoinc and refint (contrib/spi, shipped with the server) from the same folder.
for so in autoinc refint; do
    ln -sfn "$($PG_CONFIG --pkglibdir)/$so.so" "$lib/$so.so"
done
chmod -R a+rX "$lib"

# --- 2. PostgreSQL, Kafka ------------------------------------------------------------------------
bash "$repo/deploy/pg-start.sh" >/dev/null
port=$(cat "$RUNTIME/pg/port")
sock=$(readlink -f "$RUNTIME/pg/socket")
psql_db() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -At -d "$1" -c "$2"; }
if [ "$(psql_db postgres 'SHOW max_prepared_transactions')" = 0 ]; then
    say "note: max_prepared_transactions is 0 on this cluster (started before deploy/pg-start.sh set it): prepared_xacts runs without PREPARE TRANSACTION; restart it (deploy/pg-stop.sh; deploy/pg-start.sh) to include them"
fi
if [ "$brokers" = kafka ]; then
    bash "$repo/deploy/kafka/fetch.sh" >&2
    PGCS_KAFKA_PROPERTIES=${PGCS_KAFKA_PROPERTIES:-message.max.bytes=16777216} \
        bash "$repo/deploy/kafka/kafka-start.sh" >/dev/null
    brokers=$(cat "$RUNTIME/kafka/bootstrap")
elif [ -z "$brokers" ]; then
    PGCS_BIN_DIR=$repo/build/bin bash "$repo/deploy/devbroker-start.sh" >/dev/null
    brokers=$(cat "$RUNTIME/devbroker.bootstrap")
fi

# --- 3. the database, its publication and both slots ---------------------------------------------
db=pgcs_regression
slot=pgcs_regress
oracle_slot=pgcs_regress_wal2json
drop_all() {
    for s in "$slot" "$oracle_slot"; do
        psql_db postgres "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$s'" >/dev/null
    done
    psql_db postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
}
drop_all
psql_db postgres "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" >/dev/null
# What pg_regress sets on a database it creates itself (it does not with --use-existing).
for s in "lc_messages TO 'C'" "lc_monetary TO 'C'" "lc_numeric TO 'C'" "lc_time TO 'C'" \
    "bytea_output TO 'hex'" "timezone_abbreviations TO 'Default'"; do
    psql_db postgres "ALTER DATABASE $db SET $s" >/dev/null
done
psql_db "$db" "CREATE PUBLICATION $slot FOR ALL TABLES" >/dev/null
# A publication leaves materialized views out, but logical decoding (so wal2json) sees the rows
# CREATE MATERIALIZED VIEW writes: event triggers note each one's name when it is created or
# dropped (in an unlogged table, which neither decoder sees; EXPLAIN ANALYZE CREATE ... fires no
# trigger), and the check leaves those and the ones that exist at the end out of wal2json's counts.
psql_db "$db" "CREATE SCHEMA pgcs_regress;
CREATE UNLOGGED TABLE pgcs_regress.matviews (name text NOT NULL);
CREATE FUNCTION pgcs_regress.note_matview() RETURNS event_trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog AS \$\$
BEGIN
  INSERT INTO pgcs_regress.matviews
    SELECT n.nspname || '.' || c.relname FROM pg_event_trigger_ddl_commands() d
      JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE d.classid = 'pg_class'::regclass AND c.relkind = 'm';
EXCEPTION WHEN OTHERS THEN NULL;
END \$\$;
CREATE FUNCTION pgcs_regress.note_dropped_matview() RETURNS event_trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog AS \$\$
BEGIN
  INSERT INTO pgcs_regress.matviews
    SELECT schema_name || '.' || object_name FROM pg_event_trigger_dropped_objects()
     WHERE object_type = 'materialized view';
EXCEPTION WHEN OTHERS THEN NULL;
END \$\$;
CREATE EVENT TRIGGER pgcs_regress_matviews ON ddl_command_end
  WHEN TAG IN ('CREATE MATERIALIZED VIEW') EXECUTE FUNCTION pgcs_regress.note_matview();
CREATE EVENT TRIGGER pgcs_regress_dropped_matviews ON sql_drop
  EXECUTE FUNCTION pgcs_regress.note_dropped_matview();" >/dev/null
# Both slots before any test runs: the same changes ahead of each.
psql_db "$db" "SELECT pg_create_logical_replication_slot('$slot', 'pgoutput'); SELECT pg_create_logical_replication_slot('$oracle_slot', 'wal2json')" >/dev/null

rm -rf "$OUT"
mkdir -p "$OUT"
# pg_regress runs as the server's user, and the server writes files into its output folder
# (COPY TO): a folder that user can reach, like deploy/pg-start.sh's cluster.
results=/var/tmp/pgcs-pgregress/results-$(printf '%s' "$RUNTIME" | sha256sum | cut -c1-12)
rm -rf "$results"
mkdir -p "$results"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$results"
fi
ln -sfn "$results" "$OUT/results"
prefix=pgregress.$(date +%s)
cat > "$OUT/pgchangeset.yaml" <<EOF
# written by tests/pgregress/run.sh
postgres:
  conninfo: "host=127.0.0.1 port=$port user=postgres password=postgres dbname=$db"
  slot: $slot
  publication: $slot
  create_publication: false
  create_slot: false
kafka:
  brokers: "$brokers"
  topic_prefix: $prefix
  properties:
    # the suite has events of up to 1.6 MB
    message.max.bytes: "16777216"
snapshot:
  mode: never
EOF

# --- 4. the daemon, then pg_regress ---------------------------------------------------------------
"$DAEMON" run --config "$OUT/pgchangeset.yaml" 2>"$OUT/pgchangeset.log" &
daemon=$!
pids+=("$daemon")
for _ in $(seq 1 60); do
    [ "$(psql_db postgres "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ] && break
    kill -0 "$daemon" 2>/dev/null || { tail -n 20 "$OUT/pgchangeset.log" >&2; fail "pgchangeset exited at start (log: $OUT/pgchangeset.log)"; }
    sleep 0.5
done
[ "$(psql_db postgres "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ] ||
    fail "pgchangeset does not stream slot $slot after 30 s (log: $OUT/pgchangeset.log)"

if [ "$subset" = 1 ]; then
    schedule=$here/subset_schedule
else
    schedule=$regress/parallel_schedule
fi
cp "$schedule" "$results/schedule"
chmod a+r "$results/schedule"
say "pg_regress: $(grep -c '^test:' "$schedule") groups of $(basename "$schedule") in database $db, captured as $prefix.* on $brokers"
start=$SECONDS
(cd "$results" && exec "${as_pg[@]}" "$PG_REGRESS" --bindir="$PGBIN" --dlpath="$lib" \
    --inputdir="$regress" --outputdir="$results" --schedule="$results/schedule" --use-existing \
    --dbname="$db" --host="$sock" --port="$port" --user=postgres) >"$OUT/pg_regress.log" 2>&1 &
regress_pid=$!
pids+=("$regress_pid")
# Under FOR ALL TABLES, UPDATE and DELETE of a table without a replica identity fail, and with
# them prepared_xacts' write-skew: its `foo5` then prepares, and the test's next DROP TABLE
# waits for it for ever. The suite's own prepared transactions end within seconds: one older
# than 20 s is rolled back (and said so), as the test would have had it fail.
while kill -0 "$regress_pid" 2>/dev/null; do
    for gid in $(psql_db postgres "SELECT gid FROM pg_prepared_xacts WHERE database = '$db' AND prepared < now() - interval '20 seconds'"); do
        say "rolling back prepared transaction '$gid', left by the suite for 20 s (prepared_xacts under FOR ALL TABLES blocks on it)"
        psql_db "$db" "ROLLBACK PREPARED '$gid'" >/dev/null || true
    done
    sleep 2
done
rc=0
wait "$regress_pid" || rc=$?
pids=("$daemon")
say "pg_regress finished in $((SECONDS - start)) s (exit $rc; its own result is not checked): $(grep -E '^ *(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests)' "$OUT/pg_regress.log" | tail -n1 | sed 's/^ *//; s/ *$//')"
kill -0 "$daemon" 2>/dev/null || {
    code=0; wait "$daemon" || code=$?
    grep -E '\] \[(error|critical)\]' "$OUT/pgchangeset.log" | tail -n 20 >&2 || tail -n 20 "$OUT/pgchangeset.log" >&2
    fail "pgchangeset stopped during the suite (exit $code; log: $OUT/pgchangeset.log)"
}

# --- 5. wait until the daemon has every change acknowledged, decode with wal2json ----------------
end=$(psql_db "$db" "SELECT pg_logical_emit_message(false, 'pgregress', 'end')")
say "waiting for pgchangeset to confirm $end"
caught_up=0
for _ in $(seq 1 600); do
    kill -0 "$daemon" 2>/dev/null || break
    if [ "$(psql_db postgres "SELECT confirmed_flush_lsn >= '$end' FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ]; then
        caught_up=1
        break
    fi
    sleep 1
done
if [ "$caught_up" = 0 ]; then
    at=$(psql_db postgres "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$slot'")
    grep -E '\] \[(warning|error|critical)\]' "$OUT/pgchangeset.log" | tail -n 20 >&2 || true
    if kill -0 "$daemon" 2>/dev/null; then
        fail "pgchangeset runs but its slot stays at $at, before the suite's end $end: it is stuck on a transaction (log above, all of it: $OUT/pgchangeset.log)"
    fi
    code=0; wait "$daemon" || code=$?
    fail "pgchangeset stopped at $at, before the suite's end $end (exit $code; log above, all of it: $OUT/pgchangeset.log)"
fi

say "decoding the same changes with wal2json"
timeout 900 "$PGBIN/pg_recvlogical" -h "$sock" -p "$port" -U postgres -d "$db" --slot "$oracle_slot" \
    --start --endpos="$end" --no-loop -f "$OUT/wal2json.jsonl" \
    -o format-version=2 -o include-transaction=false >"$OUT/pg_recvlogical.log" 2>&1 ||
    { cat "$OUT/pg_recvlogical.log" >&2; die "pg_recvlogical (wal2json) failed"; }

# --- 6. compare ------------------------------------------------------------------------------------
say "comparing per table: Kafka ($prefix.*) against wal2json"
set +e
exclude=(--exclude public.pgchangeset_snapshots)
while IFS= read -r mv; do
    exclude+=(--exclude "$mv")
done < <(psql_db "$db" "SELECT name FROM pgcs_regress.matviews UNION
    SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'm' ORDER BY 1")
say "leaving out $((${#exclude[@]} / 2 - 1)) materialized views (not published; wal2json decodes their rows)"
"$COUNT" --brokers "$brokers" --prefix "$prefix" --wal2json "$OUT/wal2json.jsonl" \
    "${exclude[@]}" | tee "$OUT/compare.txt"
equal=${PIPESTATUS[0]}
set -e
kill -0 "$daemon" 2>/dev/null || fail "pgchangeset stopped while the check ran (log: $OUT/pgchangeset.log)"
kill -TERM "$daemon"
code=0
wait "$daemon" || code=$?
pids=()
[ "$code" = 0 ] || fail "pgchangeset exited $code on SIGTERM, not 0 (log: $OUT/pgchangeset.log)"
[ "$keep" = 1 ] || drop_all
[ "$equal" = 0 ] || fail "the events in Kafka differ from wal2json's (above; $OUT/compare.txt)"
say "passed: every table's inserts, updates and deletes in Kafka equal wal2json's, and pgchangeset ran throughout ($((SECONDS)) s)"
