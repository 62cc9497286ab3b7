#!/usr/bin/env bash
# The floor under the debezium format's speed target (docs/PERFORMANCE.md, "Debezium format"):
# librdkafka's produce rate for the records themselves, with nothing read or encoded. A table
# of W1's shape (FLOOR_ROWS rows) is snapshotted (snapshot.mode initial_only) by the daemon in
# the native format and in the debezium format with schemas, to the dev broker; then
# produce_floor (tests/bench/produce_floor.cpp: the daemon's own sink, its producer settings,
# lz4) produces FLOOR_COUNT records cycling through each topic's records, the two formats
# alternating, FLOOR_REPEAT times each, in one run. Prints each run and the median ratio.
#
#   bash tests/bench/debezium_floor.sh   (needs build/bin/{pgchangeset,produce_floor}, PostgreSQL
#                                         and the dev broker of PGCS_RUNTIME_DIR, default .run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
RUNTIME=${PGCS_RUNTIME_DIR:-$PWD/.run}
CONNINFO=$(head -n 1 "$RUNTIME/pg/conninfo")
BROKERS=$(head -n 1 "$RUNTIME/devbroker.bootstrap")
ROWS=${FLOOR_ROWS:-20000} COUNT=${FLOOR_COUNT:-400000} REPEAT=${FLOOR_REPEAT:-3}
SFX=$(date +%s)
WORK=$(mktemp -d)
sql() { psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
cleanup() {
    set +e
    sql "SET client_min_messages = warning; DROP PUBLICATION IF EXISTS floor_pub;
         DROP TABLE IF EXISTS floor_w1; DELETE FROM public.pgchangeset_snapshots
         WHERE slot_name LIKE 'floor\_%'" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

sql "SET client_min_messages = warning; DROP PUBLICATION IF EXISTS floor_pub;
     DROP TABLE IF EXISTS floor_w1;
     CREATE TABLE floor_w1 (id bigserial PRIMARY KEY, name text, amount numeric(12,2),
     ts timestamptz, flag bool, payload jsonb); CREATE PUBLICATION floor_pub FOR TABLE floor_w1;
     INSERT INTO floor_w1 (name, amount, ts, flag, payload) SELECT 'customer ' || g,
     (g % 100000) / 100.0, now() - g * interval '1 s', g % 2 = 0,
     jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b'), 'note', 'bench')
     FROM generate_series(1, $ROWS) g" >/dev/null

# snapshot FORMAT EXTRA: the table's records in that format, to topic floor_<format>_$SFX.*
snapshot() {
    local slot=floor_$1_$SFX
    sql "SELECT pg_create_logical_replication_slot('$slot', 'pgoutput')" >/dev/null
    cat >"$WORK/$1.yaml" <<YAML
postgres:
  conninfo: "$CONNINFO"
  slot: $slot
  publication: floor_pub
  tables: [public.floor_w1]
kafka:
  brokers: "$BROKERS"
  topic_prefix: $slot
$2
snapshot:
  mode: initial_only
YAML
    build/bin/pgchangeset run --config "$WORK/$1.yaml" >"$WORK/$1.log" 2>&1 ||
        { cat "$WORK/$1.log" >&2; echo "debezium_floor.sh: the $1 snapshot failed" >&2; exit 1; }
    sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null
}
snapshot native ""
snapshot dbzs $'  format: debezium\n  schemas: true'

declare -A rates
for rep in $(seq 1 "$REPEAT"); do
    for fmt in native dbzs; do
        read -r secs cpu rss < <(build/bin/produce_floor "$BROKERS" \
            "floor_${fmt}_$SFX.public.floor_w1" "$COUNT" 2>"$WORK/floor.log") ||
            { cat "$WORK/floor.log" >&2; exit 1; }
        rate=$(awk -v n="$COUNT" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
        rates[$fmt]+="$rate "
        printf '%s run %d: %s records/s, %s CPU s, %s kB peak RSS; %s\n' "$fmt" "$rep" "$rate" \
            "$cpu" "$rss" "$(sed 's/^produce_floor: //' "$WORK/floor.log")"
    done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
n=$(median <<<"${rates[native]}") d=$(median <<<"${rates[dbzs]}")
awk -v n="$n" -v d="$d" 'BEGIN { printf "floor (medians): native %d records/s, debezium with schemas %d records/s: %.2f x\n", n, d, d / n }'
