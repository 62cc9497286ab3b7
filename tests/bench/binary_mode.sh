#!/usr/bin/env bash
# Text mode against binary mode, in one run on one machine: the same transaction of ROWS rows
# of a table of common types is captured once per mode; the figure is the time from its commit
# to the slot's confirmed_flush_lsn passing it (Kafka acknowledged every event). Each mode
# runs REPEAT times, alternating, and the best time counts (shared machines are noisy; compare
# the ratio, not the absolute numbers).
#
# Needs: build/bin/pgchangeset, a running test PostgreSQL (deploy/pg-start.sh) and dev broker
# (deploy/devbroker-start.sh), or PGCS_TEST_BROKERS for another broker.
#   bash tests/bench/binary_mode.sh [ROWS] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-200000}
REPEAT=${2:-3}
RUNTIME=${PGCS_RUNTIME_DIR:-$PWD/.run}
CONNINFO=$(cat "$RUNTIME/pg/conninfo")
BROKERS=${PGCS_TEST_BROKERS:-$(cat "$RUNTIME/devbroker.bootstrap")}
WORK=$(mktemp -d)
TABLE=bench_binary_$$
trap 'kill $(jobs -p) 2>/dev/null || true; psql "$CONNINFO" -qAtc "DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

sql() { psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

sql "CREATE TABLE $TABLE (id int8 PRIMARY KEY, n numeric, f float8, ts timestamptz,
     t text, j jsonb, u uuid, a int4[], b bool, d date)"

run_mode() {  # $1 = true|false; prints seconds
    local binary=$1 slot="bench_$$_$1_$RANDOM"
    cat > "$WORK/config.yaml" <<YAML
postgres:
  conninfo: "$CONNINFO"
  slot: $slot
  publication: $slot
  tables: [public.$TABLE]
  binary: $binary
kafka:
  brokers: "$BROKERS"
  topic_prefix: bench_$slot
log:
  level: warn
YAML
    build/bin/pgchangeset run --config "$WORK/config.yaml" > "$WORK/daemon.log" 2>&1 &
    local pid=$!
    until [ "$(sql "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot' AND active")" = 1 ]; do
        sleep 0.1
    done
    sql "TRUNCATE $TABLE" >/dev/null
    local start end target
    start=$(date +%s.%N)
    sql "INSERT INTO $TABLE SELECT g, g * 1.25, g / 7.0, '2026-01-01'::timestamptz + g * interval '1 s',
         'row ' || g, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b')),
         md5(g::text)::uuid, ARRAY[g::int4, 2, 3], g % 2 = 0, '2026-01-01'::date + (g % 1000)
         FROM generate_series(1, $ROWS) g" >/dev/null
    target=$(sql "SELECT pg_current_wal_lsn()")
    until [ "$(sql "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ]; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/daemon.log" >&2; exit 1; }
        sleep 0.05
    done
    end=$(date +%s.%N)
    kill -TERM "$pid"; wait "$pid" || true
    sql "SELECT pg_drop_replication_slot('$slot'); DROP PUBLICATION $slot" >/dev/null
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

best_text=999999
best_binary=999999
for i in $(seq 1 "$REPEAT"); do
    t=$(run_mode false); b=$(run_mode true)
    echo "run $i: text ${t}s, binary ${b}s"
    best_text=$(awk -v x="$t" -v y="$best_text" 'BEGIN { print (x < y ? x : y) }')
    best_binary=$(awk -v x="$b" -v y="$best_binary" 'BEGIN { print (x < y ? x : y) }')
done
awk -v n="$ROWS" -v r="$REPEAT" -v t="$best_text" -v b="$best_binary" 'BEGIN {
    printf "rows: %d; best of %d: text %.3fs (%d rows/s), binary %.3fs (%d rows/s); binary/text time ratio %.2f\n",
           n, r, t, n / t, b, n / b, b / t }'
