#!/usr/bin/env bash
# ctest label peers: the Kafka Connect JDBC sink harness (tests/peers/connect-jdbc) end to end
# on real services: Debezium's own capture (capture.sh, schemas on) of a snapshot, inserts,
# updates, a delete and a primary key change goes to Apache Kafka (produce.sh), Debezium's
# JDBC sink in Kafka Connect writes a replica into another database (run-sink.sh), and the
# replica must equal the source (md5 over the ordered rows). Needs Apache Kafka running
# (deploy/kafka/kafka-start.sh).
. "$(dirname "${BASH_SOURCE[0]}")/_test_env.sh"
BOOT=$(kafka_bootstrap)
T=peer_sink_$SFX PUB=peer_sink_pub_$SFX SLOT=peer_sink_$SFX PFX=peersink$SFX DB=peer_rep_$SFX
TARGET=$(sed "s/dbname=[^ ]*/dbname=$DB/" <<<"$PG")
cleanup() {
    drop_slot "$SLOT"
    sql -c "drop publication if exists $PUB; drop table if exists $T" || true
    sql -c "drop database if exists $DB with (force)" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
sql -c "create database $DB"
sql -c "create table $T (id int primary key, v text, n numeric(12,3), ts timestamp);
        insert into $T select g, 'row ' || g, g * 1.125, '2026-01-01'::timestamp + g * interval '1 hour'
        from generate_series(1, 3) g;
        create publication $PUB for table $T"
# the same text for both sides: the columns in a fixed order, rows ordered by key
digest="select md5(coalesce(string_agg(concat_ws('|', id, v, n, ts), ',' order by id), '')) from"

"$PEERS/debezium/capture.sh" --conninfo "$PG" --slot "$SLOT" --publication "$PUB" \
    --tables "public.$T" --schemas true --snapshot initial --out "$WORK/cap.jsonl" \
    --topic-prefix "$PFX" --max-records 12 --timeout-s 240 --ready-file "$WORK/ready" \
    2>"$WORK/cap.err" &
pid=$!
wait_for_file "$WORK/ready" 300 "$pid" || { cat "$WORK/cap.err" >&2; fail "capture.sh never streamed"; finish; }
# 3 snapshot reads, then: 2 creates, 2 updates, a delete (+ tombstone), a key change (delete,
# tombstone, create) = 12 records
sql -c "insert into $T values (4, 'four', 4.5, '2026-02-01 10:00:00.123456'), (5, null, null, null)"
sql -c "update $T set v = 'two!', n = n + 1 where id = 2"
sql -c "update $T set ts = null where id = 4"
sql -c "delete from $T where id = 3"
sql -c "update $T set id = 100 where id = 1"
wait "$pid" || { cat "$WORK/cap.err" >&2; fail "capture.sh failed"; finish; }
check "records captured" 12 "$(wc -l <"$WORK/cap.jsonl")"
want=$(sql -c "$digest $T")

t0=$(date +%s)
"$PEERS/connect-jdbc/produce.sh" --brokers "$BOOT" --in "$WORK/cap.jsonl" 2>"$WORK/produce.err" ||
    { cat "$WORK/produce.err" >&2; fail "produce.sh failed"; finish; }
printf 'produce.sh: %d s\n' $(($(date +%s) - t0))
table=${PFX}_public_$T
t0=$(date +%s)
if "$PEERS/connect-jdbc/run-sink.sh" --brokers "$BOOT" --topics-regex "$PFX\\..*" \
    --target-conninfo "$TARGET" --group "peer-sink-$SFX" --timeout-s 300 \
    --until-sql "select ($digest $table) = '$want'" 2>"$WORK/sink.err"; then
    pass "run-sink.sh: the replica reached the source's digest"
else
    cat "$WORK/sink.err" >&2
    fail "run-sink.sh did not reach the source's digest"
fi
printf 'run-sink.sh: %d s\n' $(($(date +%s) - t0))
check "replica equals source (md5 of ordered rows)" "$want" \
    "$(psql "$TARGET" -X -q -At -c "$digest $table" 2>&1)"
check "replica rows" "2 4 5 100" "$(psql "$TARGET" -X -q -At -c "select id from $table order by id" | paste -sd' ')"
check "replica column types" "id integer|v text|n numeric|ts timestamp without time zone" \
    "$(psql "$TARGET" -X -q -At -c "select column_name || ' ' || data_type from information_schema.columns
        where table_name = '$table' order by ordinal_position" | paste -sd'|')"
finish
