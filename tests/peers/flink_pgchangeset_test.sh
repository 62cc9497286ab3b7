#!/usr/bin/env bash
# ctest label peers: Flink's `debezium-json` format (tests/peers/flink-json/parse.sh) as a real
# consumer of pgchangeset's `kafka.format: debezium`. Two pgchangeset daemons (build/bin, or
# PGCS_BIN_DIR), `kafka.schemas: true` and `false`, each on its own slot, capture a REPLICA
# IDENTITY FULL table into Apache Kafka (PGCS_TEST_BROKER=devbroker: the dev broker instead): a
# snapshot, inserts, updates, deletes and a key change. Every record of each topic, read with
# kcat, must parse (schema-include true and false), into rows of the right RowKind (snapshot and
# create: INSERT; update: UPDATE_BEFORE + UPDATE_AFTER; delete: DELETE; key change: DELETE +
# INSERT; tombstones skipped) with the fields the workload wrote, in order per key (the rows
# are compared sorted by id, stably: a topic's partitions are read side by side, and Kafka keeps
# order only per partition, hence per key). Parsing the records written with schemas as if
# without must fail.
. "$(dirname "${BASH_SOURCE[0]}")/_test_env.sh"
BIN=${PGCS_BIN_DIR:-$REPO/build/bin}
if [ "${PGCS_TEST_BROKER:-kafka}" = kafka ]; then
    BROKER=$(kafka_bootstrap)
else
    BROKER=$(head -n 1 "$RUNTIME/devbroker.bootstrap" 2>/dev/null) ||
        { echo "cannot read $RUNTIME/devbroker.bootstrap: start the dev broker first" >&2; exit 1; }
fi
T=fp_$SFX
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for s in true false; do
        drop_slot "fp_${s}_$SFX"
        sql -c "drop publication if exists fp_${s}_$SFX" || true
    done
    sql -c "drop table if exists $T" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
# records TOPIC: its records as capture.sh lines, {"topic","key","value"} (a null value is a
# tombstone); none while the topic does not exist.
records() {
    kcat -C -b "$BROKER" -t "$1" -e -q -J -Z 2>/dev/null |
        jq -c '{topic, key: (.key | if . then fromjson else null end),
                value: (.payload | if . then fromjson else null end)}' || true
}
sql -c "create table $T (id int primary key, v text, n numeric(10,2), ts timestamp, b bool, f8 float8);
        alter table $T replica identity full;
        insert into $T values (1, 'a', 1.50, '2026-01-01 00:00:00', true, 0.5),
                              (2, 'b', null, null, null, null)"

t0=$(date +%s)
for s in true false; do
    cat >"$WORK/$s.yaml" <<YAML
postgres:
  conninfo: "$PG"
  slot: fp_${s}_$SFX
  publication: fp_${s}_$SFX
  tables: [public.$T]
kafka:
  brokers: "$BROKER"
  topic_prefix: fp${s}$SFX
  format: debezium
  schemas: $s
snapshot:
  mode: initial
YAML
    "$BIN/pgchangeset" run --config "$WORK/$s.yaml" >"$WORK/$s.log" 2>&1 &
    PIDS+=($!)
done
# both snapshots (2 rows each) in Kafka before the workload
for s in true false; do
    n=0
    for ((i = 0; i < 600; i++)); do
        n=$(records "fp${s}$SFX.public.$T" | wc -l)
        [ "$n" -ge 2 ] && break
        sleep 0.5
    done
    [ "$n" -ge 2 ] || { cat "$WORK/$s.log" >&2; fail "schemas $s: no snapshot from pgchangeset"; finish; }
done
sql -c "insert into $T values (3, 'c', 3.00, '2026-01-01 00:00:01.5', false, -1e300)"
sql -c "update $T set v = 'aa', n = -0.01 where id = 1"
sql -c "delete from $T where id = 2"
sql -c "update $T set id = 30, v = 'moved' where id = 3"
sql -c "begin; update $T set ts = '2026-06-30 23:59:59.999999' where id = 1; insert into $T (id) values (4); commit"
# records: r r c u d tombstone d tombstone c u c = 11
for s in true false; do
    for ((i = 0; i < 600; i++)); do
        records "fp${s}$SFX.public.$T" >"$WORK/$s.jsonl"
        [ "$(wc -l <"$WORK/$s.jsonl")" -ge 11 ] && break
        sleep 0.5
    done
    check "schemas $s: records in Kafka" 11 "$(wc -l <"$WORK/$s.jsonl")"
done
printf 'pgchangeset to Kafka, both daemons: %d s\n' $(($(date +%s) - t0))

cols="id INT, v STRING, n BYTES, ts BIGINT, b BOOLEAN, f8 DOUBLE"
# numeric(10,2) as Debezium's precise decimal: the unscaled value's big-endian bytes (150 = 0x0096,
# -1 = 0xff); timestamp as microseconds since the epoch
# (per id, in the order written)
want=$(printf '%s\n' \
    "INSERT	1	a	\\x0096	1767225600000000	true	0.5" \
    "UPDATE_BEFORE	1	a	\\x0096	1767225600000000	true	0.5" \
    "UPDATE_AFTER	1	aa	\\xff	1767225600000000	true	0.5" \
    "UPDATE_BEFORE	1	aa	\\xff	1767225600000000	true	0.5" \
    "UPDATE_AFTER	1	aa	\\xff	1782863999999999	true	0.5" \
    "INSERT	2	b	NULL	NULL	NULL	NULL" \
    "DELETE	2	b	NULL	NULL	NULL	NULL" \
    "INSERT	3	c	\\x012c	1767225601500000	false	-1.0E300" \
    "DELETE	3	c	\\x012c	1767225601500000	false	-1.0E300" \
    "INSERT	4	NULL	NULL	NULL	NULL	NULL" \
    "INSERT	30	moved	\\x012c	1767225601500000	false	-1.0E300")
for s in true false; do
    t1=$(date +%s.%N)
    if "$PEERS/flink-json/parse.sh" --schema-include $s --columns "$cols" --in "$WORK/$s.jsonl" \
        >"$WORK/$s.rows" 2>"$WORK/$s.parse.err"; then
        pass "schema-include $s: every record parsed"
    else
        cat "$WORK/$s.parse.err" >&2
        fail "schema-include $s: parse.sh failed"
    fi
    printf 'parse.sh: %.1f s\n' "$(echo "$(date +%s.%N) - $t1" | bc)"
    check "schema-include $s: row kinds and fields" "$want" "$(sort -s -t$'\t' -k2,2n "$WORK/$s.rows")"
    grep -q ', 2 tombstones skipped' "$WORK/$s.parse.err" ||
        fail "schema-include $s: not 2 tombstones skipped: $(grep '^parse:' "$WORK/$s.parse.err")"
done
set +e
"$PEERS/flink-json/parse.sh" --schema-include false --columns "$cols" --in "$WORK/true.jsonl" \
    >/dev/null 2>/dev/null
rc=$?
set -e
check "schema-include false on records with schemas fails" 1 "$rc"
for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || fail "a pgchangeset daemon exited"; done
finish
